#include "hetmap/stats.hpp"

#include <algorithm>
#include <limits>

namespace hetmap {

double nearest_rank(const std::vector<double>& sorted, int pct) {
  const long long n = static_cast<long long>(sorted.size());
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const long long k = std::max(1LL, (static_cast<long long>(pct) * n + 99) / 100);  // ceil, >= 1
  return sorted[static_cast<std::size_t>(std::min(k, n) - 1)];
}

double percentile(std::vector<double> values, int pct) {
  std::sort(values.begin(), values.end());
  return nearest_rank(values, pct);
}

}  // namespace hetmap
