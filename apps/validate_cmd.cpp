// `hetmap validate`: predict a set of mappings with the simulator, run them for real on a
// backend, and report how well the prediction matches (validation.csv, MAPE, Kendall tau-b).
#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/backend/validate.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/dse/space.hpp"
#include "hetmap/problem.hpp"

namespace hetmap::cli {

namespace {

namespace fs = std::filesystem;

struct ValidateCmdOptions {
  std::string backend = "reference", model, profile, mappings, out;
  int random = 0, inputs = 50, warmup_inputs = 5, clusters = 0;
  std::uint64_t seed = 1;
};

// `n` distinct random feasible mappings (DesignSpace::random: a processor per layer among
// those its profile allows, each exit on or off, the policy), named m000.yaml, ...
std::vector<backend::NamedMapping> random_mappings(const Problem& problem, int n, std::uint64_t seed) {
  const dse::DesignSpace space(problem);
  std::mt19937_64 rng(seed);
  std::vector<Config> configs;
  const double size = space.size();
  for (int tries = 0; static_cast<int>(configs.size()) < n && tries < 1000 * n; ++tries) {
    Config c = space.random(rng);
    if (!problem.infeasibility(c).empty()) continue;
    bool seen = false;
    for (const Config& d : configs) seen = seen || d == c;
    if (!seen || static_cast<double>(configs.size()) >= size) configs.push_back(c);
  }
  std::vector<backend::NamedMapping> out;
  for (std::size_t i = 0; i < configs.size(); ++i)
    out.push_back({fmt::format("m{:03d}.yaml", i), problem.to_mapping(configs[i])});
  return out;
}

int run_validate(const ValidateCmdOptions& o) {
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
    // As many clusters as the profile has processors, if the machine can (else the default,
    // and the check below names the mismatch).
    bo.clusters = static_cast<int>(problem.platform().processors.size());
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

  std::vector<backend::NamedMapping> mappings =
      o.random > 0 ? random_mappings(problem, o.random, o.seed) : backend::load_mappings(o.mappings);
  // Every mapping must resolve (model, platform, feasibility) before anything runs.
  for (const auto& m : mappings) (void)problem.resolve(m.mapping);

  backend::ValidateOptions vo;
  vo.inputs = o.inputs;
  vo.warmup_inputs = o.warmup_inputs;
  vo.seed = o.seed;
  vo.log = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };
  std::cerr << fmt::format("validating {} mappings of {} ({} inputs each) on {}\n", mappings.size(),
                           model.name, o.inputs, be->describe());
  const backend::ValidationReport rep = backend::validate(*be, problem, mappings, vo);

  const std::string comment = fmt::format(
      "source: hetmap validate --backend {}, {}; measured on {}; predicted with the DES from {} "
      "({} closed-loop inputs per mapping, seed {}, the same exit draws as the run)",
      o.backend, backend::utc_now(), be->describe(), o.profile, o.inputs, o.seed);
  if (o.random > 0)
    for (const auto& m : mappings)
      detail::write_file_atomic((fs::path(o.out) / "mappings" / m.name).string(), to_yaml(m.mapping));
  const std::string csv = (fs::path(o.out) / "validation.csv").string();
  detail::write_file_atomic(csv, backend::validation_csv(rep, comment));

  std::cout << fmt::format("{:<16} {:>12} {:>12} {:>12} {:>12} {:>8}\n", "mapping", "pred mean",
                           "meas mean", "pred p99", "meas p99", "error");
  for (const auto& r : rep.rows)
    std::cout << fmt::format("{:<16} {:>9.4f} ms {:>9.4f} ms {:>9.4f} ms {:>9.4f} ms {:>+7.1f}%\n",
                             r.mapping, r.predicted_mean_ms, r.measured_mean_ms, r.predicted_p99_ms,
                             r.measured_p99_ms, r.error_pct);
  std::cout << fmt::format("{} mappings: MAPE {:.2f}% (mean latency), {:.2f}% (p99); Kendall tau-b {}\n",
                           rep.rows.size(), rep.mape_pct, rep.p99_mape_pct,
                           std::isnan(rep.tau_b) ? std::string("undefined (constant latencies)")
                                                 : fmt::format("{:.3f}", rep.tau_b));
  std::cout << "wrote " << csv << "\n";
  return kOk;
}

}  // namespace

Action add_validate(CLI::App& app) {
  auto o = std::make_shared<ValidateCmdOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Simulate and run a set of mappings on a backend; report MAPE and Kendall tau");
  cmd->add_option("--backend", o->backend, "backend: reference, acl or cuda (as built)")
      ->capture_default_str();
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("--profile", o->profile, "folder with platform.yaml and MODEL.csv (hetmap profile --out)")
      ->required();
  auto* maps = cmd->add_option("--mappings", o->mappings, "folder of mapping YAML files");
  auto* rnd = cmd->add_option("--random", o->random, "N random feasible mappings (written to OUT/mappings/)")
                  ->check(CLI::Range(1, 100000));
  maps->excludes(rnd);
  cmd->add_option("--inputs", o->inputs, "inputs run (and simulated) per mapping")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--warmup-inputs", o->warmup_inputs, "inputs run first per mapping, not measured")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the exit draws (and of --random)")->capture_default_str();
  cmd->add_option("--clusters", o->clusters,
                  "reference backend: processors to split the CPUs into (default: as the profile)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--out", o->out, "output folder")->required();
  return [o, cmd, maps, rnd]() -> int {
    if (!cmd->parsed()) return -1;
    if (maps->count() == 0 && rnd->count() == 0)
      throw InputError("", 0, "validate: give --mappings DIR or --random N");
    return run_validate(*o);
  };
}

}  // namespace hetmap::cli
