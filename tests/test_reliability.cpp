// Inputs that used to crash, hang or give silent nonsense: each now ends in a clear error (exit 2
// for bad input, 1 for a result that cannot be computed) or in a finite result.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "fixtures.hpp"
#include "hetmap/des.hpp"
#include "hetmap/dse/evaluate.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/run.hpp"
#include "hetmap/sweep/experiment.hpp"

namespace hetmap {
namespace {

using test::quote;
using test::run_hetmap;

std::string model_error(const std::string& yaml) {
  return test::input_error_of([&] { parse_model(yaml, "m.yaml"); });
}

// A concat of two 2^31 - 1 channel inputs used to reach 2^32 channels, which a following dwconv
// cast to the int 0 and divided by (SIGFPE). Shapes are bounded where they are inferred.
TEST(Reliability, TensorsBeyondTheBoundsAreRefusedWhereTheyAppear) {
  EXPECT_EQ(model_error("name: m\ninput: [2147483647, 1, 1]\nlayers:\n"
                        "  - {name: a, op: relu, inputs: [input]}\n"
                        "  - {name: b, op: relu, inputs: [input]}\n"
                        "  - {name: c, op: concat, inputs: [a, b]}\n"
                        "  - {name: d, op: dwconv, kernel: 1}\n"),
            "m.yaml:6: layer 'c': tensor [4294967294, 1, 1] has a dimension above 2^31 - 1");
  EXPECT_EQ(model_error("name: m\ninput: [2147483648]\nlayers:\n  - {name: a, op: relu}\n"),
            "m.yaml:2: model.input: integer out of range: '2147483648'");
  EXPECT_EQ(model_error("name: m\ninput: [65536, 65536, 65536]\nlayers:\n  - {name: a, op: relu}\n"),
            "m.yaml:2: model.input: tensor [65536, 65536, 65536] has more than 2^40 elements");
  // A padding of 10^9 makes a 2 x 10^9 wide output: refused, not wrapped to a negative size.
  EXPECT_EQ(model_error("name: m\ninput: [1, 8, 8]\nlayers:\n"
                        "  - {name: a, op: conv, filters: 1, kernel: 1, pad: 1000000000}\n"),
            "m.yaml:4: layer 'a': tensor [1, 2000000008, 2000000008] has more than 2^40 elements");
  EXPECT_EQ(model_error("name: m\ninput: [1, 60000, 60000]\nlayers:\n"
                        "  - {name: a, op: upsample, scale: 60000}\n"),
            "m.yaml:4: layer 'a': tensor [1, 3600000000, 3600000000] has a dimension above 2^31 - 1");
  EXPECT_EQ(model_error("name: m\ninput: [8, 1, 1]\nlayers:\n"
                        "  - {name: a, op: opaque, out: [1048576, 1048577]}\n"),
            "m.yaml:4: layer 'a'.out: tensor [1048576, 1048577] has more than 2^40 elements");
}

// --exhaustive-limit nan or inf used to disable the size check, and the enumeration of a huge
// space ran for ever.
TEST(Reliability, ExhaustiveLimitMustBeAPointCount) {
  const std::string base = "explore -m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                           "--profile profiles/example/tiny-ee.csv --exhaustive --out " +
                           quote(test::temp_dir() + "/x") + " --exhaustive-limit ";
  for (const char* limit : {"nan", "inf", "1e300", "0", "-5"}) {
    const auto r = run_hetmap(base + limit);
    EXPECT_EQ(r.exit_code, 2) << limit << ": " << r.err;
    EXPECT_NE(r.err.find("--exhaustive-limit: exhaustive limit: expected a number of points in 1..1e+10"),
              std::string::npos)
        << limit << ": " << r.err;
  }
}

const char* kOneLayerPlatform = "name: p\nhost: cpu\nprocessors:\n"
                                "  - {name: cpu, kind: cpu, active_w: [1.0], idle_w: 0.1}\n"
                                "source: test\n";
const char* kOneLayerModel = "name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n"
                             "  - {name: b, op: relu}\n";

// Two layers of 1e308 ms each (profile "p.csv"): files can no longer say such durations
// (docs/formats.md, "Numbers and quantities"), the C++ API still can.
Problem beyond_any_number() {
  Model model = parse_model(kOneLayerModel, "m.yaml");
  Platform platform = parse_platform(kOneLayerPlatform, "p.yaml");
  Profile profile = Profile::empty(model, platform);
  profile.file = "p.csv";
  for (int l = 0; l < 2; ++l) {
    ProfileRow row;
    row.layer = l;
    row.proc = 0;
    row.freq_mhz = platform.processors[0].default_freq();
    row.threads = 1;
    row.mean_ms = 1e308;
    profile.add(row);
  }
  return Problem(std::move(model), std::move(platform), std::move(profile), std::nullopt);
}

// A std_ms of 1e200 used to give a NaN log-normal and a DES that never ended. The log-normal is
// now computed without squaring the ratio (nor forming it, where std / mean is beyond any double):
// the run ends with finite numbers.
TEST(Reliability, HugeFiniteStdGivesAFiniteJitteredRun) {
  const Problem pb = test::make_problem(kOneLayerModel, kOneLayerPlatform,
                                        "layer,processor,mean_ms,std_ms\na,cpu,1e-300,1e9\n"
                                        "b,cpu,2.0,1e-300\n");
  RunSettings s;
  s.inputs = 200;
  s.jitter = true;
  const Metrics m = run_simulation(pb, test::make_config(pb, "model: m\nplatform: p\ndefault: cpu\n"), s,
                                   "map.yaml");
  EXPECT_TRUE(std::isfinite(m.mean_latency_ms));
  EXPECT_TRUE(std::isfinite(m.worst_latency_ms));
  EXPECT_TRUE(std::isfinite(m.energy_mj));
  EXPECT_EQ(m.inputs, 200);
}

// Durations near the largest double used to add up to infinity and print as null with exit 0.
// A profile built through the C++ API can still hold them; its result is an error naming the
// quantity.
TEST(Reliability, ResultsBeyondAnyNumberAreAnErrorNamingTheQuantity) {
  const Problem pb = beyond_any_number();
  const Config c = test::make_config(pb, "model: m\nplatform: p\ndefault: cpu\n");
  for (int inputs : {0, 3}) {
    RunSettings s;
    s.inputs = inputs;  // 0: the analytical evaluator; 3: the DES
    try {
      run_simulation(pb, c, s, "map.yaml");
      ADD_FAILURE() << "expected an error with " << inputs << " inputs";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kOtherError);
      EXPECT_EQ(std::string(e.what()),
                "map.yaml: the mean latency is not a finite number: the profile's durations are too "
                "large to add up");
    }
  }
}

// The search's evaluator says the same of an objective beyond any number, where it used to put an
// infinity in the front (JSON null).
TEST(Reliability, SearchObjectivesBeyondAnyNumberAreAnError) {
  const Problem pb = beyond_any_number();
  dse::BatchEvaluator ev(pb, dse::ObjectiveSet({dse::Objective::mean_latency}), {});
  std::vector<dse::Individual> batch(3);
  for (auto& ind : batch) ind.config = test::make_config(pb, "model: m\nplatform: p\ndefault: cpu\n");
  try {
    ev.evaluate(batch);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kOtherError);
    EXPECT_EQ(std::string(e.what()),
              "p.csv: the mean_latency of a mapping is not a finite number: the profile's durations "
              "are too large to add up");
  }
}

// Every physical quantity a file gives is bounded (docs/formats.md, "Quantities"), so that no sum
// or product of them reaches infinity: 1e308 is refused where it is written.
TEST(Reliability, QuantitiesOutsideTheirRangeAreRefusedAtLoad) {
  auto platform_error = [](const std::string& proc, const std::string& rest = "") {
    return test::input_error_of([&] {
      parse_platform("name: p\nhost: cpu\nprocessors:\n  - {name: cpu, kind: cpu" + proc + "}\n"
                     "  - {name: gpu, kind: gpu}\n" + rest, "p.yaml");
    });
  };
  EXPECT_EQ(platform_error(", freqs_mhz: [100, 1e308]"),
            "p.yaml:4: processor 'cpu'.freqs_mhz: expected 0.001..1e+06 MHz, got 1e+308");
  EXPECT_EQ(platform_error(", active_w: 1e308"),
            "p.yaml:4: processor 'cpu'.active_w: expected 0..1e+06 W, got 1e+308");
  EXPECT_EQ(platform_error(", active_w: [1e7]"),
            "p.yaml:4: processor 'cpu'.active_w: expected 0..1e+06 W, got 10000000");
  EXPECT_EQ(platform_error(", idle_w: 2e6"),
            "p.yaml:4: processor 'cpu'.idle_w: expected 0..1e+06 W, got 2000000");
  EXPECT_EQ(platform_error("", "links:\n  - {between: [cpu, gpu], gbytes_per_s: 1e-300}\n"),
            "p.yaml:7: link.gbytes_per_s: expected >= 1e-06 GB/s, got 1e-300");
  EXPECT_EQ(platform_error("", "links:\n  - {between: [cpu, gpu], gbytes_per_s: 1, latency_ms: 1e308}\n"),
            "p.yaml:7: link.latency_ms: expected 0..1e+12 ms, got 1e+308");
  EXPECT_EQ(platform_error("", "contention: 1e308\n"),
            "p.yaml:6: platform.contention: expected 1e-06..1e+06, got 1e+308");

  const Model model = parse_model(kOneLayerModel, "m.yaml");
  const Platform platform = parse_platform(kOneLayerPlatform, "p.yaml");
  for (const char* column : {"mean_ms", "std_ms", "p99_ms"}) {
    const std::string csv = std::string("layer,processor,mean_ms,") + (column == std::string("mean_ms") ? "samples" : column) +
                            "\na,cpu," + (column == std::string("mean_ms") ? "1e308,1" : "1,1e308") + "\n";
    EXPECT_EQ(test::input_error_of([&] { parse_profile(csv, "p.csv", model, platform); }),
              std::string("p.csv:2: column '") + column + "': expected 0..1e+12 ms, got 1e+308")
        << column;
  }
  const Platform two = parse_platform("name: p\nhost: cpu\nprocessors:\n  - {name: cpu, kind: cpu}\n"
                                      "  - {name: gpu, kind: gpu}\n", "p.yaml");
  EXPECT_EQ(test::input_error_of([&] { parse_transfers("layer,from,to,mean_ms\na,cpu,gpu,1e13\n", "t.csv", model, two); }),
            "t.csv:2: column 'mean_ms': expected 0..1e+12 ms, got 10000000000000");
  EXPECT_EQ(test::input_error_of([] { parse_arrival("periodic:1e-300", "--arrival"); }),
            "--arrival: RATE_HZ expected >= 1e-06 Hz, got 1e-300");
  // Numbers are the whole text: blanks before one are not skipped.
  EXPECT_EQ(test::input_error_of([] { parse_arrival("periodic: 5", "--arrival"); }),
            "--arrival: expected closed, periodic:RATE_HZ or poisson:RATE_HZ with RATE_HZ > 0, got "
            "'periodic: 5'");
}

// A second document used to be ignored without a word; an empty one (a trailing '---') says
// nothing and stays allowed.
TEST(Reliability, OneYamlDocumentPerFile) {
  EXPECT_EQ(test::input_error_of([] { parse_model("name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n---\n"
                                      "name: other\n", "m.yaml"); }),
            "m.yaml:6: a second YAML document: expected one document per file (remove the '---')");
  EXPECT_EQ(test::input_error_of([] { parse_model("name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n---\n",
                                      "m.yaml"); }),
            "");
}

// Invalid UTF-8 in a name used to reach the JSON writer and exit 1 with its exception.
TEST(Reliability, TextMustBeUtf8) {
  EXPECT_EQ(test::input_error_of([] { parse_model("name: m\ninput: [4]\nlayers:\n  - {name: \"a\xff\", op: relu}\n",
                                      "m.yaml"); }),
            "m.yaml:4: invalid UTF-8 (byte 0xFF): expected UTF-8 text");
  EXPECT_EQ(test::input_error_of([] { parse_model("name: \xC0\xAF\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n",
                                      "m.yaml"); }),
            "m.yaml:1: invalid UTF-8 (byte 0xC0): expected UTF-8 text");  // an overlong '/'
  const Model m = parse_model("name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n", "m.yaml");
  const Platform pf = parse_platform("name: p\nhost: cpu\nprocessors:\n  - {name: cpu, kind: cpu}\nsource: t\n",
                                     "p.yaml");
  EXPECT_EQ(test::input_error_of([&] { parse_profile("layer,processor,mean_ms\n\xE2\x82,cpu,1\n", "p.csv", m, pf); }),
            "p.csv:2: invalid UTF-8 (byte 0xE2): expected UTF-8 text");  // cut short
  const std::string dir = test::temp_dir();
  const std::string model = test::write_file(dir, "m.yaml", "name: m\ninput: [4]\nlayers:\n  - {name: \"\xfe\", op: relu}\n");
  const auto r = test::run_hetmap("info -m " + test::quote(model));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("invalid UTF-8"), std::string::npos) << r.err;
}

// Spreadsheets start CSV files with a byte-order mark: it used to make the first column an
// invisible "unknown column".
TEST(Reliability, CsvByteOrderMarkIsNotPartOfTheHeader) {
  const Problem pb = test::make_problem("name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n",
                                        "name: p\nhost: cpu\nprocessors:\n  - {name: cpu, kind: cpu}\nsource: t\n",
                                        "\xEF\xBB\xBFlayer,processor,mean_ms\na,cpu,2.5\n");
  EXPECT_DOUBLE_EQ(pb.duration(0, 0, 0, 1), 2.5);
}

// A row at a level the platform does not offer could never be chosen: it used to be accepted.
TEST(Reliability, ProfileFrequenciesAreLevelsOfTheirProcessor) {
  const Model m = parse_model("name: m\ninput: [4]\nlayers:\n  - {name: a, op: relu}\n", "m.yaml");
  const Platform pf = parse_platform(
      "name: p\nhost: cpu\nprocessors:\n  - {name: cpu, kind: cpu, freqs_mhz: [600, 1800]}\nsource: t\n",
      "p.yaml");
  EXPECT_EQ(test::input_error_of([&] { parse_profile("layer,processor,freq_mhz,mean_ms\na,cpu,1800,1\na,cpu,1000,2\n",
                                         "p.csv", m, pf); }),
            "p.csv:3: column 'freq_mhz': 1000 is not a level of 'cpu' (expected one of 600, 1800)");
  EXPECT_EQ(test::input_error_of([&] { parse_profile("layer,processor,freq_mhz,mean_ms\na,cpu,600,1\n", "p.csv", m, pf); }),
            "");
}

TEST(Reliability, ThresholdsAreConfidencesInZeroToOne) {
  for (const char* t : {"-0.1", "1.5"})
    EXPECT_EQ(test::input_error_of([&] { parse_mapping(std::string("model: m\nplatform: p\nthresholds: {e: ") + t + "}\n",
                                           "map.yaml"); }),
              "map.yaml:3: mapping.thresholds.e: expected a threshold in 0..1");
}

TEST(Reliability, SeedsAreNonNegativeIntegersOnTheCommandLine) {
  const std::string base = "simulate -m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                           "--profile profiles/example/tiny-ee.csv --mapping examples/tiny-ee-parallel.yaml "
                           "--inputs 3 --seed ";
  for (const char* seed : {"-1", "1.5", "x", "9223372036854775807"}) {
    const auto r = test::run_hetmap(base + seed);
    EXPECT_EQ(r.exit_code, 2) << seed << ": " << r.err;
    EXPECT_NE(r.err.find("expected an integer in 0..4611686018427387904"), std::string::npos) << r.err;
  }
  EXPECT_EQ(test::run_hetmap(base + "0").exit_code, 0);
}

TEST(Reliability, ExperimentNameIsNotAPathAndGridsCannotWrap) {
  const std::string dir = test::temp_dir();
  auto load = [&](const std::string& body) {
    const std::string path = test::write_file(dir, "x.yaml",
        "model: " + test::source_path("models/tiny-ee.yaml") + "\nplatform: " +
        test::source_path("profiles/example/platform.yaml") + "\nprofile: " +
        test::source_path("profiles/example/tiny-ee.csv") + "\ntask: explore\n" + body);
    return test::input_error_of([&] { sweep::expand(sweep::load_experiment(path)); });
  };
  for (const char* name : {"/tmp/evil", "../up", "a/b", ".."})
    EXPECT_NE(load(std::string("name: '") + name + "'\n").find("name: expected a plain name"), std::string::npos)
        << name;
  // Ten axes whose product passes the bound: the count is refused before it is formed (64 axes
  // of 2 values once wrapped a plain product to 0 points and an empty, "successful" sweep).
  const std::string e = load("name: g\ngrid:\n  search.seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                             "  search.generations: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                             "  search.population: [4, 6, 8, 10, 12, 14, 16, 18, 20, 22]\n"
                             "  contention: [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]\n"
                             "  search.dvfs: [true, false]\n"
                             "  search.threads: [true, false]\n"
                             "  search.fixed_exits: [true, false]\n"
                             "  search.exhaustive: [true, false]\n"
                             "  search.exhaustive_limit: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]\n"
                             "  policy: [search, parallel]\n");
  EXPECT_NE(e.find("the grid has more than 1000000 points"), std::string::npos) << e;
}

}  // namespace
}  // namespace hetmap
