// `hetmap plot DIR`: draw the plots of a result folder with the matplotlib scripts in plots/.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "hetmap/detail/folder_lock.hpp"
#include "hetmap/error.hpp"

namespace hetmap::cli {

namespace {

// The scripts beside the binary: BIN/../share/hetmap/plots where `cmake --install` puts them,
// BIN/share/hetmap/plots in a build folder (apps/CMakeLists.txt); HETMAP_PLOTS overrides.
std::string plots_dir() {
  if (const char* env = std::getenv("HETMAP_PLOTS")) return env;
  std::error_code ec;
  const std::filesystem::path bin = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const std::filesystem::path& dir :
       {bin / ".." / "share" / "hetmap" / "plots", bin / "share" / "hetmap" / "plots"})
    if (std::filesystem::exists(dir / "plot_dir.py")) return dir.lexically_normal().string();
  return (bin / ".." / "share" / "hetmap" / "plots").lexically_normal().string();
}

// Debian's interpreter has python3-matplotlib; a python3 earlier on PATH (a virtualenv, pyenv)
// may not. HETMAP_PYTHON overrides.
std::string python() {
  if (const char* env = std::getenv("HETMAP_PYTHON")) return env;
  if (std::filesystem::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int run(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw InputError(dir, 0, "not a folder");
  // The plots are written into the folder: not while a run writes into it, nor two plots at once.
  const detail::FolderLock lock(dir, "folder");
  const std::string script = (std::filesystem::path(plots_dir()) / "plot_dir.py").string();
  if (!std::filesystem::exists(script))
    throw Error(script, 0,
                "plot scripts not found beside the hetmap binary (install with `cmake --install`, "
                "or set HETMAP_PLOTS to the plots/ folder)",
                kOtherError);
  const int status = std::system((quoted(python()) + " " + quoted(script) + " " + quoted(dir)).c_str());
  if (!WIFEXITED(status)) return kOtherError;
  return WEXITSTATUS(status);
}

}  // namespace

Action add_plot(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("plot", "Draw the plots of a result folder (explore, simulate or sweep)");
  cmd->add_option("dir", *dir, "result folder")->required();
  return [dir, cmd]() -> int {
    if (!cmd->parsed()) return -1;
    return run(*dir);
  };
}

}  // namespace hetmap::cli
