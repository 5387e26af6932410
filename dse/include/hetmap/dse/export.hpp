#pragma once
// Writing an exploration's results (docs/design.md, "Command line"): DIR/front.csv, DIR/front.json,
// DIR/mappings/*.yaml (each loads back into `hetmap simulate` and reproduces its row exactly),
// DIR/baselines.csv and DIR/trace.json (the Chrome trace of front point 0), all or none
// (docs/design.md, "Output files"); and reading front.csv back.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "hetmap/dse/baselines.hpp"
#include "hetmap/dse/evaluate.hpp"

namespace hetmap::dse {

/// One exploration's results, with the objectives and constraints its values are measured by
/// (so that readers of `f` need nothing else).
struct Exploration {
  std::string method;                  // the algorithm: "nsga2" or "exhaustive"
  ObjectiveSet objectives;             // the columns of every `f` (minimised values)
  std::vector<Constraint> constraints;
  std::vector<Individual> front;       // the driver's archive: non-dominated, satisfying the
                                       // constraints, sorted by f
  std::vector<Baseline> baselines;
  std::vector<double> reference;       // hypervolume reference point (minimised values)
  double hypervolume = 0.0;
  std::int64_t evaluations = 0;
  int resumed_at = 0;                  // generation a resumed search started from (0: fresh)
  nlohmann::ordered_json settings;     // search settings, for provenance
};

/// Hypervolume reference point and value for a front and its baselines (reference_point() of
/// both sets, so that search and baselines are measured against the same box).
void measure(Exploration& exploration);

/// Per objective: the best value on the front, the best baseline value and the improvement in
/// percent (positive = the front is better).
struct Improvement {
  Objective objective;
  double front = 0.0, baseline = 0.0, percent = 0.0;
  std::string baseline_name;
};
std::vector<Improvement> improvements(const Exploration& exploration);

/// front.csv: `id`, one column per objective (its raw value, written exactly; empty when not
/// finite), `mapping` (the YAML's path relative to the folder).
struct FrontTable {
  std::vector<std::string> objectives;  // column names: the objectives' names
  struct Row {
    int id = 0;
    std::vector<double> values;  // one per objective (NaN where empty)
    std::string mapping;
  };
  std::vector<Row> rows;
};
std::string front_csv(const FrontTable& front);
/// Reads front.csv text back (InputError naming the file and line when it is not one).
FrontTable parse_front_csv(const std::string& csv_text, const std::string& file);
FrontTable load_front_csv(const std::string& path);

/// Writes every result file into `dir` (created if needed; stale mappings removed), all or
/// none: on failure every file of `dir` is left as it was.
void write_exploration(const std::string& dir, const Problem& problem, const Exploration& exploration);

}  // namespace hetmap::dse
