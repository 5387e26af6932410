// Size (docs/formats.md, "Model size"): a million layers go through the loaders, the compiled
// problem and both simulators; wide models through the evaluator; the largest platform the
// formats allow compiles with a thousand layers; and every input that could ask for memory out
// of proportion to its own size is refused before it is allocated, naming what to reduce.
// Nothing here measures time: a step that turns quadratic again runs for hours, which the
// suite's ctest TIMEOUT (tests/CMakeLists.txt) reports; bench/bench_loaders.cpp times the
// loaders.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/des.hpp"
#include "hetmap/detail/model_spec.hpp"
#include "hetmap/error.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/report.hpp"
#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/dse/space.hpp"
#include "hetmap/schedule.hpp"

#ifdef HETMAP_TEST_ONNX
#include <onnx/onnx_pb.h>

#include "hetmap/onnx_import.hpp"
#endif

namespace hetmap {
namespace {

using test::quote;
using test::run_hetmap;

Op op(std::string name, OpKind kind, std::vector<std::string> inputs = {}) {
  Op o;
  o.name = std::move(name);
  o.kind = kind;
  o.input_names = std::move(inputs);
  return o;
}

std::string name_of(int i) { return "l" + std::to_string(i); }

// A chain of relu layers on a [4] tensor, with a fork every 100 layers: two relus read the
// chain, a concat joins them ([8]) and an opaque layer brings the chain back to [4]. Two exits of
// two layers each, which no input takes. `n` backbone layers in all.
detail::ModelSpec chain_spec(int n) {
  detail::ModelSpec s;
  s.name = "big";
  s.input.dims = {4};
  s.final_accuracy = 0.9;
  s.layers.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int line = i + 4;
    if (i % 100 == 50 && i + 4 <= n) {
      const std::string prev = name_of(i - 1);
      s.layers.push_back(op(name_of(i), OpKind::relu, {prev}));
      s.layers.push_back(op(name_of(i + 1), OpKind::relu, {prev}));
      s.layers.push_back(op(name_of(i + 2), OpKind::concat, {name_of(i), name_of(i + 1)}));
      s.layers.push_back(op(name_of(i + 3), OpKind::opaque));
      s.layers.back().out.dims = {4};
      for (int k = 0; k < 4; ++k) s.layers[i + k].line = line + k;
      i += 3;
      continue;
    }
    s.layers.push_back(op(name_of(i), OpKind::relu));
    s.layers.back().line = line;
  }
  for (int k = 0; k < 2; ++k) {
    detail::ExitSpec e;
    e.exit.name = "e" + std::to_string(k);
    e.exit.taken = 0.0;
    e.exit.accuracy = 0.5;
    e.after = name_of(n / 3 * (k + 1));
    e.layers = {op("x" + std::to_string(k) + "a", OpKind::relu),
                op("x" + std::to_string(k) + "b", OpKind::fc)};
    e.layers[1].units = 2;
    s.exits.push_back(std::move(e));
  }
  return s;
}

// The same model as YAML text (for the real parser, at a size yaml-cpp reads quickly).
std::string chain_yaml(const detail::ModelSpec& s) {
  std::string y = "name: big\ninput: [4]\nfinal_accuracy: 0.9\nlayers:\n";
  for (const Op& o : s.layers) {
    y += "  - {name: " + o.name + ", op: " + to_string(o.kind);
    if (!o.input_names.empty()) {
      y += ", inputs: [";
      for (std::size_t i = 0; i < o.input_names.size(); ++i) y += (i ? ", " : "") + o.input_names[i];
      y += "]";
    }
    if (o.kind == OpKind::opaque) y += ", out: [4]";
    y += "}\n";
  }
  y += "exits:\n";
  for (const detail::ExitSpec& e : s.exits)
    y += "  - {name: " + e.exit.name + ", after: " + e.after + ", taken: 0, accuracy: 0.5, layers: [{name: " +
         e.layers[0].name + ", op: relu}, {name: " + e.layers[1].name + ", op: fc, units: 2}]}\n";
  return y;
}

// A CPU with two DVFS levels and 4 cores and a GPU, linked.
const char* const kPlatform = R"(
name: plat
host: cpu
processors:
  - {name: cpu, kind: cpu, cores: 4, freqs_mhz: [1000, 2000], active_w: [1, 2], idle_w: 0.1}
  - {name: gpu, kind: gpu, active_w: 5, idle_w: 0.5}
links:
  - {between: [cpu, gpu], latency_ms: 0.001, gbytes_per_s: 8}
)";

// Every layer on both processors at their defaults (the CPU's highest level and all its
// cores): dyadic times, so that sums of them are exact.
std::string profile_csv(const Model& m) {
  std::string csv = "layer,processor,mean_ms,std_ms\n";
  csv.reserve(m.layers.size() * 48);
  for (const Layer& l : m.layers) {
    csv += l.name + ",cpu,0.25,0.0625\n";
    csv += l.name + ",gpu,0.125,0.03125\n";
  }
  return csv;
}

TEST(Scale, AMillionLayersLoadProfileMapAndSimulate) {
  constexpr int kLayers = 1000000;
  Model built = detail::build_model(chain_spec(kLayers), "big.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  Profile profile = parse_profile(profile_csv(built), "big.csv", built, pf);
  ASSERT_EQ(profile.rows().size(), 2 * built.layers.size());
  // Measured copies of every tenth layer's output to the GPU (once looked up by a pass over the
  // rows for every tensor and pair of processors).
  std::string copies = "layer,from,to,mean_ms\n";
  for (int i = 0; i < kLayers; i += 10) copies += name_of(i) + ",cpu,gpu,0.0078125\n";
  Transfers transfers = parse_transfers(copies, "big.transfers.csv", built, pf);
  ASSERT_EQ(transfers.rows.size(), static_cast<std::size_t>(kLayers / 10));
  const Problem pb(std::move(built), pf, std::move(profile), std::move(transfers));
  const Model& m = pb.model();
  EXPECT_EQ(pb.copy_ms(m.find_layer("l999990"), 0, 1), 0.0078125);
  EXPECT_EQ(pb.copy_ms(m.find_layer("l999991"), 0, 1), 0.001 + 16 / 8e9 * 1e3);  // the link's
  ASSERT_EQ(m.layers.size(), static_cast<std::size_t>(kLayers + 4));
  ASSERT_EQ(m.backbone.size(), static_cast<std::size_t>(kLayers));
  EXPECT_EQ(m.layers[m.final_layer()].name, name_of(kLayers - 1));
  // Names resolve to the layers they name, wherever they are.
  for (int i : {0, 49, 50, 52, 53, 123456, 999999}) {
    const int l = m.find_layer(name_of(i));
    ASSERT_GE(l, 0) << name_of(i);
    EXPECT_EQ(m.layers[l].name, name_of(i));
  }
  EXPECT_EQ(m.find_layer("nope"), -1);
  EXPECT_EQ(m.find_exit("e1"), 1);
  // The fork at 999950: two readers of 999949, a concat of both, an opaque layer after it.
  const int fork = m.find_layer("l999949"), cat = m.find_layer("l999952");
  EXPECT_EQ(m.layers[fork].consumers,
            (std::vector<int>{m.find_layer("l999950"), m.find_layer("l999951")}));
  EXPECT_EQ(m.layers[cat].out.dims, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(m.layers[cat].inputs,
            (std::vector<int>{m.find_layer("l999950"), m.find_layer("l999951")}));
  EXPECT_EQ(m.layers[m.find_layer("l999953")].out.dims, (std::vector<std::int64_t>{4}));
  // Exits right after their `after` layer, in declaration order.
  const Exit& e0 = m.exits[0];
  EXPECT_EQ(m.layers[e0.after].name, name_of(kLayers / 3));
  EXPECT_EQ(e0.layers, (std::vector<int>{e0.after + 1, e0.after + 2}));
  EXPECT_EQ(m.layers[e0.layers[1]].out.dims, (std::vector<std::int64_t>{2}));

  // Everything on the CPU at its defaults: one processor runs every layer in turn, so the final
  // result comes after all of them (0.25 ms each, exactly).
  Evaluator ev(pb);
  const Config host = pb.default_config();
  const Metrics& all_cpu = ev.evaluate(host);
  ASSERT_TRUE(all_cpu.feasible);
  EXPECT_EQ(all_cpu.exit_latency_ms[2], 0.25 * static_cast<double>(m.layers.size()));

  // A mapping of every seventh backbone layer to the GPU, the CPU at its lower level (durations
  // scaled from the profiled level): through Problem::resolve, as a mapping file would be.
  Mapping map;
  map.file = "big-map.yaml";
  map.model = "big";
  map.platform = "plat";
  map.default_proc = "cpu";
  for (int i = 0; i < kLayers; i += 7) map.assign[name_of(i)] = {"gpu", 5};
  map.freq_mhz["cpu"] = {1000, 6};
  const Config mixed = pb.resolve(map);
  EXPECT_EQ(mixed.proc[m.find_layer("l700")], 1);
  EXPECT_EQ(mixed.proc[m.find_layer("l701")], 0);
  EXPECT_EQ(pb.duration(m.find_layer("l701"), 0, mixed.freq_level[0], mixed.threads[0]), 0.5);
  const Metrics an = ev.evaluate(mixed);
  ASSERT_TRUE(an.feasible);
  ASSERT_TRUE(std::isfinite(an.mean_latency_ms));
  EXPECT_GT(an.mean_latency_ms, 0.125 * kLayers);
  EXPECT_TRUE(std::isfinite(an.energy_mj));

  // The DES, one input taking the final result: the evaluator's time for that result exactly
  // (they implement the same semantics independently).
  DesOptions one;
  one.forced_exits = {pb.exits()};
  const Metrics des = simulate_des(pb, mixed, one);
  ASSERT_EQ(des.latency_ms.size(), 1u);
  EXPECT_EQ(des.latency_ms[0], an.exit_latency_ms[2]);
  // Three inputs in a closed loop, with jitter: they finish, with finite numbers.
  DesOptions three;
  three.inputs = 3;
  three.jitter = true;
  const Metrics stream = simulate_des(pb, mixed, three);
  ASSERT_EQ(stream.latency_ms.size(), 3u);
  for (double t : stream.latency_ms) EXPECT_TRUE(std::isfinite(t));
  // The report is per result and processor, whatever the layer count.
  const Json j = to_json(pb, stream);
  EXPECT_EQ(j["inputs"].get<int>(), 3);
}

// The YAML loader and build_model are one path: a model read from YAML text is the model its
// spec builds (at a size yaml-cpp parses in well under a second).
TEST(Scale, YamlTextLoadsAsItsSpecBuilds) {
  const detail::ModelSpec spec = chain_spec(20000);
  const Model from_yaml = parse_model(chain_yaml(spec), "big.yaml");
  const Model built = detail::build_model(spec, "big.yaml");
  ASSERT_EQ(from_yaml.layers.size(), built.layers.size());
  for (std::size_t i = 0; i < built.layers.size(); ++i) {
    const Layer &a = from_yaml.layers[i], &b = built.layers[i];
    ASSERT_EQ(a.name, b.name);
    ASSERT_EQ(a.inputs, b.inputs) << a.name;
    ASSERT_EQ(a.consumers, b.consumers) << a.name;
    ASSERT_EQ(a.out, b.out) << a.name;
    ASSERT_EQ(a.exit, b.exit) << a.name;
  }
  EXPECT_EQ(from_yaml.backbone, built.backbone);
  ASSERT_EQ(from_yaml.exits.size(), 2u);
  EXPECT_EQ(from_yaml.exits[1].layers, built.exits[1].layers);
  EXPECT_EQ(from_yaml.find_layer("l19999"), built.find_layer("l19999"));
}

// A wide model: `width` branches of three layers from the input, joined by a concat, on three
// processors. Thousands of layers are pending on one processor at once: the evaluator's pick
// goes through heaps there (not a scan of all of them, once quadratic in the width) and must
// give the schedule the DES gives, to the bit.
TEST(Scale, WideModelsScheduleAsTheDesDoes) {
  for (int width : {3, 200, 20000}) {
    detail::ModelSpec s;
    s.name = "wide";
    s.input.dims = {4};
    Op join = op("join", OpKind::concat);
    for (int b = 0; b < width; ++b) {
      const std::string n = "b" + std::to_string(b) + "_";
      s.layers.push_back(op(n + "0", OpKind::relu, {kModelInput}));
      s.layers.push_back(op(n + "1", OpKind::relu, {n + "0"}));
      s.layers.push_back(op(n + "2", OpKind::relu, {n + "1"}));
      join.input_names.push_back(n + "2");
    }
    s.layers.push_back(join);
    Model built = detail::build_model(std::move(s), "wide.yaml");
    const Platform pf = parse_platform(R"(
name: plat
host: a
processors:
  - {name: a, kind: cpu}
  - {name: b, kind: gpu}
  - {name: c, kind: npu}
links:
  - {between: [a, b], latency_ms: 0.01, gbytes_per_s: 1}
  - {between: [a, c], latency_ms: 0.02, gbytes_per_s: 2}
)", "plat.yaml");
    // Durations that differ by layer, so that ready times interleave.
    std::string csv = "layer,processor,mean_ms\n";
    for (std::size_t l = 0; l < built.layers.size(); ++l)
      for (const char* p : {"a", "b", "c"})
        csv += built.layers[l].name + "," + p + "," + std::to_string(0.001 * (1 + (l * 7 + p[0]) % 13)) + "\n";
    Profile profile = parse_profile(csv, "wide.csv", built, pf);
    const Problem pb(std::move(built), pf, std::move(profile));
    Config c = pb.default_config();
    c.policy = Policy::parallel;
    for (int l = 0; l < pb.layers(); ++l) c.proc[l] = static_cast<std::uint8_t>((l * 5 + l / 3) % 3);
    Evaluator ev(pb);
    const Metrics& r = ev.evaluate(c);
    ASSERT_TRUE(r.feasible);
    DesOptions one;
    const Metrics des = simulate_des(pb, c, one);
    EXPECT_EQ(des.latency_ms.at(0), r.mean_latency_ms) << width << " branches";
    // Every layer started once.
    EXPECT_EQ(ev.schedule().tasks.size(), static_cast<std::size_t>(pb.layers()));
  }
}

// The largest platform docs/formats.md allows: 64 processors of 255 cores and 255 frequency
// levels each.
std::string largest_platform() {
  std::string y = "name: wide\nhost: p0\nprocessors:\n";
  std::string freqs;
  for (int f = 0; f < 255; ++f) freqs += (f ? ", " : "") + std::to_string(1000 + 10 * f);
  for (int p = 0; p < 64; ++p)
    y += "  - {name: p" + std::to_string(p) + ", kind: cpu, cores: 255, freqs_mhz: [" + freqs +
         "], active_w: 2, idle_w: 0.5}\n";
  y += "links:\n";
  for (int p = 1; p < 64; ++p)
    y += "  - {between: [p0, p" + std::to_string(p) + "], gbytes_per_s: 4, latency_ms: 0.01}\n";
  return y;
}

std::string thousand_layer_yaml() {
  std::string y = "name: k\ninput: [16]\nlayers:\n";
  for (int i = 0; i < 1000; ++i) y += "  - {name: l" + std::to_string(i) + ", op: relu}\n";
  return y;
}

// A row per layer and processor at its defaults (highest level, all cores); with
// `every_thread_count`, layer l0 also at every thread count of every processor.
std::string thousand_layer_profile(bool every_thread_count) {
  std::string csv = "layer,processor,threads,mean_ms\n";
  for (int l = 0; l < 1000; ++l)
    for (int p = 0; p < 64; ++p)
      csv += "l" + std::to_string(l) + ",p" + std::to_string(p) + ",," + std::to_string(1 + p % 3) + "\n";
  if (every_thread_count)
    for (int p = 0; p < 64; ++p)
      for (int t = 1; t < 255; ++t) csv += "l0,p" + std::to_string(p) + "," + std::to_string(t) + ",1\n";
  return csv;
}

// Once a std::bad_alloc: the duration table was layers x processors x 255 levels x 255 thread
// counts (66 GB). It now has a column per level and profiled thread count: 16 million cells.
TEST(Scale, TheLargestPlatformCompilesWithAThousandLayers) {
  const Model m = parse_model(thousand_layer_yaml(), "k.yaml");
  const Platform pf = parse_platform(largest_platform(), "wide.yaml");
  Profile profile = parse_profile(thousand_layer_profile(false), "k.csv", m, pf);
  const Problem pb(m, pf, std::move(profile));
  // Every level of every processor has durations (scaled from the highest), at all cores only.
  EXPECT_EQ(pb.duration(7, 5, 254, 255), 3.0);
  EXPECT_EQ(pb.duration(7, 5, 0, 255), 3.0 * (3540.0 / 1000.0));  // docs/formats.md lookup
  EXPECT_TRUE(std::isnan(pb.duration(7, 5, 254, 254)));
  EXPECT_TRUE(pb.can_run(999, 63));

  // The layers spread over all processors, at their lowest level.
  Mapping map;
  map.model = "k";
  map.platform = "wide";
  for (int l = 0; l < 1000; ++l) map.assign["l" + std::to_string(l)] = {"p" + std::to_string(l % 64), 0};
  for (int p = 0; p < 64; ++p) map.freq_mhz["p" + std::to_string(p)] = {1000, 0};
  const Config c = pb.resolve(map);
  Evaluator ev(pb);
  const Metrics& r = ev.evaluate(c);
  ASSERT_TRUE(r.feasible);
  EXPECT_TRUE(std::isfinite(r.mean_latency_ms));
  DesOptions one;
  const Metrics des = simulate_des(pb, c, one);
  EXPECT_EQ(des.latency_ms.at(0), r.mean_latency_ms);
  // A thread count without rows cannot run.
  Config fewer = c;
  fewer.threads[3] = 7;
  EXPECT_FALSE(ev.evaluate(fewer).feasible);
}

// A small profile can still ask for 4 million columns (every thread count of every processor):
// refused before anything is allocated, naming what to reduce.
TEST(Scale, CostTablesBeyondTheLimitAreRefusedUpFront) {
  const Model m = parse_model(thousand_layer_yaml(), "k.yaml");
  const Platform pf = parse_platform(largest_platform(), "wide.yaml");
  Profile profile = parse_profile(thousand_layer_profile(true), "k.csv", m, pf);
  EXPECT_EQ(test::input_error_of([&] { Problem(m, pf, std::move(profile)); }),
            "k.csv: the cost tables of 1000 layers on 64 processors would need 62.0 GiB, more "
            "than the 4 GiB hetmap allows: durations at 4161600 settings (frequency level x "
            "profiled thread count, summed over processors) take 62.0 GiB, copy times between "
            "4096 processor pairs 0.0 GiB; profile fewer thread counts, give the platform fewer "
            "frequency levels or processors, or split the model");
}

// Both through the command line: a result, and a one-line error with exit code 2.
TEST(Scale, TheLargestPlatformThroughTheCommandLine) {
  const std::string dir = test::temp_dir();
  const std::string model = test::write_file(dir, "k.yaml", thousand_layer_yaml());
  const std::string platform = test::write_file(dir, "wide.yaml", largest_platform());
  const std::string ok = test::write_file(dir, "ok.csv", thousand_layer_profile(false));
  const std::string big = test::write_file(dir, "big.csv", thousand_layer_profile(true));
  const std::string map = test::write_file(dir, "map.yaml", "model: k\nplatform: wide\ndefault: p9\n");
  const std::string common =
      "simulate -m " + quote(model) + " -p " + quote(platform) + " --mapping " + quote(map);
  const test::RunResult fine = run_hetmap(common + " --profile " + quote(ok) + " --inputs 2");
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_NE(fine.out.find("DES, 2 inputs"), std::string::npos) << fine.out;
  const test::RunResult refused = run_hetmap(common + " --profile " + quote(big));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("big.csv: the cost tables of 1000 layers on 64 processors would need "
                             "62.0 GiB, more than the 4 GiB hetmap allows"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.err.find("bad_alloc"), std::string::npos);
}

// Inputs that asked for memory in proportion to a number rather than to their size: each is
// bounded, with an error naming what to reduce (docs/formats.md, "Model size").
TEST(Scale, APopulationOfALargeModelIsRefusedUpFront) {
  const Model m = detail::build_model(chain_spec(100000), "big.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  const Problem pb(m, pf, parse_profile(profile_csv(m), "big.csv", m, pf));
  const dse::DesignSpace space(pb, {});
  dse::Nsga2Options o;
  o.population = 10000;
  EXPECT_EQ(test::input_error_of([&] { dse::Nsga2(space, o); }),
            "population: 10000 mappings of 100004 layers would take 4.7 GiB (parents, offspring, "
            "their merge and the survivors), more than the 4 GiB hetmap allows: lower the "
            "population");
  o.population = 64;
  EXPECT_EQ(test::input_error_of([&] { dse::Nsga2(space, o); }), "");
}

TEST(Scale, ARecordedScheduleIsBoundedBeforeTheRunStarts) {
  const Problem pb = test::make_problem(test::kChainWithExitYaml, R"(
name: p
host: cpu
processors:
  - {name: cpu, kind: cpu}
)", "layer,processor,mean_ms\nb1,cpu,1\nb2,cpu,1\nb3,cpu,1\ne1,cpu,1\n");
  DesOptions o;
  o.inputs = 100000000;
  o.record_schedule = true;
  o.forced_exits = {1};  // every input to the final output: every layer runs
  EXPECT_EQ(test::input_error_of([&] { simulate_des(pb, pb.default_config(), o); }),
            "a recorded schedule (--chrome-trace) of 100000000 inputs of up to 6 spans each could "
            "pass the 67108864 spans hetmap records: record fewer inputs");
  o.inputs = 1000;
  EXPECT_EQ(simulate_des(pb, pb.default_config(), o).schedule.tasks.size(), 4000u);
}

// Arrivals far faster than the mapping finishes inputs: every input stays in flight, each with a
// count per layer. The run stops with an error (exit 1) once that state would pass the bound.
TEST(Scale, InputsPilingUpInTheDesStopTheRunWithAnError) {
  const Model m = detail::build_model(chain_spec(100000), "big.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  const Problem pb(m, pf, parse_profile(profile_csv(m), "big.csv", m, pf));
  DesOptions o;
  o.inputs = 100000;
  o.arrival = parse_arrival("periodic:1000000", "--arrival");
  o.max_state_bytes = std::size_t{64} << 20;  // 64 MiB here; kMaxTableBytes by default
  try {
    simulate_des(pb, pb.default_config(), o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kOtherError);
    // 128 inputs in flight hold 51 MB; 256 would pass 64 MiB. The 128th arrived at 0.127 ms.
    EXPECT_EQ(std::string(e.what()),
              "the DES would hold more than 128 inputs in flight at t = 0.128 ms (they arrive "
              "faster than the mapping finishes them): their state would pass 64 MiB; lower the "
              "arrival rate or the number of inputs");
  }
}

// The exhaustive front evaluates the space in blocks of mappings: a large model gets smaller
// blocks (a block once took 16384 bytes per layer: 16 GB at a million layers). The points are
// offered in the same order whatever the block size, so the front does not depend on it.
TEST(Scale, ExhaustiveBlocksOfALargeModelStayWithinTheirBound) {
  Model m = detail::build_model(chain_spec(20000), "big.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  // Three layers may also run on the GPU: 2^3 placements x 2^2 exit choices x 2 policies.
  std::string csv = "layer,processor,mean_ms\n";
  for (const Layer& l : m.layers) csv += l.name + ",cpu,0.25\n";
  for (const char* l : {"l10", "l5000", "l19999"}) csv += std::string(l) + ",gpu,0.125\n";
  Profile profile = parse_profile(csv, "big.csv", m, pf);
  const Problem pb(std::move(m), pf, std::move(profile));
  const dse::DesignSpace space(pb);
  const dse::Exhaustive exhaustive(space);
  EXPECT_EQ(exhaustive.block(), (std::uint64_t{64} << 20) / 20004);
  dse::BatchEvaluator evaluator(pb, dse::ObjectiveSet(), {});
  const dse::ExhaustiveResult r = dse::exhaustive_front(space, evaluator, dse::kExhaustiveLimit, "--exhaustive");
  EXPECT_EQ(r.evaluated, 64u);
  EXPECT_FALSE(r.front.empty());
}

// `validate --random N` holds every mapping (a processor per layer) until the runs end: N x
// layers is bounded, and the check comes before anything runs.
TEST(Scale, TooManyRandomMappingsOfALargeModelAreRefusedBeforeAnyRun) {
  const Platform pf = backend::make_backend("reference")->platform();
  const std::string dir = test::temp_dir();
  test::write_file(dir, "platform.yaml", to_yaml(pf));
  std::string csv = "layer,processor,mean_ms\n";
  for (int l = 0; l < 1000; ++l)
    for (const Processor& p : pf.processors) csv += "l" + std::to_string(l) + "," + p.name + ",1\n";
  test::write_file(dir, "k.csv", csv);
  const std::string model = test::write_file(dir, "k.yaml", thousand_layer_yaml());
  const test::RunResult r =
      run_hetmap("validate --backend reference -m " + quote(model) + " --profile " + quote(dir) +
                 " --random 100000 --inputs 1 --out " + quote(dir + "/out"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--random: 100000 mappings of 1000 layers are more than the 33554432 "
                       "layer placements hetmap holds at once: ask for fewer mappings"),
            std::string::npos)
      << r.err;
}

#ifdef HETMAP_TEST_ONNX
// An ONNX graph of more outputs than a model can have exits: refused before the per-output work
// (each output's reachability is a pass over the layers).
TEST(Scale, AnOnnxGraphOfTooManyOutputsIsRefused) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : {1, 4}) t->mutable_shape()->add_dim()->set_dim_value(d);
  for (int i = 0; i < 66; ++i) {
    auto* n = g->add_node();
    n->set_op_type("Relu");
    n->set_name("r" + std::to_string(i));
    n->add_input("x");
    n->add_output("r" + std::to_string(i));
    auto* o = g->add_output();
    o->set_name("r" + std::to_string(i));
    o->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  const std::string file = test::write_file(test::temp_dir(), "outputs.onnx", bytes);
  EXPECT_EQ(test::input_error_of([&] { import_onnx(file); }),
            file + ": the graph has 66 outputs: a hetmap model has the final output and at most "
                   "64 exits");
}
#endif

}  // namespace
}  // namespace hetmap
