// libFuzzer target: mapping YAML (parse_mapping, docs/formats.md "Mapping"), resolved against
// the repository's tiny-ee problem and simulated. A bad mapping is an InputError (an
// infeasible one an InfeasibleError, a result that cannot be computed an Error with exit
// code 1); a mapping that loads must write back (to_yaml) to text that loads and writes the
// same text again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "fuzz_support.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const Problem& problem = fuzz::tiny_problem();
  const std::string text = fuzz::text_of(data, size);
  std::optional<Mapping> mapping;
  fuzz::expect<InputError>([&] { mapping = parse_mapping(text, "fuzz.yaml"); });
  if (!mapping) return 0;
  const std::string written = to_yaml(*mapping);
  if (to_yaml(parse_mapping(written, "written.yaml")) != written) {
    std::fprintf(stderr, "mapping round trip differs:\n%s\n", written.c_str());
    std::abort();
  }
  std::optional<Config> config;
  fuzz::expect<Error>([&] { config = problem.resolve(*mapping); });
  if (config) fuzz::simulate(problem, *config, "fuzz.yaml");
  return 0;
}
