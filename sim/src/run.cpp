#include "hetmap/run.hpp"

#include <algorithm>

#include "hetmap/des.hpp"
#include "hetmap/error.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap {

bool needs_des(const RunSettings& s) { return s.inputs > 0 || s.arrival.has_value() || s.jitter; }

SimulationRun run_simulation(const Problem& problem, const Config& config,
                             const RunSettings& settings, const std::string& mapping_file) {
  SimulationRun run;
  run.des = needs_des(settings);
  if (run.des) {
    DesOptions d;
    d.inputs = std::max(settings.inputs, 1);
    d.arrival = settings.arrival.value_or(Arrival{});
    d.jitter = settings.jitter;
    d.seed = settings.seed;
    d.record_schedule = settings.record_schedule;
    DesResult r = simulate_des(problem, config, d);
    run.result = to_json(problem, r);
    run.schedule = std::move(r.schedule);
    run.latency_ms = std::move(r.latency_ms);
    run.mean_latency_ms = r.mean_latency_ms;
    run.worst_latency_ms = r.max_latency_ms;
    run.energy_mj = r.energy_mj;
    return run;
  }
  Evaluator evaluator(problem);
  const Evaluation& e = evaluator.evaluate(config);
  if (!e.feasible) throw InfeasibleError(mapping_file, 0, problem.infeasibility(config));
  run.result = to_json(problem, e);
  if (settings.record_schedule) run.schedule = evaluator.schedule();
  run.mean_latency_ms = e.mean_latency_ms;
  run.worst_latency_ms = e.worst_latency_ms;
  run.energy_mj = e.energy_mj;
  return run;
}

}  // namespace hetmap
