#pragma once
// The `hetmap` verbs. Each registers its options on the CLI11 app and returns the action to
// run once parsing succeeded; actions throw hetmap::Error on bad input.
#include <CLI/CLI.hpp>

#include <functional>

namespace hetmap::cli {

using Action = std::function<int()>;

Action add_simulate(CLI::App& app);
Action add_explore(CLI::App& app);
Action add_sweep(CLI::App& app);
Action add_plot(CLI::App& app);
Action add_profile(CLI::App& app);
Action add_validate(CLI::App& app);
Action add_run(CLI::App& app);
Action add_import(CLI::App& app);
Action add_estimate(CLI::App& app);
Action add_info(CLI::App& app);

}  // namespace hetmap::cli
