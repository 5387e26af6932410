// `hetmap estimate`: a profile for a model whose layers were not all measured, from a time
// model fitted to measured networks on the same platform (hetmap/estimate.hpp,
// docs/estimator.md).
#include <fmt/format.h>

#include <bitset>
#include <filesystem>
#include <optional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "flags.hpp"
#include "output.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/error.hpp"
#include "hetmap/estimate.hpp"

namespace hetmap::cli {

namespace {

// NAME.transfers.csv for an output NAME.csv (transfers_path_for wants the file to exist).
std::optional<std::string> transfers_path_for_output(const std::string& out) {
  const std::filesystem::path p(out);
  if (p.extension() != ".csv") return std::nullopt;
  return (p.parent_path() / (p.stem().string() + ".transfers.csv")).string();
}

struct EstimateOptions {
  std::string model, platform, measured, out, terms = "overhead,mac,byte";
  std::vector<std::string> calibrate, processors;
  int min_samples = 0;  // 0: one more than the number of terms
  bool cross_validate = false;
};

std::string percent(const ErrorStats& e) {
  return e.n == 0 ? std::string("-") : fmt::format("{:.1f}%", e.mape);
}

// "big 9.8% (max 31%, 488 rows), gpu ..." over the processors that get estimates and have
// samples.
std::string per_processor(const Platform& pf, const std::vector<ErrorStats>& by_proc,
                          const std::vector<bool>& shown) {
  std::string s;
  for (std::size_t p = 0; p < by_proc.size(); ++p) {
    if (by_proc[p].n == 0 || !shown[p]) continue;
    s += fmt::format("{}{} {:.1f}% (max {:.0f}%, {} rows)", s.empty() ? "" : ", ",
                     pf.processors[p].name, by_proc[p].mape, by_proc[p].max_ape, by_proc[p].n);
  }
  return s;
}

void print_fits(const Platform& pf, const std::vector<PointFit>& fits) {
  std::cout << fmt::format("{:<22} {:>5} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8}\n", "fit",
                           "rows", "ms/layer", "ms/op", "ms/GMAC", "ms/MB", "MAPE", "max");
  for (const PointFit& f : fits)
    std::cout << fmt::format("{:<22} {:>5} {:>11.4g} {:>11.4g} {:>11.4g} {:>11.4g} {:>7.1f}% {:>7.0f}%\n",
                             to_string(f.point, pf), f.in_sample.n, f.model.coef[0],
                             f.model.coef[1], f.model.coef[2], f.model.coef[3], f.in_sample.mape,
                             f.in_sample.max_ape);
}

void print_cross_validation(const Platform& pf, const CrossValidation& cv) {
  std::cout << "\nleave-one-network-out MAPE (each network predicted by fits on the others):\n";
  std::cout << fmt::format("{:<16}", "network");
  for (const Processor& p : pf.processors) std::cout << fmt::format(" {:>8}", p.name);
  std::cout << "\n";
  for (std::size_t s = 0; s < cv.networks.size(); ++s) {
    std::cout << fmt::format("{:<16}", cv.networks[s]);
    for (const ErrorStats& e : cv.by_network[s]) std::cout << fmt::format(" {:>8}", percent(e));
    std::cout << "\n";
  }
  std::cout << fmt::format("{:<16}", "all");
  for (const ErrorStats& e : cv.by_processor) std::cout << fmt::format(" {:>8}", percent(e));
  std::cout << fmt::format("\noverall {} over {} rows\n", percent(cv.overall), cv.overall.n);
}

int run_estimate(const EstimateOptions& o) {
  detail::check_output_file(o.out, "--out");
  const Platform platform = load_platform(o.platform);
  const Model model = load_model(o.model);
  const unsigned terms = parse_terms(o.terms, "--terms");
  const int n_terms = static_cast<int>(std::bitset<kTimeTerms>(terms).count());
  const int min_samples = o.min_samples > 0 ? o.min_samples : n_terms + 1;

  std::vector<CalibrationSet> sets;
  for (const std::string& spec : o.calibrate) sets.push_back(load_calibration(spec, platform));
  std::optional<Profile> measured;
  std::optional<Transfers> transfers;  // measured copies beside --measured, if any
  std::string transfers_out;
  if (!o.measured.empty()) {
    measured = load_profile(o.measured, model, platform);
    if (const auto path = transfers_path_for(o.measured)) {
      transfers = load_transfers(*path, model, platform);
      const auto out_path = transfers_path_for_output(o.out);
      if (!out_path)
        throw InputError(o.out, 0, "-o: expected a name ending in .csv (the measured copies go "
                                   "to NAME.transfers.csv beside it)");
      transfers_out = *out_path;
    }
  }

  std::vector<bool> estimate_on(platform.processors.size(), o.processors.empty());
  for (const std::string& name : o.processors) {
    const int p = platform.find(name);
    if (p < 0)
      throw InputError("--processors", 0,
                       "unknown processor '" + name + "' (not in platform " + platform.name + ")");
    estimate_on[static_cast<std::size_t>(p)] = true;
  }
  const std::vector<PointFit> fits = fit_points(sets, terms, min_samples);
  if (fits.empty())
    throw InputError("--calibrate", 0,
                     fmt::format("no operating point (processor, frequency, threads) has {} or "
                                 "more measured rows to fit {} terms",
                                 min_samples, n_terms));

  // How the estimates were made, for the profile's source line.
  std::vector<ErrorStats> in_sample(platform.processors.size());
  for (const PointFit& f : fits) {
    ErrorStats& e = in_sample[f.point.proc];
    // Pool the per-point statistics: mean of means weighted by rows.
    const double total = e.mape * e.n + f.in_sample.mape * f.in_sample.n;
    e.n += f.in_sample.n;
    e.mape = total / e.n;
    e.max_ape = std::max(e.max_ape, f.in_sample.max_ape);
  }
  std::string provenance = fmt::format(
      "estimated by hetmap estimate: t_ms = c . ({}), a layer's work (ops launched, GMACs, MB of "
      "activations and weights moved), c >= 0 fitted per processor/frequency/threads by "
      "non-negative least squares of the relative error on the measured rows of {} network(s):",
      terms_string(terms), sets.size());
  for (const CalibrationSet& s : sets)
    provenance += " " + s.model.name + " (" + s.profile_file + ")";
  provenance +=
      "; in-sample MAPE per processor: " + per_processor(platform, in_sample, estimate_on);
  std::optional<CrossValidation> cv;
  if (sets.size() >= 2) {
    cv = cross_validate(sets, platform, terms, min_samples);
    provenance += "; leave-one-network-out MAPE per processor: " +
                  per_processor(platform, cv->by_processor, estimate_on);
  }
  provenance += "; method: docs/estimator.md";

  const EstimatedProfile est =
      estimated_profile(model, platform, fits, measured ? &*measured : nullptr, estimate_on,
                        provenance);
  std::string transfers_csv;
  if (transfers) {
    // The copied file's comments (its source and notes) travel with its rows.
    std::string notes;
    for (const std::string& c :
         detail::parse_csv(detail::read_file(transfers->file), transfers->file).comments)
      notes += (notes.empty() ? "" : " ") + c.substr(c.find_first_not_of(' ') == std::string::npos
                                                         ? c.size() : c.find_first_not_of(' '));
    transfers_csv = copied_transfers_csv(model, platform, *transfers, notes);
  }
  write_all_or_none({{o.out, est.csv}, {transfers_out, transfers_csv}});

  print_fits(platform, fits);
  if (o.cross_validate && cv) print_cross_validation(platform, *cv);
  std::cout << fmt::format("\nwrote {}: {} measured rows copied, {} rows estimated\n", o.out,
                           est.measured_rows, est.estimated_rows);
  if (transfers)
    std::cout << fmt::format("wrote {}: {} measured copies from {}\n", transfers_out,
                             transfers->rows.size(), transfers->file);
  return kOk;
}

}  // namespace

Action add_estimate(CLI::App& app) {
  auto o = std::make_shared<EstimateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "estimate", "Write a profile whose unmeasured layers are estimated from measured networks");
  cmd->add_option("-m,--model", o->model, "model YAML to write a profile for")->required();
  cmd->add_option("-p,--platform", o->platform, "platform YAML")->required();
  cmd->add_option("--calibrate", o->calibrate,
                  "MODEL.yaml:PROFILE.csv of a measured network on the platform (repeatable)")
      ->required();
  cmd->add_option("--measured", o->measured,
                  "profile of MODEL's measured layers (exact layer names), copied as is; a "
                  "PROFILE.transfers.csv beside it is copied to OUT.transfers.csv");
  cmd->add_option("-o,--out", o->out, "profile CSV to write")->required();
  cmd->add_option("--terms", o->terms, "time-model terms: any of overhead,op,mac,byte");
  cmd->add_option("--processors", o->processors,
                  "estimate rows only on these processors (default: every fitted one)")
      ->delimiter(',');
  cmd->add_option("--min-samples", o->min_samples,
                  "fit an operating point only with this many rows (default: terms + 1)")
      ->check(CLI::Range(1, 1000000));
  add_bool_flag(cmd, "--cross-validate", o->cross_validate,
                     "print the leave-one-network-out error per network and processor");
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_estimate(*o);
  };
}

}  // namespace hetmap::cli
