#pragma once
// Non-dominated sorting with constraint-domination and crowding distance: the step that costs
// NSGA-II more than evaluating its offspring. Efficient Non-dominated Sort with sequential
// search (ENS-SS, Zhang et al. 2015): individuals in lexicographic order of their objectives
// can only be dominated by earlier ones, so each is placed in the first front none of whose
// members dominates it. Objectives are copied into one flat array and every buffer is reused
// between calls, so a generation allocates nothing here.
#include <vector>

#include "hetmap/dse/evaluate.hpp"

namespace hetmap::dse {

class Sorter {
 public:
  /// Sets `rank` and `crowding` of every individual. Points satisfying the constraints come
  /// first (Pareto fronts), then the others by increasing violation (one front per value).
  void sort(std::vector<Individual>& individuals);
  /// The same over the individuals whose indices are in `subset` only.
  void sort(std::vector<Individual>& individuals, const std::vector<int>& subset);
  /// The same over `order`, already in lexicographic order (e.g. lexicographic() filtered).
  void sort_ordered(std::vector<Individual>& individuals, const std::vector<int>& order);
  int fronts() const { return n_fronts_; }
  /// Indices (into the individuals) of the members of front `k`, in lexicographic order.
  const std::vector<int>& front(int k) const { return fronts_[k]; }
  /// Indices in lexicographic order of (satisfies constraints, objectives / violation);
  /// equal objective vectors are adjacent.
  const std::vector<int>& lexicographic() const { return order_; }

 private:
  void load(const std::vector<Individual>& individuals, const std::vector<int>& subset);
  void rank(std::vector<Individual>& individuals);
  bool dominates(int a, int b) const;  // positions in subset_
  void crowd(std::vector<Individual>& individuals, const std::vector<int>& front);
  std::vector<int> subset_, all_;
  std::vector<int> pos_;  // index -> position in subset_
  int m_ = 0;
  std::vector<double> f_;                // flat objectives, m_ per individual
  std::vector<int> order_, scratch_;
  std::vector<std::vector<int>> fronts_;  // sized up to the most fronts seen; n_fronts_ used
  int n_fronts_ = 0;
};

}  // namespace hetmap::dse
