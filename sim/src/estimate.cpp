#include "hetmap/estimate.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "hetmap/cost.hpp"
#include "hetmap/error.hpp"

namespace hetmap {

namespace {

// Ops a runtime launches as kernels of their own. ReLU and batch normalisation are fused into
// the preceding convolution by every inference library the profiles come from (ACL, cuDNN,
// TFLite), and flatten is a reshape: counting them would make the per-op term depend on how a
// model file spells a network rather than on what runs.
double launched_ops(const Op& op) {
  if (op.kind == OpKind::block) {
    double n = 0.0;
    for (const Op& b : op.body) n += launched_ops(b);
    return n;
  }
  switch (op.kind) {
    case OpKind::relu:
    case OpKind::batchnorm:
    case OpKind::flatten:
      return 0.0;
    default:
      return 1.0;
  }
}

const char* const kTermNames[kTimeTerms] = {"overhead", "op", "mac", "byte"};

std::array<double, kTimeTerms> features(const LayerWork& w) {
  return {1.0, w.ops, w.gmacs, w.mbytes};
}

// Shortest text that reads back as the same double, for the messages.
std::string fmt_num(double v) { return fmt::format("{}", v); }
// Estimates are kept to six significant digits: far below their error.
double six_digits(double v) { return std::stod(fmt::format("{:.6g}", v)); }

}  // namespace

LayerWork layer_work(const Model& model, int layer) {
  const OpCost c = layer_cost(model, layer);
  LayerWork w;
  w.ops = launched_ops(model.layers.at(static_cast<std::size_t>(layer)));
  w.gmacs = static_cast<double>(c.macs) * 1e-9;
  w.mbytes = static_cast<double>(c.in_bytes + c.out_bytes + 4 * c.params) * 1e-6;
  return w;
}

unsigned parse_terms(const std::string& text, const std::string& what) {
  unsigned terms = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string name = text.substr(start, comma - start);
    int k = 0;
    while (k < kTimeTerms && name != kTermNames[k]) ++k;
    if (k == kTimeTerms)
      throw InputError(what, 0, "unknown term '" + name + "' (expected overhead, op, mac or byte)");
    terms |= 1u << k;
    start = comma + 1;
  }
  return terms;
}

std::string terms_string(unsigned terms) {
  std::string s;
  for (int k = 0; k < kTimeTerms; ++k)
    if (terms & (1u << k)) s += (s.empty() ? "" : ",") + std::string(kTermNames[k]);
  return s;
}

double TimeModel::predict(const LayerWork& w) const {
  const auto x = features(w);
  double t = 0.0;
  for (int k = 0; k < kTimeTerms; ++k) t += coef[k] * x[k];
  return t;
}

TimeModel fit_time_model(const std::vector<TimeSample>& samples, unsigned terms) {
  const int n = static_cast<int>(samples.size());
  // Rows scaled by 1/t turn the relative error into an ordinary residual: A c ~ 1.
  Eigen::MatrixXd a(n, kTimeTerms);
  for (int i = 0; i < n; ++i) {
    const auto x = features(samples[i].work);
    for (int k = 0; k < kTimeTerms; ++k) a(i, k) = x[k] / samples[i].ms;
  }
  // Columns scaled to unit maximum: MACs (1e-3..10 G) and bytes differ by orders of magnitude.
  Eigen::VectorXd scale = Eigen::VectorXd::Ones(kTimeTerms);
  for (int k = 0; k < kTimeTerms; ++k) {
    const double m = n > 0 ? a.col(k).cwiseAbs().maxCoeff() : 0.0;
    if (m > 0) scale(k) = m;
    a.col(k) /= scale(k);
  }
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);

  // Exact NNLS for a handful of terms: the optimum is the unconstrained solution on its set
  // of positive coefficients, so the best non-negative subset solution is the optimum.
  TimeModel best;
  double best_residual = std::numeric_limits<double>::infinity();
  for (unsigned subset = 1; subset <= kAllTerms; ++subset) {
    if ((subset & terms) != subset) continue;
    std::vector<int> cols;
    for (int k = 0; k < kTimeTerms; ++k)
      if (subset & (1u << k)) cols.push_back(k);
    Eigen::MatrixXd as(n, static_cast<int>(cols.size()));
    for (std::size_t j = 0; j < cols.size(); ++j) as.col(static_cast<int>(j)) = a.col(cols[j]);
    const Eigen::VectorXd c = as.colPivHouseholderQr().solve(ones);
    if (!c.allFinite() || (c.array() < 0.0).any()) continue;
    const double residual = (as * c - ones).squaredNorm();
    if (residual < best_residual) {
      best_residual = residual;
      best = TimeModel{};
      for (std::size_t j = 0; j < cols.size(); ++j)
        best.coef[cols[j]] = c(static_cast<int>(j)) / scale(cols[j]);
    }
  }
  return best;  // all zero when there are no samples
}

void ErrorStats::add(double predicted, double measured) {
  const double ape = std::abs(predicted - measured) / measured * 100.0;
  mape = (mape * n + ape) / (n + 1);
  max_ape = std::max(max_ape, ape);
  ++n;
}

ErrorStats errors(const TimeModel& model, const std::vector<TimeSample>& samples) {
  ErrorStats e;
  for (const TimeSample& s : samples) e.add(model.predict(s.work), s.ms);
  return e;
}

bool OperatingPoint::operator<(const OperatingPoint& o) const {
  return std::tie(proc, freq_mhz, threads) < std::tie(o.proc, o.freq_mhz, o.threads);
}
bool OperatingPoint::operator==(const OperatingPoint& o) const {
  return proc == o.proc && freq_mhz == o.freq_mhz && threads == o.threads;
}

std::string to_string(const OperatingPoint& point, const Platform& platform) {
  const Processor& p = platform.processors.at(static_cast<std::size_t>(point.proc));
  std::string s = p.name;
  if (point.freq_mhz > 0) s += "@" + fmt_num(point.freq_mhz) + "MHz";
  if (point.threads != p.cores) s += "/" + std::to_string(point.threads) + "t";
  return s;
}

CalibrationSet load_calibration(const std::string& spec, const Platform& platform) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw InputError("--calibrate", 0,
                     "expected MODEL.yaml:PROFILE.csv, got '" + spec + "'");
  CalibrationSet set;
  set.model_file = spec.substr(0, colon);
  set.profile_file = spec.substr(colon + 1);
  set.model = load_model(set.model_file);
  set.profile = load_profile(set.profile_file, set.model, platform);
  return set;
}

namespace {

using PointSamples = std::map<OperatingPoint, std::vector<TimeSample>>;

// Samples of one calibration set per operating point (rows with a zero time carry no
// relative error and are left out).
PointSamples samples_of(const CalibrationSet& set) {
  PointSamples out;
  for (const ProfileRow& r : set.profile.rows()) {
    if (r.mean_ms <= 0) continue;
    out[{r.proc, r.freq_mhz, r.threads}].push_back({layer_work(set.model, r.layer), r.mean_ms});
  }
  return out;
}

}  // namespace

std::vector<PointFit> fit_points(const std::vector<CalibrationSet>& sets, unsigned terms,
                                 int min_samples, int skip) {
  std::map<OperatingPoint, std::pair<std::vector<TimeSample>, std::vector<std::string>>> pooled;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    if (static_cast<int>(s) == skip) continue;
    for (auto& [point, samples] : samples_of(sets[s])) {
      auto& [all, names] = pooled[point];
      all.insert(all.end(), samples.begin(), samples.end());
      names.push_back(sets[s].model.name);
    }
  }
  std::vector<PointFit> fits;
  for (const auto& [point, entry] : pooled) {
    const auto& [samples, names] = entry;
    if (static_cast<int>(samples.size()) < min_samples) continue;
    PointFit f;
    f.point = point;
    f.model = fit_time_model(samples, terms);
    f.in_sample = errors(f.model, samples);
    f.networks = names;
    fits.push_back(std::move(f));
  }
  return fits;
}

CrossValidation cross_validate(const std::vector<CalibrationSet>& sets, const Platform& platform,
                               unsigned terms, int min_samples) {
  const std::size_t procs = platform.processors.size();
  CrossValidation cv;
  cv.by_processor.resize(procs);
  for (std::size_t s = 0; s < sets.size(); ++s) {
    cv.networks.push_back(sets[s].model.name);
    cv.by_network.emplace_back(procs);
    const std::vector<PointFit> fits = fit_points(sets, terms, min_samples, static_cast<int>(s));
    for (const auto& [point, samples] : samples_of(sets[s])) {
      auto fit = std::find_if(fits.begin(), fits.end(),
                              // By init-capture: a lambda may not name a structured binding
                              // before C++20 (clang refuses it).
                              [&at = point](const PointFit& f) { return f.point == at; });
      if (fit == fits.end()) continue;  // no other network measured this operating point
      for (const TimeSample& x : samples) {
        const double predicted = fit->model.predict(x.work);
        cv.by_network[s][point.proc].add(predicted, x.ms);
        cv.by_processor[point.proc].add(predicted, x.ms);
        cv.overall.add(predicted, x.ms);
      }
    }
  }
  return cv;
}

namespace {

// "a, b on big, gpu; c on npu": layers grouped by the processors they have, in model order.
std::string cells_text(const Model& model, const Platform& platform,
                       const std::vector<std::vector<bool>>& cells) {
  std::vector<std::pair<std::vector<bool>, std::vector<std::string>>> groups;
  std::map<std::vector<bool>, std::size_t> group_of;  // a lookup per layer, not a scan of groups
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    if (std::none_of(cells[l].begin(), cells[l].end(), [](bool b) { return b; })) continue;
    const auto [g, added] = group_of.try_emplace(cells[l], groups.size());
    if (added) groups.push_back({cells[l], {}});
    groups[g->second].second.push_back(model.layers[l].name);
  }
  std::string s;
  for (const auto& [procs, layers] : groups) {
    if (!s.empty()) s += "; ";
    for (std::size_t i = 0; i < layers.size(); ++i) s += (i ? ", " : "") + layers[i];
    s += " on";
    bool first = true;
    for (std::size_t p = 0; p < procs.size(); ++p)
      if (procs[p]) {
        s += (first ? " " : ", ") + platform.processors[p].name;
        first = false;
      }
  }
  return s.empty() ? "none" : s;
}

}  // namespace

EstimatedProfile estimated_profile(const Model& model, const Platform& platform,
                                   const std::vector<PointFit>& fits, const Profile* measured,
                                   const std::vector<bool>& estimate_on,
                                   const std::string& provenance) {
  EstimatedProfile out;
  const std::size_t procs = platform.processors.size();
  const std::size_t layers = model.layers.size();
  auto measured_layer = [&](std::size_t l) {
    for (std::size_t p = 0; measured && p < procs; ++p)
      if (measured->has_rows(static_cast<int>(l), static_cast<int>(p))) return true;
    return false;
  };
  std::vector<std::vector<bool>> is_measured(layers, std::vector<bool>(procs, false));
  std::vector<std::vector<bool>> is_estimated(layers, std::vector<bool>(procs, false));
  Profile profile = Profile::empty(model, platform);
  for (std::size_t l = 0; l < layers; ++l) {
    const LayerWork work = layer_work(model, static_cast<int>(l));
    const bool was_measured = measured_layer(l);
    for (std::size_t p = 0; p < procs; ++p) {
      if (was_measured) {
        for (ProfileRow r : measured->rows_of(static_cast<int>(l), static_cast<int>(p))) {
          r.default_freq = false;  // the frequency it was measured at, written out
          profile.add(r);
          is_measured[l][p] = true;
          ++out.measured_rows;
        }
        continue;
      }
      for (const PointFit& f : fits) {
        if (f.point.proc != static_cast<int>(p) || !estimate_on.at(p)) continue;
        is_estimated[l][p] = true;
        ProfileRow r;
        r.layer = static_cast<int>(l);
        r.proc = f.point.proc;
        r.freq_mhz = f.point.freq_mhz;
        r.threads = f.point.threads;
        r.mean_ms = six_digits(f.model.predict(work));  // mean_ms only: no spread, no samples
        profile.add(r);
        ++out.estimated_rows;
      }
    }
  }
  profile.source = "hetmap estimate for model " + model.name + " on " + platform.name +
                   ". MEASURED rows: " + cells_text(model, platform, is_measured);
  if (measured) {
    profile.source += " (copied from " + measured->file;
    if (!measured->source.empty()) profile.source += ", whose source: " + measured->source;
    profile.source += ")";
  }
  profile.source += ". ESTIMATED rows (mean_ms only, one per fitted frequency/threads): " +
                    cells_text(model, platform, is_estimated) + " (" + provenance + ")";
  out.csv = to_csv(profile, model, platform);
  return out;
}

std::string copied_transfers_csv(const Model& model, const Platform& platform,
                                 const Transfers& transfers, const std::string& measured_source) {
  Transfers copy = transfers;
  copy.source = "copied by hetmap estimate from " + transfers.file +
                " (measured copies of the same tensors of the backbone the model shares";
  if (!measured_source.empty()) copy.source += "; it says: " + measured_source;
  copy.source += "). Tensors not listed (e.g. exit branch inputs and results) cost the platform's "
                 "link formula.";
  return to_csv(copy, model, platform);
}

}  // namespace hetmap
