#pragma once
// Running a sweep: every point validated first (nothing is written for a bad experiment), then
// run in parallel (oneTBB). Each point writes its own folder DIR/points/ID/ (its files all or
// none, docs/design.md "Output files") and, last, its summary.json, atomically: a killed sweep
// loses at most the points in flight, and --resume skips the points whose summary says ok.
// DIR/results.csv (hetmap/sweep/results.hpp) is rebuilt from the summaries after
// every point. The points may be spread over several processes (MPI ranks, see
// hetmap/sweep/distributed.hpp) through a Group; then rank 0 writes results.csv once, after
// every rank is done. Without a group, this process runs them all.
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetmap/sweep/experiment.hpp"

namespace hetmap::sweep {

/// The processes one sweep is spread over (all must call the same functions in the same order).
/// Rank 0 prepares the folder and writes results.csv; the points are dealt round-robin.
class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Element-wise sum over every rank.
  virtual std::vector<long long> sum(const std::vector<long long>& values) = 0;
  /// The smallest value over every rank.
  virtual int min(int value) = 0;
  /// `values` of rank `root` on every rank (any length).
  virtual std::vector<int> broadcast(const std::vector<int>& values, int root) = 0;
};

/// Thrown on the ranks whose peer failed: that peer reports the error (once); this rank only
/// exits with the same code.
class PeerFailed : public std::runtime_error {
 public:
  explicit PeerFailed(int exit_code)
      : std::runtime_error("failed on another rank"), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// Runs `step` on every rank (a no-op without a group of more than one rank: `step` just runs)
/// and agrees on its outcome: if it threw anywhere, the lowest failing rank rethrows its error
/// and every other rank throws PeerFailed with that error's exit code. Also a barrier.
void collectively(Group* group, const std::function<void()>& step);

struct SweepOptions {
  std::string out;
  bool resume = false;
  bool progress = true;    // a progress bar on stderr (only drawn on a terminal, only on rank 0)
  Group* group = nullptr;  // null: this process runs every point
};

/// Totals over every rank.
struct SweepOutcome {
  int points = 0, skipped = 0, ran = 0, failed = 0;
};

/// Loads every point's inputs and makes every check running it would make before computing
/// (the same functions: dse::plan_exploration for explore, check_simulation for simulate), so
/// that nothing is written for an experiment with a bad point. The error (InputError, or
/// InfeasibleError for a mapping that places a layer where it cannot run) names the experiment
/// file and the point ("point 003 (case=b, search.seed=2)").
void validate_sweep(const Experiment& experiment, const std::vector<Point>& points);

/// For `--resume` into `out`: the search checkpoint of every explore point that will run
/// (its summary is not ok) is checked as the point would resume it (dse::check_resume). Called
/// by run_sweep on rank 0 before it writes anything.
void validate_resume(const Experiment& experiment, const std::vector<Point>& points,
                     const std::string& out);

/// Validates, then runs every point not finished yet. With a group: every rank validates, rank 0
/// checks the folder (the resume checks, validate_resume) and prepares it before the others
/// start, each rank runs its share of the points, and rank 0 writes results.csv once every rank
/// is done; the outcome is the same on every rank.
SweepOutcome run_sweep(const Experiment& experiment, const std::vector<Point>& points,
                       const SweepOptions& options);

/// Column names of results.csv for an experiment.
std::vector<std::string> result_columns(const Experiment& experiment);

}  // namespace hetmap::sweep
