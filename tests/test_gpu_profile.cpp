// The shipped profile of the H100 machine (profiles/x86-h100/, measured by scripts/gpu-validate.sh
// with the CUDA backend; docs/validation.md, "GPU machine"): every file loads with its model, says
// where its numbers come from, and predicts what was measured there in the large: the GPU runs
// every network far faster than a CPU cluster, and the device-time variant is faster still.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "fixtures.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;

const std::string kDir = "profiles/x86-h100";

std::vector<std::string> profiled_models() {
  std::vector<std::string> models;
  for (const auto& e : fs::directory_iterator(test::source_path(kDir))) {
    const std::string name = e.path().filename().string();
    const auto dot = name.find('.');
    if (name.size() > 4 && name.substr(name.size() - 4) == ".csv" && dot == name.size() - 4)
      models.push_back(name.substr(0, dot));
  }
  std::sort(models.begin(), models.end());
  return models;
}

double mean_latency(const Problem& p, const std::string& where) {
  const Config c = p.resolve(parse_mapping("model: " + p.model().name + "\nplatform: x86-h100\n"
                                           "policy: sequential\ndefault: " + where + "\n",
                                           "mapping.yaml"));
  Evaluator ev(p);
  const Metrics& e = ev.evaluate(c);
  EXPECT_TRUE(e.feasible) << where;
  return e.mean_latency_ms;
}

TEST(GpuProfile, EveryModelLoadsAndSaysWhereItsNumbersComeFrom) {
  const std::vector<std::string> models = profiled_models();
  ASSERT_GE(models.size(), 2u);
  const std::string platform = test::source_path(kDir + "/platform.yaml");
  const std::string text = test::slurp(platform);
  for (const char* word : {"NVIDIA H100", "NVIDIA driver 580", "CUDA runtime 13", "cuDNN 9",
                           "cuBLAS", "2026-12-06", "hetmap profile --backend cuda"})
    EXPECT_NE(text.find(word), std::string::npos) << word;
  for (const std::string& m : models) {
    SCOPED_TRACE(m);
    const std::string csv = test::source_path(kDir + "/" + m + ".csv");
    EXPECT_EQ(test::slurp(csv).rfind("# source: measured with hetmap profile --backend cuda", 0), 0u);
    const Problem p = load_problem(test::source_path("models/" + m + ".yaml"), platform, csv);
    EXPECT_EQ(p.platform().processors.size(), 3u);
    // Every layer was measured on every processor.
    for (int l = 0; l < p.layers(); ++l)
      for (int q = 0; q < p.processors(); ++q) EXPECT_TRUE(p.can_run(l, q)) << l << " on " << q;
    const double gpu = mean_latency(p, "gpu"), cpu0 = mean_latency(p, "cpu0");
    EXPECT_GT(cpu0, 10 * gpu) << "a GPU against one single-threaded core";

    // The device-time variant (CUDA events, no launch overhead) predicts the GPU faster.
    const std::string device = test::source_path(kDir + "/" + m + ".device.csv");
    ASSERT_TRUE(fs::exists(device));
    const Problem d(p.model(), p.platform(), load_profile(device, p.model(), p.platform()));
    EXPECT_LT(mean_latency(d, "gpu"), gpu);
    EXPECT_DOUBLE_EQ(mean_latency(d, "cpu0"), cpu0);
  }
}

}  // namespace
}  // namespace hetmap
