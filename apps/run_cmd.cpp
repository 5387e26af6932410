// `hetmap run`: execute one mapping for real on a backend; the same JSON keys as `simulate` in
// DES mode, measured, plus `energy_note` (how energy_mj was measured, or why it is null),
// `power` (each sampled power meter over the run), `freq_mhz` (the level set per processor, from
// the mapping's freq_mhz; docs/dvfs.md) and `freq_note`.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "flags.hpp"
#include "backend_options.hpp"
#include "output.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/des.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/report.hpp"
#include "hetmap/trace.hpp"

namespace hetmap::cli {

namespace {

struct RunCmdOptions {
  std::string backend = "reference", model, mapping, trace, json, chrome_trace, arrival = "closed";
  int inputs = 1, clusters = 0;
  std::uint64_t seed = 1;
  bool no_power = false, no_dvfs = false;
  std::vector<std::string> power_meter;
};

// The levels the run set, by processor name (only those set).
Json freq_json(const Problem& problem, const backend::ExecuteResult& r) {
  Json out = Json::object();
  for (std::size_t q = 0; q < r.freq_mhz.size(); ++q)
    if (r.freq_mhz[q] > 0) out[problem.platform().processors.at(q).name] = r.freq_mhz[q];
  return out;
}

// The sampled power meters: per meter its energy and mean power over the run.
Json power_json(const Problem& problem, const backend::ExecuteResult& r) {
  Json out = Json::array();
  for (const backend::MeterWindow& m : r.power.meters) {
    Json procs = Json::array();
    for (int p : m.processors) procs.push_back(problem.platform().processors.at(p).name);
    Json j;
    j["meter"] = m.name;
    j["processors"] = procs;
    j["method"] = m.method;
    j["seconds"] = m.seconds;
    j["energy_j"] = std::isfinite(m.energy_j) ? Json(m.energy_j) : Json();
    j["mean_w"] = std::isfinite(m.mean_w()) ? Json(m.mean_w()) : Json();
    if (!m.error.empty()) j["error"] = m.error;
    out.push_back(j);
  }
  return out;
}

// Counter events ("ph": "C") of each meter's power between consecutive samples, so that the
// trace viewer draws a power track under the schedule (time from the sampler's start, which
// is just before the executor's clock starts).
void add_power_counters(Json& trace, const backend::ExecuteResult& r) {
  for (const backend::MeterWindow& m : r.power.meters)
    for (std::size_t i = 1; i < m.samples.size(); ++i) {
      const double dt = m.samples[i].t_s - m.samples[i - 1].t_s;
      if (!(dt > 0)) continue;
      const double w = (m.samples[i].energy_j - m.samples[i - 1].energy_j) / dt;
      trace["traceEvents"].push_back({{"name", "power " + m.name}, {"ph", "C"}, {"pid", 1},
                                      {"ts", m.samples[i - 1].t_s * 1e6}, {"args", {{"W", w}}}});
    }
}

int run_run(const RunCmdOptions& o) {
  detail::check_output_file(o.json, "--json");
  detail::check_output_file(o.chrome_trace, "--chrome-trace");
  // Everything that can be checked without the backend first: bad input fails fast.
  const Model model = load_model(o.model);
  const Mapping mapping = load_mapping(o.mapping);
  backend::ExecuteOptions x;
  x.inputs = o.inputs;
  x.arrival = parse_arrival(o.arrival, "--arrival");
  x.seed = o.seed;
  x.record_schedule = !o.chrome_trace.empty();
  x.power = !o.no_power;
  x.apply_freq = !o.no_dvfs;
  std::optional<ExitTrace> trace;
  if (!o.trace.empty()) trace = load_trace(o.trace, model);

  backend::BackendOptions bo;
  bo.clusters = o.clusters;
  std::unique_ptr<backend::Backend> be = backend::make_backend(o.backend, bo);
  x.power_meters = parse_power_meters(o.power_meter, be->platform(), o.no_power);
  const Problem problem = backend::execution_problem(model, *be, std::move(trace));
  // The mapping's `platform:` must name the backend's platform (reference: host-cpu).
  const Config config = problem.resolve(mapping, /*check_profile=*/false);
  if (o.no_dvfs && !backend::freq_processors(problem, config).empty())
    std::cerr << "hetmap: warning: --no-dvfs: frequencies are left to the governor; measured times "
                 "may not match the mapping's freq_mhz\n";

  backend::ExecuteResult r = backend::execute(*be, problem, config, x);
  Json result = to_json(problem, r.metrics);
  result["energy_note"] = r.energy_note;  // how energy_mj was measured, or why it is null
  result["power"] = power_json(problem, r);
  result["freq_mhz"] = freq_json(problem, r);  // the levels set ({} where the platform has none)
  if (!r.freq_note.empty()) result["freq_note"] = r.freq_note;

  // Files only once everything succeeded, all or none.
  std::string trace_json;
  if (!o.chrome_trace.empty()) {
    Json trace = chrome_trace(problem, r.metrics.schedule);
    add_power_counters(trace, r);
    trace_json = trace.dump() + "\n";
  }
  write_all_or_none({{o.chrome_trace, trace_json}, {o.json == "-" ? "" : o.json, result.dump(2) + "\n"}});
  if (o.json == "-") {
    std::cout << result.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} on {} ({}, measured on the {} backend, {} inputs, {})\n",
                             problem.model().name, problem.platform().name,
                             to_string(config.policy), be->name(), o.inputs, o.arrival);
    std::cout << fmt::format("  {}\n", be->describe());
    std::cout << fmt::format("  {} kernels and {} copies ran; setup {:.1f} ms (not timed)\n\n",
                             r.tasks_run, r.copies_run, r.setup_ms);
    std::cout << to_table(result);
    std::cout << "\n  energy: " << r.energy_note << "\n";
    if (!r.freq_note.empty()) std::cout << "  frequencies: " << r.freq_note << "\n";
    for (const backend::MeterWindow& m : r.power.meters)
      if (m.error.empty())
        std::cout << fmt::format("    {}: {:.6g} J over {:.4g} s, {:.4g} W mean\n", m.name, m.energy_j,
                                 m.seconds, m.mean_w());
  }
  return kOk;
}

}  // namespace

Action add_run(CLI::App& app) {
  auto o = std::make_shared<RunCmdOptions>();
  CLI::App* cmd =
      app.add_subcommand("run", "Execute one mapping for real on a backend and measure it");
  add_backend_option(cmd, o->backend);
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("--mapping", o->mapping, "mapping YAML (platform: the backend's platform)")
      ->required();
  cmd->add_option("--inputs", o->inputs, "number of inputs to run (default 1)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--arrival", o->arrival, "closed | periodic:RATE_HZ | poisson:RATE_HZ");
  cmd->add_option("--trace", o->trace, "exit trace CSV (per-sample confidences)");
  add_seed_option(cmd, "--seed", o->seed, "seed for exits, arrivals and input tensors");
  cmd->add_option("--clusters", o->clusters,
                  "reference backend: split the CPUs into K processors (default min(2, cores))")
      ->check(CLI::Range(1, 64));
  add_power_meter_option(cmd, o->power_meter);
  add_bool_flag(cmd, "--no-power", o->no_power,
                     "do not sample the backend's power meters (energy_mj stays null)");
  add_bool_flag(cmd, "--no-dvfs", o->no_dvfs,
                     "do not set the mapping's freq_mhz (cpufreq/devfreq): leave frequencies to the "
                     "governor, with a warning (by default they are set, and a processor whose "
                     "frequency cannot be set is an error)");
  cmd->add_option("--json", o->json, "write the result as JSON to FILE, or - for stdout");
  cmd->add_option("--chrome-trace", o->chrome_trace,
                  "write a Chrome trace-event JSON of the measured schedule (Perfetto)");
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_run(*o);
  };
}

}  // namespace hetmap::cli
