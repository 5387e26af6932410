// What the fuzzers of tests/fuzz found (docs/building.md, "Sanitizers and fuzzing"), each class
// of input now ending in a clear error. The inputs that found them are in the fuzzers' seed
// corpora too (tests/fuzz/corpus/<target>/regression-*), so every fuzzing run replays them.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "fixtures.hpp"
#include "hetmap/cost.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"

namespace hetmap {
namespace {

// yaml-cpp 0.7 loops for ever (and fills memory) reading all documents of a text with a ','
// where no value can start: at the top, after a complete value, or after a top-level list.
// Every YAML loader goes through one reader, which stops there.
TEST(FuzzRegressions, AStrayCommaInYamlIsAnErrorNotAHang) {
  const std::string kWhy = " (a ',' outside brackets, or text after the document's value)";
  EXPECT_EQ(test::input_error_of([] { parse_mapping(",", "m.yaml"); }), "m.yaml:1: invalid YAML: unexpected ','" + kWhy);
  EXPECT_EQ(test::input_error_of([] { parse_platform(", name: p", "p.yaml"); }),
            "p.yaml:1: invalid YAML: unexpected ','" + kWhy);
  EXPECT_EQ(test::input_error_of([] { parse_mapping("{model: m, platform: p},\n", "m.yaml"); }),
            "m.yaml:1: invalid YAML: unexpected ','" + kWhy);
  EXPECT_EQ(test::input_error_of([] { parse_model("- a\n, b\n", "m.yaml"); }),
            "m.yaml:2: invalid YAML: unexpected ','" + kWhy);
  // Commas where YAML allows them stay plain text or separators.
  EXPECT_EQ(test::input_error_of([] { parse_mapping("model: a, b\nplatform: p\n", "m.yaml"); }), "");
  EXPECT_EQ(test::input_error_of([] { parse_mapping("{model: m, platform: p}\n", "m.yaml"); }), "");
}

// yaml-cpp 0.7 reads control characters YAML does not allow, and mangles some: a NUL byte
// followed by '_' came out as the lone byte 0xA0, so a name loaded as invalid UTF-8 (and the
// mapping's own writer then produced text that did not load). Only tab, line feed and carriage
// return are allowed (YAML 1.2, c-printable).
TEST(FuzzRegressions, ControlCharactersInYamlAreErrors) {
  const std::string kAllowed = " (YAML text holds printable characters, tab, line feed and carriage return)";
  EXPECT_EQ(test::input_error_of([] {
              parse_mapping(std::string("model: m\nplatform: p\nassign: {\t") + '\0' + "_fc: big}\n", "m.yaml");
            }),
            "m.yaml:3: invalid YAML: character U+0000" + kAllowed);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: p\x1b\n", "p.yaml"); }),
            "p.yaml:1: invalid YAML: character U+001B" + kAllowed);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \x7f\n", "p.yaml"); }),
            "p.yaml:1: invalid YAML: character U+007F" + kAllowed);
  EXPECT_EQ(test::input_error_of([] { parse_platform("\nname: \xc2\x80\n", "p.yaml"); }),
            "p.yaml:2: invalid YAML: character U+0080" + kAllowed);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \xef\xbf\xbe\n", "p.yaml"); }),
            "p.yaml:1: invalid YAML: character U+FFFE" + kAllowed);
  // Tab between key and value, CR LF line ends, a byte-order mark and non-ASCII text stay allowed.
  EXPECT_EQ(test::input_error_of([] {
              parse_mapping("\xef\xbb\xbfmodel:\tm\r\nplatform: \"p\xc3\xa9\"\r\n", "m.yaml");
            }),
            "");
}

// fuzz_mapping: yaml-cpp 0.7 keeps a lone carriage return inside a plain scalar (0.8 and YAML
// 1.2 end the line there), so `platform: p\r\r` named a platform "p\r\r"; the mapping's writer
// put that name on a line of its own, which read back as another name. Line ends are LF or
// CR LF, whichever yaml-cpp hetmap is built with. YAML's escapes can put any control character
// in a string too: no string, key or value, in any YAML file holds one but line feed.
TEST(FuzzRegressions, AStringHoldsNoControlCharacterTypedOrEscaped) {
  EXPECT_EQ(test::input_error_of([] { parse_mapping("# B).\nmodel: tiny-ee\nplatform: IIII\r\r", "m.yaml"); }),
            "m.yaml:3: invalid YAML: a carriage return without a line feed (line ends are LF or CR LF)");
  EXPECT_EQ(test::input_error_of([] { parse_mapping("model: m\rplatform: p\r\n", "m.yaml"); }),
            "m.yaml:1: invalid YAML: a carriage return without a line feed (line ends are LF or CR LF)");
  const std::string kBreak = " (a line break to YAML 1.1, text to YAML 1.2: line ends are LF or CR LF)";
  EXPECT_EQ(test::input_error_of([] { parse_platform("\nname: p\xc2\x85q\n", "p.yaml"); }),
            "p.yaml:2: invalid YAML: character U+0085" + kBreak);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \"p\xe2\x80\xa8q\"\n", "p.yaml"); }),
            "p.yaml:1: invalid YAML: character U+2028" + kBreak);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: p\xe2\x80\xa9\n", "p.yaml"); }),
            "p.yaml:1: invalid YAML: character U+2029" + kBreak);
  const std::string kNoControl =
      " in a string: a string holds no control character but line feed (no tab, carriage return, "
      "escape or NUL, typed or escaped)";
  EXPECT_EQ(test::input_error_of([] { parse_mapping("model: m\nplatform: \"a\\rb\"\n", "m.yaml"); }),
            "m.yaml:2: character U+000D" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \"p\\e\"\n", "p.yaml"); }),
            "p.yaml:1: character U+001B" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \"p\\0\"\n", "p.yaml"); }),
            "p.yaml:1: character U+0000" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \"p\\tq\"\n", "p.yaml"); }),
            "p.yaml:1: character U+0009" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: p\tq\n", "p.yaml"); }),
            "p.yaml:1: character U+0009" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_platform("name: \"p\\x85q\"\n", "p.yaml"); }),
            "p.yaml:1: character U+0085" + kNoControl);
  EXPECT_EQ(test::input_error_of([] { parse_model("\"na\\rme\": m\n", "m.yaml"); }),
            "m.yaml:1: character U+000D" + kNoControl);
  // Line feeds stay allowed: a `source:` over several lines, typed or escaped, reads and writes
  // back as itself.
  Platform pf;
  EXPECT_EQ(test::input_error_of([&] {
              pf = parse_platform("name: p\nprocessors:\n  - {name: cpu, kind: cpu}\nhost: cpu\n"
                                  "source: |\n  measured\n  on a board\n", "p.yaml");
            }),
            "");
  EXPECT_EQ(pf.source, "measured\non a board\n");
  EXPECT_EQ(parse_platform(to_yaml(pf), "w.yaml").source, pf.source);
}

// The same through the program: `hetmap simulate` with such a mapping ends at once, exit 2.
TEST(FuzzRegressions, TheCommandLineEndsOnAStrayComma) {
  const std::string dir = test::temp_dir();
  const std::string mapping = test::write_file(dir, "m.yaml", "[model, tiny-ee], platform\n");
  const test::RunResult r = test::run_hetmap(
      "simulate -m models/tiny-ee.yaml -p profiles/example/platform.yaml --profile "
      "profiles/example/tiny-ee.csv --mapping " + test::quote(mapping));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("m.yaml:1: invalid YAML: unexpected ','"), std::string::npos) << r.err;
}

// Tensors within their bounds (2^31 - 1 a dimension, 2^40 elements) can still multiply past
// 2^63 in the static cost (cost.hpp): an fc over 2^40 inputs with 2^31 - 1 units, or a conv
// whose window spans a huge padding. The count overflowed (undefined behaviour; `hetmap
// estimate` read it); the loader now refuses such a layer, naming it and the count.
TEST(FuzzRegressions, WorkBeyondSixtyFourBitsIsRefusedByTheLoader) {
  EXPECT_EQ(test::input_error_of([] {
              parse_model("name: m\ninput: [2147483647, 512]\nlayers:\n"
                          "  - {name: f, op: fc, units: 2147483647}\n", "m.yaml");
            }),
            "m.yaml:4: layer 'f': its multiply-accumulates do not fit in 64 bits (hetmap counts a "
            "model's work in 64 bits)");
  EXPECT_EQ(test::input_error_of([] {
              parse_model("name: m\ninput: [1024, 1, 1]\nlayers:\n"
                          "  - {name: c, op: conv, filters: 1, kernel: 2147483647, pad: 1073741823}\n",
                          "m.yaml");
            }),
            "m.yaml:4: layer 'c': its weights do not fit in 64 bits (hetmap counts a model's work "
            "in 64 bits)");
  // Each layer fits, their sum does not: two fc layers of 2^62 multiply-accumulates.
  EXPECT_EQ(test::input_error_of([] {
              parse_model("name: m\ninput: [1073741824, 1024]\nlayers:\n"
                          "  - {name: f0, op: fc, units: 4194304, inputs: [input]}\n"
                          "  - {name: f1, op: fc, units: 4194304, inputs: [input]}\n"
                          "  - {name: out, op: concat, inputs: [f0, f1]}\n", "m.yaml");
            }),
            "m.yaml:5: layer 'f1': the work of the model's layers up to this one does not fit in "
            "64 bits (hetmap counts a model's work in 64 bits)");
  // A model built in code, not loaded, gets the exception instead of a wrapped number.
  Op fc;
  fc.kind = OpKind::fc;
  fc.units = 2147483647;
  fc.out.dims = {2147483647};
  Shape in;
  in.dims = {2147483647, 512};
  EXPECT_THROW(op_cost(fc, {in}), std::overflow_error);
}

}  // namespace
}  // namespace hetmap
