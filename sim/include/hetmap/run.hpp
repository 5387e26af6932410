#pragma once
// One way to run a mapping in simulation, for every verb that does (`simulate`, `sweep`'s
// simulate points): the analytical evaluator for one input with mean durations, the DES as
// soon as a setting needs it (docs/semantics.md, "Which simulator runs").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/des.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/report.hpp"
#include "hetmap/schedule.hpp"

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

struct SimulationRun {
  bool des = false;
  Json result;                     // to_json of the evaluation or of the DES result
  Schedule schedule;               // with record_schedule (analytical: always the one input's)
  std::vector<double> latency_ms;  // per simulated input (DES only)
  double mean_latency_ms = 0.0;
  double worst_latency_ms = 0.0;   // DES: the largest latency seen
  double energy_mj = 0.0;
};

/// Runs `config` with the simulator `settings` call for. Throws InfeasibleError naming
/// `mapping_file` when the mapping puts a layer where it cannot run.
SimulationRun run_simulation(const Problem& problem, const Config& config,
                             const RunSettings& settings, const std::string& mapping_file);

}  // namespace hetmap
