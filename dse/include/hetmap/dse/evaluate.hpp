#pragma once
// Parallel evaluation of many configs: one Evaluator per worker slot (hetmap/detail/parallel.hpp),
// results in input order, so the outcome never depends on the number of threads.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "hetmap/dse/objectives.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap::dse {

/// A point with what the search needs to know about it.
struct Individual {
  Config config;
  std::vector<double> f;    // minimised objective values
  double violation = 0.0;   // 0 = satisfies every constraint
  bool feasible = false;    // the profile lets every enabled layer run where it is placed
  int rank = 0;             // non-domination rank (0 = first front)
  double crowding = 0.0;
  /// Feasible and within every constraint: what an archive keeps and a front reports.
  bool satisfies() const { return feasible && violation == 0.0; }
};

/// Constraint-domination (Deb 2000): a feasible point beats an infeasible one; of two
/// infeasible points the smaller violation wins; else Pareto dominance on `f`.
bool dominates(const Individual& a, const Individual& b);

class BatchEvaluator {
 public:
  BatchEvaluator(const Problem& problem, ObjectiveSet objectives,
                 std::vector<Constraint> constraints);
  /// The evaluator keeps a reference to the problem: a temporary one would dangle.
  BatchEvaluator(const Problem&& problem, ObjectiveSet objectives,
                 std::vector<Constraint> constraints) = delete;
  /// Fills f / violation / feasible of every individual, in parallel.
  void evaluate(std::vector<Individual>& individuals, std::size_t first = 0);
  /// One individual, on the calling thread (with the Evaluator of its worker slot: safe inside
  /// a detail::parallel_for body, and from one thread at a time outside of one).
  void evaluate_one(Individual& individual);
  /// Evaluations done so far.
  std::int64_t count() const { return count_; }
  const ObjectiveSet& objectives() const { return objectives_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  const Problem& problem() const { return problem_; }

 private:
  void fill(Evaluator& ev, Individual& ind) const;
  Evaluator& local(std::size_t slot);
  const Problem& problem_;
  ObjectiveSet objectives_;
  std::vector<Constraint> constraints_;
  std::vector<std::unique_ptr<Evaluator>> evaluators_;  // by worker slot, made on first use
  std::atomic<std::int64_t> count_{0};
};

}  // namespace hetmap::dse
