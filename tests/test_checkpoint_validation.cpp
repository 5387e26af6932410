// Search checkpoints are read back field by field (docs/search.md, "Checkpoints"): a checkpoint
// written by a short `hetmap explore`, with one field damaged through nlohmann::json, makes
// `explore --resume` exit 2 with a message naming the file and the field, and write nothing.
// A short population once crashed the resumed search (SIGSEGV); the other fields were taken as
// they were (out-of-range indices, wrapped numbers, a dead random generator) or failed with a
// raw library exception. A valid checkpoint still resumes to the uninterrupted run's front.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fixtures.hpp"
#include "hetmap/dse/driver.hpp"
#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/dse/random_search.hpp"
#include "hetmap/error.hpp"
#include "hetmap/synthetic.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::quote;
using test::run_hetmap;
using test::slurp;
using test::temp_dir;
using test::write_file;

const std::string kInputs =
    "-m models/tiny-ee.yaml -p profiles/example/platform.yaml --profile profiles/example/tiny-ee.csv";
// A space with every dimension of the example platform searched: big (cpu, 2 cores, 3 levels),
// little (cpu, 4 cores, 2 levels), gpu (1 "core", 2 levels); tiny-ee has 15 layers, 2 exits.
const std::string kSearch = "--dvfs --threads ";
const std::string kSettings = "--seed 2 --population 8";

// The checkpoint of 3 generations, written once per test program.
const json& checkpoint() {
  static const json saved = [] {
    const std::string out = temp_dir() + "/first";
    const auto r = run_hetmap("explore " + kInputs + " " + kSearch + kSettings + " --generations 3 --out " +
                              quote(out));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(slurp(out + "/checkpoint.json"));
  }();
  return saved;
}

struct Resumed {
  test::RunResult run;
  std::string out;
};

// Resumes 5 generations from `text` as the checkpoint file bad.json, with `settings`.
Resumed resume_text(const std::string& text, const std::string& settings = kSettings) {
  const std::string dir = temp_dir();
  const std::string file = write_file(dir, "bad.json", text);
  Resumed r;
  r.out = dir + "/out";
  r.run = run_hetmap("explore " + kInputs + " " + kSearch + settings + " --generations 5 --resume --checkpoint " +
                     quote(file) + " --out " + quote(r.out));
  return r;
}

// The checkpoint with `damage` done to it, resumed: exit 2, the message names bad.json and then
// `expected` (the field and what is wrong), and nothing is written.
void ExpectRefused(const std::function<void(json&)>& damage, const std::string& expected,
                   const std::string& settings = kSettings) {
  json j = checkpoint();
  damage(j);
  const Resumed r = resume_text(j.dump(), settings);
  EXPECT_EQ(r.run.exit_code, 2) << expected << "\n" << r.run.err;
  EXPECT_EQ(r.run.err.rfind("hetmap: error: ", 0), 0u) << r.run.err;
  EXPECT_NE(r.run.err.find("bad.json: " + expected), std::string::npos)
      << "expected: " << expected << "\ngot: " << r.run.err;
  EXPECT_FALSE(fs::exists(r.out)) << expected << ": nothing is written on error";
}

json& member(json& j, const std::string& path) { return j[json::json_pointer(path)]; }

TEST(CheckpointValidation, AValidCheckpointResumesToTheUninterruptedFront) {
  const std::string straight = temp_dir() + "/straight";
  ASSERT_EQ(run_hetmap("explore " + kInputs + " " + kSearch + kSettings + " --generations 5 --out " +
                       quote(straight))
                .exit_code,
            0);
  const Resumed r = resume_text(checkpoint().dump());
  ASSERT_EQ(r.run.exit_code, 0) << r.run.err;
  EXPECT_NE(r.run.err.find("resumed"), std::string::npos) << r.run.err;
  EXPECT_EQ(slurp(r.out + "/front.csv"), slurp(straight + "/front.csv"));
}

// The case that crashed: a population shorter than the run's (the fingerprint says 8).
TEST(CheckpointValidation, AShortPopulationIsRefused) {
  ExpectRefused([](json& j) { j["population"].erase(j["population"].begin() + 4, j["population"].end()); },
                "population: 4 individuals, expected 8 (the population size)");
  ExpectRefused([](json& j) { j["population"] = json::array(); },
                "population: 0 individuals, expected 8");
}

// Another --population is another run: refused with the setting named (docs/search.md).
TEST(CheckpointValidation, AnotherPopulationSizeIsRefusedNamingIt) {
  ExpectRefused([](json&) {}, "checkpoint of another run: its population is 8, this run's is 10",
                "--seed 2 --population 10");
  ExpectRefused([](json&) {}, "checkpoint of another run: its seed is 2, this run's is 3",
                "--seed 3 --population 8");
  ExpectRefused([](json& j) { j["fingerprint"] = 7; }, "fingerprint: expected a string, got 7");
}

TEST(CheckpointValidation, Counters) {
  ExpectRefused([](json& j) { j["generation"] = -1; },
                "generation: expected an integer in 0..2147483647, got -1");
  ExpectRefused([](json& j) { j["generation"] = 1e20; },
                "generation: expected an integer in 0..2147483647, got 1e+20");
  ExpectRefused([](json& j) { j["generation"] = 2.5; }, "generation: expected an integer");
  ExpectRefused([](json& j) { j["generation"] = 99; },
                "generation: 99, past this run's last generation, 5");
  // Generation 3 of population 8: 32 evaluations, no more, no fewer.
  ExpectRefused([](json& j) { j["generation"] = 4; }, "evaluations: 32, expected 40");
  ExpectRefused([](json& j) { j["evaluations"] = 10; }, "evaluations: 10, expected 32");
  ExpectRefused([](json& j) { j["evaluations"] = -32; },
                "evaluations: expected an integer in 0..9223372036854775807, got -32");
  ExpectRefused([](json& j) { j["evaluations"] = "32"; }, "evaluations: expected an integer");
}

TEST(CheckpointValidation, RandomGeneratorState) {
  ExpectRefused([](json& j) { j["rng"] = "garbage"; },
                "rng: expected the state of a std::mt19937_64 in the standard library's text form");
  // Read by the stream, but not as written: a word -1 (wrapped to 2^64 - 1), a doubled space.
  ExpectRefused([](json& j) { j["rng"] = "-1" + j["rng"].get<std::string>().substr(j["rng"].get<std::string>().find(' ')); },
                "rng: expected the state");
  ExpectRefused([](json& j) { j["rng"] = j["rng"].get<std::string>() + " 5"; }, "rng: expected the state");
  // The all-zero state draws 0 for ever: NSGA-II's mutation loop would never end.
  ExpectRefused(
      [](json& j) {
        const std::string saved = j["rng"];
        std::string zeros = "0";
        for (std::size_t i = 1, words = std::count(saved.begin(), saved.end(), ' ') + 1; i < words; ++i)
          zeros += " 0";
        j["rng"] = zeros;
      },
      "rng: the all-zero state of the generator, which draws 0 for ever");
  ExpectRefused([](json& j) { j["rng"] = 5; }, "rng: expected a string, got 5");
  ExpectRefused([](json& j) { j.erase("rng"); }, "missing the key 'rng'");
}

TEST(CheckpointValidation, ProcessorIndices) {
  ExpectRefused([](json& j) { member(j, "/population/3/config/proc/5") = 9; },
                "population[3].config.proc[5]: processor index 9 out of range 0..2");
  // A byte would wrap 300 to 44: refused before it is stored in one.
  ExpectRefused([](json& j) { member(j, "/population/3/config/proc/5") = 300; },
                "population[3].config.proc[5]: expected an integer in 0..255, got 300");
  ExpectRefused([](json& j) { member(j, "/population/3/config/proc/5") = -1; },
                "population[3].config.proc[5]: expected an integer in 0..255, got -1");
  ExpectRefused([](json& j) { member(j, "/archive/0/config/proc/0") = 3; },
                "archive[0].config.proc[0]: processor index 3 out of range 0..2");
}

TEST(CheckpointValidation, VectorLengths) {
  ExpectRefused([](json& j) { member(j, "/population/3/config/proc").erase(0); },
                "population[3].config.proc: 14 values, expected 15 (one per layer)");
  ExpectRefused([](json& j) { member(j, "/population/1/config/freq_level").push_back(0); },
                "population[1].config.freq_level: 4 values, expected 3 (one per processor)");
  ExpectRefused([](json& j) { member(j, "/population/1/config/threads") = json::array(); },
                "population[1].config.threads: 0 values, expected 3 (one per processor)");
  ExpectRefused([](json& j) { member(j, "/population/1/config/thresholds").erase(0); },
                "population[1].config.thresholds: 1 values, expected 2 (one per exit)");
  ExpectRefused([](json& j) { member(j, "/population/1/config/proc") = "0,1"; },
                "population[1].config.proc: expected an array, got \"0,1\"");
}

TEST(CheckpointValidation, ThreadsAndLevels) {
  ExpectRefused([](json& j) { member(j, "/population/3/config/threads/0") = 0; },
                "population[3].config.threads[0]: 0 threads out of range 1..2 of 'big'");
  ExpectRefused([](json& j) { member(j, "/population/3/config/threads/1") = 5; },
                "population[3].config.threads[1]: 5 threads out of range 1..4 of 'little'");
  ExpectRefused([](json& j) { member(j, "/population/3/config/threads/2") = 3; },
                "population[3].config.threads[2]: 3 threads out of range 1..1 of 'gpu'");
  ExpectRefused([](json& j) { member(j, "/population/3/config/freq_level/0") = 3; },
                "population[3].config.freq_level[0]: level 3 out of range 0..2 of 'big'");
  ExpectRefused([](json& j) { member(j, "/population/3/config/freq_level/2") = 2; },
                "population[3].config.freq_level[2]: level 2 out of range 0..1 of 'gpu'");
}

TEST(CheckpointValidation, ExitMasks) {
  // tiny-ee has 2 exits: bits 0 and 1.
  ExpectRefused([](json& j) { member(j, "/population/0/config/exits") = "4"; },
                "population[0].config.exits: 4 has bits set beyond the model's 2 exits");
  ExpectRefused([](json& j) { member(j, "/population/0/config/exits") = "18446744073709551615"; },
                "population[0].config.exits: 18446744073709551615 has bits set beyond the model's 2 exits");
  for (const char* bad : {"-1", "18446744073709551616", "3x", "", " 3"})
    ExpectRefused([&](json& j) { member(j, "/population/0/config/exits") = bad; },
                  "population[0].config.exits: expected a bit mask as a decimal integer in 0..2^64 - 1, "
                  "got '" + std::string(bad) + "'");
  ExpectRefused([](json& j) { member(j, "/population/0/config/exits") = 3; },
                "population[0].config.exits: expected a string, got 3");
}

TEST(CheckpointValidation, PolicyAndThresholds) {
  ExpectRefused([](json& j) { member(j, "/population/2/config/policy") = "diagonal"; },
                "population[2].config.policy: expected parallel or sequential, got 'diagonal'");
  // Without an exit trace the thresholds are not searched: the default only.
  ExpectRefused([](json& j) { member(j, "/population/2/config/thresholds/1") = 0.7; },
                "population[2].config.thresholds[1]: 0.7, expected 0.5 (without an exit trace "
                "thresholds are not searched)");
  ExpectRefused([](json& j) { member(j, "/population/2/config/thresholds/1") = nullptr; },
                "population[2].config.thresholds[1]: expected a finite number, got null");
}

TEST(CheckpointValidation, ObjectiveValuesAndFeasibility) {
  ExpectRefused([](json& j) { member(j, "/population/2/f").erase(0); },
                "population[2].f: 2 values, expected 3 (one per objective: mean_latency, "
                "worst_latency, energy)");
  ExpectRefused([](json& j) { member(j, "/population/2/f/0") = "fast"; },
                "population[2].f[0]: expected a finite number or null (infinity), got \"fast\"");
  // Values that are not the config's evaluation (the evaluator is deterministic).
  ExpectRefused([](json& j) { member(j, "/population/2/f/1") = member(j, "/population/2/f/1").get<double>() * 0.5; },
                "population[2].f: [");
  ExpectRefused([](json& j) { member(j, "/archive/1/f/0") = 0.001; }, "archive[1].f: [");
  ExpectRefused([](json& j) { member(j, "/population/2/f/0") = nullptr; }, "population[2].f: [inf, ");
  ExpectRefused([](json& j) { member(j, "/population/2/feasible") = false; },
                "population[2].feasible: false, but its config evaluates to true");
  ExpectRefused([](json& j) { member(j, "/population/2/feasible") = "yes"; },
                "population[2].feasible: expected true or false, got \"yes\"");
  ExpectRefused([](json& j) { member(j, "/population/2/violation") = -1; },
                "population[2].violation: expected a number >= 0 or null (infinity), got -1");
  ExpectRefused([](json& j) { member(j, "/population/2/violation") = 0.5; },
                "population[2].violation: 0.5 differs from its config's evaluation 0");
}

TEST(CheckpointValidation, NumbersPastAnyDouble) {
  json j = checkpoint();
  member(j, "/population/1/f/0") = "@";
  std::string text = j.dump();
  text.replace(text.find("\"@\""), 3, "1e400");
  const Resumed r = resume_text(text);
  EXPECT_EQ(r.run.exit_code, 2) << r.run.err;
  EXPECT_NE(r.run.err.find("bad.json: not a readable JSON document (truncated or damaged?): "
                           "number overflow parsing '1e400'"),
            std::string::npos)
      << r.run.err;
}

TEST(CheckpointValidation, RankAndCrowding) {
  // Ranks come from sorting 2 x 8 points: 0..15.
  ExpectRefused([](json& j) { member(j, "/population/2/rank") = 16; },
                "population[2].rank: 16 out of range 0..15");
  ExpectRefused([](json& j) { member(j, "/population/2/rank") = -1; },
                "population[2].rank: expected an integer in 0..2147483647, got -1");
  ExpectRefused([](json& j) { member(j, "/population/2/crowding") = -0.5; },
                "population[2].crowding: expected a number >= 0 or null (infinity), got -0.5");
}

TEST(CheckpointValidation, TheArchive) {
  // Mutually non-dominated, distinct, satisfying the constraints, and covering the population.
  ExpectRefused([](json& j) { j["archive"].push_back(j["archive"][0]); },
                "archive[" + std::to_string(checkpoint()["archive"].size()) +
                    "]: its objectives equal or are dominated by another archived point's");
  ExpectRefused(
      [](json& j) {
        // A population point the archive does not hold (it is dominated), put first.
        for (const json& p : j["population"]) {
          bool archived = false;
          for (const json& a : j["archive"]) archived = archived || a["f"] == p["f"];
          if (archived) continue;
          j["archive"].insert(j["archive"].begin(), p);
          return;
        }
        FAIL() << "every population point is archived";
      },
      "archive[");
  ExpectRefused([](json& j) { j["archive"] = json::array(); },
                "population[0]: satisfies the constraints, but no archived point equals or dominates "
                "it: the archive is not the one of this population");
  ExpectRefused([](json& j) { j["archive"] = json::object(); }, "archive: expected an array, got {}");
}

TEST(CheckpointValidation, TheDocumentItself) {
  const std::string valid = checkpoint().dump();
  for (const std::string& text : {valid.substr(0, valid.size() / 2), std::string(), std::string("{\"format\": 1"),
                                  std::string("\x01\x02 not json")}) {
    const Resumed r = resume_text(text);
    EXPECT_EQ(r.run.exit_code, 2) << r.run.err;
    EXPECT_NE(r.run.err.find("bad.json: not a readable JSON document (truncated or damaged?): "),
              std::string::npos)
        << r.run.err;
    EXPECT_FALSE(fs::exists(r.out));
  }
  ExpectRefused([](json& j) { j = json::array({1, 2}); },
                "not a hetmap nsga2 checkpoint (expected the format 'hetmap-nsga2-checkpoint-2', got none)");
  ExpectRefused([](json& j) { j["format"] = "hetmap-random-checkpoint-2"; },
                "not a hetmap nsga2 checkpoint (expected the format 'hetmap-nsga2-checkpoint-2', got "
                "\"hetmap-random-checkpoint-2\")");
  ExpectRefused([](json& j) { j.erase("archive"); }, "missing the key 'archive'");
  ExpectRefused([](json& j) { member(j, "/population/4") = 17; },
                "population[4]: expected an object with the key 'config', got 17");
  ExpectRefused([](json& j) { member(j, "/population/4").erase("crowding"); },
                "population[4]: missing the key 'crowding'");
}

// ---- the library: the space's description of its points, and the other algorithms ----------

Problem tiny() {
  return load_problem(test::source_path("models/tiny-ee.yaml"),
                      test::source_path("profiles/example/platform.yaml"),
                      test::source_path("profiles/example/tiny-ee.csv"));
}

TEST(CheckpointValidation, TheSpaceDescribesItsPoints) {
  const Problem pb = tiny();
  dse::SpaceOptions narrow;
  narrow.search_policy = false;
  narrow.policy = Policy::parallel;
  narrow.search_exits = false;
  narrow.processors = {0, 2};  // big and gpu
  const dse::DesignSpace space(pb, narrow);
  const Config ok = space.point(0);
  EXPECT_EQ(space.check(ok), "");
  Config c = ok;
  c.proc[4] = 1;
  EXPECT_EQ(space.check(c), "proc[4]: processor 'little' is not one the space searches");
  c = ok;
  c.exits_enabled = 1;
  EXPECT_EQ(space.check(c), "exits: 1, expected 3 (every exit on: the space does not search exits)");
  c = ok;
  c.policy = Policy::sequential;
  EXPECT_EQ(space.check(c), "policy: sequential, expected parallel (the space fixes the policy)");
  c = ok;
  c.freq_level[0] = 0;
  EXPECT_EQ(space.check(c), "freq_level[0]: level 0, expected 2 (the highest: the space does not search DVFS)");
  c = ok;
  c.threads[1] = 1;
  EXPECT_EQ(space.check(c), "threads[1]: 1 threads, expected 4 (all cores: the space does not search the "
                            "threads of 'little')");
  // A processor without the layer's profile row at its defaults; thresholds with a trace.
  const std::string dir = temp_dir();
  std::istringstream in(slurp(test::source_path("profiles/example/tiny-ee.csv")));
  std::string csv, line;
  while (std::getline(in, line))
    if (line.rfind("conv1,little,", 0) != 0) csv += line + "\n";
  const Problem traced = load_problem(
      test::source_path("models/tiny-ee.yaml"), test::source_path("profiles/example/platform.yaml"),
      write_file(dir, "tiny-ee.csv", csv),
      write_file(dir, "trace.csv", "sample,exit1_conf,exit1_ok,exit2_conf,exit2_ok,final_ok\n0,0.9,1,0.5,0,1\n"));
  const dse::DesignSpace full(traced);
  c = full.point(0);
  ASSERT_EQ(full.check(c), "");
  c.proc[0] = 1;
  EXPECT_EQ(full.check(c), "proc[0]: layer 'conv1' has no profile row on 'little' at its default "
                           "frequency and threads");
  c = full.point(0);
  c.thresholds[1] = 0.55;
  EXPECT_EQ(full.check(c), "thresholds[1]: 0.55 is not one of the searched thresholds (0.3, 0.4, 0.5, "
                           "0.6, 0.7, 0.8, 0.9)");
  // Every point the space enumerates or draws is one of its points.
  std::mt19937_64 rng(3);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(space.check(space.point(i * 7919 % static_cast<std::uint64_t>(space.size()))), "") << i;
    ASSERT_EQ(space.check(space.random(rng)), "") << i;
  }
}

// The counters and individuals of random search and of the exhaustive front, through the driver.
TEST(CheckpointValidation, EveryAlgorithmChecksItsOwnState) {
  SyntheticSpec spec;
  spec.backbone = 6;
  spec.exits = 1;
  spec.exit_layers = 1;
  spec.processors = 3;
  spec.seed = 21;
  const Problem pb = synthetic_problem(spec);
  dse::SpaceOptions dvfs;
  dvfs.search_dvfs = true;
  const dse::DesignSpace space(pb, dvfs);
  dse::BatchEvaluator evaluator(pb, dse::ObjectiveSet(), {});
  const std::string dir = temp_dir();
  auto refusal = [&](dse::Algorithm& algorithm, const std::function<void(json&)>& damage) {
    const std::string path = dir + "/" + algorithm.name() + ".json";
    {
      dse::Driver driver(evaluator, algorithm);
      driver.initialize();
      driver.step();
      driver.step();
      driver.save(path);
    }
    json j = json::parse(slurp(path));
    damage(j);
    write_file(dir, "bad.json", j.dump());
    dse::Driver resumed(evaluator, algorithm);
    try {
      resumed.resume(dir + "/bad.json");
    } catch (const InputError& e) {
      EXPECT_EQ(resumed.generation(), 0) << "a refused checkpoint changes nothing";
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  dse::RandomSearchOptions ro;
  ro.batch = 10;
  ro.generations = 4;
  dse::RandomSearch random(space, ro);
  EXPECT_EQ(refusal(random, [](json&) {}), "accepted");
  EXPECT_EQ(refusal(random, [](json& j) { j["population"].push_back(j["archive"][0]); }),
            dir + "/bad.json: population: 1 individuals, expected none (random search keeps none)");
  EXPECT_EQ(refusal(random, [](json& j) { j["evaluations"] = 31; }),
            dir + "/bad.json: evaluations: 31, expected 30 (10 in each of the generations 0..2)");
  dse::Exhaustive exhaustive(space);
  ASSERT_GT(exhaustive.points(), 2 * dse::Exhaustive::kBlock);
  EXPECT_EQ(refusal(exhaustive, [](json&) {}), "accepted");
  EXPECT_EQ(refusal(exhaustive, [](json& j) { j["evaluations"] = 5; }),
            dir + "/bad.json: evaluations: 5, expected 32768 (the points before generation 2's end)");
  EXPECT_NE(refusal(exhaustive, [](json& j) { j["generation"] = 1000000; })
                .find("bad.json: generation: 1000000, past this run's last generation"),
            std::string::npos);
}

}  // namespace
}  // namespace hetmap
