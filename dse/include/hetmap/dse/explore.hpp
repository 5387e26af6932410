#pragma once
// One exploration from settings to results: the design space, baselines, then NSGA-II (or the
// exhaustive front) run by the Driver, and the hypervolume. Shared by `hetmap explore` and
// `hetmap sweep`.
//
// The settings are typed: every text a user writes (command line, experiment file) goes through
// one parser per kind (ObjectiveSet::parse, Constraint::parse, parse_policy_choice, and for
// booleans the rule of docs/formats.md, "Booleans") before it gets here, so both verbs hand
// explore() the same values for the same text. What needs the problem to be checked (energy
// needs power data, processor names must exist) is checked here, where the problem is known.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/dse/driver.hpp"
#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/export.hpp"

namespace hetmap::dse {

/// How the mapping policy is chosen: searched (one more dimension of the design space) or
/// fixed for every point.
enum class PolicyChoice { search, parallel, sequential };

/// `search`, `parallel` or `sequential`, as written on the command line and in experiment files.
const char* to_string(PolicyChoice choice);
/// The fixed policy, or nothing for `search`.
std::optional<Policy> fixed_policy(PolicyChoice choice);
/// Parses `search`, `parallel` or `sequential` (the latter two through hetmap::policy_named, the
/// one policy parser); throws InputError naming `what` (an option or file:line: key).
PolicyChoice parse_policy_choice(const std::string& text, const std::string& what);

/// The objectives `text` asks for ("mean_latency,energy", through ObjectiveSet::parse), or
/// nothing for an empty text: the default for the problem (default_objectives). Throws
/// InputError naming `what`.
std::optional<ObjectiveSet> parse_objectives(const std::string& text, const std::string& what);

struct ExploreSettings {
  std::optional<ObjectiveSet> objectives;  // nullopt: default_objectives(problem)
  std::vector<Constraint> constraints;     // accuracy >= 0.75, ...
  PolicyChoice policy = PolicyChoice::search;
  std::vector<std::string> processors;     // processors layers may use (empty: all)
  bool dvfs = false, threads = false, fixed_exits = false;
  bool exhaustive = false;
  double exhaustive_limit = kExhaustiveLimit;
  int generations = 100, population = 64;
  std::uint64_t seed = 1;
  std::string checkpoint;                  // empty: no checkpoint
  bool resume = false;
  std::string what = "explore";            // where the settings came from, for error messages
};

/// The objectives when none are asked for: mean_latency, worst_latency, and energy when the
/// platform has power data.
ObjectiveSet default_objectives(const Problem& problem);

/// The objective set the settings ask for (or the default), checked against the problem's data.
ObjectiveSet objective_set(const Problem& problem, const ExploreSettings& settings);
/// The constraints, checked against the problem's data.
std::vector<Constraint> constraint_list(const Problem& problem, const ExploreSettings& settings);

/// The design space the settings ask for (policy, processors, exits, DVFS, threads), checked
/// against the problem.
SpaceOptions space_options(const Problem& problem, const ExploreSettings& settings);

/// Called after each NSGA-II generation (never for an exhaustive run).
using ExploreProgress = Driver::Progress;

/// Runs the exploration. Throws InputError for settings the problem cannot meet.
Exploration explore(const Problem& problem, const ExploreSettings& settings,
                    const ExploreProgress& progress = {});

}  // namespace hetmap::dse
