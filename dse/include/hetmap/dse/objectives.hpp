#pragma once
// What the search optimises: objectives chosen by the user (all turned into minimisation) and
// constraints handled by constraint-domination (Deb 2000).
#include <string>
#include <vector>

#include "hetmap/evaluator.hpp"

namespace hetmap::dse {

enum class Objective { mean_latency, worst_latency, energy, accuracy, throughput };

/// Name as written on the command line and in front.csv: mean_latency, worst_latency, energy,
/// accuracy, throughput.
const char* to_string(Objective o);
/// Column name in front.csv: the name with its unit (mean_latency_ms, energy_mj, ...).
std::string column_name(Objective o);
/// Accuracy and throughput are maximised; the others minimised.
bool maximised(Objective o);
/// The raw value (ms, mJ, share, inputs/s) from an evaluation.
double raw_value(Objective o, const Metrics& e);

class ObjectiveSet {
 public:
  /// Parses "mean_latency,energy" (what = where it came from, for errors).
  static ObjectiveSet parse(const std::string& text, const std::string& what);
  explicit ObjectiveSet(std::vector<Objective> list = {Objective::mean_latency,
                                                       Objective::worst_latency,
                                                       Objective::energy});
  const std::vector<Objective>& list() const { return list_; }
  int size() const { return static_cast<int>(list_.size()); }
  /// Minimised values: raw values, negated for maximised objectives.
  void minimised(const Metrics& e, double* out) const;
  /// Back from a minimised value to the raw one.
  double raw(int i, double minimised_value) const {
    return maximised(list_[i]) ? -minimised_value : minimised_value;
  }
  /// Throws InputError if the problem lacks data an objective needs (power, accuracy).
  void check(const Problem& problem, const std::string& what) const;

 private:
  std::vector<Objective> list_;
};

struct Constraint {
  Objective objective = Objective::accuracy;
  bool at_most = false;  // `<=`; else `>=`
  double bound = 0.0;
  /// Parses "accuracy >= 0.75" or "worst_latency <= 40".
  static Constraint parse(const std::string& text, const std::string& what);
  /// How far `e` is outside the bound, relative to the bound's size (0 when satisfied).
  double violation(const Metrics& e) const;
  /// Throws InputError if the problem lacks the data the constrained value needs (power,
  /// accuracy): such a constraint could never be met.
  void check(const Problem& problem, const std::string& what) const;
  std::string str() const;
};

/// Sum of the violations of all constraints.
double violation(const std::vector<Constraint>& constraints, const Metrics& e);

}  // namespace hetmap::dse
