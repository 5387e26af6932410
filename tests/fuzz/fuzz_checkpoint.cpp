// libFuzzer target: explore checkpoints (JSON, Driver::resume, docs/search.md "Checkpoints").
// The input is written to a private file and resumed by the search `hetmap explore --resume`
// runs on the repository's tiny-ee problem (NSGA-II, population 8, seed 1, default objectives,
// policy searched), which then runs to generation 4: a checkpoint it accepts must be one the
// search can go on from. A checkpoint of another run, or a corrupt one, is an InputError;
// anything else is a defect.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "hetmap/dse/explore.hpp"
#include "hetmap/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const Problem& problem = fuzz::tiny_problem();
  dse::ExploreSettings s;
  s.generations = 4;
  s.population = 8;
  s.seed = 1;
  s.checkpoint = fuzz::write_private("checkpoint.json", fuzz::text_of(data, size));
  s.resume = true;
  s.what = "fuzz";
  fuzz::expect<InputError>([&] { dse::explore(problem, s); });
  return 0;
}
