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

#include "hetmap/metrics.hpp"
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
  /// The most memory the state of the inputs in flight may take (a count per layer each):
  /// arrivals faster than the mapping finishes inputs pile them up, and past this the run stops
  /// with an Error (exit 1) instead of failing to allocate (docs/formats.md, "Model size").
  std::size_t max_state_bytes = kMaxTableBytes;
};

/// Everything simulate_des refuses before it simulates: no inputs, a forced exit out of range,
/// a model of 2^24 layers or more, a trace without samples (InputError), a layer placed where it
/// cannot run (InfeasibleError). For callers that check many runs before starting any.
void check_des(const Problem& problem, const Config& config, const DesOptions& options);

/// Simulates `options.inputs` inputs through `config`: Metrics of origin simulated, with every
/// input's latency, the percentiles and the DES's own counters (events, cancellations).
Metrics simulate_des(const Problem& problem, const Config& config, const DesOptions& options);

}  // namespace hetmap
