#include "hetmap/dse/explore.hpp"

#include <algorithm>
#include <memory>

#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

const char* to_string(PolicyChoice choice) {
  switch (choice) {
    case PolicyChoice::search: return "search";
    case PolicyChoice::parallel: return hetmap::to_string(Policy::parallel);
    case PolicyChoice::sequential: return hetmap::to_string(Policy::sequential);
  }
  return "?";
}

std::optional<Policy> fixed_policy(PolicyChoice choice) {
  if (choice == PolicyChoice::search) return std::nullopt;
  return choice == PolicyChoice::parallel ? Policy::parallel : Policy::sequential;
}

PolicyChoice parse_policy_choice(const std::string& text, const std::string& what) {
  if (text == to_string(PolicyChoice::search)) return PolicyChoice::search;
  if (const std::optional<Policy> p = policy_named(text))
    return *p == Policy::parallel ? PolicyChoice::parallel : PolicyChoice::sequential;
  throw InputError(what, 0, "expected search, parallel or sequential, got '" + text + "'");
}

std::optional<ObjectiveSet> parse_objectives(const std::string& text, const std::string& what) {
  if (text.empty()) return std::nullopt;
  return ObjectiveSet::parse(text, what);
}

ObjectiveSet default_objectives(const Problem& problem) {
  if (problem.has_power())
    return ObjectiveSet({Objective::mean_latency, Objective::worst_latency, Objective::energy});
  return ObjectiveSet({Objective::mean_latency, Objective::worst_latency});
}

ObjectiveSet objective_set(const Problem& problem, const ExploreSettings& s) {
  const ObjectiveSet set = s.objectives ? *s.objectives : default_objectives(problem);
  set.check(problem, s.what + ": objectives");
  return set;
}

std::vector<Constraint> constraint_list(const Problem& problem, const ExploreSettings& s) {
  for (const Constraint& c : s.constraints) c.check(problem, s.what + ": constraint");
  return s.constraints;
}

SpaceOptions space_options(const Problem& problem, const ExploreSettings& s) {
  SpaceOptions so;
  const std::optional<Policy> fixed = fixed_policy(s.policy);
  so.search_policy = !fixed;
  if (fixed) so.policy = *fixed;
  for (const std::string& name : s.processors) {
    const int p = problem.platform().find(name);
    if (p < 0) {
      std::string known;
      for (const auto& proc : problem.platform().processors) known += (known.empty() ? "" : ", ") + proc.name;
      throw InputError(s.what, 0, "processors: platform " + problem.platform().name +
                                      " has no processor '" + name + "' (expected one of " + known + ")");
    }
    so.processors.push_back(p);
  }
  so.search_exits = !s.fixed_exits;
  so.search_dvfs = s.dvfs;
  so.search_threads = s.threads;
  return so;
}

ExplorePlan plan_exploration(const Problem& problem, const ExploreSettings& s) {
  ExplorePlan plan;
  plan.objectives = objective_set(problem, s);
  plan.constraints = constraint_list(problem, s);
  plan.space = std::make_unique<DesignSpace>(problem, space_options(problem, s));
  if (s.exhaustive) {
    plan.algorithm = std::make_unique<Exhaustive>(*plan.space, s.exhaustive_limit, s.what);
  } else {
    Nsga2Options no;
    no.population = s.population;
    no.generations = s.generations;
    no.seed = s.seed;
    plan.algorithm = std::make_unique<Nsga2>(*plan.space, no, s.what);
  }
  return plan;
}

namespace {

// Whether explore() resumes from a checkpoint (if the file exists): NSGA-II only.
bool resumes(const ExploreSettings& s) { return s.resume && !s.exhaustive && !s.checkpoint.empty(); }

}  // namespace

void check_resume(const Problem& problem, const ExploreSettings& s) {
  if (!resumes(s)) return;
  ExplorePlan plan = plan_exploration(problem, s);
  BatchEvaluator evaluator(problem, plan.objectives, plan.constraints);
  Driver(evaluator, *plan.algorithm).resume(s.checkpoint);
}

Exploration explore(const Problem& problem, const ExploreSettings& s,
                    const ExploreProgress& progress) {
  ExplorePlan plan = plan_exploration(problem, s);
  const DesignSpace& space = *plan.space;
  Algorithm& algorithm = *plan.algorithm;
  Exploration x;
  x.objectives = plan.objectives;
  x.constraints = plan.constraints;

  BatchEvaluator evaluator(problem, x.objectives, x.constraints);
  x.baselines = baselines(space, evaluator);
  x.settings = {{"space_points", space.size()}, {"policy", to_string(s.policy)}, {"dvfs", s.dvfs},
                {"threads", s.threads},         {"exits", !s.fixed_exits}};
  if (!s.processors.empty()) x.settings["processors"] = s.processors;
  // The exhaustive front is one pass over the space: no checkpoint, no progress report.
  DriverOptions dopt;
  if (!s.exhaustive) {
    dopt.checkpoint = s.checkpoint;
    // Saving is JSON work worth many generations: every 2 s and at the end is enough (a killed
    // run redoes at most 2 s, and resumes to the same result).
    dopt.checkpoint_every = std::max(1, s.generations);
    dopt.checkpoint_seconds = 2.0;
    x.settings["generations"] = s.generations;
    x.settings["population"] = s.population;
    x.settings["seed"] = s.seed;
  }
  Driver driver(evaluator, algorithm, dopt);
  if (!(resumes(s) && driver.resume(s.checkpoint))) {
    std::vector<Config> seeds;  // the baselines start the search
    for (const Baseline& b : x.baselines) seeds.push_back(b.individual.config);
    driver.initialize(seeds);
  }
  x.resumed_at = driver.generation();
  driver.run(s.exhaustive ? ExploreProgress{} : progress);
  x.method = algorithm.name();
  x.front = driver.archive().points();
  x.evaluations = driver.evaluations();
  measure(x);
  return x;
}

}  // namespace hetmap::dse
