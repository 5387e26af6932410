#pragma once
// Validation: predict a set of mappings with the simulator, execute them for real on a
// backend, and compare (docs/validation.md). The prediction is the discrete-event simulator
// run with the same number of inputs, the same closed-loop arrivals and the same exit draws
// (hetmap::ExitPlan, same seed) as the execution, so predicted and measured latencies are
// statistics over the same input sequence.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/problem.hpp"

namespace hetmap::backend {

/// Mean absolute percentage error, in percent: 100/n * sum |p - m| / |m|. Throws
/// std::invalid_argument on empty or different-length input or a measured value of 0.
double mape(const std::vector<double>& predicted, const std::vector<double>& measured);

/// Kendall's tau-b rank correlation of two equally long sequences, tie-corrected:
/// (concordant - discordant) / sqrt((n0 - ties_x) * (n0 - ties_y)), n0 = n(n-1)/2.
/// NaN when either sequence is constant (or shorter than 2).
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

struct NamedMapping {
  std::string name;  // the row's `mapping` column: a file name relative to the mappings folder
  Mapping mapping;
};

/// The YAML mappings (*.yaml, *.yml) of a folder, in file-name order.
std::vector<NamedMapping> load_mappings(const std::string& dir);

struct ValidateOptions {
  int inputs = 50;            // measured inputs per mapping, closed-loop (one after the other)
  int warmup_inputs = 5;      // run (and simulated) first in the same stream, not counted
  std::uint64_t seed = 1;     // exit draws of both the simulation and the execution
  bool power = true;          // measure energy with the backend's power meters
  /// Board meters in place of the backend's own (`--power-meter`, power.hpp: with_meter_specs).
  std::vector<MeterSpec> power_meters;
  /// Set each mapping's freq_mhz before its run (ExecuteOptions::apply_freq, docs/dvfs.md);
  /// false (`--no-dvfs`): leave frequencies to the governor.
  bool apply_freq = true;
  DvfsOptions dvfs;           // sysfs root, writer, read-back (tests: a fake tree)
  int freq_settle_ms = 50;    // ExecuteOptions::freq_settle_ms
  std::function<void(const std::string&)> log;  // one line per mapping
  /// The same mappings predicted again with other problems (same model and platform
  /// processors): a profile or platform with one term of the model removed, to show what
  /// each term buys (docs/validation.md). Not owned; each gets a MAPE in the report.
  struct Variant {
    std::string name;  // e.g. "no_launch_overhead"; a column predicted_mean_ms_NAME
    const Problem* problem = nullptr;
  };
  std::vector<Variant> variants;
};

struct ValidationRow {
  std::string mapping;
  double predicted_mean_ms = 0.0, measured_mean_ms = 0.0;
  double predicted_p99_ms = 0.0, measured_p99_ms = 0.0;
  double error_pct = 0.0;     // 100 * (predicted_mean - measured_mean) / measured_mean
  /// Energy per input (mJ) over the whole stream (warm-up inputs included, on both sides: the
  /// executor's meters cannot split a run): the DES's, NaN when the profile's platform lacks
  /// power (docs/formats.md); the executor's measured one, NaN when not every processor has a
  /// meter.
  double predicted_energy_mj = std::numeric_limits<double>::quiet_NaN();
  double measured_energy_mj = std::numeric_limits<double>::quiet_NaN();
  /// The processors the two energies cover: "all", or (when the meters cover only some
  /// processors and the profile has their power) their names joined by '+', e.g. "gpu"; ""
  /// when there is no energy to compare. ";coarse" is appended when the run was too short for
  /// the meters (Measurement::energy_coarse): such rows are not in the energy MAPE.
  std::string energy_scope;
  /// Worst-case latency as the search minimises it (docs/semantics.md, worst_latency): the
  /// slowest result's latency, i.e. the largest over results k of the mean latency of the
  /// measured inputs whose first confident result is k (the same exit draws on both sides);
  /// for a model without exits, the mean latency. Predicted by the DES with mean durations.
  double predicted_worst_ms = 0.0, measured_worst_ms = 0.0;
  /// The largest single latency of the measured inputs (a run's tail: it also holds the
  /// machine's noise, which the mean-duration DES does not model).
  double predicted_max_ms = 0.0, measured_max_ms = 0.0;
  std::vector<double> variant_mean_ms;  // per ValidateOptions::variants, predicted mean
};

struct ValidationReport {
  std::vector<ValidationRow> rows;
  double mape_pct = 0.0;      // over the mean latencies
  double tau_b = 0.0;         // of predicted vs measured mean latencies (NaN if undefined)
  double p99_mape_pct = 0.0;  // over the p99 latencies
  double worst_mape_pct = 0.0, worst_tau_b = 0.0;  // over the worst-path latencies
  double max_mape_pct = 0.0, max_tau_b = 0.0;      // over the largest latencies
  std::vector<std::string> variant_names;                // ValidateOptions::variants' names
  std::vector<double> variant_mape_pct, variant_tau_b;  // per variant
  /// MAPE of the energies over the rows where both sides have one and the run was long enough
  /// for the meters (NaN if none); how many.
  double energy_mape_pct = 0.0;
  int energy_rows = 0;
  /// Why energy is not compared on every row ("" when it is): the predicted side, the measured
  /// side, or both.
  std::string energy_note;
};

/// What one executed mapping measured: warmup_inputs + inputs latencies (ms), in input order,
/// for closed-loop arrivals and the ExitPlan of `seed`; the energy per input over all of them
/// (mJ, NaN if not measured) and how it was measured or why not (ExecuteResult::energy_note).
struct Measurement {
  std::vector<double> latency_ms;
  double energy_mj = std::numeric_limits<double>::quiet_NaN();
  std::string energy_note;
  /// Where the meters cover only some processors: those processors and their measured
  /// energy per input (mJ), for a comparison over that scope (ValidationRow::energy_scope).
  std::vector<int> metered;
  double metered_energy_mj = std::numeric_limits<double>::quiet_NaN();
  /// The run was shorter than 10 updates of a meter's counter: its energy is too coarse to
  /// count in the energy MAPE (it is still written).
  bool energy_coarse = false;
};
using Measure = std::function<Measurement(const Config& config, const NamedMapping& mapping)>;

/// Predicts every mapping with the DES and measures it with `measure`; fills the metrics.
ValidationReport validate(const Problem& problem, const std::vector<NamedMapping>& mappings,
                          const ValidateOptions& options, const Measure& measure);

/// Executes every mapping with the executor on `backend` (a profile `problem` made for it).
ValidationReport validate(Backend& backend, const Problem& problem,
                          const std::vector<NamedMapping>& mappings, const ValidateOptions& options);

/// validation.csv: mapping,predicted_mean_ms,measured_mean_ms,predicted_p99_ms,measured_p99_ms,
/// error_pct,predicted_energy_mj,measured_energy_mj,energy_scope,predicted_worst_ms,
/// measured_worst_ms,predicted_max_ms,measured_max_ms, then predicted_mean_ms_NAME per variant (an
/// energy cell is empty when not available). Times and energies to six significant digits,
/// error_pct to three decimals; `source_comment` (e.g. "source: ...") becomes the first line,
/// after a '#'.
std::string validation_csv(const ValidationReport& report, const std::string& source_comment = "");

/// What validation.csv holds, as parse_validation_csv reads it back: the rows (to the digits
/// written; energies NaN where empty), the variants' names, the `# source:` line.
struct ValidationTable {
  std::string source;
  std::vector<std::string> variant_names;
  std::vector<ValidationRow> rows;
};
/// Reads validation.csv text; InputError naming the file and line on a missing column or a bad
/// number. Files written before the worst/max columns existed read with those at 0.
ValidationTable parse_validation_csv(const std::string& csv_text, const std::string& file);
ValidationTable load_validation_csv(const std::string& path);

/// Writes DIR/validation.csv and each of `new_mappings` as DIR/mappings/NAME, all or none
/// (detail::OutputSet, docs/design.md "Output files"); returns validation.csv's path.
std::string write_validation(const std::string& dir, const ValidationReport& report,
                             const std::vector<NamedMapping>& new_mappings,
                             const std::string& source_comment);

/// The slowest result's mean latency: inputs grouped by first confident result (`first`, one
/// per latency), the largest group mean.
double worst_path_ms(const std::vector<double>& latency_ms, const std::vector<int>& first);

/// Summary statistics of a latency list: mean and 99th percentile (nearest rank, hetmap/stats.hpp).
double mean_of(const std::vector<double>& v);
double p99_of(std::vector<double> v);

}  // namespace hetmap::backend
