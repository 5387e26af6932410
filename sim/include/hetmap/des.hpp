#pragma once
// The discrete-event simulator: many inputs streaming through one mapping, with arrivals,
// FIFO links, non-preemptive processors that prefer the oldest input, cancellation of work an
// exit made useless, contention, DVFS and jitter (docs/semantics.md). With one input and no
// jitter it reproduces the analytical evaluator's schedule exactly.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "hetmap/problem.hpp"
#include "hetmap/schedule.hpp"

namespace hetmap {

enum class ArrivalKind { closed, periodic, poisson };

struct Arrival {
  ArrivalKind kind = ArrivalKind::closed;
  double rate_hz = 0.0;  // periodic / poisson
};

/// Parses `closed`, `periodic:RATE_HZ` or `poisson:RATE_HZ`; throws InputError naming `what`.
Arrival parse_arrival(const std::string& text, const std::string& what = "--arrival");

/// The arrival times of an open stream (periodic or Poisson), as the DES simulates them and
/// the executor replays them (docs/semantics.md, "Many inputs"): the same seed gives the same
/// times in both.
class ArrivalClock {
 public:
  ArrivalClock(const Arrival& arrival, std::uint64_t seed);
  /// The arrival time (ms) of input `input` + 1, input `input` having arrived at `at_ms`.
  /// Periodic: (input + 1) x 1000 / rate; Poisson: at_ms plus an exponential gap with mean
  /// 1000 / rate. Call it once per input, in order. Not for closed arrivals.
  double next(int input, double at_ms);

 private:
  Arrival arrival_;
  std::mt19937_64 rng_;
};

struct DesOptions {
  int inputs = 1;
  Arrival arrival;
  bool jitter = false;
  std::uint64_t seed = 1;
  /// For tests and replays: the first confident result of input i is forced_exits[i % size]
  /// (exit index, or exits() for the final output) instead of a draw.
  std::vector<int> forced_exits;
  bool record_schedule = false;  // keep every span (Chrome trace / Gantt)
};

struct DesResult {
  int inputs = 0;
  std::vector<double> latency_ms;       // per input, arrival to done
  double mean_latency_ms = 0.0;
  double p50_latency_ms = 0.0, p95_latency_ms = 0.0, p99_latency_ms = 0.0;
  double max_latency_ms = 0.0;
  std::vector<double> exit_share;       // observed share leaving at each result
  std::vector<double> exit_latency_ms;  // mean latency of inputs leaving there (NaN if none)
  double accuracy = 0.0;                // NaN when unknown
  double energy_mj = 0.0;               // per input; NaN without power data
  /// Per processor, per input: its active plus idle energy (the terms of energy_mj); NaN for a
  /// processor without active_w. Lets a run whose meters cover only some processors be compared.
  std::vector<double> energy_by_processor_mj;
  double throughput_ips = 0.0;          // inputs / (last done - first arrival)
  double makespan_ms = 0.0;
  std::vector<double> utilization;      // per processor: busy / makespan
  std::int64_t events = 0;
  std::int64_t cancelled_tasks = 0;
  std::int64_t cancelled_copies = 0;
  double cancelled_work_ms = 0.0;       // profiled time of the cancelled tasks
  Schedule schedule;                    // if record_schedule
};

DesResult simulate_des(const Problem& problem, const Config& config, const DesOptions& options);

/// Fills the latency statistics of `result` from its per-input `latency_ms`: mean, nearest-rank
/// p50/p95/p99, max, and per result the share of inputs whose first confident result it was
/// (`first_count`) and their mean latency (`first_latency_sum` / count; NaN if none). Shared by
/// the DES and the executor, so that simulated and measured runs are summarised alike.
void summarize_latencies(DesResult& result, const std::vector<int>& first_count,
                         const std::vector<double>& first_latency_sum);

}  // namespace hetmap
