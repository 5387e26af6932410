// libFuzzer target: profile CSV (parse_profile, docs/formats.md "Profile") for the repository's
// tiny-ee model on the example platform. A bad profile is an InputError; one that loads must
// write back (to_csv) to text that loads into the same rows, and a problem built on it must
// evaluate a shipped mapping or say why not (a hetmap::Error: infeasible, or exit 1 naming the
// quantity that cannot be computed).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "fuzz_support.hpp"
#include "hetmap/error.hpp"
#include "hetmap/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const Model& model = fuzz::tiny_model();
  const Platform& platform = fuzz::example_platform();
  const std::string text = fuzz::text_of(data, size);
  std::optional<Profile> profile;
  fuzz::expect<InputError>([&] { profile = parse_profile(text, "fuzz.csv", model, platform); });
  if (!profile) return 0;
  const std::string written = to_csv(*profile, model, platform);
  if (to_csv(parse_profile(written, "written.csv", model, platform), model, platform) != written) {
    std::fprintf(stderr, "profile round trip differs:\n%s\n", written.c_str());
    std::abort();
  }
  std::optional<Problem> problem;
  fuzz::expect<Error>([&] { problem.emplace(model, platform, std::move(*profile)); });
  if (problem) fuzz::simulate_examples(*problem);
  return 0;
}
