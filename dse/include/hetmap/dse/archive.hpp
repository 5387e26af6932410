#pragma once
// The non-dominated archive: the result of every algorithm (docs/search.md, "The driver, the
// algorithms and the archive").
// It keeps, among all points offered so far, those that
//  - satisfy the problem and every constraint (Individual::satisfies()),
//  - and are not Pareto-dominated by another such point,
// one point per objective vector, sorted by `f` (lexicographic, so point 0 is the best in
// the first objective).
//
// Tie rule: of several points with the same objective vector, the one offered FIRST stays.
// The driver (driver.hpp) offers points in evaluation order, so this is the earliest
// evaluation: for NSGA-II and random search the first one sampled, for the exhaustive front the
// one of lowest index in the design space. The content is therefore a function of the sequence
// of points offered only; how the evaluation of a batch was spread over threads cannot change
// it. dse::non_dominated() (hypervolume.hpp), the stateless filter on plain objective vectors,
// follows the same definition and the same rule (the first of equal points is kept).
#include <cstddef>
#include <vector>

#include "hetmap/dse/evaluate.hpp"

namespace hetmap::dse {

class Archive {
 public:
  /// Offers one evaluated point; true if it entered (and removed the points it dominates).
  /// O(size) comparisons of objective vectors.
  bool offer(const Individual& candidate);
  /// Offers every point of `batch` in order: the same result as offer() on each in turn.
  /// Large batches are first screened in parallel against the archive as it is (a read-only
  /// test that never depends on the number of threads), so only the few points that may enter
  /// are offered one by one.
  void offer(const std::vector<Individual>& batch);

  /// Whether offer(candidate) would take it: it satisfies the constraints and no archived point
  /// has its objective vector or dominates it. A point offered before never is (checkpoints are
  /// checked with this, docs/search.md "Checkpoints").
  bool admits(const Individual& candidate) const { return place(candidate) <= points_.size(); }

  /// The points, sorted by `f`, distinct, mutually non-dominated.
  const std::vector<Individual>& points() const { return points_; }
  std::size_t size() const { return points_.size(); }
  bool empty() const { return points_.empty(); }
  void clear() { points_.clear(); }

 private:
  /// Where `candidate` would go, or size() + 1 when it cannot enter (it does not satisfy the
  /// constraints, or an archived point equals or dominates it).
  std::size_t place(const Individual& candidate) const;
  std::vector<Individual> points_;
  std::vector<char> may_enter_;  // screening buffer, reused between batches
};

}  // namespace hetmap::dse
