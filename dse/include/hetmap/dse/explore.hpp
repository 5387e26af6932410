#pragma once
// One exploration from settings to results: the design space, baselines, then NSGA-II (or the
// exhaustive front) run by the Driver, and the hypervolume. Shared by `hetmap explore` and
// `hetmap sweep`.
#include <functional>
#include <string>
#include <vector>

#include "hetmap/dse/driver.hpp"
#include "hetmap/dse/export.hpp"

namespace hetmap::dse {

struct ExploreSettings {
  std::string objectives;                // empty: mean_latency,worst_latency(,energy with power)
  std::vector<std::string> constraints;  // "accuracy >= 0.75", ...
  std::string policy = "search";         // search | parallel | sequential
  std::vector<std::string> processors;   // processors layers may use (empty: all)
  bool dvfs = false, threads = false, fixed_exits = false;
  bool exhaustive = false;
  double exhaustive_limit = 4e6;  // = kExhaustiveLimit
  int generations = 100, population = 64;
  std::uint64_t seed = 1;
  std::string checkpoint;                // empty: no checkpoint
  bool resume = false;
  std::string what = "explore";          // where the settings came from, for error messages
};

/// The objective set the settings ask for (validated against the problem's data).
ObjectiveSet objective_set(const Problem& problem, const ExploreSettings& settings);
/// The constraints, checked against the problem's data.
std::vector<Constraint> constraint_list(const Problem& problem, const ExploreSettings& settings);

/// The design space the settings ask for (policy, processors, exits, DVFS, threads), checked
/// against the problem.
SpaceOptions space_options(const Problem& problem, const ExploreSettings& settings);

/// Called after each NSGA-II generation (never for an exhaustive run).
using ExploreProgress = Driver::Progress;

/// Runs the exploration. Throws InputError for bad settings.
Exploration explore(const Problem& problem, const ExploreSettings& settings,
                    const ExploreProgress& progress = {});

}  // namespace hetmap::dse
