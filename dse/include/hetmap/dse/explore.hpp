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
#include <memory>
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

/// What explore() runs, built from the settings and checked against the problem before
/// anything is evaluated.
struct ExplorePlan {
  ObjectiveSet objectives;
  std::vector<Constraint> constraints;
  std::unique_ptr<DesignSpace> space;
  std::unique_ptr<Algorithm> algorithm;  // searches *space: the exhaustive front or NSGA-II
};

/// Every check explore() makes of its settings, in one place: objectives and constraints
/// against the problem's data, processor names, the design space (every layer placeable), and
/// the algorithm's own (NSGA-II's population and generations, the exhaustive front's space
/// against its limit). Evaluates nothing, so `hetmap sweep` calls it for every point before it
/// writes anything (docs/experiments.md). Throws InputError naming `settings.what`.
ExplorePlan plan_exploration(const Problem& problem, const ExploreSettings& settings);

/// Checks the checkpoint explore() would resume from (`settings.checkpoint` with
/// `settings.resume`; an exhaustive run has none): an InputError naming the file and the field
/// where explore() would refuse it; nothing where there is no such file or it is one of this
/// run. Evaluates only the checkpoint's points: `hetmap sweep --resume` checks every point's
/// before it writes anything.
void check_resume(const Problem& problem, const ExploreSettings& settings);

/// Called after each NSGA-II generation (never for an exhaustive run).
using ExploreProgress = Driver::Progress;

/// Runs the exploration (plan_exploration, then the search). Throws InputError for settings
/// the problem cannot meet, and for a checkpoint to resume that is not one of this run
/// (docs/search.md, "Checkpoints").
Exploration explore(const Problem& problem, const ExploreSettings& settings,
                    const ExploreProgress& progress = {});

}  // namespace hetmap::dse
