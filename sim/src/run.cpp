#include "hetmap/run.hpp"

#include <algorithm>
#include <cmath>

#include "hetmap/error.hpp"
#include "hetmap/evaluator.hpp"

namespace hetmap {

bool needs_des(const RunSettings& s) { return s.inputs > 0 || s.arrival.has_value() || s.jitter; }

namespace {

// A result beyond any number (durations near the largest double, summed) is an error naming the
// quantity, never a silent null in the JSON. NaN energy without power data means "unknown" and
// stays (docs/design.md, "Command line").
void check_finite(const Problem& problem, const Metrics& m, const std::string& mapping_file) {
  auto require = [&](double v, const char* what) {
    if (!std::isfinite(v))
      throw Error(mapping_file, 0,
                  std::string("the ") + what +
                      " is not a finite number: the profile's durations are too large to add up",
                  kOtherError);
  };
  require(m.mean_latency_ms, "mean latency");
  require(m.worst_latency_ms, "worst latency");
  if (problem.has_power()) require(m.energy_mj, "energy");
}

// The DES's options for `settings` (needs_des: at least one input, closed unless given).
DesOptions des_options(const RunSettings& settings) {
  DesOptions d;
  d.inputs = std::max(settings.inputs, 1);
  d.arrival = settings.arrival.value_or(Arrival{});
  d.jitter = settings.jitter;
  d.seed = settings.seed;
  d.record_schedule = settings.record_schedule;
  return d;
}

}  // namespace

void check_simulation(const Problem& problem, const Config& config, const RunSettings& settings,
                      const std::string& mapping_file) {
  // Checked here for both simulators, so that the error names the mapping either way.
  if (const std::string why = problem.infeasibility(config); !why.empty())
    throw InfeasibleError(mapping_file, 0, why);
  if (needs_des(settings)) check_des(problem, config, des_options(settings));
}

Metrics run_simulation(const Problem& problem, const Config& config, const RunSettings& settings,
                       const std::string& mapping_file) {
  check_simulation(problem, config, settings, mapping_file);
  if (needs_des(settings)) {
    Metrics m = simulate_des(problem, config, des_options(settings));
    check_finite(problem, m, mapping_file);
    return m;
  }
  Evaluator evaluator(problem);
  Metrics m = evaluator.evaluate(config);
  check_finite(problem, m, mapping_file);
  if (settings.record_schedule) m.schedule = evaluator.schedule();
  return m;
}

}  // namespace hetmap
