#pragma once
// The exact Pareto front by enumerating every point of a (small) design space, in parallel.
// Used to measure the search (docs/design.md, "Quality bars": >= 99% of the exhaustive hypervolume) and by
// `hetmap explore --exhaustive`.
#include <cstdint>
#include <vector>

#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/space.hpp"

namespace hetmap::dse {

/// Spaces above this many points are refused (about a second per million points and core).
inline constexpr double kExhaustiveLimit = 4e6;

struct ExhaustiveResult {
  std::vector<Individual> front;  // non-dominated points satisfying the constraints, sorted by f
  std::uint64_t evaluated = 0;
};

/// Throws InputError (naming `what`) when the space has more than `limit` points.
ExhaustiveResult exhaustive_front(const DesignSpace& space, BatchEvaluator& evaluator,
                                  double limit = kExhaustiveLimit,
                                  const std::string& what = "--exhaustive");

}  // namespace hetmap::dse
