// The CUDA backend (backends/cuda/, docs/cuda.md) against the reference backend: every op of
// docs/formats.md on the GPU computes what the reference kernel computes, within the stated
// tolerance; copies between the CPU clusters and the GPU carry tensors exactly; the executor
// runs mixed CPU+GPU mappings to the same outputs as the reference backend; `hetmap profile`
// and `hetmap run` work end to end.
//
// These need a CUDA device. Where the build has no CUDA backend (HETMAP_CUDA=OFF) or the
// machine has no GPU (the development and CI machines), every test skips and says which.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../backends/reference/reference.hpp"
#include "backend_checks.hpp"
#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"

namespace hetmap::backend {
namespace {

using test::random_vec;
using test::rel_l2;
using test::Vec;

// Tolerances, as relative L2 errors ||gpu - ref|| / ||ref|| (docs/cuda.md): convolutions and
// fc may run on TF32 tensor cores (10-bit mantissa products, float32 sums); everything else
// is float32 arithmetic in another order than the reference's.
constexpr double kTf32Tolerance = 5e-3;
constexpr double kFloat32Tolerance = 1e-5;

// The CUDA backend, or the reason there is none (the test then skips).
std::unique_ptr<Backend> cuda_backend(std::string& why_not) {
  const auto names = available_backends();
  if (std::find(names.begin(), names.end(), "cuda") == names.end()) {
    why_not = "this build has no CUDA backend (configure with -DHETMAP_CUDA=ON where the CUDA "
              "toolkit and cuDNN are installed)";
    return nullptr;
  }
  try {
    return make_backend("cuda");
  } catch (const BackendError& e) {
    why_not = std::string("no usable GPU on this machine: ") + e.what();
    return nullptr;
  }
}

#define REQUIRE_CUDA(backend)                                             \
  std::string why_not_;                                                   \
  auto backend = cuda_backend(why_not_);                                  \
  if (!backend) GTEST_SKIP() << "hardware test skipped: " << why_not_

int gpu_of(const Backend& b) { return test::processor_of_kind(b, ProcKind::gpu); }

Model model(const std::string& layers, const std::string& input = "[8, 12, 12]") {
  return parse_model("name: t\ninput: " + input + "\nlayers:\n" + layers, "test.yaml");
}

// Layer `name` on the GPU against the same layer on the first CPU cluster (reference kernels).
void expect_same(Backend& b, const Model& m, const std::string& name, double tolerance) {
  test::expect_same(b, gpu_of(b), b, 0, m, name, tolerance);
}

// Every layer of `c` on the GPU against the reference kernels.
void expect_same(Backend& b, const test::OpCase& c, double tolerance) {
  const Model m = test::op_model(c);
  for (const std::string& n : c.names) expect_same(b, m, n, tolerance);
}

TEST(CudaBackend, PlatformIsTheCpuClustersAndTheGpu) {
  REQUIRE_CUDA(b);
  const Platform& p = b->platform();
  EXPECT_EQ(p.name.rfind("x86-", 0), 0u) << p.name;
  ASSERT_GE(p.processors.size(), 2u);
  EXPECT_EQ(p.host, 0);
  EXPECT_EQ(p.processors[0].kind, ProcKind::cpu);
  EXPECT_EQ(p.processors.back().name, "gpu");
  EXPECT_EQ(p.processors.back().kind, ProcKind::gpu);
  EXPECT_NE(b->describe().find("cuDNN"), std::string::npos) << b->describe();
}

TEST(CudaBackend, ConvolutionsMatchTheReference) {
  REQUIRE_CUDA(b);
  expect_same(*b, test::conv_ops(), kTf32Tolerance);
}

TEST(CudaBackend, FullyConnectedMatchesTheReference) {
  REQUIRE_CUDA(b);
  expect_same(*b, test::fc_ops(), kTf32Tolerance);
}

TEST(CudaBackend, PoolingMatchesTheReference) {
  REQUIRE_CUDA(b);
  expect_same(*b, test::pool_ops(), kFloat32Tolerance);
}

TEST(CudaBackend, ElementwiseAndDataMovementOpsMatchTheReference) {
  REQUIRE_CUDA(b);
  expect_same(*b, test::elementwise_ops(), kFloat32Tolerance);
}

TEST(CudaBackend, BlocksMatchTheReference) {
  REQUIRE_CUDA(b);
  expect_same(*b, test::block_ops(), kTf32Tolerance);
}

TEST(CudaBackend, OpaqueLayersAreRefusedByName) {
  REQUIRE_CUDA(b);
  const Model m = model("  - {name: mystery, op: opaque, out: [4]}\n");
  try {
    b->device(gpu_of(*b)).build(m, 0, 1);
    FAIL() << "an opaque layer was built";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("mystery"), std::string::npos) << e.what();
  }
}

TEST(CudaBackend, GpuKernelsReportDeviceTimeWithinWallTime) {
  REQUIRE_CUDA(b);
  const Model m = model("  - {name: c, op: conv, filters: 64, kernel: 3, pad: 1}\n", "[64, 56, 56]");
  const int gpu = gpu_of(*b);
  Device& dev = b->device(gpu);
  dev.bind_thread();
  auto k = dev.build(m, 0, 1);
  auto in = dev.allocate(m.input);
  auto out = dev.allocate(m.layers[0].out);
  const Vec x = random_vec(static_cast<std::size_t>(m.input.elements()), 3);
  b->upload(x.data(), *in, gpu);
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    k->run({in.get()}, *out);
    const double wall =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GT(k->device_ms(), 0.0);
    EXPECT_LE(k->device_ms(), wall);
  }
  // CPU kernels have no separate device time.
  auto cpu = b->device(0).build(m, 0, 1);
  EXPECT_TRUE(std::isnan(cpu->device_ms()));
}

TEST(CudaBackend, CopiesCarryTensorsExactlyBetweenEveryPair) {
  REQUIRE_CUDA(b);
  test::expect_exact_copies(*b);
}

TEST(CudaBackend, ExecutorRunsMixedMappingsToTheReferenceOutputs) {
  REQUIRE_CUDA(b);
  const Model m = load_model(test::source_path("models/small-ee.yaml"));
  const Problem problem = execution_problem(m, *b);
  const int gpu = gpu_of(*b);
  ExecuteOptions x;
  x.inputs = 6;
  x.keep_outputs = true;
  x.forced_exits = {static_cast<int>(m.exits.size())};  // every input to the final output
  // All on the GPU, all on cpu0, and alternating: the final outputs agree within TF32.
  std::vector<std::vector<int>> placements(3, std::vector<int>(m.layers.size()));
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    placements[0][l] = gpu;
    placements[1][l] = 0;
    placements[2][l] = l % 2 ? gpu : 1;
  }
  std::vector<std::vector<ExecutedOutput>> outs;
  for (const auto& where : placements) {
    Config c = problem.resolve(parse_mapping("model: small-ee\nplatform: " + problem.platform().name +
                                                 "\npolicy: parallel\ndefault: gpu\n",
                                             "mapping.yaml"),
                               /*check_profile=*/false);
    for (std::size_t l = 0; l < where.size(); ++l) c.proc[l] = static_cast<std::uint8_t>(where[l]);
    const ExecuteResult r = execute(*b, problem, c, x);
    EXPECT_EQ(r.outputs.size(), 6u);
    outs.push_back(r.outputs);
  }
  for (std::size_t k = 1; k < outs.size(); ++k)
    for (std::size_t i = 0; i < outs[0].size(); ++i)
      EXPECT_LE(rel_l2(outs[k][i].data, outs[1][i].data), kTf32Tolerance * 4)
          << "placement " << k << ", input " << i;
}

TEST(CudaBackend, ProfileAndRunFromTheCommandLine) {
  REQUIRE_CUDA(b);
  const std::string platform = b->platform().name;
  b.reset();  // the CLI makes its own
  const std::string dir = test::temp_dir();
  const auto prof = test::run_hetmap("profile --backend cuda -m models/tiny-ee.yaml --quick --out " +
                                     test::quote(dir + "/prof"));
  ASSERT_EQ(prof.exit_code, 0) << prof.err;
  const Platform p = load_platform(dir + "/prof/platform.yaml");
  EXPECT_EQ(p.name, platform);
  EXPECT_EQ(p.processors.back().name, "gpu");
  ASSERT_EQ(p.links.size(), p.processors.size() * (p.processors.size() - 1) / 2);
  for (const Link& l : p.links) EXPECT_GT(l.gbytes_per_s, 0.0);
  EXPECT_NE(test::slurp(dir + "/prof/tiny-ee.csv").find("cuDNN"), std::string::npos);

  const std::string mapping = test::write_file(
      dir, "mixed.yaml",
      "model: tiny-ee\nplatform: " + platform +
          "\npolicy: parallel\ndefault: gpu\nassign: {e1_pool: cpu1, e1_fc: cpu1}\n");
  const auto run = test::run_hetmap("run --backend cuda -m models/tiny-ee.yaml --inputs 20 --json - "
                                    "--mapping " + test::quote(mapping));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("mean_latency_ms"), std::string::npos) << run.out;

  const auto sim = test::run_hetmap(
      "simulate -m models/tiny-ee.yaml -p " + test::quote(dir + "/prof/platform.yaml") +
      " --profile " + test::quote(dir + "/prof/tiny-ee.csv") + " --mapping " + test::quote(mapping));
  EXPECT_EQ(sim.exit_code, 0) << sim.err;
}

}  // namespace
}  // namespace hetmap::backend
