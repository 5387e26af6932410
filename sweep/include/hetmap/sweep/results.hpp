#pragma once
// A sweep's DIR/results.csv (docs/experiments.md): its writer and its reader, one row per point
// that has a summary.
#include <limits>
#include <string>
#include <vector>

namespace hetmap::sweep {

/// One row: the point, its task and outcome, and its metrics.
struct PointResult {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int id = 0;
  std::vector<std::string> values;  // one per key (point_keys of the experiment)
  std::string task;                 // explore or simulate
  std::string status;               // "ok" or "error: ..."
  double best_mean_latency_ms = kNone, best_worst_latency_ms = kNone, best_energy_mj = kNone;
  double hypervolume = kNone;
  long front_size = -1;             // -1: none (a simulation, or a failed point)
  std::string improvement_objective;
  double improvement_pct = kNone;
  std::string dir;                  // relative to the sweep's folder: points/ID
};

struct ResultsTable {
  std::vector<std::string> keys;  // the experiment's point keys: `case`, then the grid keys
  std::vector<PointResult> rows;
};

/// The columns: `id`, the keys, `task`, `status`, the metrics, `dir`.
std::vector<std::string> results_columns(const std::vector<std::string>& keys);
/// A row's cells as results.csv holds them (before CSV quoting): numbers written exactly, an
/// absent one (NaN, front_size -1) empty.
std::vector<std::string> result_cells(const PointResult& row);

/// results.csv text: the columns, then a row per point, every cell through the one CSV cell
/// writer.
std::string results_csv(const ResultsTable& table);
/// Reads results.csv text back; InputError naming the file and line when it is not one.
ResultsTable parse_results_csv(const std::string& csv_text, const std::string& file);
ResultsTable load_results_csv(const std::string& path);

}  // namespace hetmap::sweep
