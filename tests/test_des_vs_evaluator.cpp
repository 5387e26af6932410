// The DES and the analytical evaluator implement the same semantics independently. For one
// input without jitter, forcing the input's first confident result to k, the DES must report
// exactly done(k) and E_k; weighting those by the shares must give the evaluator's mean
// latency and energy. Checked on hundreds of random models, platforms and mappings.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hetmap/des.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/synthetic.hpp"

namespace hetmap {
namespace {

double rel_close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

TEST(DesVsEvaluator, SingleInputMatchesOnRandomProblems) {
  int cases = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    SyntheticSpec spec;
    std::mt19937_64 rng(seed * 7919);
    spec.seed = seed;
    spec.backbone = 3 + static_cast<int>(rng() % 25);
    spec.exits = static_cast<int>(rng() % 4);
    spec.exit_layers = 1 + static_cast<int>(rng() % 3);
    spec.processors = 2 + static_cast<int>(rng() % 3);
    spec.contention = rng() % 2 ? 1.0 : 1.35;
    spec.dvfs = rng() % 3 != 0;
    const Problem pb = synthetic_problem(spec);
    Evaluator ev(pb);
    for (int m = 0; m < 5; ++m) {
      const Config c = random_config(pb, rng);
      const Metrics& r = ev.evaluate(c);
      ASSERT_TRUE(r.feasible) << pb.infeasibility(c);
      double mean = 0.0, energy = 0.0;
      for (int k = 0; k <= pb.exits(); ++k) {
        if (k < pb.exits() && !c.exit_enabled(k)) continue;
        // done(k): the earliest result at or after k.
        double done = r.exit_latency_ms[pb.exits()];
        for (int j = k; j < pb.exits(); ++j)
          if (c.exit_enabled(j)) done = std::min(done, r.exit_latency_ms[j]);
        DesOptions o;
        o.inputs = 1;
        o.forced_exits.assign(1, k);  // (an initializer list trips a GCC 12 -Wnonnull false positive)
        const Metrics d = simulate_des(pb, c, o);
        ASSERT_TRUE(rel_close(d.mean_latency_ms, done))
            << "seed " << seed << " mapping " << m << " result " << k << ": DES "
            << d.mean_latency_ms << " vs analytical " << done;
        mean += r.exit_share[k] * d.mean_latency_ms;
        energy += r.exit_share[k] * d.energy_mj;
        ++cases;
      }
      EXPECT_TRUE(rel_close(mean, r.mean_latency_ms)) << "seed " << seed << " mapping " << m;
      EXPECT_TRUE(rel_close(energy, r.energy_mj))
          << "seed " << seed << " mapping " << m << ": " << energy << " vs " << r.energy_mj;
    }
  }
  EXPECT_GT(cases, 500);
}

// The most processors a platform may have (kMaxProcessors = 64): the evaluator's sets of
// processors are 64-bit masks, so processors 32..63 must behave as the first ones do.
TEST(DesVsEvaluator, SixtyFourProcessorsMatch) {
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SyntheticSpec spec;
    spec.seed = seed;
    spec.backbone = 40;
    spec.exits = 2;
    spec.processors = kMaxProcessors;
    const Problem pb = synthetic_problem(spec);
    ASSERT_EQ(pb.processors(), 64);
    Evaluator ev(pb);
    std::mt19937_64 rng(seed);
    for (int m = 0; m < 5; ++m) {
      Config c = random_config(pb, rng);
      // Most layers on processors 32..63 (where a 32-bit mask would lose them), each on one
      // its profile lets it run on at the processor's level and threads.
      for (int l = 0; l < pb.layers(); ++l) {
        if (l % 4 == 0) continue;
        std::vector<int> high;
        for (int p = 32; p < pb.processors(); ++p)
          if (!std::isnan(pb.duration(l, p, c.freq_level[p], c.threads[p]))) high.push_back(p);
        if (!high.empty()) c.proc[l] = static_cast<std::uint8_t>(high[rng() % high.size()]);
      }
      if (!pb.infeasibility(c).empty()) continue;
      const Metrics& r = ev.evaluate(c);
      ASSERT_TRUE(r.feasible);
      DesOptions o;
      o.inputs = 1;
      o.forced_exits.assign(1, pb.exits());
      const Metrics d = simulate_des(pb, c, o);
      EXPECT_TRUE(rel_close(d.mean_latency_ms, r.exit_latency_ms[pb.exits()]))
          << "seed " << seed << " mapping " << m << ": DES " << d.mean_latency_ms
          << " vs analytical " << r.exit_latency_ms[pb.exits()];
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(DesVsEvaluator, RecordedScheduleMatchesTheEvaluatorsSchedule) {
  SyntheticSpec spec;
  spec.backbone = 15;
  spec.contention = 1.2;
  const Problem pb = synthetic_problem(spec);
  std::mt19937_64 rng(3);
  Evaluator ev(pb);
  for (int m = 0; m < 20; ++m) {
    const Config c = random_config(pb, rng);
    ev.evaluate(c);
    const Schedule a = ev.schedule();
    DesOptions o;
    o.forced_exits.assign(1, pb.exits());  // the final output: every enabled layer runs
    o.record_schedule = true;
    const Schedule b = simulate_des(pb, c, o).schedule;
    ASSERT_EQ(a.tasks.size(), b.tasks.size());
    std::vector<double> start_a(pb.layers(), -1), start_b(pb.layers(), -1);
    for (const TaskSpan& t : a.tasks) start_a[t.layer] = t.start;
    for (const TaskSpan& t : b.tasks) start_b[t.layer] = t.start;
    EXPECT_EQ(start_a, start_b) << "mapping " << m;
  }
}

}  // namespace
}  // namespace hetmap
