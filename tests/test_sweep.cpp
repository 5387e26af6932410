// Experiments and sweeps: loading and validation, grid expansion, overrides, results.csv,
// resume after a kill, and the plot scripts on generated results.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "fixtures.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/sweep/experiment.hpp"
#include "hetmap/sweep/results.hpp"
#include "hetmap/sweep/runner.hpp"

namespace hetmap {
namespace {

namespace fs = std::filesystem;
using test::source_path;
using test::temp_dir;
using test::write_file;

// An experiment `dir`/exp.yaml whose paths point at the shipped example (four lines), then `body`.
std::string experiment_in(const std::string& dir, const std::string& body) {
  const std::string head = "name: t\nmodel: " + source_path("models/tiny-ee.yaml") +
                           "\nplatform: " + source_path("profiles/example/platform.yaml") +
                           "\nprofile: " + source_path("profiles/example/tiny-ee.csv") + "\n";
  return write_file(dir, "exp.yaml", head + body);
}

// The same in a temp folder of its own.
std::string experiment(const std::string& body) { return experiment_in(temp_dir(), body); }

detail::CsvTable results(const std::string& out) {
  const std::string f = out + "/results.csv";
  return detail::parse_csv(detail::read_file(f), f);
}

TEST(Experiment, GridExpandsEveryCombinationLastKeyFastest) {
  const auto x = sweep::load_experiment(experiment(
      "task: explore\nsearch: {generations: 2, population: 8}\n"
      "grid:\n  policy: [sequential, parallel]\n  contention: [1.0, 1.2, 1.5]\n"));
  const auto points = sweep::expand(x);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].values, (std::vector<std::string>{"sequential", "1.0"}));
  EXPECT_EQ(points[1].values, (std::vector<std::string>{"sequential", "1.2"}));
  EXPECT_EQ(points[5].values, (std::vector<std::string>{"parallel", "1.5"}));
  EXPECT_EQ(points[5].spec.search.policy, dse::PolicyChoice::parallel);
  EXPECT_DOUBLE_EQ(*points[5].spec.contention, 1.5);
  EXPECT_EQ(points[3].dir, "003");
  EXPECT_EQ(points[0].spec.search.generations, 2);
}

TEST(Experiment, OverridesReachTheProblem) {
  const auto x = sweep::load_experiment(experiment(
      "task: explore\ngrid:\n  exits.exit1.taken: [0.1]\n  links.big-gpu.gbytes_per_s: [8]\n"
      "  links.little-gpu.latency_ms: [0.5]\n  contention: [1.3]\n"));
  const auto points = sweep::expand(x);
  ASSERT_EQ(points.size(), 1u);
  const Problem pb = sweep::build_problem(points[0].spec);
  EXPECT_DOUBLE_EQ(pb.model().exits[pb.model().find_exit("exit1")].taken, 0.1);
  const Platform& pf = pb.platform();
  EXPECT_DOUBLE_EQ(pf.links[pf.link_index(pf.find("big"), pf.find("gpu"))].gbytes_per_s, 8.0);
  EXPECT_DOUBLE_EQ(pf.links[pf.link_index(pf.find("little"), pf.find("gpu"))].latency_ms, 0.5);
  EXPECT_DOUBLE_EQ(pf.contention, 1.3);
}

TEST(Experiment, SearchAndModelOverrides) {
  const auto x = sweep::load_experiment(experiment(
      "task: explore\ngrid:\n  search.seed: [1, 2]\n"
      "  search.objectives: [[mean_latency, energy], 'mean_latency,worst_latency']\n"
      "  model: [" + source_path("models/tiny-ee.yaml") + "]\n"));
  const auto points = sweep::expand(x);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].spec.search.seed, 1u);
  using dse::Objective;
  ASSERT_TRUE(points[0].spec.search.objectives.has_value());
  EXPECT_EQ(points[0].spec.search.objectives->list(),
            (std::vector<Objective>{Objective::mean_latency, Objective::energy}));
  ASSERT_TRUE(points[3].spec.search.objectives.has_value());
  EXPECT_EQ(points[3].spec.search.objectives->list(),
            (std::vector<Objective>{Objective::mean_latency, Objective::worst_latency}));
  EXPECT_EQ(points[3].spec.search.seed, 2u);
}

TEST(Experiment, CasesAreCrossedWithTheGridCasesOutermost) {
  const std::string other = write_file(temp_dir(), "links.yaml",
                                       detail::read_file(source_path("profiles/example/platform.yaml")));
  const auto x = sweep::load_experiment(experiment(
      "task: explore\ncases:\n  - {name: fast, contention: 1.0, exits.exit1.taken: 0.1}\n"
      "  - {platform: " + other + ", search.processors: [big, gpu]}\n"
      "grid:\n  policy: [sequential, parallel]\n"));
  const auto points = sweep::expand(x);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(sweep::point_keys(x), (std::vector<std::string>{"case", "policy"}));
  EXPECT_EQ(points[0].values, (std::vector<std::string>{"fast", "sequential"}));
  EXPECT_EQ(points[1].values, (std::vector<std::string>{"fast", "parallel"}));
  EXPECT_EQ(points[2].values, (std::vector<std::string>{"case1", "sequential"}));
  EXPECT_DOUBLE_EQ(*points[1].spec.contention, 1.0);
  EXPECT_EQ(points[1].spec.taken.size(), 1u);
  EXPECT_FALSE(points[2].spec.contention.has_value());
  EXPECT_EQ(points[3].spec.platform, other);
  EXPECT_EQ(points[3].spec.search.processors, (std::vector<std::string>{"big", "gpu"}));
  EXPECT_TRUE(points[0].spec.search.processors.empty());
  EXPECT_NE(sweep::resolved_yaml(x, points).find("cases"), std::string::npos);
}

TEST(Experiment, CasesMayProvideTheInputs) {
  const std::string dir = temp_dir();
  const std::string exp = write_file(
      dir, "exp.yaml",
      "name: c\ntask: explore\nplatform: " + source_path("profiles/example/platform.yaml") +
          "\ncases:\n  - {name: tiny, model: " + source_path("models/tiny-ee.yaml") +
          ", profile: " + source_path("profiles/example/tiny-ee.csv") + "}\n  - {name: bad}\n");
  const auto x = sweep::load_experiment(exp);
  try {
    sweep::expand(x);
    FAIL() << "the second case lacks a model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.yaml:6: model, platform and profile are required"),
              std::string::npos)
        << e.what();
  }
}

TEST(Sweep, ProcessorsRestrictTheSearchAndTheBaselines) {
  const auto x = sweep::load_experiment(experiment(
      "task: explore\nsearch: {generations: 5, population: 8, processors: [big, gpu]}\n"));
  const std::string out = temp_dir() + "/out";
  sweep::SweepOptions o;
  o.out = out;
  o.progress = false;
  sweep::run_sweep(x, sweep::expand(x), o);
  const std::string baselines = detail::read_file(out + "/points/000/baselines.csv");
  EXPECT_EQ(baselines.find("little"), std::string::npos) << baselines;
  EXPECT_NE(baselines.find("ee-coop:big/gpu"), std::string::npos) << baselines;
  const Problem pb = sweep::build_problem(sweep::expand(x)[0].spec);
  const int little = pb.platform().find("little");
  for (const auto& entry : fs::directory_iterator(out + "/points/000/mappings")) {
    const Config c = pb.resolve(load_mapping(entry.path().string()));
    for (int l = 0; l < pb.layers(); ++l) EXPECT_NE(c.proc[l], little) << entry.path();
  }
}

TEST(Experiment, BadInputNamesFileAndLine) {
  auto error_of = [](const std::string& body) -> std::string {
    try {
      const auto x = sweep::load_experiment(experiment(body));
      for (const auto& p : sweep::expand(x)) sweep::build_problem(p.spec);
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), kBadInput);
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("task: explore\nbogus: 1\n").find("exp.yaml:6: experiment: unknown key 'bogus'"), std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  nosuch.key: [1]\n").find("exp.yaml:7: unknown key 'nosuch.key'"),
            std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  contention: [fast]\n").find("exp.yaml:7: contention: expected a number"),
            std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  contention: 2\n").find("expected a non-empty list"), std::string::npos);
  EXPECT_NE(error_of("task: walk\n").find("task: expected explore or simulate"), std::string::npos);
  EXPECT_NE(error_of("task: simulate\n").find("task simulate needs a mapping"), std::string::npos);
  EXPECT_NE(error_of("task: explore\nsearch: {generation: 3}\n").find("unknown key 'generation'"), std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  exits.exit1.taken: [1.5]\n").find("a share in [0, 1]"), std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  exits.exit1.taken: [0.9]\n").find("sum to"), std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  exits.nope.taken: [0.1]\n").find("has no exit 'nope'"), std::string::npos);
  EXPECT_NE(error_of("task: explore\ngrid:\n  links.big-little.latency_ms: [1]\n").find("has no such link"),
            std::string::npos);
  EXPECT_NE(error_of("task: explore\ncases: [{contention: x}]\n").find("exp.yaml:6: contention: expected a number"),
            std::string::npos);
  EXPECT_NE(error_of("task: explore\ncases: [{name: a}, {name: a}]\n").find("duplicate case name 'a'"),
            std::string::npos);
  EXPECT_NE(error_of("task: explore\ncases: 3\n").find("cases: expected a non-empty list"), std::string::npos);
  EXPECT_EQ(error_of("task: explore\n"), "");
}

// The error of loading and expanding `body` (after the helper's four header lines), or "".
std::string load_error(const std::string& body) {
  try {
    sweep::expand(sweep::load_experiment(experiment(body)));
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), kBadInput);
    return e.what();
  }
  return "";
}

// `key: value` as experiment YAML: `search.dvfs` goes into its section.
std::string yaml_entry(const std::string& key, const std::string& value) {
  const std::size_t dot = key.find('.');
  if (dot == std::string::npos) return key + ": " + value + "\n";
  return key.substr(0, dot) + ": {" + key.substr(dot + 1) + ": " + value + "}\n";
}

// An experiment `dir`/exp.yaml setting `key` (a base key) to `value` over the shipped example's
// inputs and `task: explore` (where `key` is not one of those), then `tail`.
std::string experiment_setting(const std::string& dir, const std::string& key,
                               const std::string& value, const std::string& tail) {
  std::string text = "name: t\n";
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"model", source_path("models/tiny-ee.yaml")},
           {"platform", source_path("profiles/example/platform.yaml")},
           {"profile", source_path("profiles/example/tiny-ee.csv")},
           {"mapping", source_path("examples/tiny-ee-parallel.yaml")},
           {"task", "explore"}})
    if (k != key) text += k + ": " + v + "\n";
  if (!key.empty()) text += yaml_entry(key, value);
  return write_file(dir, "exp.yaml", text + tail);
}

// One boolean rule everywhere (docs/formats.md, "Booleans"): exactly `true` or `false`. yaml-cpp's
// as<bool>() would also take y/n, yes/no, on/off and their capitalised forms.
TEST(Experiment, BooleansAreExactlyTrueOrFalse) {
  using Get = bool (*)(const sweep::RunSpec&);
  const std::vector<std::pair<std::string, Get>> keys = {
      {"search.dvfs", [](const sweep::RunSpec& r) { return r.search.dvfs; }},
      {"search.threads", [](const sweep::RunSpec& r) { return r.search.threads; }},
      {"search.fixed_exits", [](const sweep::RunSpec& r) { return r.search.fixed_exits; }},
      {"search.exhaustive", [](const sweep::RunSpec& r) { return r.search.exhaustive; }},
      {"simulate.jitter", [](const sweep::RunSpec& r) { return r.simulate.jitter; }}};
  for (const auto& [key, get] : keys) {
    for (const bool v : {true, false}) {
      const std::string text = v ? "true" : "false";
      const auto x = sweep::load_experiment(experiment("task: explore\n" + yaml_entry(key, text)));
      EXPECT_EQ(get(x.base), v) << key << ": " << text;
      const auto grid = sweep::expand(sweep::load_experiment(
          experiment("task: explore\ngrid:\n  " + key + ": [" + text + "]\n")));
      EXPECT_EQ(get(grid[0].spec), v) << key << ": [" << text << "]";
    }
    for (const std::string bad : {"yes", "no", "on", "off", "y", "n", "True", "FALSE", "1", "0", "'true '"}) {
      const std::string shown = bad == "'true '" ? "true " : bad;
      EXPECT_NE(load_error("task: explore\n" + yaml_entry(key, bad))
                    .find("exp.yaml:6: " + key + ": expected true or false, got '" + shown + "'"),
                std::string::npos)
          << key << ": " << bad;
      EXPECT_NE(load_error("task: explore\ngrid:\n  " + key + ": [true, " + bad + "]\n")
                    .find("exp.yaml:7: " + key + ": expected true or false, got '" + shown + "'"),
                std::string::npos)
          << key << ": [" << bad << "]";
    }
  }
}

// Objectives, constraints, policies and arrivals go through hetmap's one parser for each (the
// command line's too); a bad value names the file, the key's line and the key.
TEST(Experiment, BadSettingsNameFileLineAndKey) {
  const std::string mapping = "mapping: " + source_path("examples/tiny-ee-parallel.yaml") + "\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"task: explore\nsearch: {objectives: [mean_latency, speed]}\n",
       "exp.yaml:6: search.objectives: unknown objective 'speed'"},
      {"task: explore\nsearch: {objectives: 'energy,energy'}\n",
       "exp.yaml:6: search.objectives: objective 'energy' given twice"},
      {"task: explore\nsearch: {constraints: ['accuracy > 3']}\n",
       "exp.yaml:6: search.constraints: constraint 'accuracy > 3': expected OBJECTIVE <= NUMBER"},
      {"task: explore\npolicy: sometimes\n",
       "exp.yaml:6: policy: expected search, parallel or sequential, got 'sometimes'"},
      {"task: explore\ngrid:\n  search.policy: [search, often]\n",
       "exp.yaml:7: search.policy: expected search, parallel or sequential, got 'often'"},
      {"task: simulate\n" + mapping + "simulate: {arrival: 'poisson:0'}\n",
       "exp.yaml:7: simulate.arrival: expected closed, periodic:RATE_HZ or poisson:RATE_HZ"},
      {"task: simulate\n" + mapping + "cases: [{simulate.arrival: open}]\n",
       "exp.yaml:7: simulate.arrival: expected closed, periodic:RATE_HZ or poisson:RATE_HZ"},
      {"task: simulate\n" + mapping + "policy: search\n",
       "policy: a simulate task takes parallel or sequential"},
      {"task: explore\nsearch: {dvfs: [true]}\n", "exp.yaml:6: search.dvfs: expected a value"},
      {"task: explore\nsearch: {exhaustive_limit: 1e300}\n",
       "exp.yaml:6: search.exhaustive_limit: expected a number of points in 1..1e+10, got '1e300'"},
      {"task: explore\nsearch: {exhaustive_limit: 0.5}\n",
       "exp.yaml:6: search.exhaustive_limit: expected a number of points in 1..1e+10, got '0.5'"},
      {"task: explore\nsearch: {generation: 3}\n",
       "exp.yaml:6: search: unknown key 'generation' (expected one of objectives, constraints, policy, "
       "processors, generations, population, seed, dvfs, threads, fixed_exits, exhaustive, "
       "exhaustive_limit)"},
      {"task: explore\nsimulate: {input: 3}\n",
       "exp.yaml:6: simulate: unknown key 'input' (expected one of inputs, arrival, jitter, seed)"},
      {"task: explore\nmodle: x.yaml\n",
       "exp.yaml:6: experiment: unknown key 'modle' (expected one of name, description, task, model, "
       "platform, profile, trace, mapping, policy, contention, search, simulate, cases, grid)"},
      {"task: explore\ngrid:\n  search.nope: [1]\n",
       "exp.yaml:7: unknown key 'search.nope' (expected one of task, model,"},
      {"task: explore\ngrid:\n  exits.exit1: [0.1]\n", "exp.yaml:7: exits.exit1: expected exits.EXIT.taken"},
      {"task: explore\ngrid:\n  links.big-gpu.speed: [1]\n",
       "exp.yaml:7: links.big-gpu.speed: expected links.A-B.gbytes_per_s or links.A-B.latency_ms"},
  };
  for (const auto& [body, expected] : cases)
    EXPECT_NE(load_error(body).find(expected), std::string::npos) << body << "\n" << load_error(body);
}

// Parsed once, on loading: the typed value; experiment.yaml records its resolved form.
TEST(Experiment, ArrivalIsTypedAndRecordedInItsResolvedForm) {
  const auto x = sweep::load_experiment(experiment(
      "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
      "\nsimulate: {arrival: 'periodic:1e2'}\n"));
  ASSERT_TRUE(x.base.simulate.arrival.has_value());
  EXPECT_EQ(x.base.simulate.arrival->kind, ArrivalKind::periodic);
  EXPECT_DOUBLE_EQ(x.base.simulate.arrival->rate_hz, 100.0);
  const std::string y = sweep::resolved_yaml(x, sweep::expand(x));
  EXPECT_NE(y.find("\n  arrival: periodic:100\n"), std::string::npos) << y;
  EXPECT_FALSE(sweep::load_experiment(experiment("task: explore\n")).base.simulate.arrival.has_value());
}

// The keys table drives the resolved experiment.yaml, and a resume compares that file: every
// base key set to another value changes it. A key added to the table is in the resume check
// with nothing else to write (exhaustive_limit once was not).
TEST(Experiment, EveryKeyIsPartOfTheResumeFingerprint) {
  // A case lets `task: simulate` load without a mapping (each point is checked on expansion).
  const std::string dir = temp_dir();
  auto resolved = [&](const std::string& key, const std::string& value) {
    return sweep::resolved_yaml(sweep::load_experiment(experiment_setting(dir, key, value, "")), {});
  };
  const std::string base = resolved("", "");
  int checked = 0;
  for (const sweep::ExperimentKey& k : sweep::experiment_keys()) {
    if (!k.base) continue;
    EXPECT_NE(resolved(k.name, "'" + k.example + "'"), base) << k.name;
    ++checked;
  }
  EXPECT_EQ(checked, 24);
  for (const char* k : {"search.exhaustive_limit", "simulate.arrival", "search.processors"}) {
    bool listed = false;
    for (const sweep::ExperimentKey& e : sweep::experiment_keys()) listed = listed || (e.name == k && e.base);
    EXPECT_TRUE(listed) << k;
  }
}

// The same key, set at the top level (or in its section), in a case or on the grid, is the same
// typed setting: one parser per key, whoever reads it.
TEST(Experiment, BaseCaseAndGridGiveTheSameSettings) {
  auto printed = [](const sweep::RunSpec& spec) {
    sweep::Experiment e;
    e.name = "p";
    e.base = spec;
    return sweep::resolved_yaml(e, {});
  };
  // One folder: relative paths resolve alike. The mapping lets `task: simulate` expand.
  const std::string dir = temp_dir();
  auto spec = [&](const std::string& key, const std::string& value, const std::string& tail) {
    return sweep::expand(sweep::load_experiment(experiment_setting(dir, key, value, tail)))[0].spec;
  };
  const std::string plain = printed(spec("", "", ""));
  for (const sweep::ExperimentKey& k : sweep::experiment_keys()) {
    if (!k.base) continue;
    const std::string v = "'" + k.example + "'";
    const std::string expected = printed(spec(k.name, v, ""));
    EXPECT_NE(expected, plain) << k.name;
    EXPECT_EQ(printed(spec("", "", "cases: [{" + k.name + ": " + v + "}]\n")), expected) << k.name;
    EXPECT_EQ(printed(spec("", "", "grid: {" + k.name + ": [" + v + "]}\n")), expected) << k.name;
  }
}

TEST(Sweep, SimulateTaskWritesResultsAndMatchesTheEvaluator) {
  const std::string exp = experiment(
      "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
      "\ngrid:\n  policy: [sequential, parallel]\n  links.little-gpu.gbytes_per_s: [0.5, 4]\n");
  const std::string out = temp_dir() + "/out";
  const auto x = sweep::load_experiment(exp);
  const auto points = sweep::expand(x);
  sweep::SweepOptions o;
  o.out = out;
  o.progress = false;
  const auto outcome = sweep::run_sweep(x, points, o);
  EXPECT_EQ(outcome.ran, 4);
  EXPECT_EQ(outcome.failed, 0);
  const auto t = results(out);
  EXPECT_EQ(t.header, sweep::result_columns(x));
  ASSERT_EQ(t.rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& row = t.rows[i].cells;
    // The row's mean latency is the evaluator's for that point's overridden problem.
    const Problem pb = sweep::build_problem(points[i].spec);
    Mapping m = load_mapping(points[i].spec.mapping);
    m.policy = points[i].values[0] == "parallel" ? Policy::parallel : Policy::sequential;
    Evaluator ev(pb);
    EXPECT_EQ(std::stod(row[t.column("best_mean_latency_ms")]), ev.evaluate(pb.resolve(m)).mean_latency_ms);
    EXPECT_EQ(row[t.column("status")], "ok");
    EXPECT_TRUE(fs::exists(out + "/points/" + points[i].dir + "/result.json"));
    EXPECT_TRUE(fs::exists(out + "/points/" + points[i].dir + "/trace.json"));
  }
  EXPECT_TRUE(fs::exists(out + "/experiment.yaml"));
  EXPECT_NE(detail::read_file(out + "/experiment.yaml").find("hetmap_version"), std::string::npos);
  // results.csv's reader (beside its writer) gets back what the runner wrote.
  const sweep::ResultsTable rt = sweep::load_results_csv(out + "/results.csv");
  EXPECT_EQ(rt.keys, sweep::point_keys(x));
  ASSERT_EQ(rt.rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rt.rows[i].id, points[i].id);
    EXPECT_EQ(rt.rows[i].values, points[i].values);
    EXPECT_EQ(sweep::result_cells(rt.rows[i]), t.rows[i].cells);
  }
  EXPECT_EQ(sweep::results_csv(rt), detail::read_file(out + "/results.csv"));
}

// A point whose files cannot all be written (here a folder where its trace goes) fails alone:
// its summary says why, and none of its files is written (docs/design.md, "Output files").
TEST(Sweep, APointThatCannotWriteItsFilesWritesNoneOfThem) {
  const std::string exp = experiment("task: simulate\nmapping: " +
                                     source_path("examples/tiny-ee-parallel.yaml") +
                                     "\ngrid:\n  policy: [sequential, parallel]\n");
  const std::string out = temp_dir() + "/out";
  const auto x = sweep::load_experiment(exp);
  const auto points = sweep::expand(x);
  fs::create_directories(out + "/points/001/trace.json");
  sweep::SweepOptions o;
  o.out = out;
  o.progress = false;
  o.resume = true;  // keeps the prepared folder
  const auto outcome = sweep::run_sweep(x, points, o);
  EXPECT_EQ(outcome.ran, 2);
  EXPECT_EQ(outcome.failed, 1);
  const sweep::ResultsTable rt = sweep::load_results_csv(out + "/results.csv");
  ASSERT_EQ(rt.rows.size(), 2u);
  EXPECT_EQ(rt.rows[0].status, "ok");
  EXPECT_NE(rt.rows[1].status.find("trace.json: is a folder, expected a file"), std::string::npos)
      << rt.rows[1].status;
  EXPECT_TRUE(fs::exists(out + "/points/000/result.json"));
  EXPECT_FALSE(fs::exists(out + "/points/001/result.json"));
}

TEST(Sweep, ExploreTaskFillsEveryColumn) {
  const auto x = sweep::load_experiment(experiment(
      "task: explore\nsearch: {generations: 5, population: 8, objectives: [mean_latency, energy]}\n"
      "grid:\n  search.seed: [1, 2]\n"));
  const std::string out = temp_dir() + "/out";
  sweep::SweepOptions o;
  o.out = out;
  o.progress = false;
  sweep::run_sweep(x, sweep::expand(x), o);
  const auto t = results(out);
  ASSERT_EQ(t.rows.size(), 2u);
  for (const auto& r : t.rows) {
    for (const char* c : {"best_mean_latency_ms", "best_worst_latency_ms", "best_energy_mj",
                          "hypervolume", "front_size", "improvement_pct"})
      EXPECT_FALSE(r.cells[t.column(c)].empty()) << c;
    EXPECT_EQ(r.cells[t.column("improvement_objective")], "mean_latency");
    EXPECT_TRUE(fs::exists(out + "/" + r.cells[t.column("dir")] + "/front.csv"));
  }
}

TEST(Sweep, ResumeAfterAKillFinishesWithTheSameResults) {
  const std::string exp = experiment(
      "task: explore\nsearch: {generations: 40, population: 16, objectives: [mean_latency, energy]}\n"
      "grid:\n  search.seed: [1, 2, 3, 4, 5, 6, 7, 8]\n  policy: [sequential, parallel]\n");
  const std::string straight = temp_dir() + "/straight", killed = temp_dir() + "/killed";
  ASSERT_EQ(test::run_hetmap("sweep '" + exp + "' --out '" + straight + "'").exit_code, 0);

  // Start a sweep, kill it once some points are done (or when it ends on its own).
  const pid_t child = fork();
  if (child == 0) {
    const std::string log = killed + ".log";
    freopen(log.c_str(), "w", stdout);
    freopen(log.c_str(), "a", stderr);
    execl(HETMAP_BINARY, HETMAP_BINARY, "sweep", exp.c_str(), "--out", killed.c_str(), nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int done = 0;
    if (fs::exists(killed + "/points"))
      for (const auto& d : fs::directory_iterator(killed + "/points"))
        done += fs::exists(d.path() / "summary.json");
    if (done >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);

  const auto r = test::run_hetmap("sweep '" + exp + "' --out '" + killed + "' --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(detail::read_file(killed + "/results.csv"), detail::read_file(straight + "/results.csv"));
  for (int i = 0; i < 16; ++i) {
    const std::string p = fmt::format("/points/{:03}/front.csv", i);
    EXPECT_EQ(detail::read_file(killed + p), detail::read_file(straight + p)) << p;
  }
}

TEST(Sweep, ResumeRefusesAChangedExperiment) {
  const std::string exp = experiment("task: explore\nsearch: {generations: 1, population: 8}\n");
  const std::string out = temp_dir() + "/out";
  ASSERT_EQ(test::run_hetmap("sweep '" + exp + "' --out '" + out + "'").exit_code, 0);
  std::string text = detail::read_file(exp);
  text.replace(text.find("generations: 1"), 14, "generations: 2");
  write_file(fs::path(exp).parent_path().string(), "exp.yaml", text);
  const auto r = test::run_hetmap("sweep '" + exp + "' --out '" + out + "' --resume");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the experiment changed"), std::string::npos);
}

// Every setting that changes what a point computes is part of the resume check.
TEST(Sweep, ResumeRefusesAChangedExhaustiveLimitOrArrival) {
  for (const auto& [before, after] :
       std::vector<std::pair<std::string, std::string>>{
           {"task: explore\nsearch: {generations: 1, population: 8, exhaustive_limit: 1000}\n",
            "task: explore\nsearch: {generations: 1, population: 8, exhaustive_limit: 2000}\n"},
           {"task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") + "\n",
            "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
                "\nsimulate: {arrival: closed}\n"}}) {
    const std::string exp = experiment(before);
    const std::string out = temp_dir() + "/out";
    ASSERT_EQ(test::run_hetmap("sweep '" + exp + "' --out '" + out + "'").exit_code, 0);
    write_file(fs::path(exp).parent_path().string(), "exp.yaml",
               detail::read_file(experiment(after)));
    const auto r = test::run_hetmap("sweep '" + exp + "' --out '" + out + "' --resume");
    EXPECT_EQ(r.exit_code, 2) << after;
    EXPECT_NE(r.err.find("the experiment changed"), std::string::npos) << r.err;
  }
}

// A simulate point runs the DES whenever a setting needs it, as `hetmap simulate` does: jitter
// alone (no inputs) is not silently the analytical evaluator.
TEST(Sweep, SimulateWithJitterRunsTheDes) {
  const std::string exp = experiment("task: simulate\nmapping: " +
                                     source_path("examples/tiny-ee-parallel.yaml") +
                                     "\nsimulate: {jitter: true, seed: 3}\n");
  const std::string out = temp_dir() + "/out";
  ASSERT_EQ(test::run_hetmap("sweep '" + exp + "' --out '" + out + "'").exit_code, 0);
  const std::string result = detail::read_file(out + "/points/000/result.json");
  EXPECT_NE(result.find("p99_latency_ms"), std::string::npos) << result;
  EXPECT_TRUE(fs::exists(out + "/points/000/latencies.csv"));
  // The same settings through `hetmap simulate` give the same numbers.
  const auto sim = test::run_hetmap("simulate -m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                                    "--profile profiles/example/tiny-ee.csv --mapping examples/tiny-ee-parallel.yaml "
                                    "--jitter --seed 3 --json -");
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(sim.out, result);
}

TEST(Sweep, BadExperimentWritesNothing) {
  const std::string exp = experiment("task: explore\ngrid:\n  links.big-little.latency_ms: [1]\n");
  const std::string out = temp_dir() + "/out";
  const auto r = test::run_hetmap("sweep '" + exp + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("hetmap: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("exp.yaml:7: point 000 (links.big-little.latency_ms=1): links.big-little: platform "
                       "example has no such link"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Plots, ScriptsDrawSweepExploreAndSimulateResults) {
  const std::string exp = experiment(
      "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
      "\nsimulate: {inputs: 50, arrival: 'periodic:100'}\ngrid:\n  policy: [sequential, parallel]\n");
  const std::string out = temp_dir() + "/sim";
  ASSERT_EQ(test::run_hetmap("sweep '" + exp + "' --out '" + out + "'").exit_code, 0);
  const auto r = test::run_hetmap("plot '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"/sweep_best_mean_latency_ms.png", "/sweep_best_mean_latency_ms.pdf",
                        "/points/000/gantt.png", "/points/001/latency_cdf.png"})
    EXPECT_GT(fs::file_size(out + f), 1000u) << f;

  // Cases crossed with a grid: grouped bars.
  const std::string cases = experiment(
      "task: simulate\nmapping: " + source_path("examples/tiny-ee-parallel.yaml") +
      "\ncases: [{name: a, contention: 1.0}, {name: b, contention: 1.5}]\ngrid:\n  policy: [sequential, parallel]\n");
  const std::string cout = temp_dir() + "/cases";
  ASSERT_EQ(test::run_hetmap("sweep '" + cases + "' --out '" + cout + "'").exit_code, 0);
  const auto rc = test::run_hetmap("plot '" + cout + "'");
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_GT(fs::file_size(cout + "/sweep_best_mean_latency_ms.png"), 1000u);

  const std::string ex = temp_dir() + "/ex";
  ASSERT_EQ(test::run_hetmap("explore -m models/tiny-ee.yaml -p profiles/example/platform.yaml "
                             "--profile profiles/example/tiny-ee.csv --generations 3 --population 8 "
                             "--out '" + ex + "'").exit_code, 0);
  ASSERT_EQ(test::run_hetmap("plot '" + ex + "'").exit_code, 0);
  EXPECT_GT(fs::file_size(ex + "/pareto.png"), 1000u);
  const auto empty = test::run_hetmap("plot '" + temp_dir() + "'");
  EXPECT_EQ(empty.exit_code, 2);
}

}  // namespace
}  // namespace hetmap
