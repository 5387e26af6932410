#pragma once
// The analytical evaluator: DESIGN.md section 3 for one input, mean durations (exact rules in
// docs/semantics.md). It computes the full single-input schedule once and derives every exit's
// latency, the expected latency, energy, accuracy and a throughput bound from it. Construction
// sizes every buffer; evaluate() allocates nothing, so one Evaluator per thread serves a search.
#include <cstdint>
#include <vector>

#include "hetmap/problem.hpp"
#include "hetmap/schedule.hpp"

namespace hetmap {

/// Outcome of one mapping. Vectors are indexed by result (exits 0..E-1, then the final output
/// at E) or by processor. Unknown values (no accuracy or power data) are NaN.
struct Evaluation {
  bool feasible = false;
  double mean_latency_ms = 0.0;
  double worst_latency_ms = 0.0;
  std::vector<double> exit_latency_ms;  // latency(k); NaN for a disabled exit
  std::vector<double> exit_share;       // share whose first confident result is k
  double accuracy = 0.0;
  double energy_mj = 0.0;
  double throughput_ips = 0.0;          // bound: 1000 / busiest resource's expected ms per input
  std::vector<double> utilization;      // per processor: expected busy time / mean latency
};

class Evaluator {
 public:
  explicit Evaluator(const Problem& problem);
  /// Evaluates `config` (built for this problem). An infeasible config returns
  /// feasible == false and no numbers.
  const Evaluation& evaluate(const Config& config);
  /// The schedule of the last feasible evaluate(): one input, every enabled layer run.
  Schedule schedule() const;
  const Problem& problem() const { return problem_; }

 private:
  struct Event {
    double time;
    std::uint32_t key;  // finishes (layer) sort before copy arrivals at one instant
  };
  void push(double time, std::uint32_t key);
  Event pop();
  bool simulate(const Config& c);  // false if infeasible
  void arrive(int producer, int proc, const Config& c);
  void finish_task(int layer, const Config& c);
  void send(int producer, int from, std::uint64_t dest_mask, const Config& c);
  void dispatch(const Config& c);
  void make_ready(int layer, int proc);
  void derive(const Config& c);

  const Problem& problem_;
  int L_, P_, E_, words_;
  Evaluation eval_;
  double now_ = 0.0;
  std::vector<Event> heap_;
  int heap_size_ = 0;
  std::vector<double> start_, finish_, base_;  // per layer
  std::vector<int> waiting_;                   // per layer: unmet dependencies
  std::vector<std::uint64_t> ready_;           // per processor: bitset of ready layers
  std::vector<int> running_;                   // per processor: layer or -1
  std::uint64_t candidates_ = 0;               // processors that may start a layer now
  std::vector<double> link_free_;              // per link resource
  std::vector<double> result_time_;            // per result
  std::vector<CopySpan> copies_;
  std::vector<int> starting_;                  // dispatch scratch
  std::vector<double> weight_, shares_;        // per result
  std::vector<double> busy_;                   // per processor scratch
  std::vector<double> link_busy_;              // per link resource scratch
  std::vector<std::uint8_t> proc_;             // placement of the last evaluate()
};

}  // namespace hetmap
