#pragma once
// What the libFuzzer targets share (docs/building.md, "Sanitizers and fuzzing"): the fixed
// context some loaders need (a model and a platform from the repository), a private temporary
// folder for the loaders that only read files, and the one rule every target applies:
// the documented error is the expected outcome of a bad input, anything else is a defect.
#include <cstddef>
#include <cstdint>
#include <string>

#include "hetmap/error.hpp"

#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/problem.hpp"

namespace hetmap::fuzz {

/// The fuzzer's bytes as text.
inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Absolute path of a file in the source tree.
std::string source_path(const std::string& relative);

/// A folder of this process's own under the system temp dir (TMPDIR), created on first use and
/// removed at normal exit. A crashing run leaves it behind: scripts/test-sanitizers.sh points
/// TMPDIR at a scratch folder it removes.
const std::string& private_dir();

/// Writes `text` to `private_dir()/name` (replacing it) and returns the path.
std::string write_private(const std::string& name, const std::string& text);

/// The fixed context of the profile, transfers, mapping, trace and checkpoint targets: the
/// repository's tiny-ee model on the example platform with its shipped profile, loaded once.
const Model& tiny_model();
const Platform& example_platform();
const Problem& tiny_problem();

/// Runs `config` on `problem` as `hetmap simulate` would: the analytical evaluator, then the
/// discrete-event simulator on a few jittered Poisson inputs. A hetmap::Error (an infeasible
/// mapping, a result that cannot be computed) is an expected outcome; anything else escapes.
void simulate(const Problem& problem, const Config& config, const std::string& mapping_file);

/// The repository's example mappings of tiny-ee (examples/*.yaml), resolved and simulated on
/// `problem` (each through simulate()).
void simulate_examples(const Problem& problem);

/// Runs `body`; an exception of type `Expected` (the documented error of a bad input) is the
/// normal outcome of a bad input and is swallowed. Any other exception escapes the target, and
/// libFuzzer reports it as a crash (std::terminate).
template <class Expected, class Body>
void expect(Body&& body) {
  try {
    body();
  } catch (const Expected&) {
  }
}

}  // namespace hetmap::fuzz
