#pragma once
// Validation: predict a set of mappings with the simulator, execute them for real on a
// backend, and compare (docs/validation.md). The prediction is the discrete-event simulator
// run with the same number of inputs, the same closed-loop arrivals and the same exit draws
// (hetmap::ExitPlan, same seed) as the execution, so predicted and measured latencies are
// statistics over the same input sequence.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"
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
  std::function<void(const std::string&)> log;  // one line per mapping
};

struct ValidationRow {
  std::string mapping;
  double predicted_mean_ms = 0.0, measured_mean_ms = 0.0;
  double predicted_p99_ms = 0.0, measured_p99_ms = 0.0;
  double error_pct = 0.0;     // 100 * (predicted_mean - measured_mean) / measured_mean
};

struct ValidationReport {
  std::vector<ValidationRow> rows;
  double mape_pct = 0.0;      // over the mean latencies
  double tau_b = 0.0;         // of predicted vs measured mean latencies (NaN if undefined)
  double p99_mape_pct = 0.0;  // over the p99 latencies
};

/// Latencies of one executed mapping (ms): warmup_inputs + inputs of them, in input order, for
/// closed-loop arrivals and the ExitPlan of `seed`.
using Measure = std::function<std::vector<double>(const Config& config, const NamedMapping& mapping)>;

/// Predicts every mapping with the DES and measures it with `measure`; fills the metrics.
ValidationReport validate(const Problem& problem, const std::vector<NamedMapping>& mappings,
                          const ValidateOptions& options, const Measure& measure);

/// Executes every mapping with the executor on `backend` (a profile `problem` made for it).
ValidationReport validate(Backend& backend, const Problem& problem,
                          const std::vector<NamedMapping>& mappings, const ValidateOptions& options);

/// validation.csv: mapping,predicted_mean_ms,measured_mean_ms,predicted_p99_ms,measured_p99_ms,error_pct
std::string validation_csv(const ValidationReport& report, const std::string& source_comment = "");

/// Summary statistics of a latency list: mean and 99th percentile (linear interpolation).
double mean_of(const std::vector<double>& v);
double p99_of(std::vector<double> v);

}  // namespace hetmap::backend
