// libFuzzer target: the command line (cli::run, apps/cli.hpp), in-process. The input is the
// argument list, split on NUL and newline. Every run starts in a fresh private folder holding
// copies of a few repository inputs (models/tiny-ee.yaml, profiles/example/, examples/, a
// trace and a small experiment), so the arguments name real files and every file a command
// writes lands there. Bad input must be an exit code with a message (README, "Exit codes");
// an exception other than hetmap::Error or a command-line error escaping the verb is a defect.
//
// What the harness keeps the fuzzer from (none of it hides a defect class):
//  - writing outside its folder (CI runs as root): an argument that contains `..`, starts with
//    `/`, has a `/` right after `=`, `,` or `:`, or is a short option with a `/` (`-o/x`) is
//    dropped;
//  - verbs that run networks on this machine or spawn programs (`profile`, `run`, `validate`
//    measure on the host's cores and pin threads; `plot` runs Python): an input naming one is
//    skipped; their arguments are parsed by the same CLI11 code the other verbs use;
//  - long legitimate work: the values of --generations, --population, --inputs, --jobs and
//    --exhaustive-limit are clamped to small bounds (their ranges are checked by the unit
//    tests), and `explore` gets --exhaustive-limit 10000 unless it names one.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fuzz_support.hpp"

namespace {

namespace fs = std::filesystem;

// The inputs every run starts with, under PRIVATE/in (copied into PRIVATE/run each time).
const std::string& inputs_dir() {
  static const std::string dir = [] {
    const std::string in = hetmap::fuzz::private_dir() + "/in";
    for (const char* f : {"models/tiny-ee.yaml", "models/small-ee.yaml", "profiles/example/platform.yaml",
                          "profiles/example/tiny-ee.csv", "examples/tiny-ee-parallel.yaml",
                          "examples/tiny-ee-sequential-big.yaml"}) {
      fs::create_directories(fs::path(in + "/" + f).parent_path());
      fs::copy_file(hetmap::fuzz::source_path(f), in + "/" + f);
    }
    hetmap::fuzz::write_private("in/traces/tiny-ee.csv",
                                "sample,exit1_conf,exit1_ok,exit2_conf,exit2_ok,final_ok\n"
                                "0,0.9,1,0.95,1,1\n1,0.2,0,0.7,1,1\n2,0.1,0,0.3,0,0\n3,0.6,1,0.4,0,1\n");
    hetmap::fuzz::write_private("in/experiments/tiny.yaml",
                                "name: tiny\nmodel: ../models/tiny-ee.yaml\n"
                                "platform: ../profiles/example/platform.yaml\n"
                                "profile: ../profiles/example/tiny-ee.csv\ntask: explore\n"
                                "search: {generations: 2, population: 8, seed: 1}\n"
                                "grid: {policy: [sequential, parallel]}\n");
    hetmap::fuzz::write_private("in/experiments/tiny-simulate.yaml",
                                "name: tiny-simulate\nmodel: ../models/tiny-ee.yaml\n"
                                "platform: ../profiles/example/platform.yaml\n"
                                "profile: ../profiles/example/tiny-ee.csv\ntask: simulate\n"
                                "mapping: ../examples/tiny-ee-parallel.yaml\n"
                                "simulate: {inputs: 20, jitter: true}\n"
                                "grid: {links.big-gpu.gbytes_per_s: [0.5, 2.0]}\n");
    return in;
  }();
  return dir;
}

bool escapes(const std::string& a) {
  if (a.find("..") != std::string::npos || (!a.empty() && a[0] == '/')) return true;
  for (std::size_t i = 1; i < a.size(); ++i)
    if (a[i] == '/' && (a[i - 1] == '=' || a[i - 1] == ',' || a[i - 1] == ':')) return true;
  return a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find('/') != std::string::npos;
}

// The bound of an option whose value scales the work, or 0.
double bound_of(const std::string& option) {
  if (option == "--generations") return 4;
  if (option == "--population") return 16;
  if (option == "--inputs") return 64;
  if (option == "--jobs") return 2;
  if (option == "--exhaustive-limit") return 10000;
  return 0;
}

// `value` clamped to `bound` when it is a number above it (or nan); else as it was (left to
// the option's own check).
std::string clamped(const std::string& value, double bound) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  const bool number = end != value.c_str() && *end == '\0';
  if (number && !(v <= bound)) return std::to_string(static_cast<long long>(bound));
  return value;
}

std::vector<std::string> arguments(const std::string& text) {
  std::vector<std::string> args;
  std::string cur;
  for (char c : text + '\n') {
    if (c == '\0' || c == '\n') {
      if (!escapes(cur)) args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!args.empty() && args.back().empty()) args.pop_back();  // the final newline
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::size_t eq = args[i].find('=');
    if (eq != std::string::npos && args[i].rfind("--", 0) == 0) {
      if (const double b = bound_of(args[i].substr(0, eq)))
        args[i] = args[i].substr(0, eq + 1) + clamped(args[i].substr(eq + 1), b);
    } else if (const double b = bound_of(args[i]); b && i + 1 < args.size()) {
      args[i + 1] = clamped(args[i + 1], b);
    }
  }
  if (!args.empty() && args[0] == "explore" &&
      std::none_of(args.begin(), args.end(),
                   [](const std::string& a) { return a.rfind("--exhaustive-limit", 0) == 0; }))
    args.insert(args.begin() + 1, {"--exhaustive-limit", "10000"});
  return args;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> args = arguments(hetmap::fuzz::text_of(data, size));
  for (const std::string& a : args)
    if (a == "profile" || a == "run" || a == "validate" || a == "plot") return 0;
  const std::string run = hetmap::fuzz::private_dir() + "/run";
  const std::string& in = inputs_dir();
  fs::remove_all(run);
  fs::copy(in, run, fs::copy_options::recursive);
  if (::chdir(run.c_str()) != 0) std::abort();
  std::cout.clear();  // a write to a closed stdout (libFuzzer -close_fd_mask) fails the stream
  // The messages of bad input (one a run) would bury libFuzzer's report: std::cerr is silenced
  // while the command runs, and put back before anything escapes.
  struct Silence {
    std::streambuf* saved = std::cerr.rdbuf(nullptr);
    ~Silence() {
      std::cerr.rdbuf(saved);
      std::cerr.clear();
    }
  };
  int rc = 0;
  {
    const Silence quiet;
    rc = hetmap::cli::run(args, hetmap::cli::Unexpected::rethrow);
  }
  if (rc < 0 || rc > 3) {
    std::cerr << "fuzz_cli: exit code " << rc << " is none of the documented 0-3\n";
    std::abort();
  }
  return 0;
}
