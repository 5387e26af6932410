// `hetmap validate`: predict a set of mappings with the simulator, run them for real on a
// backend, and report how well the prediction matches (validation.csv, MAPE, Kendall tau-b,
// and the energy MAPE where both the profile and the backend's meters give energy).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "flags.hpp"
#include "backend_options.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/backend/validate.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/dse/space.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"

namespace hetmap::cli {

namespace {

namespace fs = std::filesystem;

struct ValidateCmdOptions {
  std::string backend = "reference", model, profile, mappings, out;
  int random = 0, inputs = 50, warmup_inputs = 5, clusters = 0;
  std::uint64_t seed = 1;
  bool no_power = false, no_dvfs = false;
  std::vector<std::string> power_meter;
};

// The most layer placements (mappings x layers) `--random` may ask for: 2^25, a few GB of
// mappings held until they are written and run.
constexpr std::int64_t kMaxRandomPlacements = std::int64_t{1} << 25;

// `n` random feasible mappings (DesignSpace::random: a processor per layer among those its
// profile allows, each exit on or off, the policy), distinct from each other and from `taken`
// (the --mappings folder's) while the space allows, named m000.yaml, m001.yaml, ... skipping
// the names in `names` (the folder's files).
std::vector<backend::NamedMapping> random_mappings(const Problem& problem, int n, std::uint64_t seed,
                                                   const std::vector<Config>& taken,
                                                   const std::set<std::string>& names) {
  const dse::DesignSpace space(problem);
  std::mt19937_64 rng(seed);
  std::vector<Config> configs;
  const double size = space.size();
  // Distinct configs so far, looked up rather than compared one by one (n^2 comparisons of
  // whole mappings once made a large --random hang).
  auto key = [](const Config& c) {
    return std::tie(c.policy, c.exits_enabled, c.proc, c.freq_level, c.threads, c.thresholds);
  };
  auto less = [&](const Config* a, const Config* b) { return key(*a) < key(*b); };
  std::set<const Config*, decltype(less)> seen(less);
  for (const Config& d : taken) seen.insert(&d);
  configs.reserve(static_cast<std::size_t>(n));
  for (int tries = 0; static_cast<int>(configs.size()) < n && tries < 1000 * n; ++tries) {
    Config c = space.random(rng);
    if (!problem.infeasibility(c).empty()) continue;
    if (!seen.count(&c) || static_cast<double>(configs.size() + taken.size()) >= size) {
      configs.push_back(std::move(c));
      seen.insert(&configs.back());
    }
  }
  std::vector<backend::NamedMapping> out;
  int k = 0;
  for (const Config& c : configs) {
    std::string name;
    do name = fmt::format("m{:03d}.yaml", k++);
    while (names.count(name));
    out.push_back({name, problem.to_mapping(c)});
  }
  return out;
}

std::string energy_cell(double mj) {
  return std::isfinite(mj) ? fmt::format("{:>9.4g} mJ", mj) : fmt::format("{:>12}", "-");
}

int run_validate(const ValidateCmdOptions& o) {
  detail::check_output_dir(o.out, "--out");  // before running, not after it
  const detail::FolderLock lock(o.out, "--out");  // one run at a time into it
  const Model model = load_model(o.model);
  const std::string platform_path = (fs::path(o.profile) / "platform.yaml").string();
  const std::string profile_path = (fs::path(o.profile) / (model.name + ".csv")).string();
  if (!fs::is_directory(o.profile))
    throw InputError(o.profile, 0, "--profile: expected the folder `hetmap profile --out` wrote");
  const Problem problem = load_problem(o.model, platform_path, profile_path);

  // The backend, split like the platform it was profiled as.
  backend::BackendOptions bo;
  bo.clusters = o.clusters;
  std::unique_ptr<backend::Backend> be;
  if (o.clusters == 0) {
    // As many CPU clusters as the profile has CPU processors, if the machine can (else the
    // default, and the check below names the mismatch).
    bo.clusters = static_cast<int>(std::count_if(
        problem.platform().processors.begin(), problem.platform().processors.end(),
        [](const Processor& p) { return p.kind == ProcKind::cpu; }));
    try {
      be = backend::make_backend(o.backend, bo);
    } catch (const backend::BackendError&) {
      bo.clusters = 0;
    }
  }
  if (!be) be = backend::make_backend(o.backend, bo);
  const Platform& bp = be->platform();
  bool same = bp.name == problem.platform().name &&
              bp.processors.size() == problem.platform().processors.size();
  for (std::size_t p = 0; same && p < bp.processors.size(); ++p)
    same = bp.processors[p].name == problem.platform().processors[p].name;
  if (!same)
    throw InputError(platform_path, 0,
                     fmt::format("platform '{}' with {} processors does not match backend {} "
                                 "(platform '{}', {} processors): profile it with the same "
                                 "--backend and --clusters",
                                 problem.platform().name, problem.platform().processors.size(),
                                 o.backend, bp.name, bp.processors.size()));

  // The folder's mappings first (in name order), then the random ones: every mapping must
  // resolve (model, platform, feasibility) before anything runs.
  std::vector<backend::NamedMapping> mappings;
  std::vector<Config> given;
  std::set<std::string> names;
  if (!o.mappings.empty()) {
    mappings = backend::load_mappings(o.mappings);
    for (const auto& m : mappings) {
      given.push_back(problem.resolve(m.mapping));
      names.insert(m.name);
    }
  }
  const std::size_t n_given = mappings.size();
  // Every mapping is held, and written, with a processor per layer until the runs end: their
  // layers in all are bounded (docs/formats.md, "Model size").
  if (static_cast<double>(o.random) * problem.layers() > static_cast<double>(kMaxRandomPlacements))
    throw InputError("", 0,
                     fmt::format("--random: {} mappings of {} layers are more than the {} layer "
                                 "placements hetmap holds at once: ask for fewer mappings",
                                 o.random, problem.layers(), kMaxRandomPlacements));
  if (o.random > 0)
    for (auto& m : random_mappings(problem, o.random, o.seed, given, names)) {
      (void)problem.resolve(m.mapping);
      mappings.push_back(std::move(m));
    }

  backend::ValidateOptions vo;
  vo.inputs = o.inputs;
  vo.warmup_inputs = o.warmup_inputs;
  vo.seed = o.seed;
  vo.power = !o.no_power;
  vo.power_meters = parse_power_meters(o.power_meter, be->platform(), o.no_power);
  vo.apply_freq = !o.no_dvfs;
  if (o.no_dvfs) {
    bool any = false;
    for (const auto& m : mappings)
      any = any || !backend::freq_processors(problem, problem.resolve(m.mapping)).empty();
    if (any)
      std::cerr << "hetmap: warning: --no-dvfs: frequencies are left to the governor; measured "
                   "times may not match the mappings' freq_mhz (nor the profile's rows)\n";
  }
  vo.log = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
  // The same mappings predicted with one term of the model taken out, to show what each buys
  // (docs/validation.md): the GPU's launch and synchronisation overhead (MODEL.device.csv, the
  // device times), the per-tensor copy times (MODEL.transfers.csv: the link formula instead),
  // the contention factor.
  std::vector<std::pair<std::string, Problem>> variants;
  const Model& pm = problem.model();
  const Platform& pp = problem.platform();
  const fs::path device_csv = fs::path(o.profile) / (model.name + ".device.csv");
  if (fs::exists(device_csv))
    variants.emplace_back("no_launch_overhead",
                          Problem(pm, pp, load_profile(device_csv.string(), pm, pp), problem.transfers()));
  if (problem.transfers()) variants.emplace_back("no_transfers", Problem(pm, pp, problem.profile()));
  if (pp.contention != 1.0) {
    Platform flat = pp;
    flat.contention = 1.0;
    variants.emplace_back("no_contention", Problem(pm, flat, problem.profile(), problem.transfers()));
  }
  for (const auto& [name, variant] : variants) vo.variants.push_back({name, &variant});
  std::cerr << fmt::format("validating {} mappings of {} ({} inputs each) on {}\n", mappings.size(),
                           model.name, o.inputs, be->describe());
  const backend::ValidationReport rep = backend::validate(*be, problem, mappings, vo);

  const std::string comment = fmt::format(
      "source: hetmap validate --backend {}, {}; measured on {}; predicted with the DES from {} "
      "({} closed-loop inputs per mapping, seed {}, the same exit draws as the run)",
      o.backend, backend::utc_now(), be->describe(), o.profile, o.inputs, o.seed);
  // The random mappings (the given ones stay put) and validation.csv, all or none.
  const std::vector<backend::NamedMapping> drawn(mappings.begin() + static_cast<std::ptrdiff_t>(n_given),
                                                 mappings.end());
  const std::string csv = backend::write_validation(o.out, rep, drawn, comment);

  bool energy = false;  // a column of energies when either side has one
  for (const auto& r : rep.rows)
    energy = energy || std::isfinite(r.predicted_energy_mj) || std::isfinite(r.measured_energy_mj);
  std::cout << fmt::format("{:<16} {:>12} {:>12} {:>12} {:>12} {:>8}", "mapping", "pred mean",
                           "meas mean", "pred p99", "meas p99", "error");
  std::cout << (energy ? fmt::format(" {:>12} {:>12}\n", "pred energy", "meas energy") : "\n");
  for (const auto& r : rep.rows) {
    std::cout << fmt::format("{:<16} {:>9.4f} ms {:>9.4f} ms {:>9.4f} ms {:>9.4f} ms {:>+7.1f}%",
                             r.mapping, r.predicted_mean_ms, r.measured_mean_ms, r.predicted_p99_ms,
                             r.measured_p99_ms, r.error_pct);
    std::cout << (energy ? " " + energy_cell(r.predicted_energy_mj) + " " +
                               energy_cell(r.measured_energy_mj) + "\n"
                         : "\n");
  }
  std::cout << fmt::format("{} mappings: MAPE {:.2f}% (mean latency), {:.2f}% (p99); Kendall tau-b {}\n",
                           rep.rows.size(), rep.mape_pct, rep.p99_mape_pct,
                           std::isnan(rep.tau_b) ? std::string("undefined (constant latencies)")
                                                 : fmt::format("{:.3f}", rep.tau_b));
  auto tau = [](double t) { return std::isnan(t) ? std::string("undefined") : fmt::format("{:.3f}", t); };
  std::cout << fmt::format("worst-case (slowest result) latency: MAPE {:.2f}%, Kendall tau-b {}\n",
                           rep.worst_mape_pct, tau(rep.worst_tau_b));
  std::cout << fmt::format("largest latency seen: MAPE {:.2f}%, Kendall tau-b {}\n", rep.max_mape_pct,
                           tau(rep.max_tau_b));
  for (std::size_t v = 0; v < rep.variant_names.size(); ++v)
    std::cout << fmt::format("  without {}: MAPE {:.2f}% (mean latency), Kendall tau-b {:.3f}\n",
                             rep.variant_names[v].substr(3), rep.variant_mape_pct[v],
                             rep.variant_tau_b[v]);
  // Energy: compared where both sides have it; otherwise why not.
  if (rep.energy_rows > 0)
    std::cout << fmt::format("energy MAPE {:.2f}% over {} of {} mappings (per input, whole stream){}\n",
                             rep.energy_mape_pct, rep.energy_rows, rep.rows.size(),
                             rep.energy_note.empty() ? "" : "; the others: " + rep.energy_note);
  else
    std::cout << "energy not compared: " << rep.energy_note << "\n";
  std::cout << "wrote " << csv << "\n";
  return kOk;
}

}  // namespace

Action add_validate(CLI::App& app) {
  auto o = std::make_shared<ValidateCmdOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Simulate and run a set of mappings on a backend; report MAPE and Kendall tau");
  add_backend_option(cmd, o->backend);
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("--profile", o->profile, "folder with platform.yaml and MODEL.csv (hetmap profile --out)")
      ->required();
  auto* maps = cmd->add_option("--mappings", o->mappings, "folder of mapping YAML files");
  auto* rnd = cmd->add_option("--random", o->random,
                              "N random feasible mappings (written to OUT/mappings/); with --mappings: "
                              "after the folder's, distinct from them")
                  ->check(CLI::Range(1, 100000));
  cmd->add_option("--inputs", o->inputs, "inputs run (and simulated) per mapping")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--warmup-inputs", o->warmup_inputs, "inputs run first per mapping, not measured")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  add_seed_option(cmd, "--seed", o->seed, "seed of the exit draws (and of --random)")->capture_default_str();
  cmd->add_option("--clusters", o->clusters,
                  "reference backend: processors to split the CPUs into (default: as the profile)")
      ->check(CLI::Range(1, 64));
  add_power_meter_option(cmd, o->power_meter);
  add_bool_flag(cmd, "--no-power", o->no_power,
                     "do not sample the backend's power meters (no measured energy)");
  add_bool_flag(cmd, "--no-dvfs", o->no_dvfs,
                     "do not set each mapping's freq_mhz (cpufreq/devfreq): leave frequencies to the "
                     "governor, with a warning (by default they are set, and a processor whose "
                     "frequency cannot be set is an error)");
  cmd->add_option("--out", o->out, "output folder")->required();
  return [o, cmd, maps, rnd]() -> int {
    if (!cmd->parsed()) return -1;
    if (maps->count() == 0 && rnd->count() == 0)
      throw InputError("", 0, "validate: give --mappings DIR or --random N");
    return run_validate(*o);
  };
}

}  // namespace hetmap::cli
