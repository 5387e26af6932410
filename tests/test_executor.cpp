// The executor (backends/src/executor.cpp) on the reference backend: placement does not change
// the numbers, cancellation really skips work, the policies order the work as the semantics
// say, arrivals, the exit decisions shared with the DES (ExitPlan), and `hetmap run`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/des.hpp"
#include "hetmap/exits.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"

namespace hetmap::backend {
namespace {

// Backbone conv1 relu1 | conv2 relu2 pool2 conv3 relu3 pool3 fc; exit e after relu1: a light
// branch (pool, fc) beside a backbone of about 3 M multiply-adds after it. One input takes a
// millisecond or two.
const char* kModel = R"(
name: t
input: [3, 24, 24]
layers:
  - {name: conv1, op: conv, filters: 8, kernel: 3, pad: 1}
  - {name: relu1, op: relu}
  - {name: conv2, op: conv, filters: 32, kernel: 3, pad: 1}
  - {name: relu2, op: relu}
  - {name: pool2, op: maxpool, kernel: 2, stride: 2}
  - {name: conv3, op: conv, filters: 32, kernel: 3, pad: 1}
  - {name: relu3, op: relu}
  - {name: pool3, op: avgpool, global: true}
  - {name: fc, op: fc, units: 10}
exits:
  - name: e
    after: relu1
    layers:
      - {name: e_pool, op: avgpool, global: true}
      - {name: e_fc, op: fc, units: 10}
    taken: 0.4
    accuracy: 0.6
final_accuracy: 0.9
)";

const std::vector<std::string> kAfterExit = {"conv2", "relu2", "pool2", "conv3",
                                             "relu3", "pool3", "fc"};

std::string mapping(const std::string& policy, const std::string& assign,
                    const std::string& platform = "host-cpu") {
  return "model: t\nplatform: " + platform + "\npolicy: " + policy +
         "\ndefault: cpu0\nassign: {" + assign + "}\n";
}

// Spread over both clusters: tensors cross back and forth along both paths.
const char* kSpread = "conv2: cpu1, relu2: cpu1, pool3: cpu1, e_pool: cpu1, fc: cpu1";
// The exit's path crosses too, its last layer on the host (cpu0): under `sequential` the input
// is done at e_fc's finish, before conv2 may start, whatever the timing.
const char* kExitSpread = "conv1: cpu1, e_pool: cpu1, conv2: cpu1, pool3: cpu1";
// The backbone on cpu1, the exit branch on the host (cpu0).
const char* kBackboneOnCpu1 =
    "conv1: cpu1, relu1: cpu1, conv2: cpu1, relu2: cpu1, pool2: cpu1, conv3: cpu1, relu3: cpu1, "
    "pool3: cpu1, fc: cpu1";
// The exit branch on the host (cpu0) next to relu1, the backbone after it on cpu1.
const char* kTailOnCpu1 =
    "conv2: cpu1, relu2: cpu1, pool2: cpu1, conv3: cpu1, relu3: cpu1, pool3: cpu1, fc: cpu1";

class Executor : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      backend_ = make_backend("reference", BackendOptions{2});
    } catch (const BackendError& e) {
      GTEST_SKIP() << "needs two CPUs: " << e.what();
    }
    model_ = parse_model(kModel, "model.yaml");
    problem_ = std::make_unique<Problem>(execution_problem(model_, *backend_));
  }
  Config config(const std::string& policy, const std::string& assign) const {
    return problem_->resolve(parse_mapping(mapping(policy, assign), "mapping.yaml"), false);
  }
  ExecuteResult run(const Config& c, ExecuteOptions o) {
    return execute(*backend_, *problem_, c, o);
  }
  int layer(const std::string& name) const { return model_.find_layer(name); }
  int enabled_layers() const { return static_cast<int>(model_.layers.size()); }

  std::unique_ptr<Backend> backend_;
  Model model_;
  std::unique_ptr<Problem> problem_;
};

// ------------------------------------------------------------------------------------------
// Numbers

TEST_F(Executor, PlacementDoesNotChangeTheNumbers) {
  ExecuteOptions o;
  o.inputs = 3;  // three different input tensors
  o.keep_outputs = true;
  for (int forced : {problem_->exits(), 0}) {  // the final output, then the exit's
    o.forced_exits = {forced};
    const ExecuteResult one = run(config("sequential", ""), o);
    // Only the final output can answer when it is forced; an early exit races the backbone
    // under `parallel`, so it is compared where it deterministically answers.
    const std::vector<std::pair<const char*, const char*>> runs =
        forced == problem_->exits()
            ? std::vector<std::pair<const char*, const char*>>{{"sequential", kSpread},
                                                               {"parallel", kSpread},
                                                               {"parallel", kExitSpread}}
            : std::vector<std::pair<const char*, const char*>>{{"sequential", kExitSpread}};
    for (int i = 0; i < o.inputs; ++i) {
      ASSERT_EQ(one.outputs[i].result, forced);
      ASSERT_EQ(one.outputs[i].data.size(), 10u);
      for (float v : one.outputs[i].data) ASSERT_TRUE(std::isfinite(v));
    }
    // Different inputs give different answers (the inputs are really used).
    EXPECT_NE(one.outputs[0].data, one.outputs[1].data);
    for (const auto& [policy, assign] : runs) {
      const ExecuteResult spread = run(config(policy, assign), o);
      EXPECT_GT(spread.copies_run, 0);
      for (int i = 0; i < o.inputs; ++i) {
        EXPECT_EQ(spread.outputs[i].result, forced);
        // Bit for bit: the same floats.
        EXPECT_EQ(spread.outputs[i].data, one.outputs[i].data)
            << policy << " {" << assign << "} input " << i << " result " << forced;
      }
    }
  }
}

TEST_F(Executor, TheSameSeedsGiveTheSameNumbersAndOthersDoNot) {
  ExecuteOptions o;
  o.keep_outputs = true;
  o.forced_exits = {problem_->exits()};
  const Config c = config("parallel", kSpread);
  const auto a = run(c, o), b = run(c, o);
  EXPECT_EQ(a.outputs[0].data, b.outputs[0].data);
  ExecuteOptions w = o;
  w.weights_seed = 2;
  EXPECT_NE(run(c, w).outputs[0].data, a.outputs[0].data);
  ExecuteOptions x = o;
  x.seed = 2;
  EXPECT_NE(run(c, x).outputs[0].data, a.outputs[0].data);
}

// ------------------------------------------------------------------------------------------
// Cancellation

// Every input leaves at the exit. Everything on cpu0, parallel: after relu1 both e_pool and
// conv2 are ready, e_pool comes first in declaration order, then e_fc; when e_fc's output is
// on the host (cpu0) the input is done and the backbone after relu1 is cancelled before it
// ever starts. Spread over both processors, sequential, e_fc on the host: conv2 waits for
// e_fc, whose output ends the input in the same step, so again nothing after relu1 starts.
TEST_F(Executor, CancelledLayersNeverRun) {
  for (const auto& [policy, assign] : std::vector<std::pair<const char*, const char*>>{
           {"parallel", ""}, {"sequential", kExitSpread}}) {
    SCOPED_TRACE(std::string(policy) + " {" + assign + "}");
    ExecuteOptions o;
    o.inputs = 4;
    o.forced_exits = {0};
    o.record_schedule = true;
    const ExecuteResult r = run(config(policy, assign), o);
    const int after = static_cast<int>(kAfterExit.size());
    EXPECT_EQ(r.metrics.cancelled_tasks, o.inputs * after);
    EXPECT_EQ(r.tasks_run, o.inputs * (enabled_layers() - after));
    EXPECT_EQ(r.copies_run > 0, *assign != 0);
    ASSERT_EQ(static_cast<std::int64_t>(r.metrics.schedule.tasks.size()), r.tasks_run);
    for (const TaskSpan& t : r.metrics.schedule.tasks)
      for (const std::string& name : kAfterExit) EXPECT_NE(t.layer, layer(name)) << name;
    for (int i = 0; i < o.inputs; ++i) EXPECT_EQ(r.answered[i], 0);
    EXPECT_DOUBLE_EQ(r.metrics.exit_share[0], 1.0);
    EXPECT_DOUBLE_EQ(r.metrics.accuracy, 0.6);
    // Energy only where this machine's RAPL counters cover both clusters (power.hpp).
    EXPECT_EQ(std::isnan(r.metrics.energy_mj), !backend_->power_meters().covers_all(2)) << r.energy_note;
    EXPECT_TRUE(std::isnan(r.metrics.cancelled_work_ms));
  }
}

// Across processors, parallel: the branch runs on cpu0 right after relu1 while the backbone
// goes on on cpu1 (after a copy), and whichever result reaches the host first answers (the
// light branch, unless its thread stalls for the whole backbone). Whatever the timing, every
// layer either ran (it is in the schedule) or was cancelled, never both: the counts add up
// exactly.
// With one slot, the next input also waits for the cancelled stragglers of the previous one.
TEST_F(Executor, CancellationAcrossProcessorsAddsUp) {
  for (int slots : {0, 1}) {
    SCOPED_TRACE("slots " + std::to_string(slots));
    ExecuteOptions o;
    o.inputs = 6;
    o.forced_exits = {0};
    o.record_schedule = true;
    o.slots = slots;
    const ExecuteResult r = run(config("parallel", kTailOnCpu1), o);
    EXPECT_EQ(r.tasks_run + r.metrics.cancelled_tasks, o.inputs * enabled_layers());
    ASSERT_EQ(static_cast<std::int64_t>(r.metrics.schedule.tasks.size()), r.tasks_run);
    EXPECT_GT(r.metrics.cancelled_tasks, 0);
    std::vector<std::set<int>> ran(o.inputs);
    for (const TaskSpan& t : r.metrics.schedule.tasks)
      EXPECT_TRUE(ran[t.input].insert(t.layer).second) << "layer ran twice";
    int early = 0;
    for (int i = 0; i < o.inputs; ++i) {
      ASSERT_TRUE(r.answered[i] == 0 || r.answered[i] == problem_->exits());
      if (r.answered[i] != 0) continue;
      ++early;
      for (const char* name : {"conv1", "relu1", "e_pool", "e_fc"})
        EXPECT_TRUE(ran[i].count(layer(name))) << name << " of input " << i;
    }
    EXPECT_GT(early, 0);
  }
}

// ------------------------------------------------------------------------------------------
// Policies

// The backbone on cpu1, the exit branch on cpu0, no early exit taken. Sequential: conv2 (the
// layer after the exit's `after`) waits for e_fc. Parallel: it does not: cpu1 starts conv2
// right after relu1, before relu1's copy to cpu0 can even start, so conv2 starts before e_fc
// finishes, or e_fc never runs at all (cancelled when the final output came first). Start
// times are stamped before the scheduler lock is released, so this order is exact.
TEST_F(Executor, SequentialGatesAndParallelOverlaps) {
  const std::string assign = kBackboneOnCpu1;
  ExecuteOptions o;
  o.inputs = 5;
  o.forced_exits = {problem_->exits()};
  o.record_schedule = true;
  auto spans = [&](const ExecuteResult& r, const std::string& name) {
    std::vector<TaskSpan> v(o.inputs);
    for (const TaskSpan& t : r.metrics.schedule.tasks)
      if (t.layer == layer(name)) v[t.input] = t;
    return v;
  };
  const ExecuteResult seq = run(config("sequential", assign), o);
  const auto seq_conv2 = spans(seq, "conv2"), seq_efc = spans(seq, "e_fc");
  for (int i = 0; i < o.inputs; ++i) {
    ASSERT_EQ(seq_conv2[i].proc, 1);
    ASSERT_EQ(seq_efc[i].proc, 0);
    EXPECT_GE(seq_conv2[i].start, seq_efc[i].finish) << "input " << i;
  }
  const ExecuteResult par = run(config("parallel", assign), o);
  const auto par_conv2 = spans(par, "conv2"), par_efc = spans(par, "e_fc");
  for (int i = 0; i < o.inputs; ++i) {
    ASSERT_EQ(par_conv2[i].proc, 1);
    if (par_efc[i].proc < 0) continue;  // the branch was cancelled: nothing waited for it
    EXPECT_LT(par_conv2[i].start, par_efc[i].finish) << "input " << i;
  }
  // Both policies: one layer at a time per processor.
  for (const ExecuteResult* r : {&seq, &par}) {
    std::vector<std::vector<TaskSpan>> per(2);
    for (const TaskSpan& t : r->metrics.schedule.tasks) per[t.proc].push_back(t);
    for (auto& v : per) {
      std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.start < b.start; });
      for (std::size_t k = 1; k < v.size(); ++k) EXPECT_GE(v[k].start, v[k - 1].finish);
    }
    for (const CopySpan& c : r->metrics.schedule.copies) EXPECT_LE(c.start, c.finish);
    EXPECT_GE(r->metrics.utilization[0], 0.0);
    EXPECT_LE(r->metrics.utilization[0], 1.0);
    EXPECT_GT(r->metrics.utilization[1], 0.0);
    EXPECT_LE(r->metrics.utilization[1], 1.0);
  }
}

// ------------------------------------------------------------------------------------------
// Arrivals

TEST_F(Executor, PeriodicArrivals) {
  ExecuteOptions o;
  o.inputs = 6;
  o.arrival = parse_arrival("periodic:250");  // every 4 ms
  o.record_schedule = true;
  const ExecuteResult r = run(config("parallel", kSpread), o);
  for (int i = 0; i < o.inputs; ++i) {
    EXPECT_DOUBLE_EQ(r.arrival_ms[i], i * 4.0);
    EXPECT_GT(r.metrics.latency_ms[i], 0.0);
  }
  for (const TaskSpan& t : r.metrics.schedule.tasks) EXPECT_GE(t.start, r.arrival_ms[t.input]);
  EXPECT_GE(r.metrics.makespan_ms, 20.0);
  EXPECT_NEAR(r.metrics.throughput_ips, o.inputs * 1000.0 / r.metrics.makespan_ms, 1e-9);
  EXPECT_LE(r.metrics.p50_latency_ms, r.metrics.worst_latency_ms);
  EXPECT_DOUBLE_EQ(r.metrics.worst_latency_ms, *std::max_element(r.metrics.latency_ms.begin(), r.metrics.latency_ms.end()));
}

// Inputs arriving faster than they run wait for a free slot; all of them still finish, each
// latency counted from its own arrival.
TEST_F(Executor, ABurstWaitsForSlots) {
  ExecuteOptions o;
  o.inputs = 12;
  o.arrival = parse_arrival("periodic:100000");
  o.slots = 2;
  o.forced_exits = {problem_->exits()};
  const ExecuteResult r = run(config("sequential", kSpread), o);
  EXPECT_EQ(r.slots, 2);
  EXPECT_GT(r.slot_waits, 0);
  EXPECT_EQ(r.tasks_run, o.inputs * enabled_layers());
  for (int i = 0; i < o.inputs; ++i) {
    EXPECT_EQ(r.answered[i], problem_->exits());
    EXPECT_DOUBLE_EQ(r.arrival_ms[i], i * 0.01);
  }
}

TEST_F(Executor, PoissonArrivalsAreOrdered) {
  ExecuteOptions o;
  o.inputs = 5;
  o.arrival = parse_arrival("poisson:1000");
  const ExecuteResult r = run(config("parallel", ""), o);
  EXPECT_EQ(r.arrival_ms[0], 0.0);
  for (int i = 1; i < o.inputs; ++i) EXPECT_GE(r.arrival_ms[i], r.arrival_ms[i - 1]);
  EXPECT_GT(r.arrival_ms.back(), 0.0);
}

// ------------------------------------------------------------------------------------------
// Exit decisions shared with the DES

// The draw the DES made before ExitPlan existed, written out independently.
std::vector<int> reference_draws(const Problem& pb, const Config& c, std::uint64_t seed, int n) {
  std::vector<double> share(pb.exits() + 1), cum;
  pb.shares(c, share.data());
  double s = 0.0;
  for (double x : share) cum.push_back(s += x);
  std::mt19937_64 g(seed);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    const double u = static_cast<double>(g() >> 11) * 0x1.0p-53;
    int k = 0;
    while (k < pb.exits() && !(u < cum[k])) ++k;
    out.push_back(k);
  }
  return out;
}

TEST_F(Executor, TheSameSeedGivesTheDesExitSequence) {
  // The same model on a simulated twin of the reference platform, with a profile. The twin's
  // clusters have the backend's core counts: a config's default thread count is its cores.
  const auto& procs = backend_->platform().processors;
  const std::string platform = "name: host-cpu\nhost: cpu0\nprocessors:\n"
                               "  - {name: cpu0, kind: cpu, cores: " + std::to_string(procs[0].cores) +
                               "}\n  - {name: cpu1, kind: cpu, cores: " + std::to_string(procs[1].cores) +
                               "}\ncontention: 1.0\nsource: test\n";
  std::string profile = "layer,processor,freq_mhz,threads,mean_ms,std_ms\n";
  for (const Layer& l : model_.layers)
    for (int q = 0; q < 2; ++q)
      profile += l.name + ",cpu" + std::to_string(q) + ",," + std::to_string(procs[q].cores) + ",0.1,0\n";
  const Problem sim = test::make_problem(kModel, platform, profile);
  const std::string m = mapping("parallel", kSpread);
  const Config sc = test::make_config(sim, m);
  const Config xc = config("parallel", kSpread);
  ASSERT_EQ(sc, xc);

  const int n = 40;
  for (std::uint64_t seed : {7ULL, 8ULL}) {
    DesOptions d;
    d.inputs = n;
    d.seed = seed;
    const Metrics des = simulate_des(sim, sc, d);
    ExecuteOptions o;
    o.inputs = n;
    o.seed = seed;
    const ExecuteResult r = run(xc, o);
    EXPECT_EQ(r.metrics.exit_share, des.exit_share) << "seed " << seed;
    ExitPlan plan(sim, sc, seed);
    const std::vector<int> expected = reference_draws(sim, sc, seed, n);
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(r.first[i], expected[i]) << "input " << i;
      EXPECT_EQ(plan(i).first, expected[i]);
      // Without a trace any result at or after the first confident one answers.
      EXPECT_GE(r.answered[i], r.first[i]);
    }
  }
  // Draws depend on the seed.
  EXPECT_NE(reference_draws(sim, sc, 7, n), reference_draws(sim, sc, 8, n));
}

TEST_F(Executor, ExitPlanRandomAccessReplaysTheStream) {
  const Config c = config("parallel", "");
  ExitPlan a(*problem_, c, 3), b(*problem_, c, 3);
  std::vector<int> seq;
  for (int i = 0; i < 30; ++i) seq.push_back(a(i).first);
  EXPECT_EQ(b(20).first, seq[20]);
  EXPECT_EQ(b(20).first, seq[20]);
  EXPECT_EQ(b(4).first, seq[4]);  // going back
  EXPECT_EQ(b(29).first, seq[29]);
  ExitPlan f(*problem_, c, 3, {1, 0});
  EXPECT_EQ(f(0).first, 1);
  EXPECT_EQ(f(3).first, 0);
  EXPECT_EQ(f(3).confident, ~0ULL);
  EXPECT_TRUE(f.ends(f(3), 0));
  EXPECT_FALSE(f.ends(f(0), 0));
  EXPECT_TRUE(f.ends(f(0), 1));
  EXPECT_THROW(ExitPlan(*problem_, c, 3, {2}), InputError);
}

// With a trace: sample 0 is confident at the exit, sample 1 is not. Everything on cpu0 in
// parallel: the exit's result reaches the host first; it answers sample 0 only.
TEST_F(Executor, TraceDecidesWhichResultAnswers) {
  ExitTrace tr;
  tr.file = "trace.csv";
  tr.samples = 2;
  tr.conf = {{0.9f, 0.2f}};
  tr.ok = {{1, 0}};
  tr.final_ok = {1, 1};
  const Problem pb = execution_problem(model_, *backend_, tr);
  const Config c = pb.resolve(parse_mapping(mapping("parallel", ""), "mapping.yaml"), false);
  ExitPlan plan(pb, c, 1);
  EXPECT_EQ(plan(0).first, 0);
  EXPECT_EQ(plan(0).confident, 1ULL);
  EXPECT_EQ(plan(1).first, 1);
  EXPECT_EQ(plan(1).confident, 0ULL);
  EXPECT_EQ(plan(3).sample, 1);
  ExecuteOptions o;
  o.inputs = 4;
  const ExecuteResult r = execute(*backend_, pb, c, o);
  EXPECT_EQ(r.answered, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(r.first, (std::vector<int>{0, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(r.metrics.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.exit_share[0], 0.5);
}

TEST_F(Executor, RejectsBadOptions) {
  const Config c = config("parallel", "");
  ExecuteOptions o;
  o.inputs = 0;
  EXPECT_THROW(run(c, o), InputError);
  o.inputs = 1;
  o.forced_exits = {5};
  EXPECT_THROW(run(c, o), InputError);
  // A layer the reference backend cannot build.
  const Model opaque = parse_model(
      "name: o\ninput: [4]\nlayers:\n  - {name: a, op: opaque, out: [4]}\n", "o.yaml");
  const Problem pb = execution_problem(opaque, *backend_);
  const Config oc = pb.resolve(parse_mapping("{model: o, platform: host-cpu}", "m.yaml"), false);
  try {
    execute(*backend_, pb, oc, ExecuteOptions{});
    ADD_FAILURE() << "ran an opaque layer";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kBadInput);
  }
}

// A backend whose kernel for one layer throws: the error comes out of execute(), no thread is
// left behind and nothing hangs.
class FaultyBackend : public Backend {
 public:
  FaultyBackend(std::unique_ptr<Backend> inner, std::string bad) : inner_(std::move(inner)) {
    for (std::size_t q = 0; q < inner_->platform().processors.size(); ++q)
      devices_.push_back(std::make_unique<Dev>(inner_->device(static_cast<int>(q)), bad));
  }
  std::string name() const override { return "faulty"; }
  const Platform& platform() const override { return inner_->platform(); }
  Device& device(int q) override { return *devices_.at(q); }
  void copy(const Buffer& src, int from, Buffer& dst, int to) override {
    inner_->copy(src, from, dst, to);
  }
  void upload(const float* data, Buffer& dst, int q) override { inner_->upload(data, dst, q); }
  void download(const Buffer& src, int q, float* data) override { inner_->download(src, q, data); }
  std::string describe() const override { return "faulty"; }

 private:
  struct Throwing : Kernel {
    void run(const std::vector<const Buffer*>&, Buffer&) override {
      throw std::runtime_error("kernel failed");
    }
  };
  struct Dev : Device {
    Dev(Device& d, std::string b) : inner(d), bad(std::move(b)) {}
    std::unique_ptr<Kernel> build(const Model& m, int l, std::uint64_t seed) override {
      if (m.layers[l].name == bad) return std::make_unique<Throwing>();
      return inner.build(m, l, seed);
    }
    std::unique_ptr<Buffer> allocate(const Shape& s) override { return inner.allocate(s); }
    void bind_thread() override { inner.bind_thread(); }
    Device& inner;
    std::string bad;
  };
  std::unique_ptr<Backend> inner_;
  std::vector<std::unique_ptr<Dev>> devices_;
};

TEST_F(Executor, AFailingKernelFailsTheRun) {
  for (const char* bad : {"conv1", "conv3", "e_fc"}) {
    FaultyBackend faulty(make_backend("reference", BackendOptions{2}), bad);
    for (const char* arrival : {"closed", "periodic:2000"}) {
      ExecuteOptions o;
      o.inputs = 4;
      o.arrival = parse_arrival(arrival);
      try {
        execute(faulty, *problem_, config("parallel", kSpread), o);
        ADD_FAILURE() << bad << " " << arrival << ": no error";
      } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "kernel failed");
      }
    }
  }
}

// ------------------------------------------------------------------------------------------
// `hetmap run`

using test::slurp;

TEST(RunCli, EndToEnd) {
  const std::string dir = test::temp_dir();
  const std::string model = test::write_file(dir, "t.yaml", kModel);
  const std::string map = test::write_file(dir, "map.yaml", mapping("parallel", kSpread));
  const std::string json = dir + "/out.json", trace = dir + "/trace.json";
  const auto r = test::run_hetmap("run --backend reference --clusters 2 -m '" + model +
                                  "' --mapping '" + map + "' --inputs 5 --seed 3 --json '" +
                                  json + "' --chrome-trace '" + trace + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mean latency"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(slurp(json));
  for (const char* key : {"mean_latency_ms", "worst_latency_ms", "exit_latency_ms", "exit_share",
                          "accuracy", "energy_mj", "throughput_ips", "utilization",
                          "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "max_latency_ms"})
    EXPECT_TRUE(j.contains(key)) << key;
  {
    std::unique_ptr<Backend> ref = make_backend("reference", BackendOptions{2});
    EXPECT_EQ(j["energy_mj"].is_null(), !ref->power_meters().covers_all(2));  // RAPL or nothing
  }
  EXPECT_TRUE(j["energy_note"].is_string());
  EXPECT_GT(j["mean_latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["inputs"].get<int>(), 5);
  EXPECT_TRUE(j["exit_share"].contains("e"));
  EXPECT_TRUE(j["exit_share"].contains("final"));
  EXPECT_TRUE(j["utilization"].contains("cpu0"));
  EXPECT_TRUE(j["utilization"].contains("cpu1"));
  const nlohmann::json t = nlohmann::json::parse(slurp(trace));
  EXPECT_GT(t["traceEvents"].size(), 10u);

  const auto s = test::run_hetmap("run -m '" + model + "' --mapping '" + map + "' --json -");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["inputs"].get<int>(), 1);
}

// A trace decides which result answers: sample 0 is confident at the exit, sample 1 is not.
// Everything on cpu0 in parallel, so the exit's result reaches the host first.
TEST(RunCli, TraceDecidesTheExits) {
  const std::string dir = test::temp_dir();
  const std::string model = test::write_file(dir, "t.yaml", kModel);
  const std::string map = test::write_file(dir, "map.yaml", mapping("parallel", ""));
  const std::string trace =
      test::write_file(dir, "trace.csv", "sample,e_conf,e_ok,final_ok\n0,0.9,1,1\n1,0.1,1,0\n");
  const auto r = test::run_hetmap("run -m '" + model + "' --mapping '" + map + "' --trace '" +
                                  trace + "' --inputs 4 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["exit_share"]["e"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(j["cancelled_tasks"].get<int>(), 2 * 7);  // the backbone after the exit, twice
}

TEST(RunCli, AMappingForAnotherPlatformIsBadInput) {
  const std::string dir = test::temp_dir();
  const std::string model = test::write_file(dir, "t.yaml", kModel);
  const std::string map = test::write_file(dir, "map.yaml", mapping("parallel", "", "example"));
  const std::string json = dir + "/out.json";
  const auto r = test::run_hetmap("run --backend reference -m '" + model + "' --mapping '" + map +
                                  "' --json '" + json + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("hetmap: error: " + map + ":2: platform: the mapping is for 'example'"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::ifstream(json).good()) << "wrote a file on error";

  const auto b = test::run_hetmap("run --backend nosuch -m '" + model + "' --mapping '" + map + "'");
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("unknown backend 'nosuch'"), std::string::npos) << b.err;
}

// --backend's help names exactly the backends this build has.
TEST(RunCli, BackendHelpListsTheBuiltBackends) {
  const auto names = available_backends();
  for (const char* verb : {"run", "profile", "validate"}) {
    const auto h = test::run_hetmap(std::string(verb) + " --help");
    ASSERT_EQ(h.exit_code, 0) << h.err;
    const std::size_t at = h.out.find("backend: reference");
    ASSERT_NE(at, std::string::npos) << h.out;
    const std::string line = h.out.substr(at, h.out.find('\n', at) - at);
    for (const char* name : {"acl", "cuda"}) {
      const bool built = std::find(names.begin(), names.end(), name) != names.end();
      EXPECT_EQ(line.find(name) != std::string::npos, built) << verb << ": " << line;
    }
  }
}

}  // namespace
}  // namespace hetmap::backend
