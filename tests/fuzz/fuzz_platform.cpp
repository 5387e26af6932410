// libFuzzer target: platform YAML (parse_platform, docs/formats.md "Platform"). A bad platform
// is an InputError; a platform that loads must write back (to_yaml) to text that loads into
// the same platform, which writes the same text again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "fuzz_support.hpp"
#include "hetmap/error.hpp"
#include "hetmap/platform.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hetmap;
  const std::string text = fuzz::text_of(data, size);
  std::optional<Platform> platform;
  fuzz::expect<InputError>([&] { platform = parse_platform(text, "fuzz.yaml"); });
  if (!platform) return 0;
  // Outside expect(): the writer's text failing to load is a defect, not a bad input.
  const std::string written = to_yaml(*platform);
  if (to_yaml(parse_platform(written, "written.yaml")) != written) {
    std::fprintf(stderr, "platform round trip differs:\n%s\n", written.c_str());
    std::abort();
  }
  return 0;
}
