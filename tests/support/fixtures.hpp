#pragma once
// Helpers shared by the test suites: problems built from inline YAML/CSV, temporary folders,
// and running the `hetmap` binary.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "hetmap/evaluator.hpp"
#include "hetmap/problem.hpp"

namespace hetmap::test {

/// The model of the hand-computed schedules: backbone b1 -> b2 -> b3 of opaque [250] layers
/// (1000 bytes each), exit e (one layer e1) after b1, taken 0.4 with accuracy 0.5; final 0.9.
inline const char* const kChainWithExitYaml = R"(
name: m
input: [250]
layers:
  - {name: b1, op: opaque, out: [250]}
  - {name: b2, op: opaque, out: [250]}
  - {name: b3, op: opaque, out: [250]}
exits:
  - {name: e, after: b1, layers: [{name: e1, op: opaque, out: [250]}], taken: 0.4, accuracy: 0.5}
final_accuracy: 0.9
)";

/// Compiles a problem from model YAML, platform YAML and profile CSV text.
Problem make_problem(const std::string& model_yaml, const std::string& platform_yaml,
                     const std::string& profile_csv, const std::string& transfers_csv = "");

/// Resolves mapping YAML text against a problem.
Config make_config(const Problem& problem, const std::string& mapping_yaml);

/// A fresh empty folder under the system temp dir, removed at process exit.
std::string temp_dir();

/// The message of the InputError `f` throws; "" if it throws none.
std::string input_error_of(const std::function<void()>& f);

/// Writes `text` to `dir/name` and returns the path.
std::string write_file(const std::string& dir, const std::string& name, const std::string& text);

struct RunResult {
  int exit_code = 0;
  std::string out, err;
};
/// Runs the hetmap binary with `args` (a shell-quoted string) from the source folder.
RunResult run_hetmap(const std::string& args);

/// The whole text of a file; empty if it cannot be read (tests compare outputs that may be
/// missing).
std::string slurp(const std::string& path);
/// slurp() without trailing newlines and spaces (a sysfs file's value).
std::string trimmed(const std::string& path);

/// `s` in single quotes, for the shell command lines of run_hetmap().
inline std::string quote(const std::string& s) { return "'" + s + "'"; }

/// Absolute path of a file in the source tree.
std::string source_path(const std::string& relative);

/// The published board measurements committed under data/ (data/README.md: sources).
std::string board_data();

}  // namespace hetmap::test
