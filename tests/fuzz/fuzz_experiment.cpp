// libFuzzer target: experiment YAML (load_experiment, docs/experiments.md), expanded into its
// points, the first points' problems built and the resolved experiment.yaml written, as
// `hetmap sweep` does before it runs anything. load_experiment reads a file and resolves paths
// relative to it: the input is written to PRIVATE/experiments/fuzz.yaml, beside links to the
// repository's models/, profiles/ and examples/ (so ../models/tiny-ee.yaml resolves, as in the
// shipped experiments). Nothing here writes but the input itself. A bad experiment is an
// InputError; anything else is a defect.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "fuzz_support.hpp"
#include "hetmap/error.hpp"
#include "hetmap/sweep/experiment.hpp"

namespace {

const std::string& experiment_path() {
  static const std::string path = [] {
    namespace fs = std::filesystem;
    const std::string& dir = hetmap::fuzz::private_dir();
    fs::create_directories(dir + "/experiments");
    for (const char* sub : {"models", "profiles", "examples"})
      fs::create_directory_symlink(hetmap::fuzz::source_path(sub), dir + "/" + sub);
    return dir + "/experiments/fuzz.yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const std::string& path = experiment_path();
  hetmap::fuzz::write_private("experiments/fuzz.yaml", fuzz::text_of(data, size));
  fuzz::expect<InputError>([&] {
    const sweep::Experiment x = sweep::load_experiment(path);
    const std::vector<sweep::Point> points = sweep::expand(x);
    // Every point's problem is loaded when the sweep runs it: the first few stand for all.
    for (std::size_t i = 0; i < points.size() && i < 3; ++i) sweep::build_problem(points[i].spec);
    sweep::resolved_yaml(x, points);
  });
  return 0;
}
