// `hetmap explore`: search the design space of one model on one platform.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "flags.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/parallel.hpp"
#include "hetmap/dse/baselines.hpp"
#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/explore.hpp"
#include "hetmap/dse/export.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/error.hpp"

namespace hetmap::cli {

namespace {

struct ExploreOptions {
  std::string model, platform, profile, trace, out, objectives, policy = "search", checkpoint;
  std::vector<std::string> constraints, processors;
  int generations = 100, population = 64, jobs = 0;
  std::uint64_t seed = 1;
  bool exhaustive = false, resume = false, dvfs = false, threads = false, fixed_exits = false;
  double exhaustive_limit = dse::kExhaustiveLimit;
};

void print_summary(const dse::Exploration& x) {
  const dse::ObjectiveSet& set = x.objectives;
  std::cout << fmt::format("{:>4}", "id");
  for (dse::Objective o : set.list()) std::cout << fmt::format(" {:>16}", to_string(o));
  std::cout << "\n";
  for (std::size_t i = 0; i < x.front.size(); ++i) {
    std::cout << fmt::format("{:>4}", i);
    for (int k = 0; k < set.size(); ++k) std::cout << fmt::format(" {:>16.6g}", set.raw(k, x.front[i].f[k]));
    std::cout << "\n";
  }
  std::cout << fmt::format("\nbaselines:\n");
  for (const dse::Baseline& b : x.baselines) {
    std::cout << fmt::format("  {:<24}", b.name);
    for (int k = 0; k < set.size(); ++k)
      std::cout << fmt::format(" {:>16.6g}", set.raw(k, b.individual.f[k]));
    std::cout << (b.individual.violation == 0.0 ? "" : "  (violates constraints)") << "\n";
  }
  std::cout << fmt::format("\nhypervolume {:.6g} (reference point:", x.hypervolume);
  for (std::size_t k = 0; k < x.reference.size(); ++k)
    std::cout << fmt::format(" {}={:.6g}", to_string(set.list()[k]), set.raw(static_cast<int>(k), x.reference[k]));
  std::cout << ")\n";
  for (const dse::Improvement& imp : dse::improvements(x))
    std::cout << fmt::format("best {}: {:.6g} vs {:.6g} for the best baseline ({}): {:+.2f}%\n",
                             to_string(imp.objective), imp.front, imp.baseline, imp.baseline_name,
                             imp.percent);
}

// The settings the options ask for, each text through hetmap's one parser for its kind (the
// ones experiment files use too); errors name the option.
dse::ExploreSettings settings_of(const ExploreOptions& o) {
  dse::ExploreSettings s;
  s.what = "hetmap explore";
  s.objectives = dse::parse_objectives(o.objectives, "--objectives");
  for (const std::string& c : o.constraints) s.constraints.push_back(dse::Constraint::parse(c, "--constraint"));
  s.policy = dse::parse_policy_choice(o.policy, "--policy");
  s.processors = o.processors;
  s.dvfs = o.dvfs;
  s.threads = o.threads;
  s.fixed_exits = o.fixed_exits;
  s.exhaustive = o.exhaustive;
  s.exhaustive_limit = dse::checked_exhaustive_limit(o.exhaustive_limit, "--exhaustive-limit");
  s.generations = o.generations;
  if (!dse::valid_population(o.population))
    throw InputError("--population", 0, fmt::format("expected {}, got {}", dse::population_rule(),
                                                    o.population));
  s.population = o.population;
  s.seed = o.seed;
  s.checkpoint = o.checkpoint.empty() ? (std::filesystem::path(o.out) / "checkpoint.json").string()
                                      : o.checkpoint;
  s.resume = o.resume;
  return s;
}

int run_explore(const ExploreOptions& o) {
  const dse::ExploreSettings s = settings_of(o);
  detail::check_output_dir(o.out, "--out");  // before the search, not after it
  const detail::FolderLock lock(o.out, "--out");  // one run at a time into it, checkpoint included
  const std::optional<std::string> trace =
      o.trace.empty() ? std::nullopt : std::optional<std::string>(o.trace);
  const Problem problem = load_problem(o.model, o.platform, o.profile, trace);

  std::unique_ptr<detail::ThreadLimit> limit;
  if (o.jobs > 0) limit = std::make_unique<detail::ThreadLimit>(static_cast<std::size_t>(o.jobs));

  const bool tty = ::isatty(STDERR_FILENO);
  const int every = std::max(1, o.generations / 10);
  // Bad settings fail in explore(), before the search and before any file is written.
  const dse::Exploration x = dse::explore(problem, s, [&](const dse::Driver& n) {
    const bool last = n.generation() == o.generations;
    if (!tty && !last && n.generation() % every != 0) return;
    std::cerr << fmt::format("{}generation {}/{}: {} evaluations, {} points on the front{}",
                             tty ? "\r" : "", n.generation(), o.generations, n.evaluations(),
                             n.archive().size(), tty && !last ? "" : "\n");
  });
  if (x.resumed_at > 0)
    std::cerr << fmt::format("hetmap explore: resumed {} at generation {}\n", s.checkpoint, x.resumed_at);
  dse::write_exploration(o.out, problem, x);
  std::cout << fmt::format("{} on {}: {} points on the front ({}, {} evaluations), written to {}\n\n",
                           problem.model().name, problem.platform().name, x.front.size(),
                           x.method, x.evaluations, o.out);
  print_summary(x);
  return kOk;
}

}  // namespace

Action add_explore(CLI::App& app) {
  auto o = std::make_shared<ExploreOptions>();
  CLI::App* cmd = app.add_subcommand("explore", "Search the Pareto-optimal mappings");
  cmd->add_option("-m,--model", o->model, "model YAML")->required();
  cmd->add_option("-p,--platform", o->platform, "platform YAML")->required();
  cmd->add_option("--profile", o->profile, "per-layer profile CSV")->required();
  cmd->add_option("--trace", o->trace, "exit trace CSV: thresholds become part of the search");
  cmd->add_option("--objectives", o->objectives,
                  "comma-separated: mean_latency, worst_latency, energy, accuracy, throughput "
                  "(default mean_latency,worst_latency,energy; without power data no energy)");
  cmd->add_option("--constraint", o->constraints, "e.g. 'accuracy >= 0.75' (repeatable)");
  cmd->add_option("--generations", o->generations, "NSGA-II generations")->check(CLI::Range(0, 1000000));
  cmd->add_option("--population", o->population, "NSGA-II population (even, 4..100000)");
  add_seed_option(cmd, "--seed", o->seed, "random seed");
  cmd->add_option("--policy", o->policy, "search | parallel | sequential");
  cmd->add_option("--processors", o->processors, "processors layers may use, e.g. big,gpu (default: all)")
      ->delimiter(',');
  add_bool_flag(cmd, "--dvfs", o->dvfs, "search a frequency level per processor");
  add_bool_flag(cmd, "--threads", o->threads, "search a thread count per CPU processor");
  add_bool_flag(cmd, "--fixed-exits", o->fixed_exits, "keep every exit enabled");
  add_bool_flag(cmd, "--exhaustive", o->exhaustive, "enumerate the whole space instead of searching");
  cmd->add_option("--exhaustive-limit", o->exhaustive_limit, "largest space --exhaustive accepts");
  cmd->add_option("--checkpoint", o->checkpoint, "checkpoint file (default OUT/checkpoint.json)");
  add_bool_flag(cmd, "--resume", o->resume, "continue from the checkpoint if it exists");
  cmd->add_option("--jobs", o->jobs, "worker threads (default: all cores)")->check(CLI::Range(0, 4096));
  cmd->add_option("--out", o->out, "result folder")->required();
  return [o, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run_explore(*o);
  };
}

}  // namespace hetmap::cli
