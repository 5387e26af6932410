#include "hetmap/run.hpp"

#include <algorithm>

#include "hetmap/error.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap {

bool needs_des(const RunSettings& s) { return s.inputs > 0 || s.arrival.has_value() || s.jitter; }

Metrics run_simulation(const Problem& problem, const Config& config, const RunSettings& settings,
                       const std::string& mapping_file) {
  // Checked here for both simulators, so that the error names the mapping either way.
  if (const std::string why = problem.infeasibility(config); !why.empty())
    throw InfeasibleError(mapping_file, 0, why);
  if (needs_des(settings)) {
    DesOptions d;
    d.inputs = std::max(settings.inputs, 1);
    d.arrival = settings.arrival.value_or(Arrival{});
    d.jitter = settings.jitter;
    d.seed = settings.seed;
    d.record_schedule = settings.record_schedule;
    return simulate_des(problem, config, d);
  }
  Evaluator evaluator(problem);
  Metrics m = evaluator.evaluate(config);
  if (settings.record_schedule) m.schedule = evaluator.schedule();
  return m;
}

}  // namespace hetmap
