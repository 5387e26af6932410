#pragma once
// The one way to run a mapping in simulation, for every verb that does (`simulate`, `sweep`'s
// simulate points, `validate`'s predictions, and a runtime manager): the analytical evaluator for
// one input with mean durations, the DES as soon as a setting needs it (docs/semantics.md,
// "Which simulator runs").
#include <cstdint>
#include <optional>
#include <string>

#include "hetmap/des.hpp"
#include "hetmap/metrics.hpp"
#include "hetmap/problem.hpp"

namespace hetmap {

struct RunSettings {
  int inputs = 0;                      // 0: not asked for (one input if the DES runs)
  std::optional<Arrival> arrival;      // parse_arrival's; nullopt: not given (closed if the DES runs)
  bool jitter = false;
  std::uint64_t seed = 1;
  bool record_schedule = false;
};

/// Whether `settings` need the DES: inputs asked for, an arrival process given, or jitter
/// (none of which the analytical evaluator models).
bool needs_des(const RunSettings& settings);

/// Everything run_simulation refuses before it simulates (a layer placed where it cannot run,
/// an InfeasibleError naming `mapping_file`; what the DES refuses, where the settings need it),
/// for callers that check many runs before starting any (`hetmap sweep`, docs/experiments.md).
void check_simulation(const Problem& problem, const Config& config, const RunSettings& settings,
                      const std::string& mapping_file);

/// Runs `config` with the simulator `settings` call for: Metrics of origin analytical or
/// simulated. With record_schedule the schedule is kept (analytical: the one input's). Throws
/// InfeasibleError naming `mapping_file` when the mapping puts a layer where it cannot run.
Metrics run_simulation(const Problem& problem, const Config& config, const RunSettings& settings,
                       const std::string& mapping_file);

}  // namespace hetmap
