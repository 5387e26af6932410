#include "fuzz_support.hpp"

#include <cxxabi.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "hetmap/des.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/run.hpp"

namespace hetmap::fuzz {

namespace fs = std::filesystem;

std::string source_path(const std::string& relative) {
  return std::string(HETMAP_SOURCE_DIR) + "/" + relative;
}

namespace {

// An exception escaping a target ends in std::terminate: say which one before libFuzzer
// reports the abort, so the crash report names it.
[[noreturn]] void report_uncaught() {
  if (const std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      int status = 0;
      char* type = abi::__cxa_demangle(typeid(x).name(), nullptr, nullptr, &status);
      std::fprintf(stderr, "==fuzz== uncaught exception %s: %s\n", type ? type : typeid(x).name(), x.what());
      std::free(type);
    } catch (...) {
      std::fprintf(stderr, "==fuzz== uncaught exception not derived from std::exception\n");
    }
  }
  std::abort();
}
[[maybe_unused]] const std::terminate_handler kPrevious = std::set_terminate(report_uncaught);

struct PrivateDir {
  std::string path;
  PrivateDir() {
    std::string tmpl = (fs::temp_directory_path() / "hetmap-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed under " + tmpl);
    path = tmpl;
  }
  ~PrivateDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
}  // namespace

const std::string& private_dir() {
  static const PrivateDir dir;
  return dir.path;
}

std::string write_private(const std::string& name, const std::string& text) {
  const std::string path = private_dir() + "/" + name;
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
  return path;
}

const Model& tiny_model() {
  static const Model model = load_model(source_path("models/tiny-ee.yaml"));
  return model;
}

const Platform& example_platform() {
  static const Platform platform = load_platform(source_path("profiles/example/platform.yaml"));
  return platform;
}

const Problem& tiny_problem() {
  static const Problem problem = [] {
    Model model = tiny_model();
    Platform platform = example_platform();
    Profile profile = load_profile(source_path("profiles/example/tiny-ee.csv"), model, platform);
    return Problem(std::move(model), std::move(platform), std::move(profile));
  }();
  return problem;
}

void simulate(const Problem& problem, const Config& config, const std::string& mapping_file) {
  expect<Error>([&] { run_simulation(problem, config, RunSettings{}, mapping_file); });
  RunSettings des;
  des.inputs = 8;
  des.arrival = Arrival{ArrivalKind::poisson, 500.0};
  des.jitter = true;
  des.seed = 7;
  expect<Error>([&] { run_simulation(problem, config, des, mapping_file); });
}

void simulate_examples(const Problem& problem) {
  static const Mapping examples[] = {load_mapping(source_path("examples/tiny-ee-parallel.yaml")),
                                     load_mapping(source_path("examples/tiny-ee-sequential-big.yaml"))};
  for (const Mapping& m : examples) {
    std::optional<Config> config;
    expect<Error>([&] { config = problem.resolve(m); });
    if (config) simulate(problem, *config, m.file);
  }
}

}  // namespace hetmap::fuzz
