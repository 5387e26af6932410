// hetmap's NSGA-II against pagmo2's NSGA-II (docs/design.md, "Quality bars": better hypervolume and at
// least 2x faster on the same problem with the same evaluation budget).
//
// Both searches see the same problem through the same hetmap::Evaluator, the same design space
// (a processor per layer among DesignSpace::allowed(), each exit on or off, the policy; no DVFS
// or threads), the same objectives (mean latency, worst latency, energy; all minimised), the
// same population (64) and the same number of generations, hence the same number of
// evaluations: 64 for the initial population plus 64 per generation.
//
// Variants, each run once per seed 1..kSeeds (one benchmark iteration per seed; the reported
// time is the mean wall time of one whole search, including its initial population, excluding
// the problem setup), at two budgets: 100 generations (64 + 100 * 64 = 6,464 evaluations) and
// 400 generations (25,664 evaluations):
//  - BM_Hetmap, threads=1        hetmap::dse::Nsga2 run by dse::Driver, limited to one thread
//                                (detail::ThreadLimit),
//                                the fair comparison with single-threaded pagmo;
//  - BM_Hetmap, threads=default  the same with the default thread count (2 on the dev VM);
//  - BM_Pagmo, m=default         pagmo::nsga2 with its default parameters (cr 0.95, eta_c 10,
//                                m 0.01, eta_m 50), single-threaded evolve (no bfe);
//  - BM_Pagmo, m=1/n             the same with the mutation probability 1/(number of genes), the
//                                usual recommendation, so pagmo is not judged by a poor default.
// Both start from a random population (hetmap explore seeds its search with the baselines; here
// neither is seeded, so both see the same kind of start).
// pagmo sees an integer problem: one gene per layer (index into space.allowed(l)), one 0/1 gene
// per exit, one 0/1 gene for the policy, get_nix() == the vector size. Infeasible points (there
// should be none: every gene value decodes to an allowed placement) get kPenalty in every
// objective.
//
// Counters. The result front is hetmap's archive, and for pagmo (which keeps no archive) the
// non-dominated feasible points of its final population. Hypervolumes use ONE reference point
// per problem (see Setup below); percentages are of the best-known front's hypervolume.
//   hv                          mean hypervolume of the result front over the seeds;
//   hv_pct                      100 * hv / best-known;
//   hv_pct_min/_med/_max        the same per seed: smallest, median, largest;
//   hv_pct_nadir                mean percentage with the tighter reference point (nadir of the
//                               best-known front + 10% of its range), which separates fronts
//                               near the optimum better; a secondary view;
//   hv_pop_pct                  hetmap only: the final population's non-dominated points (what
//                               pagmo's number measures);
//   hv_all_pct                  pagmo only: the non-dominated points among everything pagmo
//                               evaluated, i.e. what an archive would have given it (from an
//                               untimed rerun of each seed with logging on; the timed runs log
//                               nothing);
//   evals                       evaluations per search (the same for both by construction);
//   front                       mean number of points in the result front.
#include <benchmark/benchmark.h>

#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetmap/detail/parallel.hpp"
#include "hetmap/dse/baselines.hpp"
#include "hetmap/dse/driver.hpp"
#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/hypervolume.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/dse/objectives.hpp"
#include "hetmap/dse/space.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/synthetic.hpp"

namespace {

using namespace hetmap;
using dse::Point;

constexpr int kPopulation = 64;
constexpr int kSeeds = 5;            // seeds 1..5, one benchmark iteration each
constexpr int kRefGenerations = 2000;
constexpr std::uint64_t kRefSeed = 1000;
constexpr double kPenalty = 1e30;

// ---------------------------------------------------------------------------------------------
// pagmo user-defined problem over the hetmap evaluation.

struct HetmapUdp {
  const dse::DesignSpace* space = nullptr;
  std::shared_ptr<Evaluator> evaluator;      // shared by pagmo's copies; fitness() is const
  std::shared_ptr<std::vector<Point>> log;   // feasible objective vectors of every evaluation
  dse::ObjectiveSet objectives;

  HetmapUdp() = default;
  HetmapUdp(const dse::DesignSpace& s, std::shared_ptr<std::vector<Point>> l)
      : space(&s), evaluator(std::make_shared<Evaluator>(s.problem())), log(std::move(l)) {}

  std::size_t genes() const { return static_cast<std::size_t>(space->problem().layers()) +
                                     static_cast<std::size_t>(space->problem().exits()) + 1; }

  Config decode(const pagmo::vector_double& x) const {
    const Problem& pb = space->problem();
    auto gene = [&](std::size_t i, long hi) {
      return std::clamp(std::lround(x[i]), 0L, hi);
    };
    Config c = pb.default_config();
    const int L = pb.layers(), E = pb.exits();
    for (int l = 0; l < L; ++l) {
      const auto& ok = space->allowed(l);
      c.proc[l] = ok[gene(l, static_cast<long>(ok.size()) - 1)];
    }
    for (int k = 0; k < E; ++k)
      if (gene(L + k, 1) == 0) c.exits_enabled &= ~(1ULL << k);
    c.policy = gene(L + E, 1) ? Policy::parallel : Policy::sequential;
    space->repair(c);
    return c;
  }

  pagmo::vector_double fitness(const pagmo::vector_double& x) const {
    const Metrics& e = evaluator->evaluate(decode(x));
    pagmo::vector_double f(objectives.size(), kPenalty);
    if (!e.feasible) return f;
    objectives.minimised(e, f.data());
    if (log) log->push_back(f);
    return f;
  }
  std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
    pagmo::vector_double lb(genes(), 0.0), ub(genes(), 1.0);
    for (int l = 0; l < space->problem().layers(); ++l)
      ub[l] = static_cast<double>(space->allowed(l).size()) - 1.0;
    return {lb, ub};
  }
  pagmo::vector_double::size_type get_nobj() const { return objectives.size(); }
  pagmo::vector_double::size_type get_nix() const { return genes(); }
  std::string get_name() const { return "hetmap mapping"; }
};

struct Run {
  std::vector<Point> front;       // result front (feasible points)
  std::vector<Point> secondary;   // hetmap: final population; pagmo: everything evaluated
  std::int64_t evaluations = 0;
};

std::vector<Point> feasible_f(const std::vector<dse::Individual>& inds) {
  std::vector<Point> out;
  for (const auto& i : inds)
    if (i.satisfies()) out.push_back(i.f);
  return out;
}

std::vector<Point> nondominated(const std::vector<Point>& pts) {
  std::vector<Point> out;
  if (pts.empty()) return out;
  for (std::size_t i : dse::non_dominated(pts)) out.push_back(pts[i]);
  return out;
}

Run run_hetmap(const dse::DesignSpace& space, int generations, std::uint64_t seed) {
  dse::BatchEvaluator evaluator(space.problem(), dse::ObjectiveSet{}, {});
  dse::Nsga2Options o;
  o.population = kPopulation;
  o.generations = generations;
  o.seed = seed;
  dse::Nsga2 nsga(space, o);
  dse::Driver driver(evaluator, nsga);
  driver.initialize({});  // random start, as pagmo's
  driver.run();
  return Run{feasible_f(driver.archive().points()), feasible_f(driver.population().individuals),
             driver.evaluations()};
}

Run run_pagmo(const dse::DesignSpace& space, int generations, std::uint64_t seed, bool one_over_n,
              bool log_all) {
  auto log = log_all ? std::make_shared<std::vector<Point>>() : nullptr;
  HetmapUdp udp(space, log);
  const double m = one_over_n ? 1.0 / static_cast<double>(udp.genes()) : 0.01;
  pagmo::problem prob(std::move(udp));
  pagmo::population pop(prob, kPopulation, static_cast<unsigned>(seed));
  pagmo::nsga2 algo(static_cast<unsigned>(generations), 0.95, 10., m, 50.,
                    static_cast<unsigned>(seed));
  pop = algo.evolve(pop);
  Run r;
  std::vector<Point> fs;
  for (const auto& f : pop.get_f())
    if (f[0] < kPenalty) fs.push_back(f);
  r.front = nondominated(fs);
  r.evaluations = static_cast<std::int64_t>(pop.get_problem().get_fevals());
  if (log) r.secondary = nondominated(*log);
  return r;
}

// ---------------------------------------------------------------------------------------------
// The problems and their common reference point.
//
// Reference point, per problem, computed once and deterministically before any timed search.
// The best-known front is the non-dominated union of (a) every baseline mapping
// (dse::baselines), (b) the archive of a long hetmap run and (c) everything a long pagmo run
// (m = 1/n) evaluated, both with population 64, kRefGenerations generations and seed kRefSeed
// (129,664 evaluations each, 5x to 20x the benchmarked budgets). The reference point follows
// `hetmap explore`'s convention (dse/src/export.cpp: front and baselines):
// dse::reference_point({best-known front, baselines}), i.e. per objective the worst value
// among those points plus 10% of their range. The secondary, tighter reference point is
// dse::reference_point({best-known front}). A point beyond a reference point in some objective
// spans no volume under it (the same rule for every method).

struct Setup {
  std::string name;
  std::unique_ptr<Problem> problem;
  std::unique_ptr<dse::DesignSpace> space;
  Point ref, ref_nadir;
  double best_hv = 0.0, best_hv_nadir = 0.0;
  std::size_t best_size = 0;
};

Setup make_setup(std::string name, std::unique_ptr<Problem> pb) {
  Setup s;
  s.name = std::move(name);
  s.problem = std::move(pb);
  s.space = std::make_unique<dse::DesignSpace>(*s.problem);
  dse::ObjectiveSet{}.check(*s.problem, s.name);
  dse::BatchEvaluator evaluator(*s.problem, dse::ObjectiveSet{}, {});
  std::vector<Point> base;
  for (const auto& b : dse::baselines(*s.space, evaluator))
    if (b.individual.satisfies()) base.push_back(b.individual.f);
  const Run h = run_hetmap(*s.space, kRefGenerations, kRefSeed);
  const Run p = run_pagmo(*s.space, kRefGenerations, kRefSeed, true, true);
  std::vector<Point> all = base;
  all.insert(all.end(), h.front.begin(), h.front.end());
  all.insert(all.end(), p.secondary.begin(), p.secondary.end());
  const std::vector<Point> best = nondominated(all);
  s.ref = dse::reference_point({best, base});
  s.ref_nadir = dse::reference_point({best});
  s.best_hv = dse::hypervolume(best, s.ref);
  s.best_hv_nadir = dse::hypervolume(best, s.ref_nadir);
  s.best_size = best.size();
  std::fprintf(stderr,
               "%s: %d layers, %d processors, %d exits; best-known front %zu points; reference "
               "point (%.6g, %.6g, %.6g), hv %.6g; nadir reference (%.6g, %.6g, %.6g), hv %.6g\n",
               s.name.c_str(), s.problem->layers(), s.problem->processors(), s.problem->exits(),
               s.best_size, s.ref[0], s.ref[1], s.ref[2], s.best_hv, s.ref_nadir[0],
               s.ref_nadir[1], s.ref_nadir[2], s.best_hv_nadir);
  return s;
}

const Setup& setup(int id) {
  static std::unique_ptr<Setup> tiny, synth;
  if (id == 0) {
    if (!tiny) {
      const std::string root = HETMAP_SOURCE_DIR;
      tiny = std::make_unique<Setup>(make_setup(
          "tiny-ee", std::make_unique<Problem>(load_problem(
                         root + "/models/tiny-ee.yaml", root + "/profiles/example/platform.yaml",
                         root + "/profiles/example/tiny-ee.csv"))));
    }
    return *tiny;
  }
  if (!synth) {
    // The 50-layer, 4-processor problem of bench_simulator: 44 backbone layers, 3 exits of 2.
    SyntheticSpec spec;
    spec.exits = 3;
    spec.exit_layers = 2;
    spec.backbone = 50 - spec.exits * spec.exit_layers;
    spec.processors = 4;
    spec.contention = 1.2;
    spec.seed = 42;
    synth = std::make_unique<Setup>(
        make_setup("synthetic-50x4", std::make_unique<Problem>(synthetic_problem(spec))));
  }
  return *synth;
}

// ---------------------------------------------------------------------------------------------

void report(benchmark::State& state, const Setup& s, const std::vector<Run>& runs, bool hetmap) {
  std::vector<double> pct;
  double sum = 0.0, nadir = 0.0, second = 0.0, size = 0.0;
  for (const Run& r : runs) {
    const double hv = dse::hypervolume(r.front, s.ref);
    sum += hv;
    pct.push_back(100.0 * hv / s.best_hv);
    nadir += 100.0 * dse::hypervolume(r.front, s.ref_nadir) / s.best_hv_nadir;
    second += 100.0 * dse::hypervolume(r.secondary, s.ref) / s.best_hv;
    size += static_cast<double>(r.front.size());
    if (r.evaluations != runs[0].evaluations) throw std::logic_error("evaluations differ");
  }
  std::sort(pct.begin(), pct.end());
  const double n = static_cast<double>(runs.size());
  state.counters["hv"] = sum / n;
  state.counters["hv_pct"] = 100.0 * (sum / n) / s.best_hv;
  state.counters["hv_pct_min"] = pct.front();
  state.counters["hv_pct_med"] = pct[pct.size() / 2];
  state.counters["hv_pct_max"] = pct.back();
  state.counters["hv_pct_nadir"] = nadir / n;
  state.counters[hetmap ? "hv_pop_pct" : "hv_all_pct"] = second / n;
  state.counters["evals"] = static_cast<double>(runs[0].evaluations);
  state.counters["front"] = size / n;
}

// range(0): problem (0 tiny-ee, 1 synthetic-50x4); range(1): threads (0 = the default);
// range(2): generations.
void BM_Hetmap(benchmark::State& state) {
  const Setup& s = setup(static_cast<int>(state.range(0)));
  const int threads = static_cast<int>(state.range(1));
  const int generations = static_cast<int>(state.range(2));
  std::unique_ptr<hetmap::detail::ThreadLimit> limit;
  if (threads > 0)
    limit = std::make_unique<hetmap::detail::ThreadLimit>(static_cast<std::size_t>(threads));
  std::vector<Run> runs;
  std::uint64_t seed = 1;
  for (auto _ : state) runs.push_back(run_hetmap(*s.space, generations, seed++));
  report(state, s, runs, true);
  state.SetLabel(s.name + " G=" + std::to_string(generations) +
                 " threads=" + (threads > 0 ? std::to_string(threads) : "default"));
}
BENCHMARK(BM_Hetmap)
    ->ArgsProduct({{0, 1}, {1, 0}, {100, 400}})
    ->Iterations(kSeeds)->Unit(benchmark::kMillisecond)->UseRealTime();

// range(0): problem; range(1): 0 = pagmo's default mutation probability, 1 = 1/n;
// range(2): generations.
void BM_Pagmo(benchmark::State& state) {
  const Setup& s = setup(static_cast<int>(state.range(0)));
  const bool one_over_n = state.range(1) != 0;
  const int generations = static_cast<int>(state.range(2));
  std::vector<Run> runs;
  std::uint64_t seed = 1;
  for (auto _ : state) runs.push_back(run_pagmo(*s.space, generations, seed++, one_over_n, false));
  // hv_all: the same (deterministic) runs again, untimed, logging every evaluation.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run logged = run_pagmo(*s.space, generations, i + 1, one_over_n, true);
    if (logged.front != runs[i].front) throw std::logic_error("pagmo run not reproducible");
    runs[i].secondary = logged.secondary;
  }
  report(state, s, runs, false);
  state.SetLabel(s.name + " G=" + std::to_string(generations) +
                 (one_over_n ? " m=1/n" : " m=default"));
}
BENCHMARK(BM_Pagmo)
    ->ArgsProduct({{0, 1}, {0, 1}, {100, 400}})
    ->Iterations(kSeeds)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
