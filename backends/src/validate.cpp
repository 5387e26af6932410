#include "hetmap/backend/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <limits>
#include <stdexcept>

#include "hetmap/backend/executor.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/exits.hpp"
#include "hetmap/run.hpp"
#include "hetmap/stats.hpp"
#include "hetmap/detail/number.hpp"

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

double p99_of(std::vector<double> v) { return percentile(std::move(v), 99); }

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

double worst_path_ms(const std::vector<double>& latency_ms, const std::vector<int>& first) {
  std::map<int, std::pair<double, int>> by_result;  // sum, count
  for (std::size_t i = 0; i < latency_ms.size(); ++i) {
    auto& g = by_result[first.at(i)];
    g.first += latency_ms[i];
    ++g.second;
  }
  double worst = 0.0;
  for (const auto& [result, g] : by_result) worst = std::max(worst, g.first / g.second);
  return worst;
}

ValidationReport validate(const Problem& problem, const std::vector<NamedMapping>& mappings,
                          const ValidateOptions& o, const Measure& measure) {
  if (o.inputs < 1) throw InputError("", 0, "--inputs: expected at least 1");
  if (o.warmup_inputs < 0) throw InputError("", 0, "--warmup-inputs: expected at least 0");
  ValidationReport rep;
  for (const auto& v : o.variants) rep.variant_names.push_back(v.name);
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
  std::vector<double> pw, mw, px, mx;  // worst-path and largest latencies
  std::vector<std::vector<double>> pv(o.variants.size());
  for (const auto& v : o.variants)
    if (!v.problem || v.problem->model().layers.size() != problem.model().layers.size() ||
        v.problem->platform().processors.size() != problem.platform().processors.size())
      throw Error("", 0, "validation variant '" + v.name + "': not the same model and platform",
                  kOtherError);
  std::vector<double> pe, me;  // energies of the rows that have both
  int coarse = 0;               // rows whose run was too short for the meters
  std::string partial;          // an energy scope other than "all"
  std::string predicted_why, measured_why;
  if (!problem.platform().has_power()) {
    std::string procs;
    for (const Processor& p : problem.platform().processors)
      if (!p.has_power) procs += (procs.empty() ? "" : ", ") + p.name;
    predicted_why = "predicted: the profile's platform has no active_w for " + procs +
                    " (docs/formats.md: energy needs every processor's)";
  }
  for (const NamedMapping& m : mappings) {
    const Config config = problem.resolve(m.mapping);  // InfeasibleError names the file
    ValidationRow row;
    row.mapping = m.name;
    // Mean: the DES with mean durations, closed-loop, over the same inputs and exit draws as
    // the run.
    RunSettings d;
    d.inputs = total;
    d.arrival = Arrival{ArrivalKind::closed, 0.0};
    d.seed = o.seed;
    const Metrics mean_run = run_simulation(problem, config, d, m.name);
    const std::vector<double> predicted = measured_part(mean_run.latency_ms);
    // Each measured input's first confident result: the same draws as the DES and the run.
    ExitPlan plan(problem, config, o.seed);
    std::vector<int> first(static_cast<std::size_t>(o.inputs));
    for (int i = 0; i < total; ++i) {
      const int f = plan(i).first;
      if (i >= o.warmup_inputs) first[static_cast<std::size_t>(i - o.warmup_inputs)] = f;
    }
    row.predicted_mean_ms = mean_of(predicted);
    row.predicted_worst_ms = worst_path_ms(predicted, first);
    row.predicted_max_ms = *std::max_element(predicted.begin(), predicted.end());
    row.predicted_energy_mj = mean_run.energy_mj;  // per input over the whole stream
    for (std::size_t v = 0; v < o.variants.size(); ++v) {
      const Problem& vp = *o.variants[v].problem;
      row.variant_mean_ms.push_back(
          mean_of(measured_part(
          run_simulation(vp, vp.resolve(m.mapping), d, o.variants[v].name).latency_ms)));
      pv[v].push_back(row.variant_mean_ms.back());
    }
    // p99: the same run with durations drawn around the profiled mean and std (the exit draws
    // are a separate stream, so they do not change).
    d.jitter = true;
    row.predicted_p99_ms = p99_of(measured_part(run_simulation(problem, config, d, m.name).latency_ms));

    const Measurement run = measure(config, m);
    const std::vector<double>& all = run.latency_ms;
    if (static_cast<int>(all.size()) != total)
      throw Error("", 0, fmt::format("{}: the execution returned {} latencies, expected {}", m.name,
                                     all.size(), total), kOtherError);
    const std::vector<double> lat = measured_part(all);
    row.measured_energy_mj = run.energy_mj;
    if (std::isfinite(row.predicted_energy_mj) && std::isfinite(row.measured_energy_mj))
      row.energy_scope = "all";
    // Meters over only some processors: compare the energy of those, where the profile has
    // their power (the DES's per-processor terms).
    if (!std::isfinite(row.measured_energy_mj) && !run.metered.empty() &&
        std::isfinite(run.metered_energy_mj)) {
      double sum = 0.0;
      std::string scope;
      for (int q : run.metered) {
        sum += q < static_cast<int>(mean_run.energy_by_processor_mj.size())
                   ? mean_run.energy_by_processor_mj[static_cast<std::size_t>(q)]
                   : std::numeric_limits<double>::quiet_NaN();
        scope += (scope.empty() ? "" : "+") + problem.platform().processors[static_cast<std::size_t>(q)].name;
      }
      if (std::isfinite(sum)) {
        row.predicted_energy_mj = sum;
        row.measured_energy_mj = run.metered_energy_mj;
        row.energy_scope = scope;
      }
    }
    if (!row.energy_scope.empty() && row.energy_scope != "all") partial = row.energy_scope;
    if (!row.energy_scope.empty() && run.energy_coarse) {
      row.energy_scope += ";coarse";
      ++coarse;
    }
    if (!row.energy_scope.empty() && !run.energy_coarse && row.measured_energy_mj > 0) {
      pe.push_back(row.predicted_energy_mj);
      me.push_back(row.measured_energy_mj);
    } else if (!std::isfinite(row.measured_energy_mj) && measured_why.empty()) {
      measured_why = "measured: " + (run.energy_note.empty() ? std::string("no energy") : run.energy_note);
    }
    row.measured_mean_ms = mean_of(lat);
    row.measured_p99_ms = p99_of(lat);
    row.measured_worst_ms = worst_path_ms(lat, first);
    row.measured_max_ms = *std::max_element(lat.begin(), lat.end());
    pw.push_back(row.predicted_worst_ms);
    mw.push_back(row.measured_worst_ms);
    px.push_back(row.predicted_max_ms);
    mx.push_back(row.measured_max_ms);
    row.error_pct = 100.0 * (row.predicted_mean_ms - row.measured_mean_ms) / row.measured_mean_ms;
    pm.push_back(row.predicted_mean_ms);
    mm.push_back(row.measured_mean_ms);
    pp.push_back(row.predicted_p99_ms);
    mp.push_back(row.measured_p99_ms);
    ++done;
    if (o.log)
      o.log(fmt::format("[{:>{}}/{}] {:<{}}  predicted {:8.4f} ms  measured {:8.4f} ms  ({:+.1f}%){}",
                        done, std::to_string(mappings.size()).size(), mappings.size(), m.name,
                        name_w, row.predicted_mean_ms, row.measured_mean_ms, row.error_pct,
                        std::isfinite(row.predicted_energy_mj) || std::isfinite(row.measured_energy_mj)
                            ? fmt::format("  energy predicted {:.4g} mJ, measured {:.4g} mJ",
                                          row.predicted_energy_mj, row.measured_energy_mj)
                            : ""));
    rep.rows.push_back(std::move(row));
  }
  if (!rep.rows.empty()) {
    rep.mape_pct = mape(pm, mm);
    rep.p99_mape_pct = mape(pp, mp);
    rep.tau_b = kendall_tau_b(pm, mm);
    rep.worst_mape_pct = mape(pw, mw);
    rep.worst_tau_b = kendall_tau_b(pw, mw);
    rep.max_mape_pct = mape(px, mx);
    rep.max_tau_b = kendall_tau_b(px, mx);
    for (const auto& v : pv) {
      rep.variant_mape_pct.push_back(mape(v, mm));
      rep.variant_tau_b.push_back(kendall_tau_b(v, mm));
    }
  }
  rep.energy_rows = static_cast<int>(pe.size());
  rep.energy_mape_pct = pe.empty() ? std::numeric_limits<double>::quiet_NaN() : mape(pe, me);
  if (rep.energy_rows < static_cast<int>(rep.rows.size()) || !partial.empty()) {
    std::vector<std::string> parts;
    if (!partial.empty()) parts.push_back("energy compared over " + partial + " only (the processors "
                                          "the meters cover)");
    if (coarse > 0)
      parts.push_back(fmt::format("{} run{} shorter than {:g} updates of a meter's counter left out",
                                  coarse, coarse == 1 ? "" : "s", kCoarseUpdates));
    if (partial.empty() && !predicted_why.empty()) parts.push_back(predicted_why);
    if (!measured_why.empty()) parts.push_back(measured_why);
    if (parts.empty()) parts.push_back("a measured energy of 0");
    for (const std::string& x : parts) rep.energy_note += (rep.energy_note.empty() ? "" : "; ") + x;
  }
  return rep;
}

ValidationReport validate(Backend& backend, const Problem& problem,
                          const std::vector<NamedMapping>& mappings, const ValidateOptions& o) {
  // One set of meters for every run (an NVML meter loads the driver's library when made).
  const PowerMeters meters =
      o.power ? with_meter_specs(backend.power_meters(), o.power_meters) : PowerMeters{};
  return validate(problem, mappings, o, [&](const Config& config, const NamedMapping& mapping) {
    ExecuteOptions x;
    x.inputs = o.warmup_inputs + o.inputs;
    x.arrival = Arrival{ArrivalKind::closed, 0.0};
    x.seed = o.seed;
    x.power = o.power;
    x.meters = &meters;
    x.apply_freq = o.apply_freq;
    x.dvfs = o.dvfs;
    x.freq_settle_ms = o.freq_settle_ms;
    ExecuteResult r = execute(backend, problem, config, x);
    if (o.log && !r.freq_note.empty()) o.log(mapping.name + ": frequencies " + r.freq_note);
    return Measurement{std::move(r.metrics.latency_ms), r.metrics.energy_mj, std::move(r.energy_note),
                       std::move(r.metered_processors), r.metered_energy_mj, r.energy_coarse};
  });
}

std::string validation_csv(const ValidationReport& r, const std::string& source_comment) {
  std::string s;
  if (!source_comment.empty()) s += "# " + source_comment + "\n";
  s += "mapping,predicted_mean_ms,measured_mean_ms,predicted_p99_ms,measured_p99_ms,error_pct,"
       "predicted_energy_mj,measured_energy_mj,energy_scope,predicted_worst_ms,measured_worst_ms,"
       "predicted_max_ms,measured_max_ms";
  for (const std::string& v : r.variant_names) s += ",predicted_mean_ms_" + v;
  s += "\n";
  auto energy = [](double mj) { return std::isfinite(mj) ? fmt::format("{:.6g}", mj) : std::string(); };
  for (const ValidationRow& row : r.rows) {
    s += fmt::format("{},{:.6g},{:.6g},{:.6g},{:.6g},{:.3f},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g}",
                     detail::csv_cell(row.mapping), row.predicted_mean_ms, row.measured_mean_ms,
                     row.predicted_p99_ms, row.measured_p99_ms, row.error_pct,
                     energy(row.predicted_energy_mj), energy(row.measured_energy_mj),
                     detail::csv_cell(row.energy_scope), row.predicted_worst_ms,
                     row.measured_worst_ms, row.predicted_max_ms, row.measured_max_ms);
    for (double v : row.variant_mean_ms) s += fmt::format(",{:.6g}", v);
    s += "\n";
  }
  return s;
}

ValidationTable parse_validation_csv(const std::string& csv_text, const std::string& file) {
  const detail::CsvTable t = detail::parse_csv(csv_text, file);
  const std::string variant_prefix = "predicted_mean_ms_";
  ValidationTable v;
  v.source = t.source().value_or("");
  std::vector<int> variant_cols;
  for (std::size_t c = 0; c < t.header.size(); ++c)
    if (t.header[c].rfind(variant_prefix, 0) == 0) {
      v.variant_names.push_back(t.header[c].substr(variant_prefix.size()));
      variant_cols.push_back(static_cast<int>(c));
    }
  const int c_map = t.require("mapping"), c_pm = t.require("predicted_mean_ms"),
            c_mm = t.require("measured_mean_ms"), c_pp = t.require("predicted_p99_ms"),
            c_mp = t.require("measured_p99_ms"), c_err = t.require("error_pct");
  const int c_pe = t.column("predicted_energy_mj"), c_me = t.column("measured_energy_mj"),
            c_scope = t.column("energy_scope"), c_pw = t.column("predicted_worst_ms"),
            c_mw = t.column("measured_worst_ms"), c_px = t.column("predicted_max_ms"),
            c_mx = t.column("measured_max_ms");
  using hetmap::detail::kNaN;
  for (const auto& row : t.rows) {
    // An optional number: `absent` where the column is missing or the cell empty.
    auto number = [&](int col, double absent) {
      return col < 0 || row.cells[col].empty() ? absent : detail::csv_double(t, row, col);
    };
    ValidationRow r;
    r.mapping = row.cells[c_map];
    r.predicted_mean_ms = detail::csv_double(t, row, c_pm);
    r.measured_mean_ms = detail::csv_double(t, row, c_mm);
    r.predicted_p99_ms = detail::csv_double(t, row, c_pp);
    r.measured_p99_ms = detail::csv_double(t, row, c_mp);
    r.error_pct = detail::csv_double(t, row, c_err);
    r.predicted_energy_mj = number(c_pe, kNaN);
    r.measured_energy_mj = number(c_me, kNaN);
    if (c_scope >= 0) r.energy_scope = row.cells[c_scope];
    r.predicted_worst_ms = number(c_pw, 0.0);
    r.measured_worst_ms = number(c_mw, 0.0);
    r.predicted_max_ms = number(c_px, 0.0);
    r.measured_max_ms = number(c_mx, 0.0);
    for (int c : variant_cols) r.variant_mean_ms.push_back(detail::csv_double(t, row, c));
    v.rows.push_back(std::move(r));
  }
  return v;
}

ValidationTable load_validation_csv(const std::string& path) {
  return parse_validation_csv(detail::read_file(path), path);
}

std::string write_validation(const std::string& dir, const ValidationReport& report,
                             const std::vector<NamedMapping>& new_mappings,
                             const std::string& source_comment) {
  namespace fs = std::filesystem;
  detail::OutputSet out;
  for (const NamedMapping& m : new_mappings)
    out.write((fs::path(dir) / "mappings" / m.name).string(), to_yaml(m.mapping));
  const std::string csv = (fs::path(dir) / "validation.csv").string();
  out.write(csv, validation_csv(report, source_comment));
  out.commit();
  return csv;
}

}  // namespace hetmap::backend
