// libFuzzer target: exit trace CSV (load_trace, docs/formats.md "Exit trace") for the
// repository's tiny-ee model. load_trace reads a file: the input is written to a private
// temporary file first. A bad trace is an InputError; a trace that loads must serve the
// problem's thresholds: the shipped mappings simulate on it or say why not (a hetmap::Error).
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_support.hpp"
#include "hetmap/error.hpp"
#include "hetmap/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const Problem& base = fuzz::tiny_problem();
  const std::string path = fuzz::write_private("trace.csv", fuzz::text_of(data, size));
  std::optional<ExitTrace> trace;
  fuzz::expect<InputError>([&] { trace = load_trace(path, base.model()); });
  if (!trace) return 0;
  std::optional<Problem> problem;
  fuzz::expect<Error>([&] {
    problem.emplace(base.model(), base.platform(), base.profile(), std::nullopt, std::move(*trace));
  });
  if (problem) fuzz::simulate_examples(*problem);
  return 0;
}
