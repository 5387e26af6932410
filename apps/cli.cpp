#include "cli.hpp"

#include <iostream>

#include "commands.hpp"
#include "hetmap/error.hpp"

namespace hetmap::cli {

int run(const std::vector<std::string>& args, Unexpected unexpected) {
  CLI::App app{"hetmap: find, predict and run the best mapping of an (early-exit) DNN on a "
               "heterogeneous chip"};
  app.set_version_flag("--version", std::string("hetmap ") + HETMAP_VERSION);
  app.require_subcommand(1);
  std::vector<Action> actions;
  actions.push_back(add_simulate(app));
  actions.push_back(add_explore(app));
  actions.push_back(add_sweep(app));
  actions.push_back(add_plot(app));
  actions.push_back(add_profile(app));
  actions.push_back(add_validate(app));
  actions.push_back(add_run(app));
  actions.push_back(add_import(app));
  actions.push_back(add_estimate(app));
  actions.push_back(add_info(app));
  // CLI11 reports an unknown verb as "a subcommand is required"; name it instead.
  if (!args.empty() && args[0].c_str()[0] != '-') {
    bool known = false;
    std::string verbs;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == args[0];
      verbs += (verbs.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "hetmap: error: unknown command '" << args[0] << "' (expected one of " << verbs
                << "; see hetmap --help)\n";
      return kBadInput;
    }
  }
  // CLI11 parses a C-style argv (the program name first), exactly as main() receives it.
  std::vector<char*> argv;
  std::string program = "hetmap";
  argv.push_back(program.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "hetmap: error: " << e.what() << "\n";
    return kBadInput;
  }
  try {
    for (const auto& action : actions)
      if (action) {
        const int rc = action();
        if (rc >= 0) return rc;
      }
  } catch (const Error& e) {
    std::cerr << "hetmap: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    if (unexpected == Unexpected::rethrow) throw;
    std::cerr << "hetmap: error: " << e.what() << "\n";
    return kOtherError;
  }
  return kOk;
}

}  // namespace hetmap::cli
