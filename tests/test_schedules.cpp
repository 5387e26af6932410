// Hand-computed single-input schedules: each expected number below is worked out in the
// comment above it from docs/semantics.md.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "fixtures.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap {
namespace {

using test::make_config;
using test::make_problem;

// Every tensor is 250 floats = 1000 bytes, so a copy over the A-B link costs
// 1 ms + 1000 B / (0.001 GB/s) = 2 ms.
const char* kPlatform = R"(
name: two
host: A
processors:
  - {name: A, kind: cpu, cores: 2, freqs_mhz: [500, 1000], active_w: [0.5, 1.0], idle_w: 0.1}
  - {name: B, kind: gpu, active_w: 2.0, idle_w: 0.2}
links:
  - {between: [A, B], latency_ms: 1.0, gbytes_per_s: 0.001}
contention: CONTENTION
source: test
)";

std::string platform(double contention = 1.0) {
  std::string s = kPlatform;
  s.replace(s.find("CONTENTION"), 10, std::to_string(contention));
  return s;
}

// Backbone b1 -> b2 -> b3; exit e (one layer e1) after b1 (tests/support/fixtures.hpp).
const char* kExitModel = test::kChainWithExitYaml;

const char* kExitProfile = R"(layer,processor,freq_mhz,threads,mean_ms
b1,A,,,2
b2,A,,,3
b3,A,,,3
e1,A,,,1
b1,B,,,1
b2,B,,,1
b3,B,,,1
e1,B,,,1
)";

const char* kExitOnB = R"(
model: m
platform: two
policy: POLICY
default: A
assign: {e1: B}
)";

std::string mapping(const char* tmpl, const std::string& policy) {
  std::string s = tmpl;
  s.replace(s.find("POLICY"), 6, policy);
  return s;
}

TEST(Schedule, ChainWithTransfers) {
  // l1 on A 0-2; copy to B 2-4; l2 on B 4-5; copy back 5-7; l3 on A 7-11.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: l1, op: opaque, out: [250]}
  - {name: l2, op: opaque, out: [250]}
  - {name: l3, op: opaque, out: [250]}
)", platform(), "layer,processor,mean_ms\nl1,A,2\nl2,A,3\nl3,A,4\nl1,B,1\nl2,B,1\nl3,B,1\n");
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(
      make_config(pb, "{model: m, platform: two, default: A, assign: {l2: B}}"));
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 11.0);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 11.0);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 11.0);
  const Schedule s = ev.schedule();
  ASSERT_EQ(s.copies.size(), 2u);
  EXPECT_DOUBLE_EQ(s.copies[0].start, 2.0);
  EXPECT_DOUBLE_EQ(s.copies[0].finish, 4.0);
  EXPECT_DOUBLE_EQ(s.copies[1].start, 5.0);
  EXPECT_DOUBLE_EQ(s.copies[1].finish, 7.0);
}

TEST(Schedule, FirstLayerOffHostWaitsForTheInput) {
  // The input (1000 B) is copied A->B 0-2; l1 on B 2-3; result back to A 3-5.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers: [{name: l1, op: opaque, out: [250]}]
)", platform(), "layer,processor,mean_ms\nl1,A,2\nl1,B,1\n");
  Evaluator ev(pb);
  EXPECT_DOUBLE_EQ(ev.evaluate(make_config(pb, "{model: m, platform: two, default: B}")).mean_latency_ms,
                   5.0);
}

TEST(Schedule, CopiesOnOneLinkRunOneAtATime) {
  // p1 on A 0-2, p2 on A 2-3. Copy p1 A->B 2-4; p2's copy is requested at 3 but the link is
  // busy until 4: 4-6. c1 on B 4-5, c2 on B 6-7, c3 = c1 + c2 on B 7-8, result to A 8-10.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: p1, op: opaque, out: [250]}
  - {name: p2, op: opaque, out: [250]}
  - {name: c1, op: opaque, out: [250], inputs: [p1]}
  - {name: c2, op: opaque, out: [250], inputs: [p2]}
  - {name: c3, op: add, inputs: [c1, c2]}
)", platform(), "layer,processor,mean_ms\np1,A,2\np2,A,1\nc1,B,1\nc2,B,1\nc3,B,1\n");
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(
      pb, "{model: m, platform: two, default: B, assign: {p1: A, p2: A}}"));
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 10.0);
  const Schedule s = ev.schedule();
  ASSERT_EQ(s.copies.size(), 3u);
  EXPECT_DOUBLE_EQ(s.copies[1].start, 4.0);  // waited for the first copy
  EXPECT_DOUBLE_EQ(s.copies[1].finish, 6.0);
}

TEST(Schedule, SequentialBackboneWaitsForTheExit) {
  // b1 A 0-2; copy b1 A->B 2-4; e1 B 4-5; result to A 5-7: latency(e) = 7.
  // b2 waits for e1's finish (5, no copy): A 5-8; b3 A 8-11: latency(final) = 11.
  // mean = 0.4 * 7 + 0.6 * 11 = 9.4; worst = 11; accuracy = 0.4 * 0.5 + 0.6 * 0.9 = 0.74.
  const Problem pb = make_problem(kExitModel, platform(), kExitProfile);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "sequential")));
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 7.0);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[1], 11.0);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 9.4);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 11.0);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.74);
  EXPECT_DOUBLE_EQ(r.exit_share[0], 0.4);
  EXPECT_DOUBLE_EQ(r.exit_share[1], 0.6);
}

TEST(Schedule, ParallelBranchRunsBesideTheBackbone) {
  // b1 A 0-2; b2 A 2-5; b3 A 5-8: latency(final) = 8. e1 B 4-5, result 5-7: latency(e) = 7.
  // mean = 0.4 * 7 + 0.6 * 8 = 7.6; worst = 8.
  const Problem pb = make_problem(kExitModel, platform(), kExitProfile);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "parallel")));
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 7.0);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[1], 8.0);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 7.6);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 8.0);
}

TEST(Schedule, LaterResultArrivingFirstAnswersForAnEarlierExit) {
  // e1 takes 10 ms on B: 4-14, result 14-16. The final output is on the host at 8, so inputs
  // confident at e are done at 8 too: mean = worst = 8, and they score the final accuracy.
  const std::string profile = std::string(kExitProfile).replace(
      std::string(kExitProfile).find("e1,B,,,1"), 8, "e1,B,,,10");
  const Problem pb = make_problem(kExitModel, platform(), profile);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "parallel")));
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 16.0);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.9);
}

TEST(Schedule, Contention) {
  // contention 1.5, parallel. b1 A 0-2 (B idle): 2 ms. b2 A starts at 2 with B idle: 2-5.
  // e1 B starts at 4 while A runs b2: 1.5 ms, 4-5.5; result 5.5-7.5.
  // b3 A starts at 5 while B runs e1: 4.5 ms, 5-9.5.
  const Problem pb = make_problem(kExitModel, platform(1.5), kExitProfile);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "parallel")));
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 7.5);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[1], 9.5);
}

TEST(Schedule, ContentionIsSymmetricForSimultaneousStarts) {
  // No links: y's input reaches B at once, so x on A and y on B both start at 0 and each sees
  // the other executing: x takes 2 * 2 = 4 ms, y 1 * 2 = 2 ms.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: x, op: opaque, out: [250]}
  - {name: y, op: opaque, out: [250], inputs: [input]}
  - {name: z, op: add, inputs: [x, y]}
)", R"(
name: nolink
host: A
processors:
  - {name: A, kind: cpu}
  - {name: B, kind: cpu}
contention: 2.0
)", "layer,processor,mean_ms\nx,A,2\ny,B,1\nz,A,1\n");
  Evaluator ev(pb);
  ev.evaluate(make_config(pb, "{model: m, platform: nolink, default: A, assign: {y: B}}"));
  const Schedule s = ev.schedule();
  ASSERT_EQ(s.tasks.size(), 3u);
  std::map<std::string, double> finish;
  for (const TaskSpan& t : s.tasks) finish[pb.model().layers[t.layer].name] = t.finish;
  EXPECT_DOUBLE_EQ(finish["x"], 4.0);
  EXPECT_DOUBLE_EQ(finish["y"], 2.0);
  EXPECT_DOUBLE_EQ(finish["z"], 5.0);  // starts at 4 with B idle: no contention
}

TEST(Schedule, ProcessorPicksTheFirstReadyLayerInDeclarationOrder) {
  // Both branches of the input are ready at 0 on A; declaration order decides: x then y.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: x, op: opaque, out: [250]}
  - {name: y, op: opaque, out: [250], inputs: [input]}
  - {name: z, op: add, inputs: [x, y]}
)", platform(), "layer,processor,mean_ms\nx,A,2\ny,A,1\nz,A,1\n");
  Evaluator ev(pb);
  ev.evaluate(make_config(pb, "{model: m, platform: two, default: A}"));
  const Schedule s = ev.schedule();
  EXPECT_EQ(pb.model().layers[s.tasks[0].layer].name, "x");
  EXPECT_DOUBLE_EQ(s.tasks[1].start, 2.0);
  EXPECT_DOUBLE_EQ(s.tasks[2].finish, 4.0);
}

TEST(Schedule, DisabledExitMovesItsShareToTheNextEnabledResult) {
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: b1, op: opaque, out: [250]}
  - {name: b2, op: opaque, out: [250]}
  - {name: b3, op: opaque, out: [250]}
exits:
  - {name: e1, after: b1, layers: [{name: x1, op: opaque, out: [250]}], taken: 0.3, accuracy: 0.6}
  - {name: e2, after: b2, layers: [{name: x2, op: opaque, out: [250]}], taken: 0.2, accuracy: 0.7}
final_accuracy: 0.9
)", platform(), "layer,processor,mean_ms\nb1,A,1\nb2,A,1\nb3,A,1\nx1,A,1\nx2,A,1\n");
  Evaluator ev(pb);
  // e1 off: its layer never runs. b1 0-1, b2 1-2, x2 2-3, b3 3-4.
  const Metrics& r =
      ev.evaluate(make_config(pb, "{model: m, platform: two, default: A, exits: {e1: false}}"));
  EXPECT_DOUBLE_EQ(r.exit_share[0], 0.0);
  EXPECT_DOUBLE_EQ(r.exit_share[1], 0.5);
  EXPECT_DOUBLE_EQ(r.exit_share[2], 0.5);
  EXPECT_TRUE(std::isnan(r.exit_latency_ms[0]));
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[1], 3.0);
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[2], 4.0);
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 3.5);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.5 * 0.7 + 0.5 * 0.9);
  EXPECT_EQ(ev.schedule().tasks.size(), 4u);
}

TEST(Schedule, Energy) {
  // Sequential schedule of SequentialBackboneWaitsForTheExit: b1 A[0,2], e1 B[4,5],
  // b2 A[5,8], b3 A[8,11]. A: 1.0 W active, 0.1 W idle; B: 2.0 W active, 0.2 W idle.
  // t = 7 (exit): started before 7: b1 (2 mJ), e1 (2 mJ), b2 whole (3 mJ) = 7 mJ active;
  //   A busy in [0,7] = 2 + 2 -> idle 3 ms * 0.1 = 0.3; B busy 1 -> idle 6 * 0.2 = 1.2. E = 8.5.
  // t = 11 (final): active 10; A idle 3 * 0.1 = 0.3; B idle 10 * 0.2 = 2.0. E = 12.3.
  // energy = 0.4 * 8.5 + 0.6 * 12.3 = 10.78.
  const Problem pb = make_problem(kExitModel, platform(), kExitProfile);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "sequential")));
  EXPECT_NEAR(r.energy_mj, 10.78, 1e-12);
  // Busiest resource: A, expected 0.4 * (2 + 3) + 0.6 * 8 = 6.8 ms per input.
  EXPECT_NEAR(r.throughput_ips, 1000.0 / 6.8, 1e-9);
  // A's busy time inside each window: 0.4 * 4 + 0.6 * 8 = 6.4 of a mean latency of 9.4.
  EXPECT_NEAR(r.utilization[0], 6.4 / 9.4, 1e-12);
  EXPECT_NEAR(r.utilization[1], 1.0 / 9.4, 1e-12);
}

TEST(Schedule, NoPowerDataMeansNoEnergy) {
  const Problem pb = make_problem(kExitModel, R"(
name: two
host: A
processors: [{name: A, kind: cpu}, {name: B, kind: gpu}]
)", kExitProfile);
  Evaluator ev(pb);
  EXPECT_TRUE(std::isnan(ev.evaluate(make_config(pb, "{model: m, platform: two}")).energy_mj));
}

TEST(Schedule, DvfsScalesUnprofiledFrequenciesAndUsesExactRows) {
  // Rows exist at 1000 MHz (the default); at 500 MHz b1 scales to 2 * 1000/500 = 4 ms, while
  // b2 has an exact 500 MHz row (5 ms, not 6). b3 3 ms -> 6 ms. Total 4 + 5 + 6 = 15 ms, all
  // on A at 0.5 W: 7.5 mJ.
  const Problem pb = make_problem(R"(
name: m
input: [250]
layers:
  - {name: b1, op: opaque, out: [250]}
  - {name: b2, op: opaque, out: [250]}
  - {name: b3, op: opaque, out: [250]}
)", platform(), "layer,processor,freq_mhz,threads,mean_ms\nb1,A,,,2\nb2,A,1000,,3\nb2,A,500,,5\nb3,A,1000,2,3\n");
  Evaluator ev(pb);
  const Metrics& r =
      ev.evaluate(make_config(pb, "{model: m, platform: two, default: A, freq_mhz: {A: 500}}"));
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 15.0);
  EXPECT_DOUBLE_EQ(r.energy_mj, 15.0 * 0.5 + 15.0 * 0.2);  // B idles at 0.2 W all along
  // One thread: no row for it, so the layers cannot run there.
  EXPECT_THROW(make_config(pb, "{model: m, platform: two, default: A, threads: {A: 1}}"),
               InfeasibleError);
}

TEST(Schedule, MeasuredTransfersReplaceTheLinkFormula) {
  // b1 -> B costs 0.5 ms (measured) instead of 2: e1 B 2.5-3.5; result 3.5-5.5 (formula).
  const Problem pb = make_problem(kExitModel, platform(), kExitProfile,
                                  "layer,from,to,mean_ms\nb1,A,B,0.5\n");
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "parallel")));
  EXPECT_DOUBLE_EQ(r.exit_latency_ms[0], 5.5);
}

TEST(Schedule, TraceDecidesWhereEachSampleLeaves) {
  // Parallel schedule: latency(e) = 7, latency(final) = 8. Threshold 0.5: samples 0 and 2
  // leave at e (7 ms), 1 and 3 at the final output (8 ms): mean 7.5, worst 8. Correct: sample
  // 0 (e ok), 1 (final ok), 2 is wrong at e, 3 (final ok): 0.75.
  Model m = parse_model(kExitModel, "model.yaml");
  Platform p = parse_platform(platform(), "platform.yaml");
  Profile prof = parse_profile(kExitProfile, "profile.csv", m, p);
  const std::string dir = test::temp_dir();
  ExitTrace tr = load_trace(test::write_file(dir, "trace.csv",
                                             "sample,e_conf,e_ok,final_ok\n0,0.9,1,1\n1,0.2,0,1\n"
                                             "2,0.8,0,1\n3,0.1,0,1\n"),
                            m);
  const Problem pb(std::move(m), std::move(p), std::move(prof), std::nullopt, std::move(tr));
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(make_config(pb, mapping(kExitOnB, "parallel")));
  EXPECT_DOUBLE_EQ(r.mean_latency_ms, 7.5);
  EXPECT_DOUBLE_EQ(r.worst_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(r.exit_share[0], 0.5);
  // A threshold above every confidence sends every sample to the final output.
  const Metrics& high = ev.evaluate(make_config(
      pb, mapping(kExitOnB, "parallel") + "thresholds: {e: 0.95}\n"));
  EXPECT_DOUBLE_EQ(high.mean_latency_ms, 8.0);
  EXPECT_DOUBLE_EQ(high.accuracy, 1.0);
}

TEST(Schedule, EvaluatingTwiceGivesTheSameNumbers) {
  const Problem pb = make_problem(kExitModel, platform(1.3), kExitProfile);
  Evaluator ev(pb);
  const Config a = make_config(pb, mapping(kExitOnB, "parallel"));
  const Config b = make_config(pb, mapping(kExitOnB, "sequential"));
  const double first = ev.evaluate(a).mean_latency_ms;
  ev.evaluate(b);
  EXPECT_EQ(ev.evaluate(a).mean_latency_ms, first);
}

}  // namespace
}  // namespace hetmap
