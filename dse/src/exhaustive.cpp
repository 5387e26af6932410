#include "hetmap/dse/exhaustive.hpp"

#include <fmt/format.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include <algorithm>

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
  tbb::combinable<std::vector<Candidate>> local;
  tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n, 4096),
                    [&](const tbb::blocked_range<std::uint64_t>& r) {
                      std::vector<Candidate>& front = local.local();
                      Individual ind;
                      for (std::uint64_t i = r.begin(); i < r.end(); ++i) {
                        ind.config = space.point(i);
                        evaluator.evaluate_one(ind);
                        offer(front, ind, i);
                      }
                    });
  std::vector<Candidate> merged;
  local.combine_each([&](const std::vector<Candidate>& part) {
    for (const Candidate& c : part) offer(merged, c.ind, c.index);
  });
  std::sort(merged.begin(), merged.end(),
            [](const Candidate& a, const Candidate& b) { return a.ind.f < b.ind.f; });
  ExhaustiveResult out;
  for (Candidate& c : merged) out.front.push_back(std::move(c.ind));
  out.evaluated = n;
  return out;
}

}  // namespace hetmap::dse
