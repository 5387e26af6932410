#pragma once
// Estimating per-layer times that were never measured, from the layers that were.
//
// A layer's time on one operating point (processor, frequency, threads) is modelled as
//
//     t_ms = c_overhead + c_op * ops + c_mac * GMACs + c_byte * MB          (every c >= 0)
//
// a roofline in its additive form: a fixed cost per layer, a cost per op it launches (a
// `block` launches its body ops), a compute term proportional to its multiply-accumulates and
// a memory term proportional to the bytes it moves (activations read and written plus its
// weights, hetmap/cost.hpp). The sum rather than the max of the compute and memory terms keeps
// the model linear in its coefficients; it is within a factor 2 of the max form.
//
// One such model is fitted per operating point, by non-negative least squares of the RELATIVE
// error over the measured layers of calibration networks (profiles of other models on the same
// platform): relative, because layer times span three orders of magnitude and the estimate is
// judged by its percentage error. `estimated_profile` then writes a profile for a new model:
// the measured rows it has, the rest estimated and labelled so. docs/estimator.md describes the
// method and its leave-one-network-out error on the Rock Pi N10 CNNs.
#include <array>
#include <string>
#include <vector>

#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/profile.hpp"

namespace hetmap {

/// The work of one top-level layer, in the units of the time model.
struct LayerWork {
  double ops = 0.0;     // ops launched: a block's body ops (nested blocks counted through), else 1
  double gmacs = 0.0;   // 1e9 multiply-accumulates
  double mbytes = 0.0;  // 1e6 bytes: activations read + written + weights (float32)
};

/// The work of model.layers[layer] (from hetmap/cost.hpp's layer_cost).
LayerWork layer_work(const Model& model, int layer);

/// The terms of the time model, as bits of a term set.
enum TimeTerm : unsigned {
  kOverheadTerm = 1u << 0,  // ms per layer
  kOpTerm = 1u << 1,        // ms per op
  kMacTerm = 1u << 2,       // ms per GMAC
  kByteTerm = 1u << 3,      // ms per MB
};
inline constexpr int kTimeTerms = 4;
inline constexpr unsigned kAllTerms = kOverheadTerm | kOpTerm | kMacTerm | kByteTerm;

/// Parses "overhead,op,mac,byte" (any non-empty subset); throws InputError naming `what`.
unsigned parse_terms(const std::string& text, const std::string& what);
/// The inverse: "overhead,op,mac,byte" for kAllTerms.
std::string terms_string(unsigned terms);

/// t_ms = coef . (1, ops, GMACs, MB); a term outside the fitted set has coefficient 0.
struct TimeModel {
  std::array<double, kTimeTerms> coef{};  // ms, ms/op, ms/GMAC, ms/MB
  double predict(const LayerWork& w) const;
};

struct TimeSample {
  LayerWork work;
  double ms = 0.0;  // measured, > 0
};

/// Minimises sum_i ((predict(x_i) - t_i) / t_i)^2 over non-negative coefficients of the terms in
/// `terms` (the others stay 0): exact non-negative least squares, by solving the unconstrained
/// problem (column-pivoted Householder QR, Eigen) on every subset of the terms and keeping the
/// best solution whose coefficients are all >= 0. Samples must have ms > 0.
TimeModel fit_time_model(const std::vector<TimeSample>& samples, unsigned terms);

/// Absolute percentage errors of a model on samples.
struct ErrorStats {
  int n = 0;
  double mape = 0.0;     // mean |predicted - measured| / measured, in percent
  double max_ape = 0.0;  // largest of them, in percent
  void add(double predicted, double measured);
};
ErrorStats errors(const TimeModel& model, const std::vector<TimeSample>& samples);

/// Where a profile row applies: a processor at a frequency (its default when it has no DVFS
/// levels, i.e. 0) and a thread count, as ProfileRow resolves them.
struct OperatingPoint {
  int proc = -1;
  double freq_mhz = 0.0;
  int threads = 0;
  bool operator<(const OperatingPoint& o) const;
  bool operator==(const OperatingPoint& o) const;
};
/// "gpu@800MHz" / "big@1800MHz/1t" (threads shown when not all cores).
std::string to_string(const OperatingPoint& point, const Platform& platform);

/// A measured network used to fit the time models: a model and its profile on the platform.
struct CalibrationSet {
  std::string model_file, profile_file;
  Model model;
  Profile profile;
};

/// Loads `MODEL.yaml:PROFILE.csv` against the platform; a missing ':' is an InputError.
CalibrationSet load_calibration(const std::string& spec, const Platform& platform);

/// The time model of one operating point and how well it fits its own samples.
struct PointFit {
  OperatingPoint point;
  TimeModel model;
  ErrorStats in_sample;
  std::vector<std::string> networks;  // calibration models that contributed rows
};

/// Fits every operating point that has at least `min_samples` measured rows (mean > 0) in the
/// calibration sets, leaving out the set `skip` (-1 = none). Ordered by operating point.
std::vector<PointFit> fit_points(const std::vector<CalibrationSet>& sets, unsigned terms,
                                 int min_samples, int skip = -1);

/// Leave-one-network-out cross-validation: each set's rows predicted by the fits of the others
/// (at the same operating point), errors per (set, processor) and per processor overall.
struct CrossValidation {
  std::vector<std::string> networks;               // set model names, in set order
  std::vector<std::vector<ErrorStats>> by_network;  // [set][processor]
  std::vector<ErrorStats> by_processor;             // [processor], over every held-out row
  ErrorStats overall;
};
CrossValidation cross_validate(const std::vector<CalibrationSet>& sets, const Platform& platform,
                               unsigned terms, int min_samples);

/// A profile of `model`: a layer with rows in `measured` (may be null) keeps exactly those rows
/// (where it was not measured it cannot run, as in the measured profile); a layer without any
/// gets one estimated row per fitted operating point of every processor p with
/// `estimate_on[p]`. `provenance` (how the fits were made, their errors) goes into the
/// `# source:` line, which names exactly which rows are measured (from where) and which
/// estimated.
struct EstimatedProfile {
  std::string csv;  // the profile's text
  int measured_rows = 0, estimated_rows = 0;
};
EstimatedProfile estimated_profile(const Model& model, const Platform& platform,
                                   const std::vector<PointFit>& fits, const Profile* measured,
                                   const std::vector<bool>& estimate_on,
                                   const std::string& provenance);

/// `transfers` (measured copies of a profile given to estimated_profile as `measured`; loaded
/// against `model`) as the text of a `MODEL.transfers.csv` for the estimated profile: the same
/// tensors cost what was measured, every other copy what the platform's links say.
/// `measured_source` is what the copied file says of its source.
std::string copied_transfers_csv(const Model& model, const Platform& platform,
                                 const Transfers& transfers, const std::string& measured_source);

}  // namespace hetmap
