// The layer-switched CPU-GPU reproduction (docs/reproductions.md): runs
// experiments/repro-layer-switch-vim3.yaml and repro-layer-switch-rock-pi.yaml through
// `hetmap sweep` (about a second in all) and pins their headline numbers: per CNN on big + gpu,
// the layer-switched mapping's latency against the best single processor, and hetmap's Pareto
// search's best latency against the same. The paper reports -4.72% on average for
// layer-switching on the VIM3; the numbers pinned here are hetmap's, with the reasons for the
// difference in docs/reproductions.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"

namespace hetmap {
namespace {

using test::quote;

struct Point {
  std::string case_name;
  std::map<std::string, std::string> grid;  // grid key -> value
  double best_single = 0.0, layer_switched = 0.0, search = 0.0;
};

detail::CsvTable table(const std::string& path) {
  return detail::parse_csv(detail::read_file(path), path);
}

// Sweeps an experiment and reads every point's baselines and front.
std::vector<Point> sweep(const std::string& experiment) {
  const std::string out = test::temp_dir() + "/out";
  const auto r = test::run_hetmap("sweep " + quote(test::source_path(experiment)) + " --out " +
                                  quote(out));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const detail::CsvTable results = table(out + "/results.csv");
  std::vector<Point> points;
  for (const auto& row : results.rows) {
    Point p;
    p.case_name = row.cells[results.require("case")];
    EXPECT_EQ(row.cells[results.require("status")], "ok");
    for (const char* key : {"links.big-gpu.latency_ms", "links.big-gpu.gbytes_per_s"})
      if (results.column(key) >= 0) p.grid[key] = row.cells[results.column(key)];
    const std::string dir = out + "/" + row.cells[results.require("dir")] + "/";
    const detail::CsvTable base = table(dir + "baselines.csv");
    for (const auto& b : base.rows) {
      const double v = std::stod(b.cells[base.require("mean_latency")]);
      if (b.cells[base.require("name")] == "best-single") p.best_single = v;
      if (b.cells[base.require("name")] == "layer-switched") p.layer_switched = v;
    }
    const detail::CsvTable front = table(dir + "front.csv");
    p.search = 1e300;
    for (const auto& f : front.rows)
      p.search = std::min(p.search, std::stod(f.cells[front.require("mean_latency")]));
    points.push_back(p);
  }
  return points;
}

double pct(double x, double ref) { return 100.0 * (x / ref - 1.0); }

struct Averages {
  double layer_switched = 0.0, search = 0.0;
  int cases = 0;
};

// Averages over the points whose grid values match `grid` (empty: all points).
Averages averages(const std::vector<Point>& points, const std::map<std::string, std::string>& grid,
                  const std::string& label) {
  Averages a;
  for (const Point& p : points) {
    if (!grid.empty() && p.grid != grid) continue;
    const double ls = pct(p.layer_switched, p.best_single), s = pct(p.search, p.best_single);
    std::printf("%-28s %-20s best single %9.2f ms, layer-switched %9.2f ms (%+6.2f%%), "
                "search %9.2f ms (%+6.2f%%)\n",
                label.c_str(), p.case_name.c_str(), p.best_single, p.layer_switched, ls, p.search,
                s);
    // The search starts from the baselines: it never does worse than either.
    EXPECT_LE(p.search, std::min(p.best_single, p.layer_switched) + 1e-9) << p.case_name;
    a.layer_switched += ls;
    a.search += s;
    ++a.cases;
  }
  a.layer_switched /= a.cases;
  a.search /= a.cases;
  std::printf("%-28s average: layer-switched %+.3f%%, search %+.3f%% vs best single\n",
              label.c_str(), a.layer_switched, a.search);
  return a;
}

TEST(ReproLayerSwitch, KhadasVim3) {
  const std::vector<Point> points = sweep("experiments/repro-layer-switch-vim3.yaml");
  ASSERT_EQ(points.size(), 16u);  // 4 CNNs x 2 link latencies x 2 link bandwidths
  const Averages est = averages(
      points, {{"links.big-gpu.latency_ms", "2.559"}, {"links.big-gpu.gbytes_per_s", "0.2098"}},
      "vim3, estimated copies");
  EXPECT_EQ(est.cases, 4);
  EXPECT_NEAR(est.layer_switched, 0.951, 0.01);
  EXPECT_NEAR(est.search, -2.823, 0.05);
  const Averages free = averages(
      points, {{"links.big-gpu.latency_ms", "0.0"}, {"links.big-gpu.gbytes_per_s", "1000"}},
      "vim3, free copies");
  EXPECT_EQ(free.cases, 4);
  EXPECT_NEAR(free.layer_switched, -5.482, 0.01);
  EXPECT_NEAR(free.search, -5.482, 0.05);
}

TEST(ReproLayerSwitch, RockPiN10) {
  const std::vector<Point> points = sweep("experiments/repro-layer-switch-rock-pi.yaml");
  ASSERT_EQ(points.size(), 6u);
  const Averages a = averages(points, {}, "rock pi n10");
  EXPECT_NEAR(a.layer_switched, 1.389, 0.01);
  EXPECT_NEAR(a.search, -3.137, 0.05);
}

}  // namespace
}  // namespace hetmap
