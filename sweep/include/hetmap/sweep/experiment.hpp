#pragma once
// Experiment files (docs/experiments.md): one model, platform and profile, a task (explore or
// simulate) with its settings, and a grid of overrides whose every combination is one point.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/dse/explore.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/run.hpp"

namespace hetmap::sweep {

enum class Task { explore, simulate };
const char* to_string(Task task);

struct RunSpec;

/// One key set to one value, e.g. `search.dvfs: true` under `cases:` or `grid:`. Parsed once,
/// when the experiment is loaded (a bad value is an error naming the file and line then);
/// `apply` sets the parsed value on a run.
struct Override {
  std::string key;
  std::string value;  // as written (lists joined), for results.csv and experiment.yaml
  int line = 0;
  std::function<void(RunSpec&)> apply;
};

/// Every input of one run, after the grid's overrides. The settings are typed: the experiment's
/// text went through the same parsers as the command line's.
struct RunSpec {
  std::string file;                   // the experiment file, for error messages
  std::string label;                  // "point 003 (case=b, search.seed=2)" once expanded
  std::string model, platform, profile, trace, mapping;  // paths; trace/mapping may be empty
  Task task = Task::explore;
  dse::ExploreSettings search;
  RunSettings simulate;               // the simulate task's (the runner picks record_schedule)
  std::optional<dse::PolicyChoice> policy;  // simulate: overrides the mapping's policy
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

/// One key of the grid and its values, in order.
struct GridAxis {
  std::string key;               // dotted path, e.g. links.big-gpu.gbytes_per_s
  std::vector<Override> values;  // one per value, all of `key`
  int line = 0;
};

/// One entry of `cases:`: a named set of overrides applied together (e.g. a model with its
/// profile), crossed with every grid combination.
struct Case {
  std::string name;
  std::vector<Override> overrides;
  int line = 0;
};

/// A settings key as the experiment keys table declares it (docs/experiments.md): that one
/// table drives loading, overrides, the resolved experiment.yaml and with it the resume check.
struct ExperimentKey {
  std::string name;     // dotted; a pattern for override-only keys (exits.EXIT.taken)
  std::string type;     // what a value looks like
  std::string example;  // a valid value that is not the default
  /// Settable at the top level or in its section and then written into the resolved
  /// experiment.yaml, the record `--resume` compares; false for keys that exist only as
  /// overrides (cases and grid, which experiment.yaml records as written).
  bool base = true;
};

/// Every settings key, in the order experiment.yaml lists them.
std::vector<ExperimentKey> experiment_keys();

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

/// The resolved experiment as YAML text, with hetmap's version: every base key's value (in
/// the table's order), the cases and the grid as written. Provenance, and the fingerprint a
/// resume compares byte for byte.
std::string resolved_yaml(const Experiment& experiment, const std::vector<Point>& points);

}  // namespace hetmap::sweep
