#pragma once
// Summary statistics every part of hetmap reports the same way: one percentile definition for
// the DES's latency percentiles, the profiler's p99_ms column and validation's p99s.
#include <vector>

namespace hetmap {

/// The nearest-rank percentile (docs/semantics.md, "Many inputs"): the smallest value with at
/// least `pct` percent of the values at or below it, i.e. the ceil(pct/100 x n)-th smallest
/// (at least the first). `sorted` must be ascending; NaN when it is empty. `pct` in 1..100.
double nearest_rank(const std::vector<double>& sorted, int pct);

/// The same over values in any order (sorts a copy).
double percentile(std::vector<double> values, int pct);

}  // namespace hetmap
