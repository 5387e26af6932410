#include "hetmap/dse/archive.hpp"

#include <algorithm>

#include "hetmap/detail/parallel.hpp"

namespace hetmap::dse {

namespace {

// Batches at least this large are screened in parallel first (an NSGA-II generation is far
// smaller and is offered directly; an exhaustive block far larger).
constexpr std::size_t kScreenFrom = 1024;

bool lex_less(const Individual& a, const std::vector<double>& f) { return a.f < f; }

// Pareto dominance of objective vectors of equal size: <= everywhere, < somewhere.
bool pareto_dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    better = better || a[i] < b[i];
  }
  return better;
}

}  // namespace

// The points are sorted by f, and a point that dominates another is lexicographically smaller,
// so only those before the candidate's place can dominate it and only those after can be
// dominated by it.
std::size_t Archive::place(const Individual& c) const {
  const std::size_t none = points_.size() + 1;
  if (!c.satisfies()) return none;
  const auto at = std::lower_bound(points_.begin(), points_.end(), c.f, lex_less);
  if (at != points_.end() && at->f == c.f) return none;  // the first offered stays
  for (auto it = points_.begin(); it != at; ++it)
    if (pareto_dominates(it->f, c.f)) return none;
  return static_cast<std::size_t>(at - points_.begin());
}

bool Archive::offer(const Individual& c) {
  const std::size_t at = place(c);
  if (at > points_.size()) return false;
  const auto first = points_.begin() + static_cast<std::ptrdiff_t>(at);
  points_.erase(std::remove_if(first, points_.end(),
                               [&](const Individual& a) { return pareto_dominates(c.f, a.f); }),
                points_.end());
  points_.insert(points_.begin() + static_cast<std::ptrdiff_t>(at), c);
  return true;
}

void Archive::offer(const std::vector<Individual>& batch) {
  if (batch.size() < kScreenFrom) {
    for (const Individual& c : batch) offer(c);
    return;
  }
  // A point the archive rejects now is rejected after any other offer too (what rejects it
  // stays, or is replaced by a point that dominates it), so screening against the archive as
  // it is loses nothing.
  may_enter_.assign(batch.size(), 0);
  detail::parallel_for(0, batch.size(), 256, [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t i = begin; i < end; ++i) may_enter_[i] = place(batch[i]) <= points_.size();
  });
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (may_enter_[i]) offer(batch[i]);
}

}  // namespace hetmap::dse
