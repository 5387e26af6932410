// Speed of the exact hypervolume algorithms (dse/include/hetmap/dse/hypervolume.hpp) on fronts
// where every point is non-dominated, the hard case for all of them: points on the positive
// orthant of the unit sphere (concave front) or on the unit simplex (linear front), reference
// point 1.1 in every objective. Arguments: objectives, points, shape (0 sphere, 1 simplex).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hetmap/dse/hypervolume.hpp"

namespace {

using hetmap::dse::Point;

// a <= b with a != b would give |a| < |b| (sphere) or sum(a) < sum(b) (simplex), so no point
// of either front dominates another.
std::vector<Point> front(std::size_t d, std::size_t n, bool simplex) {
  std::mt19937_64 rng(42 + d * 100003 + n);
  std::normal_distribution<double> g(0.0, 1.0);
  std::exponential_distribution<double> e(1.0);
  std::vector<Point> out(n, Point(d));
  for (Point& p : out) {
    double norm = 0;
    for (double& x : p) {
      x = simplex ? e(rng) : std::abs(g(rng));
      norm += simplex ? x : x * x;
    }
    if (!simplex) norm = std::sqrt(norm);
    for (double& x : p) x /= norm;
  }
  return out;
}

template <double (*Hv)(const std::vector<Point>&, const Point&)>
void run(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const bool simplex = state.range(2) != 0;
  const std::vector<Point> pts = front(d, n, simplex);
  const Point ref(d, 1.1);
  for (auto _ : state) benchmark::DoNotOptimize(Hv(pts, ref));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.SetLabel(simplex ? "simplex" : "sphere");
}

double dispatch(const std::vector<Point>& p, const Point& r) {
  return hetmap::dse::hypervolume(p, r);
}
double wfg(const std::vector<Point>& p, const Point& r) {
  return hetmap::dse::hypervolume_wfg(p, r);
}

// hypervolume(): the 2-D sweep, HV3D, or WFG with the HV3D base case, by dimension.
void BM_Hypervolume(benchmark::State& state) { run<dispatch>(state); }
BENCHMARK(BM_Hypervolume)
    ->ArgNames({"d", "n", "simplex"})
    ->ArgsProduct({{2, 3}, {100, 1000, 10000}, {0, 1}})
    ->ArgsProduct({{4, 5}, {100}, {0, 1}})
    ->Args({4, 1000, 0})
    ->Unit(benchmark::kMicrosecond);

// Plain WFG down to the 2-D sweep, the independent cross-check, for comparison.
void BM_HypervolumeWfg(benchmark::State& state) { run<wfg>(state); }
BENCHMARK(BM_HypervolumeWfg)
    ->ArgNames({"d", "n", "simplex"})
    ->ArgsProduct({{3, 4, 5}, {100}, {0}})
    ->Unit(benchmark::kMicrosecond);

// non_dominated() on uniform random points (mostly dominated) and on a sphere front (none).
void BM_NonDominated(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  std::vector<Point> pts = front(d, n, false);
  if (state.range(2) != 0) {
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (Point& p : pts)
      for (double& x : p) x = u(rng);
  }
  for (auto _ : state) benchmark::DoNotOptimize(hetmap::dse::non_dominated(pts));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.SetLabel(state.range(2) != 0 ? "uniform" : "sphere");
}
BENCHMARK(BM_NonDominated)
    ->ArgNames({"d", "n", "uniform"})
    ->ArgsProduct({{2, 3}, {10000}, {0, 1}})
    ->ArgsProduct({{4}, {1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
