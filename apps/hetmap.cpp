// hetmap: map early-exit DNNs onto heterogeneous processors. Parsing and printing only; the
// work happens in the libraries.
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "stdout_buffer.hpp"
#include "hetmap/error.hpp"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"hetmap: find, predict and run the best mapping of an (early-exit) DNN on a "
               "heterogeneous chip"};
  app.set_version_flag("--version", std::string("hetmap ") + HETMAP_VERSION);
  app.require_subcommand(1);
  std::vector<hetmap::cli::Action> actions;
  actions.push_back(hetmap::cli::add_simulate(app));
  actions.push_back(hetmap::cli::add_explore(app));
  actions.push_back(hetmap::cli::add_sweep(app));
  actions.push_back(hetmap::cli::add_plot(app));
  actions.push_back(hetmap::cli::add_profile(app));
  actions.push_back(hetmap::cli::add_validate(app));
  actions.push_back(hetmap::cli::add_run(app));
  actions.push_back(hetmap::cli::add_import(app));
  actions.push_back(hetmap::cli::add_estimate(app));
  actions.push_back(hetmap::cli::add_info(app));
  // CLI11 reports an unknown verb as "a subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string verbs;
    for (const CLI::App* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      verbs += (verbs.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "hetmap: error: unknown command '" << argv[1] << "' (expected one of " << verbs
                << "; see hetmap --help)\n";
      return hetmap::kBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "hetmap: error: " << e.what() << "\n";
    return hetmap::kBadInput;
  }
  int rc = hetmap::kOk;
  try {
    for (const auto& action : actions)
      if (action && (rc = action()) >= 0) break;
    rc = std::max(rc, 0);
  } catch (const hetmap::Error& e) {
    std::cerr << "hetmap: error: " << e.what() << "\n";
    rc = e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "hetmap: error: " << e.what() << "\n";
    rc = hetmap::kOtherError;
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Standard output through a buffer that keeps why a write failed (stdout_buffer.hpp): a
  // result that could not be printed is an error (exit 1), not a success.
  hetmap::cli::StdoutBuffer out(STDOUT_FILENO);
  std::streambuf* const previous = std::cout.rdbuf(&out);
  if (::isatty(STDOUT_FILENO)) std::cout.setf(std::ios::unitbuf);  // a terminal sees lines at once
  int rc = run(argc, argv);
  std::cout.flush();
  std::cout.rdbuf(previous);
  if (out.error() != 0) {
    std::cerr << "hetmap: error: standard output: write failed: " << std::strerror(out.error()) << "\n";
    if (rc == hetmap::kOk) rc = hetmap::kOtherError;
  }
  return rc;
}
