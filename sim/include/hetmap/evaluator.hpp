#pragma once
// The analytical evaluator: docs/semantics.md for one input, mean durations (exact rules in
// docs/semantics.md). It computes the full single-input schedule once and derives every exit's
// latency, the expected latency, energy, accuracy and a throughput bound from it. Construction
// sizes every buffer; evaluate() allocates nothing, so one Evaluator per thread serves a search.
#include <cstdint>
#include <vector>

#include "hetmap/metrics.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/schedule.hpp"

namespace hetmap {

class Evaluator {
 public:
  explicit Evaluator(const Problem& problem);
  /// The evaluator keeps a reference to the problem: a temporary one would dangle.
  explicit Evaluator(const Problem&& problem) = delete;
  /// Evaluates `config` (built for this problem): Metrics of origin analytical, over one input
  /// with expected exit shares, without `latency_ms`, percentiles or a schedule. An infeasible
  /// config returns feasible == false and no numbers.
  const Metrics& evaluate(const Config& config);
  /// The schedule of the last feasible evaluate(): one input, every enabled layer run.
  Schedule schedule() const;
  const Problem& problem() const { return problem_; }

 private:
  bool simulate(const Config& c);  // false if infeasible
  template <int kP>
  bool simulate_p(const Config& c);  // kP processors (0: any number)
  void derive(const Config& c);

  const Problem& problem_;
  int L_, P_, E_;
  Metrics eval_;
  // Workspace, sized once.
  std::vector<double> base_;                   // per layer: duration at this config
  std::vector<double> start_, finish_;         // per start slot (the n-th layer to start)
  std::vector<double> ready_at_;               // per layer: when its inputs are all there
  std::vector<int> waiting_;                   // per layer: unfinished producers, -1 disabled
  std::vector<int> pending_;                   // per processor: layers with known ready time
  std::vector<int> running_;                   // per processor: layer or -1
  std::vector<double> link_free_;              // per link resource
  std::vector<double> result_time_;            // per result
  std::vector<CopySpan> copies_;               // every copy of the last schedule (sized once)
  int n_copies_ = 0;
  std::vector<int> order_;                     // per start slot: its layer (n_started_ of them)
  int n_started_ = 0;
  std::vector<double> weight_, shares_;        // per result
  std::vector<double> link_busy_;              // scratch: per link resource
  std::vector<std::uint8_t> proc_;             // placement of the last evaluate()
};

}  // namespace hetmap
