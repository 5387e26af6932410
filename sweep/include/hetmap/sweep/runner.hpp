#pragma once
// Running a sweep: every point validated first (nothing is written for a bad experiment), then
// run in parallel (oneTBB). Each point writes its own folder DIR/points/ID/ and, last, its
// summary.json, atomically: a killed sweep loses at most the points in flight, and --resume
// skips the points whose summary says ok. DIR/results.csv is rebuilt from the summaries after
// every point.
#include <string>

#include "hetmap/sweep/experiment.hpp"

namespace hetmap::sweep {

struct SweepOptions {
  std::string out;
  bool resume = false;
  bool progress = true;  // a progress bar on stderr (only drawn on a terminal)
};

struct SweepOutcome {
  int points = 0, skipped = 0, ran = 0, failed = 0;
};

/// Loads every point's inputs and checks its settings: InputError before anything is written.
void validate_sweep(const Experiment& experiment, const std::vector<Point>& points);

/// Validates, then runs every point not finished yet.
SweepOutcome run_sweep(const Experiment& experiment, const std::vector<Point>& points,
                       const SweepOptions& options);

/// Column names of results.csv for an experiment.
std::vector<std::string> result_columns(const Experiment& experiment);

}  // namespace hetmap::sweep
