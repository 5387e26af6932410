#include "hetmap/metrics.hpp"

#include <algorithm>

#include "hetmap/stats.hpp"

namespace hetmap {

const char* to_string(Origin origin) {
  switch (origin) {
    case Origin::analytical: return "analytical";
    case Origin::simulated: return "simulated";
    case Origin::measured: return "measured";
  }
  return "?";
}

void summarize_latencies(Metrics& m, const std::vector<int>& first_count,
                         const std::vector<double>& first_latency_sum) {
  const int n = static_cast<int>(m.latency_ms.size());
  std::vector<double> sorted = m.latency_ms;
  std::sort(sorted.begin(), sorted.end());
  auto rank = [&](int pct) { return nearest_rank(sorted, pct); };
  double sum = 0.0;
  for (double l : m.latency_ms) sum += l;
  m.mean_latency_ms = sum / n;
  m.p50_latency_ms = rank(50);
  m.p95_latency_ms = rank(95);
  m.p99_latency_ms = rank(99);
  m.worst_latency_ms = sorted.back();

  const int results = static_cast<int>(first_count.size());
  m.exit_share.assign(results, 0.0);
  m.exit_latency_ms.assign(results, Metrics::kUnknown);
  for (int k = 0; k < results; ++k) {
    m.exit_share[k] = static_cast<double>(first_count[k]) / n;
    if (first_count[k] > 0) m.exit_latency_ms[k] = first_latency_sum[k] / first_count[k];
  }
}

}  // namespace hetmap
