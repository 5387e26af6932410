// Every point of a sweep is checked before its folder is written (docs/experiments.md): what the
// run of a point would refuse (an exhaustive space over its limit, an objective the platform has
// no data for, an infeasible mapping, an odd population, a damaged search checkpoint to resume)
// once surfaced only after DIR had been prepared, as points that failed mid-run. Now the sweep
// exits before DIR is created or touched, naming the experiment file, the point and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "fixtures.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::quote;
using test::run_hetmap;
using test::slurp;
using test::source_path;
using test::temp_dir;
using test::write_file;

// An experiment in its own folder over the shipped example, then `body`.
std::string experiment(const std::string& body, const std::string& dir = temp_dir()) {
  return write_file(dir, "exp.yaml",
                    "name: v\nmodel: " + source_path("models/tiny-ee.yaml") + "\nplatform: " +
                        source_path("profiles/example/platform.yaml") + "\nprofile: " +
                        source_path("profiles/example/tiny-ee.csv") + "\n" + body);
}

test::RunResult sweep(const std::string& exp, const std::string& out, const std::string& extra = "") {
  return run_hetmap("sweep " + quote(exp) + " --out " + quote(out) + " " + extra);
}

// Every file under `dir` with its content and modification time.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    if (!e.is_regular_file()) {
      files[rel] = "(folder)";
      continue;
    }
    files[rel] = slurp(e.path().string()) + "@" +
                 std::to_string(fs::last_write_time(e.path()).time_since_epoch().count());
  }
  return files;
}

void ExpectRefused(const test::RunResult& r, int code, const std::string& expected) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  // One error line (after the sweep's own first line where it got to run_sweep).
  const std::size_t at = r.err.find("hetmap: error: ");
  EXPECT_TRUE(at == 0 || (at != std::string::npos && r.err[at - 1] == '\n')) << r.err;
  EXPECT_NE(r.err.find(expected, at), std::string::npos) << "expected: " << expected << "\ngot: " << r.err;
}

// The good points of the experiments below: two short searches.
const std::string kGood = "task: explore\nsearch: {generations: 1, population: 4}\n";

TEST(SweepValidation, AnExhaustivePointOverItsLimitFailsBeforeTheFolderIsWritten) {
  // tiny-ee's space on the example platform has 1.15e8 points, over the default limit of 4e6.
  const std::string exp = experiment(kGood + "grid:\n  search.seed: [1, 2]\n  search.exhaustive: [false, true]\n");
  const std::string out = temp_dir() + "/out";
  ExpectRefused(sweep(exp, out), 2,
                "exp.yaml: point 001 (search.seed=1, search.exhaustive=true): the design space has "
                "1.15e+08 points, more than the exhaustive limit of 4e+06; use the search instead");
  EXPECT_FALSE(fs::exists(out));
}

TEST(SweepValidation, AnObjectiveWithoutDataInOneCaseFailsBeforeTheFolderIsWritten) {
  const std::string dir = temp_dir();
  const std::string no_power = write_file(
      dir, "no-power.yaml",
      std::regex_replace(slurp(source_path("profiles/example/platform.yaml")),
                         std::regex(R"(, active_w: (\[[^\]]*\]|[0-9.]+), idle_w: [0-9.]+)"), ""));
  const std::string exp = experiment(
      "task: explore\nsearch: {generations: 1, population: 4, objectives: [mean_latency, energy]}\ncases:\n  - {name: measured}\n"
              "  - {name: unmeasured, platform: " + no_power + "}\n",
      dir);
  const std::string out = dir + "/out";
  ExpectRefused(sweep(exp, out), 2, "exp.yaml: point 001 (case=unmeasured): objectives: objective 'energy' needs");
  EXPECT_FALSE(fs::exists(out));
}

TEST(SweepValidation, AnInfeasibleSimulatePointFailsBeforeTheFolderIsWritten) {
  // The parallel example puts the exit branches on `little`; a profile without its rows cannot
  // run them there (exit code 3, as `hetmap simulate` gives).
  const std::string dir = temp_dir();
  std::istringstream in(slurp(source_path("profiles/example/tiny-ee.csv")));
  std::string csv, line;
  while (std::getline(in, line))
    if (line.find(",little,") == std::string::npos) csv += line + "\n";
  const std::string profile = write_file(dir, "big-gpu.csv", csv);
  const std::string exp = experiment(
      "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
          "\ncases:\n  - {name: all}\n  - {name: big-gpu, profile: " + profile + "}\n",
      dir);
  const std::string out = dir + "/out";
  ExpectRefused(sweep(exp, out), 3, "exp.yaml: point 001 (case=big-gpu): ");
  EXPECT_FALSE(fs::exists(out));
}

TEST(SweepValidation, AnOddPopulationIsRefusedWhenTheFileIsRead) {
  const std::string exp = experiment(kGood + "grid:\n  search.population: [4, 5, 6]\n");
  const std::string out = temp_dir() + "/out";
  ExpectRefused(sweep(exp, out), 2, "exp.yaml:8: search.population: expected an even integer in 4..100000, got '5'");
  EXPECT_FALSE(fs::exists(out));
}

// The same rule (dse::valid_population) on the command line, before anything is loaded.
TEST(SweepValidation, ThePopulationRuleIsTheSameOnTheCommandLine) {
  for (const char* bad : {"7", "2", "100002"}) {
    const std::string out = temp_dir() + "/out";
    ExpectRefused(run_hetmap("explore -m models/tiny-ee.yaml -p profiles/example/platform.yaml --profile "
                             "profiles/example/tiny-ee.csv --population " + std::string(bad) +
                             " --out " + quote(out)),
                  2, "--population: expected an even integer in 4..100000, got " + std::string(bad));
    EXPECT_FALSE(fs::exists(out));
  }
}

// An existing folder of an earlier good run is left exactly as it was, with or without --resume.
TEST(SweepValidation, AnExistingFolderIsLeftAsItWas) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/out";
  ASSERT_EQ(sweep(experiment(kGood + "grid:\n  search.seed: [1, 2]\n", dir), out).exit_code, 0);
  const auto before = snapshot(out);
  ASSERT_TRUE(before.count("points/001/front.csv"));
  const std::string bad = experiment(kGood + "grid:\n  search.seed: [1, 2]\n  search.exhaustive: [false, true]\n",
                                     temp_dir());
  for (const char* extra : {"", "--resume"}) {
    ExpectRefused(sweep(bad, out, extra), 2, "point 001 (search.seed=1, search.exhaustive=true)");
    EXPECT_EQ(snapshot(out), before) << extra;
  }
}

// With --resume, the checkpoint a point would resume from is checked with the rest.
TEST(SweepValidation, ADamagedCheckpointToResumeFailsBeforeTheFolderIsWritten) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/out";
  const std::string exp = experiment(kGood + "grid:\n  search.seed: [1, 2]\n", dir);
  ASSERT_EQ(sweep(exp, out).exit_code, 0);
  // Point 001 as if killed mid-run: no summary, and its checkpoint's population cut short.
  fs::remove(out + "/points/001/summary.json");
  const std::string ck = out + "/points/001/checkpoint.json";
  nlohmann::json j = nlohmann::json::parse(slurp(ck));
  j["population"].erase(j["population"].begin());
  write_file(out + "/points/001", "checkpoint.json", j.dump());
  const auto before = snapshot(out);
  ExpectRefused(sweep(exp, out, "--resume"), 2,
                "exp.yaml: point 001 (search.seed=2): " + ck +
                    ": population: 3 individuals, expected 4 (the population size)");
  EXPECT_EQ(snapshot(out), before);
  // Without --resume the folder is replaced and the point runs afresh.
  EXPECT_EQ(sweep(exp, out).exit_code, 0);
}

}  // namespace
}  // namespace hetmap
