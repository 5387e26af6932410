// libFuzzer target: transfers CSV (parse_transfers, docs/formats.md "Transfers") for the
// repository's tiny-ee model on the example platform. A bad file is an InputError; one that
// loads must write back (to_csv) to text that loads into the same rows, and the problem with
// these copy times must simulate the shipped mappings or say why not (a hetmap::Error).
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
  const Problem& base = fuzz::tiny_problem();
  const Model& model = base.model();
  const Platform& platform = base.platform();
  const std::string text = fuzz::text_of(data, size);
  std::optional<Transfers> transfers;
  fuzz::expect<InputError>([&] { transfers = parse_transfers(text, "fuzz.transfers.csv", model, platform); });
  if (!transfers) return 0;
  const std::string written = to_csv(*transfers, model, platform);
  if (to_csv(parse_transfers(written, "written.csv", model, platform), model, platform) != written) {
    std::fprintf(stderr, "transfers round trip differs:\n%s\n", written.c_str());
    std::abort();
  }
  std::optional<Problem> problem;
  fuzz::expect<Error>([&] { problem.emplace(model, platform, base.profile(), std::move(*transfers)); });
  if (problem) fuzz::simulate_examples(*problem);
  return 0;
}
