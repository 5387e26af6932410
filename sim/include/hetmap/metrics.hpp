#pragma once
// What running a mapping costs, however it was obtained: predicted by the analytical evaluator,
// simulated by the DES over many inputs, or measured by the on-device executor. One type, so a
// prediction and a measurement are compared field by field, printed by one to_json and one table
// (report.hpp), and consumed alike by the search, the sweep and validation. Field names are the
// JSON keys of docs/design.md ("Command line"); the rules behind every number are in
// docs/semantics.md.
#include <cstdint>
#include <limits>
#include <vector>

#include "hetmap/schedule.hpp"

namespace hetmap {

/// Where the numbers of a Metrics come from.
enum class Origin {
  analytical,  // the analytical evaluator: one input, mean durations (docs/semantics.md)
  simulated,   // the discrete-event simulator over `inputs` inputs
  measured,    // the executor, on a backend's processors
};

/// "analytical", "simulated" or "measured".
const char* to_string(Origin origin);

/// Latency, energy, accuracy and throughput of one mapping. Vectors are indexed by result (exits
/// 0..E-1, then the final output at E) or by processor. Unknown values (no accuracy or power
/// data, no input left at an exit) are NaN.
struct Metrics {
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

  Origin origin = Origin::analytical;
  /// Analytical: whether every enabled layer can run where it is placed; an infeasible mapping
  /// has no numbers. Simulated and measured runs only exist for feasible mappings.
  bool feasible = false;
  int inputs = 1;  // inputs the numbers are over (analytical: one, with expected exit shares)

  double mean_latency_ms = 0.0;
  /// Analytical: the slowest enabled result; simulated / measured: the largest latency seen
  /// (also printed as max_latency_ms).
  double worst_latency_ms = 0.0;
  std::vector<double> exit_latency_ms;  // analytical: latency(k), NaN when disabled; else the
                                        // mean latency of the inputs leaving there
  std::vector<double> exit_share;       // share whose first confident result is k
  double accuracy = 0.0;
  double energy_mj = 0.0;               // per input
  /// Analytical: a bound, 1000 / the busiest resource's expected ms per input (pipelined);
  /// else inputs / (last done - first arrival).
  double throughput_ips = 0.0;
  std::vector<double> utilization;      // per processor: busy time / mean latency (analytical)
                                        // or / makespan

  // Over a stream of inputs (simulated and measured only; NaN or empty for analytical).
  std::vector<double> latency_ms;       // per input, arrival to done
  double p50_latency_ms = kUnknown, p95_latency_ms = kUnknown, p99_latency_ms = kUnknown;
  double makespan_ms = kUnknown;        // first arrival to last done
  /// Per processor, per input: its active plus idle energy (the terms of energy_mj); NaN for a
  /// processor without active_w. Lets a run whose meters cover only some processors be compared.
  std::vector<double> energy_by_processor_mj;
  /// Simulated: events processed; measured: tasks run + copies run.
  std::int64_t events = 0;
  std::int64_t cancelled_tasks = 0;
  std::int64_t cancelled_copies = 0;
  double cancelled_work_ms = 0.0;       // profiled time of the cancelled tasks (measured: NaN)
  /// Every span: simulated and measured runs that asked to record it, or the analytical
  /// evaluator's one input (Evaluator::schedule()).
  Schedule schedule;
};

/// Fills the latency statistics of a simulated or measured `metrics` from its per-input
/// `latency_ms`: mean, nearest-rank p50/p95/p99 (hetmap/stats.hpp), worst, and per result the
/// share of inputs whose first confident result it was (`first_count`) and their mean latency
/// (`first_latency_sum` / count; NaN if none). Shared by the DES and the executor, so that
/// simulated and measured runs are summarised alike.
void summarize_latencies(Metrics& metrics, const std::vector<int>& first_count,
                         const std::vector<double>& first_latency_sum);

}  // namespace hetmap
