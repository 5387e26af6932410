#include "fixtures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hetmap/error.hpp"

namespace hetmap::test {

namespace fs = std::filesystem;

Problem make_problem(const std::string& model_yaml, const std::string& platform_yaml,
                     const std::string& profile_csv, const std::string& transfers_csv) {
  Model m = parse_model(model_yaml, "model.yaml");
  Platform p = parse_platform(platform_yaml, "platform.yaml");
  Profile prof = parse_profile(profile_csv, "profile.csv", m, p);
  std::optional<Transfers> tr;
  if (!transfers_csv.empty()) {
    const std::string dir = temp_dir();
    tr = load_transfers(write_file(dir, "model.transfers.csv", transfers_csv), m, p);
  }
  return Problem(std::move(m), std::move(p), std::move(prof), std::move(tr));
}

Config make_config(const Problem& problem, const std::string& mapping_yaml) {
  return problem.resolve(parse_mapping(mapping_yaml, "mapping.yaml"));
}

namespace {
struct TempDirs {
  std::vector<std::string> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (const auto& d : dirs) fs::remove_all(d, ec);
  }
};
TempDirs& temp_dirs() {
  static TempDirs t;
  return t;
}
}  // namespace

std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "hetmap-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  temp_dirs().dirs.push_back(tmpl);
  return tmpl;
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const fs::path p = fs::path(dir) / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  return p.string();
}

std::string source_path(const std::string& relative) {
  return (fs::path(HETMAP_SOURCE_DIR) / relative).string();
}

std::string board_data() { return source_path("data"); }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunResult run_hetmap(const std::string& args) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string emulator = HETMAP_EMULATOR;
  const std::string cmd = std::string("cd '") + HETMAP_SOURCE_DIR + "' && " +
                          (emulator.empty() ? "" : "'" + emulator + "' ") + "'" + HETMAP_BINARY +
                          "' " + args + " >'" + out + "' 2>'" + err + "' </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

std::string trimmed(const std::string& path) {
  std::string s = slurp(path);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace hetmap::test
