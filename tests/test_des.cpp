// The discrete-event simulator: arrivals, many inputs, cancellation, seeds and jitter. Exact
// expectations are worked out in the comment above them from docs/semantics.md.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fixtures.hpp"
#include "hetmap/des.hpp"
#include "hetmap/error.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap {
namespace {

using test::make_config;
using test::make_problem;

// Tensors are 250 floats = 1000 bytes: an A-B copy costs 1 ms + 1000 B / (0.001 GB/s) = 2 ms.
const char* kPlatform = R"(
name: two
host: A
processors:
  - {name: A, kind: cpu, cores: 2, freqs_mhz: [500, 1000], active_w: [0.5, 1.0], idle_w: 0.1}
  - {name: B, kind: gpu, active_w: 2.0, idle_w: 0.2}
links:
  - {between: [A, B], latency_ms: LATENCY, gbytes_per_s: BANDWIDTH}
contention: 1.0
source: test
)";

std::string platform(const std::string& latency = "1.0", const std::string& bandwidth = "0.001") {
  std::string s = kPlatform;
  s.replace(s.find("LATENCY"), 7, latency);
  s.replace(s.find("BANDWIDTH"), 9, bandwidth);
  return s;
}

// Backbone b1 -> b2 -> b3; exit e (one layer e1) after b1 (tests/support/fixtures.hpp).
const char* kModel = test::kChainWithExitYaml;

const char* kProfile = R"(layer,processor,freq_mhz,threads,mean_ms,std_ms
b1,A,,,2,0.6
b2,A,,,3,0.9
b3,A,,,3,0.9
e1,A,,,1,0.3
b1,B,,,1,0.3
b2,B,,,1,0.3
b3,B,,,1,0.3
e1,B,,,1,0.3
)";

std::string mapping(const std::string& policy, const std::string& assign) {
  return "{model: m, platform: two, policy: " + policy + ", default: A, assign: {" + assign +
         "}}";
}

// ------------------------------------------------------------------------------------------
// parse_arrival

TEST(ParseArrival, AcceptsTheThreeKinds) {
  EXPECT_EQ(parse_arrival("closed").kind, ArrivalKind::closed);
  const Arrival p = parse_arrival("periodic:30");
  EXPECT_EQ(p.kind, ArrivalKind::periodic);
  EXPECT_DOUBLE_EQ(p.rate_hz, 30.0);
  const Arrival q = parse_arrival("poisson:2.5");
  EXPECT_EQ(q.kind, ArrivalKind::poisson);
  EXPECT_DOUBLE_EQ(q.rate_hz, 2.5);
  EXPECT_DOUBLE_EQ(parse_arrival("periodic:1e3").rate_hz, 1000.0);
}

TEST(ParseArrival, RejectsEverythingElse) {
  for (const char* bad : {"", "open", "periodic", "periodic:", "periodic:0", "periodic:-1",
                          "poisson:abc", "poisson:30hz", "poisson: 30", "poisson:inf",
                          "poisson:nan", "uniform:3", "closed:1", "Periodic:30"}) {
    try {
      parse_arrival(bad, "experiment.arrival");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), kBadInput);
      EXPECT_EQ(std::string(e.what()),
                std::string("experiment.arrival: expected closed, periodic:RATE_HZ or "
                            "poisson:RATE_HZ with RATE_HZ > 0, got '") + bad + "'");
    }
  }
}

// ------------------------------------------------------------------------------------------
// One input against the analytical evaluator

TEST(Des, OneInputReproducesTheEvaluator) {
  const Problem pb = make_problem(kModel, platform(), kProfile);
  for (const char* policy : {"sequential", "parallel"}) {
    for (const char* assign : {"e1: B", "b2: B", "b1: B, e1: B", ""}) {
      const Config c = make_config(pb, mapping(policy, assign));
      Evaluator ev(pb);
      const Metrics& e = ev.evaluate(c);
      ASSERT_TRUE(e.feasible);
      for (int k = 0; k <= pb.exits(); ++k) {
        const double done = k == pb.exits()
                                ? e.exit_latency_ms[k]
                                : std::min(e.exit_latency_ms[k], e.exit_latency_ms[pb.exits()]);
        DesOptions o;
        o.forced_exits = {k};
        const Metrics d = simulate_des(pb, c, o);
        EXPECT_EQ(d.latency_ms.at(0), done) << policy << " {" << assign << "} k=" << k;
      }
    }
  }
}

TEST(Des, OneInputEnergyIsTheEvaluators) {
  // With the exit disabled only the final output answers, so the evaluator's energy is E_final.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("parallel", "b2: B"));
  c.exits_enabled = 0;
  Evaluator ev(pb);
  const Metrics& e = ev.evaluate(c);
  const Metrics d = simulate_des(pb, c, DesOptions{});
  EXPECT_EQ(d.energy_mj, e.energy_mj);
  EXPECT_EQ(d.latency_ms.at(0), e.mean_latency_ms);
  EXPECT_DOUBLE_EQ(d.accuracy, 0.9);
}

// ------------------------------------------------------------------------------------------
// Many inputs

TEST(Des, PeriodicInputsFarApartEachTakeTheSingleInputLatency) {
  // e1 on B, parallel: latency(e) = 7 (b1 0-2, copy 2-4, e1 4-5, copy back 5-7), final = 8.
  // Inputs 1 s apart never meet, so each takes its own exit's single-input latency.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  const Config c = make_config(pb, mapping("parallel", "e1: B"));
  DesOptions o;
  o.inputs = 10;
  o.arrival = parse_arrival("periodic:1");
  o.forced_exits = {0, 1};
  const Metrics r = simulate_des(pb, c, o);
  ASSERT_EQ(r.latency_ms.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_DOUBLE_EQ(r.latency_ms[i], i % 2 == 0 ? 7.0 : 8.0) << i;
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 7.5);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(r.p50_latency_ms, 7.0);  // nearest rank: the 5th of 10
  EXPECT_DOUBLE_EQ(r.p95_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(r.exit_share[0], 0.5);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 7.0);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[1], 8.0);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5 * 0.5 + 0.5 * 0.9);
  // The last input arrives at 9000 ms and leaves at 9008.
  EXPECT_DOUBLE_EQ(r.makespan_ms, 9008.0);
  EXPECT_DOUBLE_EQ(r.throughput_ips, 10 * 1000.0 / 9008.0);
}

TEST(Des, ClosedInputsRunBackToBack) {
  // Everything on A, no exit: each input takes 2 + 3 + 3 = 8 ms and the next one arrives when
  // it leaves, so input i runs over [8i, 8i + 8] and A is never idle.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("sequential", ""));
  c.exits_enabled = 0;
  DesOptions o;
  o.inputs = 5;
  o.record_schedule = true;
  const Metrics r = simulate_des(pb, c, o);
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(r.latency_ms[i], 8.0);
  EXPECT_DOUBLE_EQ(r.makespan_ms, 40.0);
  EXPECT_DOUBLE_EQ(r.throughput_ips, 125.0);
  EXPECT_DOUBLE_EQ(r.utilization[0], 1.0);
  EXPECT_DOUBLE_EQ(r.utilization[1], 0.0);
  // Energy: A busy 40 ms at 1 W; B idle 40 ms at 0.2 W: (40 + 8) / 5 inputs.
  EXPECT_DOUBLE_EQ(r.energy_mj, 9.6);
  ASSERT_EQ(r.schedule.tasks.size(), 15u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(r.schedule.tasks[3 * i].input, i);
    EXPECT_DOUBLE_EQ(r.schedule.tasks[3 * i].start, 8.0 * i);
  }
  EXPECT_EQ(r.cancelled_tasks, 0);
}

TEST(Des, PeriodicEnergyCountsIdleTimeBetweenInputs) {
  // As above but inputs 10 ms apart: 3 inputs, the last done at 28. A: 24 ms active at 1 W,
  // 4 ms idle at 0.1 W; B: 28 ms idle at 0.2 W. (24 + 0.4 + 5.6) / 3 = 10 mJ per input.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("sequential", ""));
  c.exits_enabled = 0;
  DesOptions o;
  o.inputs = 3;
  o.arrival = parse_arrival("periodic:100");
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_DOUBLE_EQ(r.makespan_ms, 28.0);
  EXPECT_NEAR(r.energy_mj, 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.utilization[0], 24.0 / 28.0);
}

TEST(Des, OlderInputsGoFirst) {
  // Inputs 1 ms apart on A alone: input 1's b1 is ready at 1 but A is busy until 2 with input
  // 0's b1; at 2 both input 0's b2 and input 1's b1 are ready, and the older input wins.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("sequential", ""));
  c.exits_enabled = 0;
  DesOptions o;
  o.inputs = 2;
  o.arrival = parse_arrival("periodic:1000");
  o.record_schedule = true;
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_DOUBLE_EQ(r.latency_ms[0], 8.0);
  EXPECT_DOUBLE_EQ(r.latency_ms[1], 16.0 - 1.0);  // waits for all of input 0
  ASSERT_EQ(r.schedule.tasks.size(), 6u);
  for (int j = 0; j < 3; ++j) EXPECT_EQ(r.schedule.tasks[j].input, 0);
}

TEST(Des, ParallelCancelsWorkTheExitMadeUseless) {
  // A 10 ms link (bandwidth huge). b1 A, e1 A, b2 and b3 on B, parallel. Input 0 is forced to
  // the final output, input 1 to the exit; input 1 arrives at 2.
  // Input 0: b1 A 0-1, copy b1 A->B 1-11, e1 A 1-2 (not its exit), b2 B 11-12, b3 B 12-13,
  //   copy b3 B->A 13-23: latency 23.
  // Input 1: b1 A 2-3, copy b1 requested at 3 but queued behind input 0's; e1 A 3-4 answers:
  //   done at 4, latency 2. Its queued copy and its b2, b3 (2 ms of work) are cancelled.
  const std::string profile = "layer,processor,mean_ms\nb1,A,1\ne1,A,1\nb2,B,1\nb3,B,1\n";
  const Problem pb = make_problem(kModel, platform("10", "1e9"), profile);
  const Config c = make_config(pb, mapping("parallel", "b2: B, b3: B"));
  DesOptions o;
  o.inputs = 2;
  o.arrival = parse_arrival("periodic:500");
  o.forced_exits = {1, 0};
  o.record_schedule = true;
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_NEAR(r.latency_ms[0], 23.0, 1e-6);
  EXPECT_DOUBLE_EQ(r.latency_ms[1], 2.0);
  EXPECT_EQ(r.cancelled_tasks, 2);
  EXPECT_EQ(r.cancelled_copies, 1);
  EXPECT_DOUBLE_EQ(r.cancelled_work_ms, 2.0);
  EXPECT_EQ(r.schedule.tasks.size(), 6u);  // 4 for input 0, 2 for input 1
  EXPECT_EQ(r.schedule.copies.size(), 2u);
}

TEST(Des, CancellationUnderSequentialToo) {
  // Everything on A: b1 0-2, e1 2-3 answers at 3; b2 and b3 (6 ms) never start.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  const Config c = make_config(pb, mapping("sequential", ""));
  DesOptions o;
  o.inputs = 4;
  o.forced_exits = {0};
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 3.0);
  EXPECT_EQ(r.cancelled_tasks, 8);
  EXPECT_DOUBLE_EQ(r.cancelled_work_ms, 24.0);
}

TEST(Des, EventsCountsEveryPoppedEvent) {
  // One input all on A, no exit: 1 arrival + 3 task finishes.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("sequential", ""));
  c.exits_enabled = 0;
  EXPECT_EQ(simulate_des(pb, c, DesOptions{}).events, 4);
}

// ------------------------------------------------------------------------------------------
// Seeds and jitter

Metrics noisy_run(const Problem& pb, const Config& c, std::uint64_t seed) {
  DesOptions o;
  o.inputs = 2000;
  o.arrival = parse_arrival("poisson:150");
  o.jitter = true;
  o.seed = seed;
  return simulate_des(pb, c, o);
}

TEST(Des, SameSeedSameRun) {
  const Problem pb = make_problem(kModel, platform(), kProfile);
  const Config c = make_config(pb, mapping("parallel", "e1: B, b3: B"));
  const Metrics a = noisy_run(pb, c, 7), b = noisy_run(pb, c, 7), other = noisy_run(pb, c, 8);
  EXPECT_EQ(a.latency_ms, b.latency_ms);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.exit_share, b.exit_share);
  EXPECT_EQ(a.energy_mj, b.energy_mj);
  EXPECT_NE(a.latency_ms, other.latency_ms);
}

TEST(Des, ExitsAreDrawnFromTheShares) {
  const Problem pb = make_problem(kModel, platform(), kProfile);
  const Config c = make_config(pb, mapping("parallel", "e1: B"));
  DesOptions o;
  o.inputs = 20000;
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_NEAR(r.exit_share[0], 0.4, 0.02);
  EXPECT_NEAR(r.exit_share[1], 0.6, 0.02);
  EXPECT_NEAR(r.accuracy, 0.4 * 0.5 + 0.6 * 0.9, 0.01);
}

TEST(Des, JitterKeepsTheProfiledMean) {
  // Closed arrivals on A alone, no exit: the mean latency is the sum of the mean durations
  // (8 ms), each drawn with a 30% standard deviation.
  const Problem pb = make_problem(kModel, platform(), kProfile);
  Config c = make_config(pb, mapping("sequential", ""));
  c.exits_enabled = 0;
  DesOptions o;
  o.inputs = 20000;
  o.jitter = true;
  const Metrics r = simulate_des(pb, c, o);
  EXPECT_NEAR(r.mean_latency_ms, 8.0, 0.08);
  EXPECT_GT(r.worst_latency_ms, 9.0);  // it does vary
  EXPECT_LT(r.p50_latency_ms, r.p99_latency_ms);
}

TEST(Des, TraceDecidesExitsAndAccuracy) {
  // e1 on B, parallel: latency(e) = 7, latency(final) = 8. Samples confident at e (>= 0.5):
  // 0 and 2, done at 7 and scored by e's bit; 1 and 3 wait for the final output at 8.
  Model m = parse_model(kModel, "model.yaml");
  Platform p = parse_platform(platform(), "platform.yaml");
  Profile prof = parse_profile(kProfile, "profile.csv", m, p);
  ExitTrace tr;
  tr.file = "trace.csv";
  tr.samples = 4;
  tr.conf = {{0.9f, 0.1f, 0.7f, 0.2f}};
  tr.ok = {{1, 1, 0, 0}};
  tr.final_ok = {0, 1, 1, 1};
  const Problem pb(std::move(m), std::move(p), std::move(prof), std::nullopt, std::move(tr));
  const Config c = make_config(pb, mapping("parallel", "e1: B"));
  DesOptions o;
  o.inputs = 8;  // the trace twice, 1 s apart so that inputs never meet
  o.arrival = parse_arrival("periodic:1");
  const Metrics r = simulate_des(pb, c, o);
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(r.latency_ms[i], i % 2 == 0 ? 7.0 : 8.0) << i;
  EXPECT_DOUBLE_EQ(r.exit_share[0], 0.5);
  EXPECT_DOUBLE_EQ(r.accuracy, (1 + 1 + 0 + 1) / 4.0);
}

TEST(Des, RejectsBadOptions) {
  const Problem pb = make_problem(kModel, platform(), kProfile);
  const Config c = make_config(pb, mapping("sequential", ""));
  DesOptions o;
  o.inputs = 0;
  EXPECT_THROW(simulate_des(pb, c, o), InputError);
  o.inputs = 1;
  o.forced_exits = {2};
  EXPECT_THROW(simulate_des(pb, c, o), InputError);
}

}  // namespace
}  // namespace hetmap

namespace hetmap {
namespace {

// energy_by_processor_mj: each processor's active + idle terms, which sum to energy_mj; NaN for
// a processor without power (a run metered on some processors only is compared on those).
TEST(DesEnergy, PerProcessorTermsSumToTheTotal) {
  const Problem problem = load_problem(test::source_path("models/tiny-ee.yaml"),
                                       test::source_path("profiles/example/platform.yaml"),
                                       test::source_path("profiles/example/tiny-ee.csv"));
  const Config config = problem.resolve(load_mapping(test::source_path("examples/tiny-ee-parallel.yaml")));
  DesOptions d;
  d.inputs = 20;
  d.arrival = Arrival{ArrivalKind::periodic, 100.0};
  const Metrics r = simulate_des(problem, config, d);
  ASSERT_EQ(r.energy_by_processor_mj.size(), 3u);
  double sum = 0.0;
  for (double e : r.energy_by_processor_mj) {
    EXPECT_GT(e, 0.0);
    sum += e;
  }
  EXPECT_NEAR(sum, r.energy_mj, 1e-9 * r.energy_mj);

  Platform partial = problem.platform();
  partial.processors[0].has_power = false;  // big: no active_w
  const Problem p2(problem.model(), partial, problem.profile());
  const Metrics r2 = simulate_des(p2, p2.resolve(load_mapping(test::source_path("examples/tiny-ee-parallel.yaml"))), d);
  EXPECT_TRUE(std::isnan(r2.energy_mj));
  EXPECT_TRUE(std::isnan(r2.energy_by_processor_mj[0]));
  EXPECT_DOUBLE_EQ(r2.energy_by_processor_mj[1], r.energy_by_processor_mj[1]);
  EXPECT_DOUBLE_EQ(r2.energy_by_processor_mj[2], r.energy_by_processor_mj[2]);
}

}  // namespace
}  // namespace hetmap
