// End-to-end tests of `hetmap simulate` (docs/design.md, "Command line"): the table, the JSON keys, the
// files it writes, and the exit codes and messages of bad input (nothing written on error).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "fixtures.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/problem.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_hetmap;
using test::source_path;
using test::temp_dir;
using test::write_file;

const std::string kModel = "models/tiny-ee.yaml";
const std::string kPlatform = "profiles/example/platform.yaml";
const std::string kProfile = "profiles/example/tiny-ee.csv";
const std::string kMapping = "examples/tiny-ee-parallel.yaml";

using test::quote;

using test::slurp;

std::string args(const std::string& model = kModel, const std::string& platform = kPlatform,
                 const std::string& profile = kProfile, const std::string& mapping = kMapping) {
  return "simulate -m " + quote(model) + " -p " + quote(platform) + " --profile " +
         quote(profile) + " --mapping " + quote(mapping);
}

// A copy of a shipped text file with 1-based line `line` replaced.
std::string with_line(const std::string& relative, int line, const std::string& text) {
  std::istringstream in(slurp(source_path(relative)));
  std::string out, l;
  for (int n = 1; std::getline(in, l); ++n) out += (n == line ? text : l) + "\n";
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

TEST(Cli, SimulatePrintsATable) {
  const auto r = run_hetmap(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("tiny-ee on example (parallel"), std::string::npos) << r.out;
  for (const char* s : {"mean latency", "worst latency", "energy", "exit1", "exit2", "final",
                        "big", "little", "gpu"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " missing in\n" << r.out;
}

TEST(Cli, JsonToStdoutHasExactlyTheDesignKeys) {
  const auto r = run_hetmap(args() + " --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);  // stdout holds nothing but the JSON
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"mean_latency_ms", "worst_latency_ms", "exit_latency_ms",
                                         "exit_share", "accuracy", "energy_mj", "throughput_ips",
                                         "utilization"}));
  const std::set<std::string> results = {"exit1", "exit2", "final"};
  std::set<std::string> lat_keys, share_keys, procs;
  double share_sum = 0;
  for (const auto& [k, v] : j["exit_latency_ms"].items()) {
    lat_keys.insert(k);
    EXPECT_TRUE(v.is_number()) << k;
  }
  for (const auto& [k, v] : j["exit_share"].items()) {
    share_keys.insert(k);
    share_sum += v.get<double>();
  }
  for (const auto& [k, v] : j["utilization"].items()) {
    procs.insert(k);
    EXPECT_GE(v.get<double>(), 0.0);
    EXPECT_LE(v.get<double>(), 1.0);
  }
  EXPECT_EQ(lat_keys, results);
  EXPECT_EQ(share_keys, results);
  EXPECT_NEAR(share_sum, 1.0, 1e-9);
  EXPECT_EQ(procs, (std::set<std::string>{"big", "little", "gpu"}));
  EXPECT_TRUE(j["accuracy"].is_number());
  EXPECT_TRUE(j["energy_mj"].is_number());
  EXPECT_GT(j["throughput_ips"].get<double>(), 0.0);
  EXPECT_LE(j["mean_latency_ms"].get<double>(), j["worst_latency_ms"].get<double>());

  // The CLI reports what the library computes.
  const Problem pb = load_problem(source_path(kModel), source_path(kPlatform),
                                  source_path(kProfile));
  Evaluator ev(pb);
  const Metrics& e = ev.evaluate(pb.resolve(load_mapping(source_path(kMapping))));
  ASSERT_TRUE(e.feasible);
  EXPECT_NEAR(j["mean_latency_ms"].get<double>(), e.mean_latency_ms, 1e-9);
  EXPECT_NEAR(j["worst_latency_ms"].get<double>(), e.worst_latency_ms, 1e-9);
  EXPECT_NEAR(j["exit_latency_ms"]["final"].get<double>(), e.exit_latency_ms[2], 1e-9);
  EXPECT_NEAR(j["energy_mj"].get<double>(), e.energy_mj, 1e-9);
}

TEST(Cli, AccuracyAndEnergyAreNullWhenUnknown) {
  const std::string dir = temp_dir();
  // No final_accuracy (line 32) and a platform without power data.
  const std::string model = write_file(dir, "tiny-ee.yaml", with_line(kModel, 32, ""));
  std::string platform = slurp(source_path(kPlatform));
  for (const char* cut : {", active_w: [0.3, 0.9, 2.1]", ", active_w: [0.1, 0.5]",
                          ", active_w: [0.6, 2.4]"}) {
    const auto pos = platform.find(cut);
    ASSERT_NE(pos, std::string::npos) << cut;
    platform.erase(pos, std::string(cut).size());
  }
  const std::string pf = write_file(dir, "platform.yaml", platform);
  const auto r = run_hetmap(args(model, pf, source_path(kProfile), source_path(kMapping)) +
                            " --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_TRUE(j["accuracy"].is_null());
  EXPECT_TRUE(j["energy_mj"].is_null());
}

TEST(Cli, WritesJsonAndChromeTraceFiles) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/sub/result.json", trace = dir + "/trace.json";
  const auto r = run_hetmap(args() + " --json " + quote(out) + " --chrome-trace " + quote(trace));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mean latency"), std::string::npos);  // the table still goes to stdout
  ASSERT_TRUE(fs::exists(out));
  ASSERT_TRUE(fs::exists(trace));
  EXPECT_EQ(json::parse(slurp(out)), json::parse(run_hetmap(args() + " --json -").out));
  // No temporary files are left behind.
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();

  const json t = json::parse(slurp(trace));
  ASSERT_TRUE(t.contains("traceEvents"));
  ASSERT_TRUE(t["traceEvents"].is_array());
  // One named track (tid) per processor and per link.
  std::map<int, std::string> track;
  std::set<std::string> names;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      const int tid = e["tid"].get<int>();
      EXPECT_FALSE(track.count(tid)) << "tid " << tid << " named twice";
      track[tid] = e["args"]["name"].get<std::string>();
      names.insert(track[tid]);
    }
  EXPECT_EQ(names, (std::set<std::string>{"big", "little", "gpu", "link big-gpu",
                                          "link little-gpu"}));
  EXPECT_EQ(track.size(), names.size());
  std::map<std::string, std::set<std::string>> on;  // track name -> event names
  int tasks = 0, copies = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ASSERT_TRUE(e.contains("ts") && e.contains("dur") && e.contains("tid") && e.contains("name"))
        << e.dump();
    EXPECT_GE(e["dur"].get<double>(), 0.0);
    EXPECT_GE(e["ts"].get<double>(), 0.0);
    const int tid = e["tid"].get<int>();
    ASSERT_TRUE(track.count(tid)) << "X event on an unnamed track: " << e.dump();
    on[track[tid]].insert(e["name"].get<std::string>());
    (starts_with(track[tid], "link ") ? copies : tasks) += 1;
  }
  EXPECT_EQ(tasks, 15);  // every layer of tiny-ee runs once
  EXPECT_GT(copies, 0);
  EXPECT_TRUE(on["gpu"].count("conv1"));
  EXPECT_TRUE(on["gpu"].count("fc"));
  EXPECT_TRUE(on["little"].count("e1_pool"));
  EXPECT_TRUE(on["little"].count("e2_fc"));
  EXPECT_TRUE(on["big"].empty());
  EXPECT_FALSE(on["link big-gpu"].empty());
  EXPECT_FALSE(on["link little-gpu"].empty());
}

// Runs a failing simulate that also asks for output files; checks the exit code, the message
// prefix, and that no file was written.
void expect_failure(const std::string& cmd_args, int code, const std::string& prefix,
                    const std::string& needle = "") {
  const std::string dir = temp_dir();
  const std::string out = dir + "/out.json", trace = dir + "/trace.json";
  const auto r = run_hetmap(cmd_args + " --json " + quote(out) + " --chrome-trace " + quote(trace));
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_TRUE(starts_with(r.err, prefix)) << "stderr: " << r.err << "expected prefix: " << prefix;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(trace));
  EXPECT_TRUE(fs::is_empty(dir)) << "something was written to " << dir;
}

TEST(Cli, BadModelExits2WithFileAndLine) {
  const std::string dir = temp_dir();
  const std::string model = write_file(
      dir, "tiny-ee.yaml",
      with_line(kModel, 7, "  - {name: relu1, op: relu, filters: 3}"));
  expect_failure(args(model), 2, "hetmap: error: " + model + ":7: ", "unknown key 'filters'");
}

TEST(Cli, BadPlatformProfileAndMappingExit2WithFileAndLine) {
  const std::string dir = temp_dir();
  const std::string pf = write_file(dir, "platform.yaml", with_line(kPlatform, 2, "name: example\ncolour: red"));
  expect_failure(args(kModel, pf), 2, "hetmap: error: " + pf + ":3: ", "unknown key 'colour'");

  const std::string prof = write_file(dir, "tiny-ee.csv", with_line(kProfile, 6, "conv1,gpu,,,-0.9,0.06,1.10,50"));
  expect_failure(args(kModel, kPlatform, prof), 2, "hetmap: error: " + prof + ":6: ",
                 "expected >= 0");

  const std::string map = write_file(dir, "map.yaml", with_line(kMapping, 8, "freq_mhz: {big: 1500, gpu: 800}"));
  expect_failure(args(kModel, kPlatform, kProfile, map), 2, "hetmap: error: " + map + ":8: ",
                 "expected one of 408, 1008, 1800");

  const std::string trace = write_file(dir, "trace.csv", "sample,exit1_conf,exit1_ok,final_ok\n0,1,1,1\n");
  expect_failure(args() + " --trace " + quote(trace), 2, "hetmap: error: " + trace + ":1: ",
                 "missing column 'exit2_conf'");
}

TEST(Cli, MissingInputFileExits2NamingIt) {
  const std::string missing = temp_dir() + "/nope.yaml";
  expect_failure(args(missing), 2, "hetmap: error: " + missing + ": ", "cannot open");
}

TEST(Cli, InfeasibleMappingExits3) {
  const std::string dir = temp_dir();
  // The profile has no single-thread rows for `little`, where the exit branches sit (line 6).
  const std::string map = write_file(
      dir, "map.yaml", slurp(source_path(kMapping)) + "threads: {little: 1}\n");
  expect_failure(args(kModel, kPlatform, kProfile, map), 3, "hetmap: error: " + map + ":6: ",
                 "cannot run on 'little'");
}

TEST(Cli, AnUnwritableOutputLeavesNoOtherOutputBehind) {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/taken");  // --json names a folder: refused before the run
  const std::string trace = dir + "/trace.json";
  const auto r = run_hetmap(args() + " --chrome-trace " + quote(trace) + " --json " +
                            quote(dir + "/taken"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, "hetmap: error: " + dir + "/taken: ")) << r.err;
  EXPECT_FALSE(fs::exists(trace));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "taken") << "left behind: " << entry.path();
}

TEST(Cli, MissingRequiredFlagExits2) {
  const auto r = run_hetmap("simulate -m " + kModel + " -p " + kPlatform + " --profile " + kProfile);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(starts_with(r.err, "hetmap: error: ")) << r.err;
  EXPECT_NE(r.err.find("--mapping"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, UnknownFlagAndVerbExit2) {
  auto r = run_hetmap(args() + " --bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(starts_with(r.err, "hetmap: error: ")) << r.err;
  r = run_hetmap("");
  EXPECT_EQ(r.exit_code, 2);
  r = run_hetmap(args() + " --inputs 0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(Cli, DesModeReportsPercentiles) {
  const auto r = run_hetmap(args() + " --inputs 20 --arrival periodic:10 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* k : {"mean_latency_ms", "worst_latency_ms", "exit_latency_ms", "exit_share",
                        "accuracy", "energy_mj", "throughput_ips", "utilization",
                        "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "max_latency_ms"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_LE(j["p50_latency_ms"].get<double>(), j["p95_latency_ms"].get<double>());
  EXPECT_LE(j["p95_latency_ms"].get<double>(), j["p99_latency_ms"].get<double>());
  EXPECT_LE(j["p99_latency_ms"].get<double>(), j["max_latency_ms"].get<double>());
}

// Boolean flags follow the one boolean rule (docs/formats.md, "Booleans"): alone or `=true`
// they are on, `=false` off, and any other spelling is bad input naming the flag.
TEST(Cli, BooleanFlagsTakeTrueOrFalseOnly) {
  const std::string des = " --inputs 20 --seed 3 --json -";
  const auto plain = run_hetmap(args() + des);
  const auto on = run_hetmap(args() + des + " --jitter");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(on.exit_code, 0) << on.err;
  ASSERT_NE(plain.out, on.out) << "jitter changes the simulated latencies";
  EXPECT_EQ(run_hetmap(args() + des + " --jitter=true").out, on.out);
  EXPECT_EQ(run_hetmap(args() + des + " --jitter=false").out, plain.out);
  for (const char* bad : {"yes", "no", "on", "off", "1", "0", "True", "FALSE", "y"}) {
    const std::string v = bad;
    expect_failure(args() + " --jitter=" + v, 2, "hetmap: error: --jitter: ",
                   "expected true or false, got '" + v + "'");
  }
  // Every verb's flags, not only simulate's.
  for (const std::string& cmd : {"info -m " + quote(kModel) + " --json=yes",
                                 "sweep experiments/quickstart.yaml --out " + quote(temp_dir() + "/o") + " --resume=on",
                                 "explore -m " + quote(kModel) + " -p " + quote(kPlatform) + " --profile " +
                                     quote(kProfile) + " --out " + quote(temp_dir() + "/o") + " --exhaustive=1"}) {
    const auto r = run_hetmap(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find("expected true or false"), std::string::npos) << cmd << "\n" << r.err;
  }
}

// --arrival goes through parse_arrival (the one arrival parser, shared with experiment files)
// before any input is read.
TEST(Cli, BadArrivalNamesTheOption) {
  for (const char* bad : {"open", "poisson:0", "periodic:-5", "poisson:", "periodic:10hz", "Closed"}) {
    const std::string v = bad;
    expect_failure(args() + " --inputs 5 --arrival " + quote(v), 2, "hetmap: error: --arrival: ",
                   "expected closed, periodic:RATE_HZ or poisson:RATE_HZ with RATE_HZ > 0, got '" + v + "'");
  }
  // Given alone, an arrival makes the DES run (docs/semantics.md, "Which simulator runs").
  const auto r = run_hetmap(args() + " --arrival closed");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DES, 1 inputs, closed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hetmap

namespace hetmap {
namespace {

TEST(CliVerbs, UnknownCommandIsNamed) {
  const auto r = test::run_hetmap("simulat -m models/tiny-ee.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("hetmap: error: unknown command 'simulat'", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("simulate, explore, sweep, plot"), std::string::npos) << r.err;
}

// Without ONNX (docs/building.md) `import` stays listed, and using it fails at once, in one line.
#if !HETMAP_WITH_ONNX
TEST(CliVerbs, ImportWithoutOnnxExits2SayingSo) {
  const auto r = test::run_hetmap("import onnx/testdata/alexnet.onnx --name a");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("hetmap: error: hetmap import: this build has no ONNX support", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}
#endif

// Output folders and files are checked before any work starts: exit 2 naming the option and
// why, not a filesystem error after the whole search or profile, and nothing written.
TEST(CliVerbs, UnusableOutputsAreRefusedBeforeAnyWork) {
  const std::string dir = test::temp_dir();
  const std::string file = test::write_file(dir, "afile", "x\n");
  const std::string inputs = "-m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                             "--profile profiles/example/tiny-ee.csv ";
  const struct {
    std::string args, expect;
  } cases[] = {
      {"explore " + inputs + "--generations 500 --population 64 --out " + test::quote(file + "/sub"),
       "--out: cannot be created: " + file + " is not a folder"},
      {"explore " + inputs + "--generations 500 --population 64 --out " + test::quote(file),
       "--out: exists and is not a folder"},
      {"profile -m models/tiny-ee.yaml --quick --out " + test::quote(file), "--out: exists and is not a folder"},
      {"sweep experiments/quickstart.yaml --out " + test::quote(file), "--out: exists and is not a folder"},
      {"simulate " + inputs + "--mapping examples/tiny-ee-parallel.yaml --json " + test::quote(dir),
       "--json: is a folder, expected a file"},
      {"simulate " + inputs + "--mapping examples/tiny-ee-parallel.yaml --chrome-trace " +
           test::quote(file + "/t.json"),
       "--chrome-trace: cannot be created: " + file + " is not a folder"},
  };
  for (const auto& c : cases) {
    const auto r = test::run_hetmap(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("generation"), std::string::npos) << "the search ran first: " << r.err;
    EXPECT_EQ(r.err.find("profiling"), std::string::npos) << "the profile ran first: " << r.err;
  }
}

}  // namespace
}  // namespace hetmap
