#include "hetmap/dse/sorting.hpp"
#include "hetmap/detail/number.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hetmap::dse {

namespace {
using hetmap::detail::kInf;
}  // namespace

bool Sorter::dominates(int a, int b) const {
  const double* x = &f_[static_cast<std::size_t>(a) * m_];
  const double* y = &f_[static_cast<std::size_t>(b) * m_];
  bool better = false;
  for (int k = 0; k < m_; ++k) {
    if (x[k] > y[k]) return false;
    better |= x[k] < y[k];
  }
  return better;
}

void Sorter::sort(std::vector<Individual>& pop) {
  all_.resize(pop.size());
  for (std::size_t i = 0; i < pop.size(); ++i) all_[i] = static_cast<int>(i);
  sort(pop, all_);
}

void Sorter::load(const std::vector<Individual>& pop, const std::vector<int>& subset) {
  subset_.assign(subset.begin(), subset.end());
  const int n = static_cast<int>(subset_.size());
  m_ = n > 0 ? static_cast<int>(pop[subset_[0]].f.size()) : 0;
  f_.resize(static_cast<std::size_t>(n) * m_);
  pos_.assign(pop.size(), -1);
  for (int p = 0; p < n; ++p) {
    const Individual& ind = pop[subset_[p]];
    std::copy(ind.f.begin(), ind.f.end(), f_.begin() + static_cast<std::ptrdiff_t>(p) * m_);
    pos_[subset_[p]] = p;
  }
}

void Sorter::sort(std::vector<Individual>& pop, const std::vector<int>& subset) {
  load(pop, subset);
  // Lexicographic order: satisfying points by objectives, then the others by (feasible first,
  // violation); the index breaks ties so the order is total and deterministic.
  order_.assign(subset_.begin(), subset_.end());
  std::sort(order_.begin(), order_.end(), [&](int a, int b) {
    const bool ua = pop[a].satisfies(), ub = pop[b].satisfies();
    if (ua != ub) return ua;
    if (!ua) {
      if (pop[a].feasible != pop[b].feasible) return pop[a].feasible;
      if (pop[a].violation != pop[b].violation) return pop[a].violation < pop[b].violation;
      return a < b;
    }
    const double* x = &f_[static_cast<std::size_t>(pos_[a]) * m_];
    const double* y = &f_[static_cast<std::size_t>(pos_[b]) * m_];
    for (int k = 0; k < m_; ++k)
      if (x[k] != y[k]) return x[k] < y[k];
    return a < b;
  });
  rank(pop);
}

void Sorter::sort_ordered(std::vector<Individual>& pop, const std::vector<int>& order) {
  load(pop, order);
  order_.assign(order.begin(), order.end());
  rank(pop);
}

void Sorter::rank(std::vector<Individual>& pop) {
  const int n = static_cast<int>(order_.size());
  n_fronts_ = 0;
  auto open_front = [&]() -> std::vector<int>& {
    if (static_cast<int>(fronts_.size()) == n_fronts_) fronts_.emplace_back();
    fronts_[n_fronts_].clear();
    return fronts_[n_fronts_++];
  };
  int i = 0;
  for (; i < n && pop[order_[i]].satisfies(); ++i) {
    const int s = order_[i];
    int k = 0;
    for (; k < n_fronts_; ++k) {
      const std::vector<int>& members = fronts_[k];
      bool dominated = false;
      if (m_ == 2) {
        // A two-objective front in lexicographic order is a staircase: its last member has
        // the lowest second objective, so it dominates s if any member does.
        dominated = dominates(pos_[members.back()], pos_[s]);
      } else {
        // The latest members are the most likely to dominate s.
        for (auto it = members.rbegin(); it != members.rend() && !dominated; ++it)
          dominated = dominates(pos_[*it], pos_[s]);
      }
      if (!dominated) break;
    }
    if (k == n_fronts_) open_front();
    fronts_[k].push_back(s);
    pop[s].rank = k;
  }
  // Constraint violators: each distinct (feasible, violation) is one front.
  for (; i < n; ++i) {
    const int s = order_[i];
    const int prev = i > 0 ? order_[i - 1] : -1;
    if (prev < 0 || pop[prev].satisfies() || pop[prev].feasible != pop[s].feasible ||
        pop[prev].violation != pop[s].violation)
      open_front();
    fronts_[n_fronts_ - 1].push_back(s);
    pop[s].rank = n_fronts_ - 1;
  }
  for (int k = 0; k < n_fronts_; ++k) crowd(pop, fronts_[k]);
}

// Crowding distance (Deb et al. 2002): infinite at each objective's extremes.
void Sorter::crowd(std::vector<Individual>& pop, const std::vector<int>& front) {
  for (int i : front) pop[i].crowding = 0.0;
  if (front.empty()) return;
  scratch_.assign(front.begin(), front.end());
  for (int o = 0; o < m_; ++o) {
    auto f = [&](int i) { return f_[static_cast<std::size_t>(pos_[i]) * m_ + o]; };
    std::stable_sort(scratch_.begin(), scratch_.end(), [&](int a, int b) { return f(a) < f(b); });
    const double lo = f(scratch_.front()), hi = f(scratch_.back());
    pop[scratch_.front()].crowding = pop[scratch_.back()].crowding = kInf;
    if (!(hi > lo) || !std::isfinite(hi - lo)) continue;
    for (std::size_t k = 1; k + 1 < scratch_.size(); ++k)
      pop[scratch_[k]].crowding += (f(scratch_[k + 1]) - f(scratch_[k - 1])) / (hi - lo);
  }
}

}  // namespace hetmap::dse
