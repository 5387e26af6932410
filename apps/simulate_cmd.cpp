// `hetmap simulate`: evaluate one mapping, analytically or with the DES.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "flags.hpp"
#include "output.hpp"
#include "hetmap/des.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/report.hpp"
#include "hetmap/run.hpp"

namespace hetmap::cli {

namespace {

struct SimulateOptions {
  std::string model, platform, profile, mapping, trace, json, chrome_trace, arrival = "closed";
  int inputs = 0;
  bool jitter = false;
  std::uint64_t seed = 1;
};

int run_simulate(const SimulateOptions& o, const CLI::App& cmd) {
  RunSettings settings;
  settings.inputs = o.inputs;
  if (cmd.count("--arrival")) settings.arrival = parse_arrival(o.arrival, "--arrival");
  settings.jitter = o.jitter;
  settings.seed = o.seed;
  settings.record_schedule = !o.chrome_trace.empty();

  detail::check_output_file(o.json, "--json");
  detail::check_output_file(o.chrome_trace, "--chrome-trace");
  const std::optional<std::string> trace =
      o.trace.empty() ? std::nullopt : std::optional<std::string>(o.trace);
  const Problem problem = load_problem(o.model, o.platform, o.profile, trace);
  const Config config = problem.resolve(load_mapping(o.mapping));

  const Metrics run = run_simulation(problem, config, settings, o.mapping);
  const Json result = to_json(problem, run);
  const Schedule& schedule = run.schedule;

  // Files only once everything succeeded, all or none.
  const std::string trace_json =
      o.chrome_trace.empty() ? "" : chrome_trace(problem, schedule).dump() + "\n";
  write_all_or_none({{o.chrome_trace, trace_json}, {o.json == "-" ? "" : o.json, result.dump(2) + "\n"}});
  if (o.json == "-") {
    std::cout << result.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} on {} ({}, {})\n", problem.model().name,
                             problem.platform().name, to_string(config.policy),
                             run.origin == Origin::simulated ? fmt::format("DES, {} inputs, {}", std::max(o.inputs, 1), o.arrival)
                                 : std::string("analytical, one input"));
    std::cout << to_table(result);
  }
  return kOk;
}

}  // namespace

Action add_simulate(CLI::App& app) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand("simulate", "Predict latency, energy and accuracy of one mapping");
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("-p,--platform", o->platform, "platform YAML")->required();
  cmd->add_option("--profile", o->profile, "per-layer profile CSV")->required();
  cmd->add_option("--mapping", o->mapping, "mapping YAML")->required();
  cmd->add_option("--trace", o->trace, "exit trace CSV (per-sample confidences)");
  cmd->add_option("--inputs", o->inputs, "simulate N inputs with the discrete-event simulator")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--arrival", o->arrival, "closed | periodic:RATE_HZ | poisson:RATE_HZ (DES)");
  add_bool_flag(cmd, "--jitter", o->jitter, "draw durations from a log-normal with the profiled std (DES)");
  add_seed_option(cmd, "--seed", o->seed, "seed for exits, arrivals and jitter (DES)");
  cmd->add_option("--json", o->json, "write the result as JSON to FILE, or - for stdout");
  cmd->add_option("--chrome-trace", o->chrome_trace, "write a Chrome trace-event JSON (Perfetto)");
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_simulate(*o, *cmd);
  };
}

}  // namespace hetmap::cli
