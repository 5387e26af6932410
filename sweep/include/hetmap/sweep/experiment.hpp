#pragma once
// Experiment files (docs/experiments.md): one model, platform and profile, a task (explore or
// simulate) with its settings, and a grid of overrides whose every combination is one point.
#include <optional>
#include <string>
#include <vector>

#include "hetmap/dse/explore.hpp"
#include "hetmap/problem.hpp"

namespace hetmap::sweep {

enum class Task { explore, simulate };
const char* to_string(Task task);

/// DES settings of a simulate task; inputs == 0 means the analytical evaluator only.
struct SimulateSettings {
  int inputs = 0;
  std::string arrival = "closed";
  bool arrival_given = false;  // `arrival` was set: the DES runs (run.hpp: needs_des)
  bool jitter = false;
  std::uint64_t seed = 1;
};

/// Every input of one run, after the grid's overrides.
struct RunSpec {
  std::string file;                   // the experiment file, for error messages
  std::string label;                  // "point 003" once expanded
  std::string model, platform, profile, trace, mapping;  // paths; trace/mapping may be empty
  Task task = Task::explore;
  dse::ExploreSettings search;
  SimulateSettings simulate;
  std::optional<std::string> policy;  // simulate: overrides the mapping's policy
  std::optional<double> contention;
  struct Taken {
    std::string exit;
    double value;
    int line;  // of the key in the experiment file
  };
  std::vector<Taken> taken;
  struct LinkOverride {
    std::string pair;   // "A-B"
    std::string field;  // gbytes_per_s | latency_ms
    double value;
    int line;
  };
  std::vector<LinkOverride> links;
};

struct GridAxis {
  std::string key;                  // dotted path, e.g. links.big-gpu.gbytes_per_s
  std::vector<std::string> values;  // as written (scalars; lists joined with ',')
  int line = 0;
};

/// One entry of `cases:`: a named set of overrides applied together (e.g. a model with its
/// profile), crossed with every grid combination.
struct Case {
  std::string name;
  struct Override {
    std::string key, value;
    int line;
  };
  std::vector<Override> overrides;
  int line = 0;
};

struct Experiment {
  std::string file;
  std::string name;
  RunSpec base;
  std::vector<Case> cases;  // empty: the base run alone
  std::vector<GridAxis> grid;
};

/// The columns that tell points apart: `case` (when there are cases), then the grid keys.
std::vector<std::string> point_keys(const Experiment& experiment);

/// Loads and validates an experiment file (paths relative to it). InputError on bad input.
Experiment load_experiment(const std::string& path);

struct Point {
  int id = 0;
  std::string dir;                  // zero-padded id, e.g. "007"
  std::vector<std::string> values;  // one per point_keys() entry
  RunSpec spec;
};

/// Every case crossed with every combination of the grid: cases outermost, the last grid axis
/// varying fastest. InputError for a value that does not fit its key (names the experiment
/// file and the key's line).
std::vector<Point> expand(const Experiment& experiment);

/// Loads the point's inputs and applies its overrides; errors name the experiment file and the
/// line of the override.
Problem build_problem(const RunSpec& spec);

/// The resolved experiment as YAML text (provenance), with hetmap's version.
std::string resolved_yaml(const Experiment& experiment, const std::vector<Point>& points);

}  // namespace hetmap::sweep
