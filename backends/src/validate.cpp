#include "hetmap/backend/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "hetmap/backend/executor.hpp"
#include "hetmap/des.hpp"

namespace hetmap::backend {

double mape(const std::vector<double>& predicted, const std::vector<double>& measured) {
  if (predicted.empty() || predicted.size() != measured.size())
    throw std::invalid_argument("mape: expected two non-empty lists of equal length");
  double sum = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    if (measured[i] == 0) throw std::invalid_argument("mape: a measured value is 0");
    sum += std::abs(predicted[i] - measured[i]) / std::abs(measured[i]);
  }
  return 100.0 * sum / static_cast<double>(predicted.size());
}

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("kendall tau: lists of different length");
  const std::size_t n = x.size();
  // O(n^2): validation sets hold tens to hundreds of mappings.
  long long concordant = 0, discordant = 0, ties_x = 0, ties_y = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0) ++ties_x;  // pairs tied in both count in both tie totals
      if (dy == 0) ++ties_y;
      if (dx == 0 || dy == 0) continue;
      ((dx > 0) == (dy > 0) ? concordant : discordant)++;
    }
  const double n0 = static_cast<double>(n) * (static_cast<double>(n) - 1) / 2;
  const double denom = std::sqrt((n0 - static_cast<double>(ties_x)) * (n0 - static_cast<double>(ties_y)));
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(concordant - discordant) / denom;
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double p99_of(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  // Nearest rank, as the DES reports it: the smallest value with >= 99% at or below it.
  const std::size_t n = v.size();
  const std::size_t k = std::max<std::size_t>(1, (99 * n + 99) / 100);
  return v[k - 1];
}

std::vector<NamedMapping> load_mappings(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError(dir, 0, "not a folder (expected YAML mappings)");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(dir, 0, "no mapping files (*.yaml) in this folder");
  std::vector<NamedMapping> out;
  for (const std::string& f : files)
    out.push_back({fs::path(f).filename().string(), load_mapping(f)});
  return out;
}

ValidationReport validate(const Problem& problem, const std::vector<NamedMapping>& mappings,
                          const ValidateOptions& o, const Measure& measure) {
  if (o.inputs < 1) throw InputError("", 0, "--inputs: expected at least 1");
  if (o.warmup_inputs < 0) throw InputError("", 0, "--warmup-inputs: expected at least 0");
  ValidationReport rep;
  std::vector<double> pm, mm, pp, mp;
  std::size_t name_w = 7;
  for (const NamedMapping& m : mappings) name_w = std::max(name_w, m.name.size());
  int done = 0;
  const int total = o.warmup_inputs + o.inputs;
  // The measured inputs: the last `inputs` of the stream (the first warm up caches, pages and
  // the workers); the same ones in the simulation, so both see the same exit draws.
  auto measured_part = [&](const std::vector<double>& lat) {
    return std::vector<double>(lat.end() - o.inputs, lat.end());
  };
  for (const NamedMapping& m : mappings) {
    const Config config = problem.resolve(m.mapping);  // InfeasibleError names the file
    ValidationRow row;
    row.mapping = m.name;
    // Mean: the DES with mean durations, closed-loop, over the same inputs and exit draws as
    // the run.
    DesOptions d;
    d.inputs = total;
    d.arrival = Arrival{ArrivalKind::closed, 0.0};
    d.seed = o.seed;
    row.predicted_mean_ms = mean_of(measured_part(simulate_des(problem, config, d).latency_ms));
    // p99: the same run with durations drawn around the profiled mean and std (the exit draws
    // are a separate stream, so they do not change).
    d.jitter = true;
    row.predicted_p99_ms = p99_of(measured_part(simulate_des(problem, config, d).latency_ms));

    const std::vector<double> all = measure(config, m);
    if (static_cast<int>(all.size()) != total)
      throw Error("", 0, fmt::format("{}: the execution returned {} latencies, expected {}", m.name,
                                     all.size(), total), kOtherError);
    const std::vector<double> lat = measured_part(all);
    row.measured_mean_ms = mean_of(lat);
    row.measured_p99_ms = p99_of(lat);
    row.error_pct = 100.0 * (row.predicted_mean_ms - row.measured_mean_ms) / row.measured_mean_ms;
    pm.push_back(row.predicted_mean_ms);
    mm.push_back(row.measured_mean_ms);
    pp.push_back(row.predicted_p99_ms);
    mp.push_back(row.measured_p99_ms);
    ++done;
    if (o.log)
      o.log(fmt::format("[{:>{}}/{}] {:<{}}  predicted {:8.4f} ms  measured {:8.4f} ms  ({:+.1f}%)",
                        done, std::to_string(mappings.size()).size(), mappings.size(), m.name,
                        name_w, row.predicted_mean_ms, row.measured_mean_ms, row.error_pct));
    rep.rows.push_back(std::move(row));
  }
  if (!rep.rows.empty()) {
    rep.mape_pct = mape(pm, mm);
    rep.p99_mape_pct = mape(pp, mp);
    rep.tau_b = kendall_tau_b(pm, mm);
  }
  return rep;
}

ValidationReport validate(Backend& backend, const Problem& problem,
                          const std::vector<NamedMapping>& mappings, const ValidateOptions& o) {
  return validate(problem, mappings, o, [&](const Config& config, const NamedMapping&) {
    ExecuteOptions x;
    x.inputs = o.warmup_inputs + o.inputs;
    x.arrival = Arrival{ArrivalKind::closed, 0.0};
    x.seed = o.seed;
    return execute(backend, problem, config, x).latency_ms;
  });
}

std::string validation_csv(const ValidationReport& r, const std::string& source_comment) {
  std::string s;
  if (!source_comment.empty()) s += "# " + source_comment + "\n";
  s += "mapping,predicted_mean_ms,measured_mean_ms,predicted_p99_ms,measured_p99_ms,error_pct\n";
  for (const ValidationRow& row : r.rows) {
    std::string name = row.mapping;
    if (name.find_first_of(",\"\n") != std::string::npos) {
      std::string q = "\"";
      for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      name = q + "\"";
    }
    s += fmt::format("{},{:.6g},{:.6g},{:.6g},{:.6g},{:.3f}\n", name, row.predicted_mean_ms,
                     row.measured_mean_ms, row.predicted_p99_ms, row.measured_p99_ms, row.error_pct);
  }
  return s;
}

}  // namespace hetmap::backend
