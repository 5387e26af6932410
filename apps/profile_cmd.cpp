// `hetmap profile`: measure a model's layers, the links of a backend's processors and (where
// the backend has power meters) their idle and active power, and write the simulator's inputs
// (DIR/platform.yaml, DIR/MODEL.csv, DIR/MODEL.transfers.csv; with --dvfs, every frequency
// level and DIR/MODEL.dvfs.csv, docs/dvfs.md).
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "flags.hpp"
#include "backend_options.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/model.hpp"

namespace hetmap::cli {

namespace {

struct ProfileCmdOptions {
  std::string backend = "reference", model, out;
  int clusters = 0;
  bool quick = false, no_transfers = false, no_contention = false, direct_links = false, isolated = false,
       no_power = false, dvfs = false;
  std::vector<std::string> power_meter;
  double rel_ci = 0.0, time_cap_ms = 0.0, power_window_s = 0.0;
  int dvfs_settle_ms = -1;
  int min_reps = 0, max_reps = 0, warmup = -1;
  std::uint64_t seed = 1;
};

int run_profile(const ProfileCmdOptions& o) {
  detail::check_output_dir(o.out, "--out");  // before measuring, not after it
  const detail::FolderLock lock(o.out, "--out");  // one run at a time into it
  const Model model = load_model(o.model);
  backend::BackendOptions bo;
  bo.clusters = o.clusters;
  std::unique_ptr<backend::Backend> be = backend::make_backend(o.backend, bo);

  backend::ProfileOptions po = o.quick ? backend::ProfileOptions::quick() : backend::ProfileOptions{};
  if (o.rel_ci > 0) po.layers.rel_ci = o.rel_ci;
  if (o.time_cap_ms > 0) po.layers.time_cap_ms = o.time_cap_ms;
  if (o.min_reps > 0) po.layers.min_reps = o.min_reps;
  if (o.max_reps > 0) po.layers.max_reps = o.max_reps;
  if (o.warmup >= 0) po.layers.warmup = o.warmup;
  if (po.layers.max_reps < po.layers.min_reps)
    throw InputError("", 0, "--max-reps must be >= --min-reps");
  po.transfers = !o.no_transfers;
  po.link_handoff = !o.direct_links;
  po.in_model = !o.isolated;
  po.contention = !o.no_contention;
  po.power = !o.no_power;
  po.power_meters = parse_power_meters(o.power_meter, be->platform(), o.no_power);
  if (o.power_window_s > 0) po.power_idle_s = po.power_active_s = o.power_window_s;
  po.seed = o.seed;
  po.dvfs_sweep = o.dvfs;
  if (o.dvfs_settle_ms >= 0) po.dvfs_settle_ms = o.dvfs_settle_ms;
  po.log = [](const std::string& line) { std::cerr << line << "\n" << std::flush; };

  std::cerr << fmt::format("profiling {} ({} layers) on {}\n", model.name, model.layers.size(),
                           be->describe());
  const backend::ProfileResult r = backend::profile(*be, model, po);
  const backend::ProfileFiles f = backend::write_profile(r, model, o.out);

  std::cout << fmt::format("{} on {} ({} backend, {} processors), {}\n", model.name,
                           r.platform.name, r.backend, r.platform.processors.size(), r.date_utc);
  std::cout << fmt::format("  layers measured   {} rows ({} refused)\n", r.layers.size(),
                           r.refused.size());
  for (const auto& l : r.links)
    std::cout << fmt::format("  link {}-{}  latency {:.4f} ms, {:.2f} GB/s\n",
                             r.platform.processors[l.a].name, r.platform.processors[l.b].name,
                             l.fit.latency_ms, l.fit.gbytes_per_s);
  if (!r.freq_note.empty()) std::cout << fmt::format("  frequencies       {}\n", r.freq_note);
  if (!r.dvfs_layers.empty())
    std::cout << fmt::format("  DVFS sweep        {} rows (every level; GPU rows per host level)\n",
                             r.dvfs_layers.size());
  std::cout << fmt::format("  contention        {:.3f} ({})\n", r.platform.contention,
                           r.contention.note);
  // Power: what was measured, and which processors have none (and why).
  const backend::PowerMeasurement& pw = r.power;
  std::string power;
  for (std::size_t p = 0; p < pw.why_not.size(); ++p)
    if (pw.why_not[p].empty())
      power += fmt::format("{}{} active {:.3f} W idle {:.3f} W", power.empty() ? "" : ", ",
                           r.platform.processors[p].name, pw.active_w[p], pw.idle_w[p]);
  if (!power.empty()) {
    std::string meters;
    for (const auto& d : pw.domains) meters += (meters.empty() ? "" : ", ") + d.name;
    std::cout << fmt::format("  power             {} ({}, {:.1f} s idle windows)\n", power, meters, pw.idle_s);
    for (std::size_t p = 0; p < pw.why_not.size(); ++p)
      if (!pw.why_not[p].empty())
        std::cout << fmt::format("  power             {}: not measured: {}\n", r.platform.processors[p].name,
                                 pw.why_not[p]);
    for (const std::string& w : pw.warnings) std::cout << "  power             warning: " << w << "\n";
  } else {
    std::cout << fmt::format("  power             {} (energy will not be predicted)\n", pw.note);
  }
  std::cout << "wrote " << f.platform << "\nwrote " << f.profile << "\n";
  if (!f.transfers.empty()) std::cout << "wrote " << f.transfers << "\n";
  if (!f.device.empty()) std::cout << "wrote " << f.device << " (device times, for comparison)\n";
  if (!f.dvfs.empty()) std::cout << "wrote " << f.dvfs << " (every frequency level, GPU rows per host level)\n";
  return kOk;
}

}  // namespace

Action add_profile(CLI::App& app) {
  auto o = std::make_shared<ProfileCmdOptions>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "Measure per-layer latencies and link costs on a backend; write platform.yaml + MODEL.csv");
  add_backend_option(cmd, o->backend);
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("--out", o->out, "output folder")->required();
  cmd->add_option("--clusters", o->clusters,
                  "reference backend: split the CPUs into K processors (default min(2, cores))")
      ->check(CLI::Range(1, 64));
  add_bool_flag(cmd, "--quick", o->quick, "small repetition caps: a first look in seconds, noisier");
  cmd->add_option("--rel-ci", o->rel_ci,
                  "stop once the 95% CI half-width is within this share of the mean (0.02)")
      ->check(CLI::Range(1e-4, 1.0));
  cmd->add_option("--min-reps", o->min_reps, "samples at least per layer (10)")->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-reps", o->max_reps, "samples at most per layer (1000)")->check(CLI::Range(1, 1000000));
  cmd->add_option("--warmup", o->warmup, "warm-up runs per layer (3)")->check(CLI::Range(0, 1000000));
  cmd->add_option("--time-cap-ms", o->time_cap_ms, "measuring time at most per layer and processor (2000)")
      ->check(CLI::Range(1.0, 1e9));
  add_bool_flag(cmd, "--no-transfers", o->no_transfers, "do not write MODEL.transfers.csv");
  add_bool_flag(cmd, "--isolated", o->isolated,
                     "time each layer alone in a hot loop (default: inside passes of the whole model)");
  add_bool_flag(cmd, "--direct-links", o->direct_links,
                     "time Backend::copy alone (default: as the executor issues copies, thread hand-over included)");
  add_bool_flag(cmd, "--no-contention", o->no_contention, "do not measure contention (write 1.0)");
  cmd->add_option("--power-window", o->power_window_s,
                  "seconds of each idle and active power window (2; --quick: 0.5); NVML's counter "
                  "moves every 0.1 s")
      ->check(CLI::Range(0.05, 600.0));
  add_power_meter_option(cmd, o->power_meter);
  add_bool_flag(cmd, "--no-power", o->no_power,
                     "do not measure idle_w/active_w with the backend's power meters (energy stays unpredicted)");
  add_bool_flag(cmd, "--dvfs", o->dvfs,
                     "measure every layer at every frequency level (cpufreq/devfreq through sysfs; GPU "
                     "layers at every host-CPU level too, in MODEL.dvfs.csv); every processor's "
                     "frequency must be settable (root, userspace governor), else exit 2. Without it, "
                     "processors with freqs_mhz are held at their highest level where settable");
  cmd->add_option("--dvfs-settle-ms", o->dvfs_settle_ms,
                  "wait after each frequency change before timing (50)")
      ->check(CLI::Range(0, 60000));
  add_seed_option(cmd, "--seed", o->seed, "seed of the random weights and inputs");
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_profile(*o);
  };
}

}  // namespace hetmap::cli
