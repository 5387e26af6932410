// The Arm Compute Library backend (backends/acl/, docs/acl.md) against the reference backend:
// every op of docs/formats.md computed by NEON functions equals the reference kernel within
// the stated tolerance, on one thread and on a cluster's pool; layers ACL cannot compute
// exactly fall back to the reference kernel (and say so); copies carry tensors exactly; the
// executor runs mappings over two clusters to the reference outputs; `hetmap profile` and
// `hetmap run` work end to end.
//
// Built only with HETMAP_ACL (an aarch64 cross-build); CI runs it under qemu-aarch64-static,
// where timings mean nothing and are never checked. The OpenCL tests need a GPU with an
// OpenCL driver: under emulation there is none, and they skip saying so.
#include <gtest/gtest.h>

#include <string>
#include <thread>
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

using test::Vec;

// Relative L2 tolerances ||acl - ref|| / ||ref|| (docs/acl.md). Convolutions and fc sum in
// another order than the reference (blocked GEMM, Winograd transforms for 3x3 kernels);
// ACL's exp, pow and division in softmax, lrn and average pooling are its own NEON
// approximations; everything else is exact float32.
constexpr double kTolerance = 1e-4;

std::unique_ptr<Backend> acl(int clusters = 2) {
  BackendOptions o;
  o.clusters = clusters;
  return make_backend("acl", o);
}

// Every layer of `c` on cluster `proc` of the acl backend against the reference backend.
void expect_neon_matches(const test::OpCase& c, int clusters = 2, int proc = 0) {
  auto b = acl(clusters);
  auto ref = make_backend("reference");
  const Model m = test::op_model(c);
  for (const std::string& n : c.names) test::expect_same(*b, proc, *ref, 0, m, n, kTolerance);
}

TEST(AclBackend, PlatformIsTheCpuClusters) {
  auto b = acl(2);
  const Platform& p = b->platform();
  ASSERT_GE(p.processors.size(), 2u);
  std::vector<int> seen;
  for (std::size_t k = 0; k < p.processors.size(); ++k) {
    if (p.processors[k].kind != ProcKind::cpu) continue;
    const std::vector<int> cores = b->device(static_cast<int>(k)).cores();
    EXPECT_EQ(static_cast<int>(cores.size()), p.processors[k].cores) << p.processors[k].name;
    for (int c : cores) {
      EXPECT_EQ(std::count(seen.begin(), seen.end(), c), 0) << "core " << c << " in two clusters";
      seen.push_back(c);
    }
  }
  EXPECT_NE(b->describe().find("Arm Compute Library 20.08"), std::string::npos) << b->describe();
}

TEST(AclBackend, ConvolutionsMatchTheReference) { expect_neon_matches(test::conv_ops()); }
TEST(AclBackend, FullyConnectedMatchesTheReference) { expect_neon_matches(test::fc_ops()); }
TEST(AclBackend, PoolingMatchesTheReference) { expect_neon_matches(test::pool_ops()); }
TEST(AclBackend, ElementwiseAndDataMovementOpsMatchTheReference) {
  expect_neon_matches(test::elementwise_ops());
}
TEST(AclBackend, BlocksMatchTheReference) { expect_neon_matches(test::block_ops()); }

// One cluster holding every core: ACL's workloads split over the cluster's thread pool.
TEST(AclBackend, MultiThreadedClusterMatchesTheReference) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: no pool to test";
  expect_neon_matches(test::conv_ops(), 1);
  expect_neon_matches(test::block_ops(), 1);
}

TEST(AclBackend, LayersAclCannotComputeExactlyRunTheReferenceKernel) {
  // An even LRN window and a 3x upsample: not ACL 20.08's; the result is the reference's, exactly.
  const Model m = test::op_model(test::elementwise_ops());
  auto b = acl();
  auto ref = make_backend("reference");
  for (const char* n : {"lrn4", "up"}) {
    const Vec in = test::random_vec(static_cast<std::size_t>(m.input.elements()), 5);
    EXPECT_EQ(test::run_on(*b, 0, m, n, {in}), test::run_on(*ref, 0, m, n, {in})) << n;
  }
}

TEST(AclBackend, OpaqueLayersAreRefusedByName) {
  auto b = acl();
  const Model m = parse_model("name: t\ninput: [4]\nlayers:\n  - {name: mystery, op: opaque, out: [4]}\n",
                              "t.yaml");
  try {
    b->device(0).build(m, 0, 1);
    FAIL() << "an opaque layer was built";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("mystery"), std::string::npos) << e.what();
  }
}

TEST(AclBackend, CopiesCarryTensorsExactlyBetweenEveryPair) {
  auto b = acl();
  test::expect_exact_copies(*b);
}

TEST(AclBackend, ExecutorRunsMappingsOverBothClustersToTheReferenceOutputs) {
  auto b = acl(2);
  const Model m = load_model(test::source_path("models/tiny-ee.yaml"));
  const Problem problem = execution_problem(m, *b);
  ExecuteOptions x;
  x.inputs = 3;
  x.keep_outputs = true;
  x.forced_exits = {static_cast<int>(m.exits.size())};
  x.power = false;
  const std::string cpu0 = b->platform().processors[0].name;
  const std::string cpu1 = b->platform().processors[1].name;
  std::vector<std::vector<ExecutedOutput>> outs;
  for (const std::string& mapping :
       {"default: " + cpu0 + "\n", "default: " + cpu1 + "\n",
        "default: " + cpu0 + "\nassign: {e1_pool: " + cpu1 + ", e1_fc: " + cpu1 + "}\n"}) {
    const Config c = problem.resolve(
        parse_mapping("model: tiny-ee\nplatform: " + problem.platform().name +
                          "\npolicy: parallel\n" + mapping,
                      "mapping.yaml"),
        /*check_profile=*/false);
    outs.push_back(execute(*b, problem, c, x).outputs);
  }
  auto ref = make_backend("reference");
  const Problem rp = execution_problem(m, *ref);
  const Config rc = rp.resolve(parse_mapping("model: tiny-ee\nplatform: host-cpu\n", "m.yaml"), false);
  const auto want = execute(*ref, rp, rc, x).outputs;
  for (const auto& got : outs) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_LE(test::rel_l2(got[i].data, want[i].data), kTolerance) << "input " << i;
  }
}

TEST(AclBackend, ProfileAndRunFromTheCommandLine) {
  // Earlier tests pinned this thread to one cluster; the commands must see every core.
  reference::pin_thread(reference::usable_cpus());
  const std::string platform = acl()->platform().name;
  const std::string dir = test::temp_dir();
  // Emulated: the timings are meaningless, only that the files are complete is checked.
  const auto prof = test::run_hetmap("profile --backend acl --clusters 2 -m models/tiny-ee.yaml "
                                     "--quick --no-power --out " + test::quote(dir + "/prof"));
  ASSERT_EQ(prof.exit_code, 0) << prof.err;
  const Platform p = load_platform(dir + "/prof/platform.yaml");
  EXPECT_EQ(p.name, platform);
  const Model m = load_model(test::source_path("models/tiny-ee.yaml"));
  const Profile profile = load_profile(dir + "/prof/tiny-ee.csv", m, p);
  (void)profile;
  EXPECT_NE(test::slurp(dir + "/prof/tiny-ee.csv").find("Arm Compute Library"), std::string::npos);

  const std::string mapping = test::write_file(
      dir, "mixed.yaml",
      "model: tiny-ee\nplatform: " + platform + "\npolicy: parallel\ndefault: " +
          p.processors[0].name + "\nassign: {e1_pool: " + p.processors[1].name + ", e1_fc: " +
          p.processors[1].name + "}\n");
  const auto run = test::run_hetmap("run --backend acl --clusters 2 -m models/tiny-ee.yaml "
                                    "--inputs 4 --no-power --json - --mapping " + test::quote(mapping));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("mean_latency_ms"), std::string::npos) << run.out;
}

// ---------------------------------------------------------------------------------------------
// The Mali GPU through OpenCL: where no OpenCL GPU is usable, these skip and say why.

std::unique_ptr<Backend> acl_with_gpu(std::string& why_not) {
  auto b = acl();
  if (test::processor_of_kind(*b, ProcKind::gpu) < 0) {
    why_not = "no OpenCL GPU here (the acl backend found none; under qemu there is no GPU "
              "driver): the OpenCL path is compiled, not run";
    return nullptr;
  }
  return b;
}

#define REQUIRE_OPENCL(backend)             \
  std::string why_not_;                     \
  auto backend = acl_with_gpu(why_not_);    \
  if (!backend) GTEST_SKIP() << "hardware test skipped: " << why_not_

void expect_gpu_matches(Backend& b, const test::OpCase& c,
                        const std::vector<std::string>& refused = {}) {
  const Model m = test::op_model(c);
  auto ref = make_backend("reference");
  const int gpu = test::processor_of_kind(b, ProcKind::gpu);
  for (const std::string& n : c.names) {
    if (std::find(refused.begin(), refused.end(), n) != refused.end()) {
      EXPECT_THROW(b.device(gpu).build(m, m.find_layer(n), 1), BackendError) << n;
      continue;
    }
    test::expect_same(b, gpu, *ref, 0, m, n, kTolerance);
  }
}

TEST(AclBackend, OpenClOpsMatchTheReference) {
  REQUIRE_OPENCL(b);
  expect_gpu_matches(*b, test::conv_ops());
  expect_gpu_matches(*b, test::fc_ops());
  expect_gpu_matches(*b, test::pool_ops());
  expect_gpu_matches(*b, test::elementwise_ops(), {"lrn4", "up"});
  expect_gpu_matches(*b, test::block_ops());
}

}  // namespace
}  // namespace hetmap::backend
