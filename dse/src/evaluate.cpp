#include "hetmap/dse/evaluate.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "hetmap/error.hpp"

#include "hetmap/detail/parallel.hpp"

namespace hetmap::dse {

bool dominates(const Individual& a, const Individual& b) {
  const bool a_ok = a.satisfies();
  const bool b_ok = b.satisfies();
  if (a_ok != b_ok) return a_ok;
  if (!a_ok) {
    if (a.feasible != b.feasible) return a.feasible;
    return a.violation < b.violation;
  }
  bool better = false;
  for (std::size_t i = 0; i < a.f.size(); ++i) {
    if (a.f[i] > b.f[i]) return false;
    better = better || a.f[i] < b.f[i];
  }
  return better;
}

BatchEvaluator::BatchEvaluator(const Problem& problem, ObjectiveSet objectives,
                               std::vector<Constraint> constraints)
    : problem_(problem),
      objectives_(std::move(objectives)),
      constraints_(std::move(constraints)),
      evaluators_(detail::max_slots()) {}

Evaluator& BatchEvaluator::local(std::size_t slot) {
  std::unique_ptr<Evaluator>& ev = evaluators_[slot];
  if (!ev) ev = std::make_unique<Evaluator>(problem_);  // only this slot's thread touches it
  return *ev;
}

void BatchEvaluator::fill(Evaluator& ev, Individual& ind) const {
  const Metrics& e = ev.evaluate(ind.config);
  ind.f.resize(objectives_.size());
  ind.feasible = e.feasible;
  if (!e.feasible) {
    std::fill(ind.f.begin(), ind.f.end(), std::numeric_limits<double>::infinity());
    ind.violation = std::numeric_limits<double>::infinity();
    return;
  }
  objectives_.minimised(e, ind.f.data());
  // A feasible mapping always has finite objectives unless the inputs' numbers are beyond
  // docs/formats.md's "Quantities": an error naming the objective, never an inf in the front.
  for (std::size_t i = 0; i < ind.f.size(); ++i)
    if (!std::isfinite(ind.f[i]))
      throw Error(problem_.profile().file, 0,
                  std::string("the ") + to_string(objectives_.list()[i]) +
                      " of a mapping is not a finite number: the profile's durations are too large to add up",
                  kOtherError);
  ind.violation = violation(constraints_, e);
}

void BatchEvaluator::evaluate(std::vector<Individual>& individuals, std::size_t first) {
  detail::parallel_for(first, individuals.size(), 16,
                       [&](std::size_t begin, std::size_t end, std::size_t slot) {
                         Evaluator& ev = local(slot);
                         for (std::size_t i = begin; i < end; ++i) fill(ev, individuals[i]);
                       });
  count_ += static_cast<std::int64_t>(individuals.size() - first);
}

void BatchEvaluator::evaluate_one(Individual& individual) {
  fill(local(detail::current_slot()), individual);
  ++count_;
}

}  // namespace hetmap::dse
