// The early-exit cooperative CPU-GPU reproduction (experiments/repro-early-exit.yaml,
// docs/reproductions.md): runs the whole sweep (well under a second) and pins its headline
// numbers, so a change to the simulator, the search, the baselines or the shipped Rock Pi N10
// models and profiles that moves them shows up here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "fixtures.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"

namespace hetmap::test {
namespace {

// name (or front id) -> {worst_latency, mean_latency} from a baselines.csv / front.csv whose
// columns start name/id, worst_latency, mean_latency (the experiment's objective order).
std::map<std::string, std::pair<double, double>> read_latencies(const std::string& path) {
  std::map<std::string, std::pair<double, double>> out;
  std::istringstream in(slurp(path));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("worst_latency,mean_latency,"), line.find(',') + 1) << path << ": " << line;
  while (std::getline(in, line)) {
    std::istringstream cells(line);
    std::string name, worst, mean;
    std::getline(cells, name, ',');
    std::getline(cells, worst, ',');
    std::getline(cells, mean, ',');
    out[name] = {std::stod(worst), std::stod(mean)};
  }
  return out;
}

double best_front_worst(const std::map<std::string, std::pair<double, double>>& front) {
  double best = 1e300;
  for (const auto& [id, v] : front) best = std::min(best, v.first);
  return best;
}

struct Expected {
  const char* network;
  int id;             // sweep point at contention 1.0
  double cpu_worst, gpu_worst, coop_worst, search_worst, search_best_mean;
};

// Worst-case latencies in ms at contention 1.0 (docs/reproductions.md's table).
const Expected kExpected[] = {
    {"ee-resnet18", 0, 51.51, 52.9285, 35.44, 35.44, 19.0212},
    {"ee-resnet50", 2, 457.937, 542.663, 442.176, 442.176, 274.389},
    {"ee-mobilenetv1", 4, 125.751, 173.491, 98.2432, 98.2432, 77.4579},
};

TEST(ReproEarlyExit, HeadlineNumbers) {
  const std::string out = temp_dir() + "/repro";
  const RunResult r =
      run_hetmap("sweep experiments/repro-early-exit.yaml --out " + quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string results = slurp(out + "/results.csv");
  ASSERT_EQ(std::count(results.begin(), results.end(), '\n'), 7) << results;  // 3 x 2 points

  double sum_reduction = 0.0;
  for (const Expected& e : kExpected) {
    SCOPED_TRACE(e.network);
    const std::string dir = out + "/points/00" + std::to_string(e.id);
    EXPECT_NE(results.find("\n" + std::to_string(e.id) + "," + e.network + ",1.0,"),
              std::string::npos)
        << results;
    const auto base = read_latencies(dir + "/baselines.csv");
    const auto front = read_latencies(dir + "/front.csv");
    ASSERT_TRUE(base.count("single:big") && base.count("single:gpu") &&
                base.count("ee-coop:big/gpu") && base.count("best-single"));
    // Only big and gpu may be used: no baseline names another processor.
    for (const auto& [name, v] : base)
      EXPECT_EQ(name.find("little"), std::string::npos) << name;

    const double tol = 1e-4;  // relative: catches any change of the model, profile or semantics
    EXPECT_NEAR(base.at("single:big").first, e.cpu_worst, e.cpu_worst * tol);
    EXPECT_NEAR(base.at("single:gpu").first, e.gpu_worst, e.gpu_worst * tol);
    EXPECT_NEAR(base.at("ee-coop:big/gpu").first, e.coop_worst, e.coop_worst * tol);
    EXPECT_NEAR(best_front_worst(front), e.search_worst, e.search_worst * tol);
    double best_mean = 1e300;
    for (const auto& [id, v] : front) best_mean = std::min(best_mean, v.second);
    EXPECT_NEAR(best_mean, e.search_best_mean, e.search_best_mean * tol);
    // The search never does worse than the paper's mapping, which it starts from.
    EXPECT_LE(best_front_worst(front), base.at("ee-coop:big/gpu").first + 1e-9);

    const double best_single =
        std::min(base.at("single:big").first, base.at("single:gpu").first);
    sum_reduction += 100.0 * (1.0 - base.at("ee-coop:big/gpu").first / best_single);
  }
  // The paper: -24.8% on average over its three EE DNNs; hetmap: -18.8% (why: the table).
  EXPECT_NEAR(sum_reduction / 3.0, 18.84, 0.01);
}

// The shipped EE-ResNet18 profile is the source data, converted; its model carries the measured
// exit shares and no accuracy (no source gives one).
TEST(ReproEarlyExit, EeResnet18IsTheMeasuredData) {
  const std::string stages = board_data() + "/ee-resnet18/stages.csv";
  const Platform pf = load_platform(source_path("profiles/rock-pi-n10/platform.yaml"));
  const Model m = load_model(source_path("models/ee-resnet18.yaml"));
  const Profile p = load_profile(source_path("profiles/rock-pi-n10/ee-resnet18.csv"), m, pf);
  ASSERT_EQ(m.exits.size(), 3u);
  EXPECT_EQ(m.exits[0].taken, 0.8222);
  EXPECT_EQ(m.exits[1].taken, 0.1015);
  EXPECT_EQ(m.exits[2].taken, 0.0294);
  for (const Exit& e : m.exits) EXPECT_FALSE(e.accuracy.has_value());
  EXPECT_FALSE(m.final_accuracy.has_value());
  EXPECT_EQ(m.layers[m.final_layer()].out.dims, (std::vector<std::int64_t>{100}));

  const char* layers[] = {"block1", "exit1_branch", "block2", "exit2_branch",
                          "block3", "exit3_branch", "block4"};
  const std::map<std::string, std::string> procs = {{"B", "big"}, {"L", "little"}, {"G", "gpu"}};
  std::ifstream in(stages);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("proc,", 0) == 0) continue;
    std::istringstream cells(line);
    std::string proc, ms;
    std::getline(cells, proc, ',');
    for (const char* layer : layers) {
      std::getline(cells, ms, ',');
      const int l = m.find_layer(layer), q = pf.find(procs.at(proc));
      const auto t = p.lookup(l, q, pf.processors[q].default_freq(), pf.processors[q].cores);
      ASSERT_TRUE(t.has_value()) << layer << " on " << proc;
      EXPECT_EQ(t->mean_ms, std::stod(ms)) << layer << " on " << proc;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 21);
  EXPECT_EQ(static_cast<int>(p.rows().size()), rows);
}

// The ImageNet EE networks are their seed networks plus three branches; their profiles copy
// the seed's measured rows and estimate only the branches, on big, little and gpu.
TEST(ReproEarlyExit, ImagenetEeNetworksKeepTheMeasuredBackbone) {
  const Platform pf = load_platform(source_path("profiles/rock-pi-n10/platform.yaml"));
  for (const std::string seed : {"resnet50", "mobilenetv1"}) {
    SCOPED_TRACE(seed);
    const Model base = load_model(source_path("models/" + seed + ".yaml"));
    const Model ee = load_model(source_path("models/ee-" + seed + ".yaml"));
    const Profile bp = load_profile(source_path("profiles/rock-pi-n10/" + seed + ".csv"), base, pf);
    const Profile ep = load_profile(source_path("profiles/rock-pi-n10/ee-" + seed + ".csv"), ee, pf);
    ASSERT_EQ(ee.backbone.size(), base.backbone.size());
    for (std::size_t i = 0; i < base.backbone.size(); ++i) {
      const Layer& a = base.layers[base.backbone[i]];
      const Layer& b = ee.layers[ee.backbone[i]];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.out, b.out) << a.name;
    }
    for (const ProfileRow& r : bp.rows()) {
      const int l = ee.find_layer(base.layers[r.layer].name);
      const auto t = ep.lookup(l, r.proc, r.freq_mhz, r.threads);
      ASSERT_TRUE(t.has_value());
      EXPECT_EQ(t->mean_ms, r.mean_ms) << base.layers[r.layer].name;
    }
    ASSERT_EQ(ee.exits.size(), 3u);
    for (const Exit& e : ee.exits) {
      const int branch = e.layers.at(0);
      for (int q = 0; q < static_cast<int>(pf.processors.size()); ++q)
        EXPECT_EQ(!ep.has_rows(branch, q),
                  pf.processors[q].name == "npu")
            << e.name << " on " << pf.processors[q].name;
      EXPECT_EQ(e.taken, 0.25);  // assumed, as the model says
      EXPECT_EQ(ee.layers[branch].out.dims, (std::vector<std::int64_t>{1000}));
    }
    EXPECT_NE(ep.source.find("ESTIMATED rows (mean_ms only, one per fitted frequency/threads): "
                             "exit1_branch, exit2_branch, exit3_branch on big, little, gpu"),
              std::string::npos)
        << ep.source;
    EXPECT_EQ(ep.rows().size(), bp.rows().size() + 3 * (8 + 6 + 5));  // every DVFS level
  }
}

}  // namespace
}  // namespace hetmap::test
