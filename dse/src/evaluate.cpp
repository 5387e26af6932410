#include "hetmap/dse/evaluate.hpp"

#include <tbb/parallel_for.h>

#include <limits>

namespace hetmap::dse {

bool dominates(const Individual& a, const Individual& b) {
  const bool a_ok = a.feasible && a.violation == 0.0;
  const bool b_ok = b.feasible && b.violation == 0.0;
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
      evaluators_([&problem] { return Evaluator(problem); }) {}

void BatchEvaluator::fill(Evaluator& ev, Individual& ind) const {
  const Evaluation& e = ev.evaluate(ind.config);
  ind.f.resize(objectives_.size());
  ind.feasible = e.feasible;
  if (!e.feasible) {
    std::fill(ind.f.begin(), ind.f.end(), std::numeric_limits<double>::infinity());
    ind.violation = std::numeric_limits<double>::infinity();
    return;
  }
  objectives_.minimised(e, ind.f.data());
  ind.violation = violation(constraints_, e);
}

void BatchEvaluator::evaluate(std::vector<Individual>& individuals, std::size_t first) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(first, individuals.size(), 16),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      Evaluator& ev = evaluators_.local();
                      for (std::size_t i = r.begin(); i < r.end(); ++i) fill(ev, individuals[i]);
                    });
  count_ += static_cast<std::int64_t>(individuals.size() - first);
}

void BatchEvaluator::evaluate_one(Individual& individual) {
  fill(evaluators_.local(), individual);
  ++count_;
}

}  // namespace hetmap::dse
