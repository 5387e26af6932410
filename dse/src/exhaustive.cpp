#include "hetmap/dse/exhaustive.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hetmap/detail/parallel.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

struct Candidate {
  Individual ind;
  std::uint64_t index;  // position in the space: the lowest wins among equal objectives
};

// Adds `c` to a non-dominated set (unique by objective values, lowest index kept).
void offer(std::vector<Candidate>& front, const Individual& c, std::uint64_t index) {
  if (!c.feasible || c.violation != 0.0) return;
  for (Candidate& a : front) {
    if (a.ind.f == c.f) {
      if (index < a.index) a = Candidate{c, index};
      return;
    }
    if (dominates(a.ind, c)) return;
  }
  front.erase(std::remove_if(front.begin(), front.end(),
                             [&](const Candidate& a) { return dominates(c, a.ind); }),
              front.end());
  front.push_back(Candidate{c, index});
}

}  // namespace

ExhaustiveResult exhaustive_front(const DesignSpace& space, BatchEvaluator& evaluator,
                                  double limit, const std::string& what) {
  const double size = space.size();
  if (size > limit)
    throw InputError(what, 0, fmt::format("the design space has {:.3g} points, more than the "
                                          "exhaustive limit of {:.3g}; use the search instead",
                                          size, limit));
  const auto n = static_cast<std::uint64_t>(size);
  // One front per worker slot, merged after: the merged front does not depend on which slot
  // saw which point (equal objectives keep the lowest index).
  std::vector<std::vector<Candidate>> local(detail::max_slots());
  detail::parallel_for(0, n, 4096, [&](std::size_t begin, std::size_t end, std::size_t slot) {
    std::vector<Candidate>& front = local[slot];
    Individual ind;
    for (std::uint64_t i = begin; i < end; ++i) {
      ind.config = space.point(i);
      evaluator.evaluate_one(ind);
      offer(front, ind, i);
    }
  });
  std::vector<Candidate> merged;
  for (const std::vector<Candidate>& part : local)
    for (const Candidate& c : part) offer(merged, c.ind, c.index);
  std::sort(merged.begin(), merged.end(),
            [](const Candidate& a, const Candidate& b) { return a.ind.f < b.ind.f; });
  ExhaustiveResult out;
  for (Candidate& c : merged) out.front.push_back(std::move(c.ind));
  out.evaluated = n;
  return out;
}

}  // namespace hetmap::dse
