// Loader suite: every error path of the model, platform, profile, transfers, trace and mapping
// loaders is an InputError (exit code 2) naming the file and the 1-based line as
// "FILE:LINE: message"; an infeasible placement is an InfeasibleError (exit code 3); and
// well-formed inputs parse to the right values (docs/formats.md).
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/trace.hpp"

namespace hetmap {
namespace {

using test::source_path;
using test::temp_dir;
using test::write_file;

// ---------------------------------------------------------------------------------------------
// Helpers

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// `base` with 1-based lines replaced (an empty replacement keeps the line count: it becomes a
// blank line) and extra lines appended.
std::string edit(std::vector<std::string> base, const std::map<int, std::string>& replace,
                 const std::vector<std::string>& append = {}) {
  for (const auto& [line, text] : replace) base.at(line - 1) = text;
  base.insert(base.end(), append.begin(), append.end());
  return join(base);
}

// Runs `f`, expecting an exception of type E whose file, line and message are as given.
// line 0 means "no line": the message then starts with "FILE: ".
template <class E, class F>
::testing::AssertionResult throws_at(F&& f, const std::string& file, int line,
                                     const std::string& needle) {
  try {
    f();
  } catch (const E& e) {
    const std::string what = e.what();
    const std::string prefix =
        line > 0 ? file + ":" + std::to_string(line) + ": " : file + ": ";
    const ExitCode code = std::is_same_v<E, InfeasibleError> ? kInfeasible : kBadInput;
    if (what.rfind(prefix, 0) != 0)
      return ::testing::AssertionFailure()
             << "message '" << what << "' does not start with '" << prefix << "'";
    if (e.file() != file || e.line() != line)
      return ::testing::AssertionFailure() << "file/line " << e.file() << ":" << e.line()
                                           << ", expected " << file << ":" << line;
    if (what.find(needle) == std::string::npos)
      return ::testing::AssertionFailure() << "message '" << what << "' lacks '" << needle << "'";
    if (e.exit_code() != code)
      return ::testing::AssertionFailure() << "exit code " << e.exit_code() << ", expected "
                                           << code;
    return ::testing::AssertionSuccess();
  } catch (const Error& e) {
    return ::testing::AssertionFailure()
           << "wrong error class (exit code " << e.exit_code() << "): " << e.what();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not a hetmap::Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "no exception thrown";
}

// ---------------------------------------------------------------------------------------------
// Model

const std::vector<std::string> kModel = {
    "name: m",                                                          // 1
    "input: [3, 8, 8]",                                                 // 2
    "layers:",                                                          // 3
    "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",          // 4
    "  - {name: r1, op: relu}",                                         // 5
    "  - {name: p1, op: maxpool, kernel: 2, stride: 2}",                // 6
    "  - {name: fc, op: fc, units: 10}",                                // 7
    "exits:",                                                           // 8
    "  - name: e1",                                                     // 9
    "    after: r1",                                                    // 10
    "    layers: [{name: e1_pool, op: avgpool, global: true}, {name: e1_fc, op: fc, units: 10}]",
    "    taken: 0.4",                                                   // 12
    "    accuracy: 0.7",                                                // 13
    "final_accuracy: 0.9",                                              // 14
};

const std::vector<std::string> kSecondExit = {
    "  - name: e2",                                         // 14 (see two_exits)
    "    after: p1",                                        // 15
    "    layers: [{name: e2_fc, op: fc, units: 10}]",       // 16
    "    taken: 0.3",                                       // 17
};

Model model_of(const std::string& yaml) { return parse_model(yaml, "m.yaml"); }

::testing::AssertionResult model_error(const std::string& yaml, int line,
                                       const std::string& needle) {
  return throws_at<InputError>([&] { model_of(yaml); }, "m.yaml", line, needle);
}

// kModel lines 1..13 followed by a second exit on lines 14..17 (no final_accuracy).
std::string two_exits(const std::map<int, std::string>& replace = {}) {
  std::vector<std::string> base(kModel.begin(), kModel.begin() + 13);
  base.insert(base.end(), kSecondExit.begin(), kSecondExit.end());
  return edit(base, replace);
}

// Every CSV hetmap writes quotes its cells through detail::csv_cell: any name reads back as written.
TEST(CsvWriter, CellsReadBackAsWritten) {
  const std::vector<std::string> cells = {"plain", "a,b", "say \"hi\"", "two\nlines", "", "cr\r"};
  std::string text = "h0,h1,h2,h3,h4,h5\n";
  for (std::size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + detail::csv_cell(cells[i]);
  text += "\n";
  EXPECT_EQ(detail::csv_cell("plain"), "plain");
  EXPECT_EQ(detail::csv_cell("a,b"), "\"a,b\"");
  const detail::CsvTable t = detail::parse_csv(text, "t.csv");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].cells, cells);
}

TEST(ModelLoader, ParsesTheValidBaseModel) {
  const Model m = model_of(join(kModel));
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.file, "m.yaml");
  EXPECT_EQ(m.input.dims, (std::vector<std::int64_t>{3, 8, 8}));
  ASSERT_EQ(m.layers.size(), 6u);
  ASSERT_EQ(m.exits.size(), 1u);
  EXPECT_EQ(m.exits[0].name, "e1");
  EXPECT_DOUBLE_EQ(m.exits[0].taken, 0.4);
  ASSERT_TRUE(m.exits[0].accuracy.has_value());
  EXPECT_DOUBLE_EQ(*m.exits[0].accuracy, 0.7);
  ASSERT_TRUE(m.final_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*m.final_accuracy, 0.9);
  EXPECT_EQ(m.exits[0].line, 9);
  EXPECT_EQ(m.layers[m.find_layer("r1")].line, 5);
  EXPECT_EQ(m.find_layer("nope"), -1);
  EXPECT_EQ(m.find_exit("e1"), 0);
  EXPECT_EQ(m.find_exit("nope"), -1);
}

TEST(ModelLoader, UnknownTopLevelKey) {
  EXPECT_TRUE(model_error(edit(kModel, {}, {"colour: red"}), 15, "unknown key 'colour'"));
}

TEST(ModelLoader, UnknownKeyOnALayer) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, filters: 3}"}}), 5,
                          "unknown key 'filters'"));
  // In block style the error points at the offending key's own line.
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - name: r1"}, {6, "    op: relu"},
                                        {7, "    strides: 2"}}),
                          7, "unknown key 'strides'"));
  // On an exit and on an exit layer.
  EXPECT_TRUE(model_error(edit(kModel, {{13, "    acuracy: 0.7"}}), 13, "unknown key 'acuracy'"));
  EXPECT_TRUE(model_error(
      edit(kModel, {{11, "    layers: [{name: e1_pool, op: avgpool, global: true, units: 3}]"}}),
      11, "unknown key 'units'"));
}

TEST(ModelLoader, DuplicateKeysAreErrors) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, name: r2}"}}), 5,
                          "duplicate key 'name'"));
  EXPECT_TRUE(model_error(edit(kModel, {}, {"name: other"}), 15, "duplicate key 'name'"));
}

TEST(ModelLoader, UnknownOp) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu6}"}}), 5,
                          "unknown op 'relu6'"));
}

TEST(ModelLoader, MissingRequiredKeys) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {op: relu}"}}), 5,
                          "missing required key 'name'"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1}"}}), 5, "missing required key 'op'"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, kernel: 3}"}}), 4,
                          "missing required key 'filters'"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4}"}}), 4,
                          "missing required key 'kernel'"));
  EXPECT_TRUE(model_error(edit(kModel, {{7, "  - {name: fc, op: fc}"}}), 7,
                          "missing required key 'units'"));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: maxpool, stride: 2}"}}), 6,
                          "missing required key 'kernel'"));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: opaque}"}}), 6, "requires 'out'"));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: opaque, out: ~}"}}), 6,
                          "requires 'out'"));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: block}"}}), 6,
                          "missing required key 'body'"));
  EXPECT_TRUE(model_error(edit(kModel, {{1, "nam: m"}}), 1, "missing required key 'name'"));
  EXPECT_TRUE(model_error(edit(kModel, {{2, ""}}), 1, "missing required key 'input'"));
  EXPECT_TRUE(model_error(edit(kModel, {{10, ""}}), 9, "missing required key 'after'"));
  EXPECT_TRUE(model_error(edit(kModel, {{11, ""}}), 9, "missing required key 'layers'"));
  // A global pool needs no kernel.
  EXPECT_NO_THROW(model_of(edit(kModel, {{6, "  - {name: p1, op: maxpool, global: true}"}})));
}

TEST(ModelLoader, WrongTypes) {
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: four, kernel: 3}"}}),
                          4, "expected an integer, got 'four'"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4, kernel: 2.5}"}}),
                          4, "expected an integer, got '2.5'"));
  EXPECT_TRUE(model_error(edit(kModel, {{7, "  - {name: fc, op: fc, units: [10]}"}}), 7,
                          "expected an integer"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 0, kernel: 3}"}}),
                          4, "expected an integer >= 1"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4, kernel: 0}"}}),
                          4, "kernel: expected a value >= 1"));
  EXPECT_TRUE(model_error(edit(kModel, {{12, "    taken: lots"}}), 12,
                          "expected a number, got 'lots'"));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: maxpool, global: maybe}"}}), 6,
                          "expected true or false"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: [r1], op: relu}"}}), 5,
                          "expected a string"));
  EXPECT_TRUE(model_error(edit(kModel, {{2, "input: 3"}}), 2, "expected a list of dimensions"));
  EXPECT_TRUE(model_error(edit(kModel, {{2, "input: [3, 0, 8]"}}), 2, "dimensions must be >= 1"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, inputs: c1}"}}), 5,
                          "expected a list of names"));
  EXPECT_TRUE(model_error(edit(kModel, {{3, "layers: {a: 1}"}, {4, ""}, {5, ""}, {6, ""}, {7, ""}}),
                          3, "expected a non-empty list"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - relu"}}), 5, "expected a mapping"));
  EXPECT_TRUE(model_error(edit(kModel, {{14, "final_accuracy: 1.5"}}), 14, "final_accuracy"));
  // Integers that do not fit an int must not wrap around (4294967300 would become 4).
  EXPECT_TRUE(model_error(
      edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4294967300, kernel: 3, pad: 1}"}}), 4,
      "out of range"));
  EXPECT_TRUE(model_error(edit(kModel, {{13, "    accuracy: -0.1"}}), 13, "accuracy"));
}

TEST(ModelLoader, DuplicateNames) {
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: r1, op: maxpool, kernel: 2, stride: 2}"}}),
                          6, "duplicate name 'r1'"));
  // Exit layers and exits share the namespace of the backbone.
  EXPECT_TRUE(model_error(
      edit(kModel, {{11, "    layers: [{name: p1, op: avgpool, global: true}, {name: e1_fc, op: fc, units: 10}]"}}),
      11, "duplicate name 'p1'"));
  EXPECT_TRUE(model_error(edit(kModel, {{9, "  - name: fc"}}), 9, "duplicate name 'fc'"));
}

TEST(ModelLoader, UnknownInputName) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, inputs: [nope]}"}}), 5,
                          "unknown input 'nope'"));
  EXPECT_TRUE(model_error(
      edit(kModel, {{11, "    layers: [{name: e1_pool, op: avgpool, global: true, inputs: [zz]}]"}}),
      11, "unknown input 'zz'"));
}

TEST(ModelLoader, ExitAfterMustBeABackboneLayer) {
  EXPECT_TRUE(model_error(edit(kModel, {{10, "    after: nowhere"}}), 10,
                          "'nowhere' is not a backbone layer"));
  EXPECT_TRUE(model_error(edit(kModel, {{10, "    after: e1_fc"}}), 10,
                          "'e1_fc' is not a backbone layer"));
}

TEST(ModelLoader, ExitShares) {
  EXPECT_TRUE(model_error(edit(kModel, {{12, "    taken: 1.5"}}), 12, "expected a share in [0, 1]"));
  EXPECT_TRUE(model_error(edit(kModel, {{12, "    taken: -0.1"}}), 12, "expected a share in [0, 1]"));
  // 0.4 + 0.7 > 1: reported at the last exit.
  EXPECT_TRUE(model_error(two_exits({{17, "    taken: 0.7"}}), 14, "sum to"));
  // Exactly 1 is fine, and both 0 and 1 are valid shares.
  EXPECT_NO_THROW(model_of(two_exits({{17, "    taken: 0.6"}})));
  EXPECT_NO_THROW(model_of(edit(kModel, {{12, "    taken: 1"}})));
  EXPECT_NO_THROW(model_of(edit(kModel, {{12, "    taken: 0"}})));
  // Missing `taken` means 0.
  EXPECT_DOUBLE_EQ(model_of(edit(kModel, {{12, ""}})).exits[0].taken, 0.0);
}

TEST(ModelLoader, Cycles) {
  const std::vector<std::string> cyc = {
      "name: m",
      "input: [3, 8, 8]",
      "layers:",
      "  - {name: a, op: relu, inputs: [c]}",  // 4: forward reference closing a cycle
      "  - {name: b, op: relu}",               // 5
      "  - {name: c, op: relu}",               // 6
  };
  // The message names the cycle, from its first layer in declaration order (at that line).
  EXPECT_TRUE(model_error(join(cyc), 4, "layers form a cycle: a -> b -> c -> a"));
  // The same cycle found from another layer still starts at `a`.
  EXPECT_TRUE(model_error(edit(cyc, {{4, "  - {name: a, op: relu}"},
                                     {5, "  - {name: b, op: relu, inputs: [c]}"},
                                     {6, "  - {name: c, op: relu, inputs: [b]}"}}),
                          5, "layers form a cycle: b -> c -> b"));
  // A layer reading itself.
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, inputs: [r1]}"}}), 5,
                          "layers form a cycle: r1 -> r1"));
  // A cycle inside an exit branch.
  EXPECT_TRUE(model_error(edit(kModel, {{11, "    layers: [{name: e1_pool, op: avgpool, global: true, "
                                             "inputs: [e1_fc]}, {name: e1_fc, op: fc, units: 10}]"}}),
                          11, "layers form a cycle: e1_pool -> e1_fc -> e1_pool"));
  // A forward reference that closes no cycle is fine: shapes follow the dependencies.
  const Model m = model_of(join({"name: m", "input: [3, 8, 8]", "layers:",
                                 "  - {name: a, op: relu}",
                                 "  - {name: b, op: flatten, inputs: [c]}",
                                 "  - {name: c, op: maxpool, kernel: 2, stride: 2, inputs: [a]}",
                                 "  - {name: d, op: fc, units: 2, inputs: [b]}"}));
  EXPECT_EQ(m.layers[m.find_layer("b")].out.dims, (std::vector<std::int64_t>{48}));
}

TEST(ModelLoader, ShapeMismatches) {
  const std::vector<std::string> add = {
      "name: m",
      "input: [3, 8, 8]",
      "layers:",
      "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",
      "  - {name: c2, op: conv, filters: 8, kernel: 3, pad: 1}",
      "  - {name: sum, op: add, inputs: [c1, c2]}",
  };
  EXPECT_TRUE(model_error(join(add), 6, "add inputs differ in shape"));
  EXPECT_TRUE(model_error(edit(add, {{6, "  - {name: sum, op: add, inputs: [c1]}"}}), 6,
                          "at least two inputs"));
  EXPECT_TRUE(model_error(edit(add, {{6, "  - {name: cat, op: concat, axis: 1, inputs: [c1, c2]}"}}),
                          6, "concat inputs differ"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, out: [4, 8, 9]}"}}), 5,
                          "declared out [4, 8, 9] disagrees with the inferred [4, 8, 8]"));
  EXPECT_TRUE(model_error(edit(kModel, {{7, "  - {name: fc, op: fc, units: 10, out: [11]}"}}), 7,
                          "disagrees"));
  // A declared `out` that agrees is accepted.
  EXPECT_NO_THROW(model_of(edit(kModel, {{5, "  - {name: r1, op: relu, out: [4, 8, 8]}"}})));
  // An op that needs an image gets a flat tensor.
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: maxpool, kernel: 2, inputs: [fc]}"},
                                        {7, "  - {name: fc, op: fc, units: 10, inputs: [r1]}"}}),
                          6, "expected a [C, H, W] input"));
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: r1, op: relu, inputs: [c1, c1]}"}}), 5,
                          "exactly one input"));
}

TEST(ModelLoader, KernelLargerThanInput) {
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4, kernel: 9}"}}),
                          4, "kernel larger than the padded input [3, 8, 8]"));
  // With padding it fits.
  EXPECT_NO_THROW(model_of(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4, kernel: 9, pad: 1}"}})));
  EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: maxpool, kernel: [2, 10]}"}}), 6,
                          "pooling window larger"));
}

TEST(ModelLoader, ConvGroupsMustDivide) {
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: conv, filters: 4, kernel: 3, groups: 2}"}}),
                          4, "groups must divide"));
  EXPECT_TRUE(model_error(edit(kModel, {{4, "  - {name: c1, op: dwconv, filters: 4, kernel: 3}"}}),
                          4, "multiple of the input channels"));
}

TEST(ModelLoader, BackboneCannotReadAnExitLayer) {
  EXPECT_TRUE(model_error(edit(kModel, {{7, "  - {name: fc, op: fc, units: 10, inputs: [e1_pool]}"}}),
                          7, "belongs to exit 'e1'"));
  // Nor can an exit read another exit's layers.
  EXPECT_TRUE(model_error(two_exits({{16, "    layers: [{name: e2_fc, op: fc, units: 10, inputs: [e1_pool]}]"}}),
                          16, "belongs to exit 'e1'"));
}

TEST(ModelLoader, ReservedExitNameFinal) {
  // `final` names the final output in results (JSON keys) and trace columns (final_ok).
  EXPECT_TRUE(model_error(edit(kModel, {{9, "  - name: final"}}), 9, "'final' is reserved"));
}

TEST(ModelLoader, ReservedNameInput) {
  EXPECT_TRUE(model_error(edit(kModel, {{5, "  - {name: input, op: relu}"}}), 5,
                          "'input' is reserved"));
  EXPECT_TRUE(model_error(
      edit(kModel, {{11, "    layers: [{name: input, op: avgpool, global: true}]"}}), 11,
      "'input' is reserved"));
}

TEST(ModelLoader, ShapeInferenceValues) {
  const Model m = model_of(join({
      "name: shapes",
      "input: [4, 9, 8]",
      "layers:",
      "  - {name: a, op: conv, filters: 6, kernel: 3, stride: 2, pad: 1}",
      "  - {name: b, op: conv, filters: 8, kernel: [3, 1], pad: [1, 0], groups: 2, inputs: [input]}",
      "  - {name: c, op: conv, filters: 2, kernel: [1, 5], stride: [1, 3], inputs: [input]}",
      "  - {name: d, op: dwconv, kernel: 3, stride: 2, inputs: [input]}",
      "  - {name: e, op: dwconv, filters: 8, kernel: 3, pad: 1, inputs: [input]}",
      "  - {name: f, op: maxpool, kernel: 2, stride: 2, inputs: [input]}",
      "  - {name: g, op: maxpool, kernel: 2, stride: 2, ceil: true, inputs: [input]}",
      "  - {name: h, op: avgpool, kernel: 2, stride: 2, pad: 1, ceil: true, inputs: [input]}",
      "  - {name: i, op: avgpool, global: true, inputs: [input]}",
      "  - {name: j, op: concat, inputs: [b, e]}",
      "  - {name: k, op: concat, axis: 1, inputs: [f, g]}",
      "  - {name: l, op: flatten, inputs: [a]}",
      "  - {name: m1, op: fc, units: 7, inputs: [a]}",
      "  - {name: n, op: add, inputs: [b, e, b]}",
      "  - {name: o, op: opaque, out: [5, 2], inputs: [input]}",
      "  - {name: q, op: lrn, size: 3, alpha: 0.001, inputs: [a]}",
      "  - {name: r, op: batchnorm, inputs: [a]}",
      "  - {name: s, op: softmax, inputs: [m1]}",
      "  - {name: z, op: concat, inputs: [l, s]}",
  }));
  auto out = [&](const char* name) {
    const int i = m.find_layer(name);
    EXPECT_GE(i, 0) << name;
    return i < 0 ? std::vector<std::int64_t>{} : m.layers[i].out.dims;
  };
  using D = std::vector<std::int64_t>;
  EXPECT_EQ(out("a"), (D{6, 5, 4}));
  EXPECT_EQ(out("b"), (D{8, 9, 8}));
  EXPECT_EQ(out("c"), (D{2, 9, 2}));
  EXPECT_EQ(out("d"), (D{4, 4, 3}));
  EXPECT_EQ(out("e"), (D{8, 9, 8}));
  EXPECT_EQ(out("f"), (D{4, 4, 4}));   // floor
  EXPECT_EQ(out("g"), (D{4, 5, 4}));   // ceil
  EXPECT_EQ(out("h"), (D{4, 5, 5}));   // ceil, but the last window must start inside the input
  EXPECT_EQ(out("i"), (D{4, 1, 1}));
  EXPECT_EQ(out("j"), (D{16, 9, 8}));
  EXPECT_EQ(out("k"), (D{4, 9, 4}));
  EXPECT_EQ(out("l"), (D{120}));
  EXPECT_EQ(out("m1"), (D{7}));
  EXPECT_EQ(out("n"), (D{8, 9, 8}));
  EXPECT_EQ(out("o"), (D{5, 2}));
  EXPECT_EQ(out("q"), (D{6, 5, 4}));
  EXPECT_EQ(out("r"), (D{6, 5, 4}));
  EXPECT_EQ(out("s"), (D{7}));
  EXPECT_EQ(out("z"), (D{127}));

  const Layer& b = m.layers[m.find_layer("b")];
  EXPECT_EQ(b.kernel_h, 3);
  EXPECT_EQ(b.kernel_w, 1);
  EXPECT_EQ(b.pad_h, 1);
  EXPECT_EQ(b.pad_w, 0);
  EXPECT_EQ(b.groups, 2);
  EXPECT_EQ(b.inputs, (std::vector<int>{-1}));
  const Layer& d = m.layers[m.find_layer("d")];
  EXPECT_EQ(d.filters, 4);  // dwconv: filters default to the input channels
  EXPECT_EQ(d.groups, 4);
  EXPECT_EQ(m.layers[m.find_layer("g")].ceil, true);
  EXPECT_EQ(m.layers[m.find_layer("i")].global, true);
  EXPECT_EQ(m.layers[m.find_layer("q")].lrn_size, 3);
  EXPECT_DOUBLE_EQ(m.layers[m.find_layer("q")].lrn_alpha, 0.001);
  EXPECT_EQ(m.layers[m.find_layer("k")].axis, 1);
  EXPECT_EQ(m.layers[m.find_layer("a")].out.bytes(), 4 * 6 * 5 * 4);
  EXPECT_EQ(m.layers[m.find_layer("a")].out.str(), "[6, 5, 4]");
  const Layer& j = m.layers[m.find_layer("j")];
  EXPECT_EQ(j.inputs, (std::vector<int>{m.find_layer("b"), m.find_layer("e")}));
  // The first layer reads the model input by default; the rest their predecessor.
  EXPECT_EQ(m.layers[0].inputs, (std::vector<int>{-1}));
  EXPECT_EQ(m.final_layer(), m.find_layer("z"));
  // The DAG both ways: `n` reads `b` twice and is one of its consumers once.
  const auto idx = [&](std::initializer_list<const char*> names) {
    std::vector<int> v;
    for (const char* n : names) v.push_back(m.find_layer(n));
    return v;
  };
  EXPECT_EQ(m.layers[m.find_layer("b")].consumers, idx({"j", "n"}));
  EXPECT_EQ(m.layers[m.find_layer("a")].consumers, idx({"l", "m1", "q", "r"}));
  EXPECT_EQ(m.input_consumers, idx({"a", "b", "c", "d", "e", "f", "g", "h", "i", "o"}));
  EXPECT_TRUE(m.layers[m.find_layer("z")].consumers.empty());
}

TEST(ModelLoader, BlockWithAResidualBody) {
  const std::vector<std::string> blk = {
      "name: m",                                                       // 1
      "input: [4, 8, 8]",                                              // 2
      "layers:",                                                       // 3
      "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",       // 4
      "  - name: res",                                                 // 5
      "    op: block",                                                 // 6
      "    body:",                                                     // 7
      "      - {name: a, op: conv, filters: 4, kernel: 3, pad: 1}",    // 8
      "      - {name: b, op: relu}",                                   // 9
      "      - {name: s, op: add, inputs: [b, c1]}",                   // 10
      "  - {name: fc, op: fc, units: 10}",                             // 11
  };
  const Model m = model_of(join(blk));
  ASSERT_EQ(m.layers.size(), 3u);
  const Layer& res = m.layers[1];
  EXPECT_EQ(res.name, "res");
  EXPECT_EQ(res.kind, OpKind::block);
  EXPECT_EQ(res.inputs, (std::vector<int>{0}));
  ASSERT_EQ(res.body.size(), 3u);
  EXPECT_EQ(res.body[0].input_names, (std::vector<std::string>{"c1"}));
  EXPECT_EQ(res.body[1].input_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(res.body[2].out.dims, (std::vector<std::int64_t>{4, 8, 8}));
  EXPECT_EQ(res.out.dims, (std::vector<std::int64_t>{4, 8, 8}));
  EXPECT_EQ(m.layers[2].inputs, (std::vector<int>{1}));
  EXPECT_EQ(m.layers[2].out.dims, (std::vector<std::int64_t>{10}));
  // Body ops are not top-level layers.
  EXPECT_EQ(m.find_layer("a"), -1);

  EXPECT_TRUE(model_error(edit(blk, {{10, "      - {name: s, op: add, inputs: [b, nope]}"}}), 10,
                          "input 'nope' is neither an earlier body op nor an input of the block"));
  EXPECT_TRUE(model_error(edit(blk, {{9, "      - {name: b, op: relu, size: 3}"}}), 9,
                          "unknown key 'size'"));
  EXPECT_TRUE(model_error(edit(blk, {{8, "      - {name: a, op: conv, filters: 8, kernel: 3, pad: 1}"}}),
                          10, "add inputs differ in shape"));
  EXPECT_TRUE(model_error(edit(blk, {{7, "    body: []"}, {8, ""}, {9, ""}, {10, ""}}), 7,
                          "expected a non-empty list of ops"));
  EXPECT_TRUE(model_error(edit(blk, {{9, "      - {name: a, op: relu}"}}), 9, "duplicate body op 'a'"));
  EXPECT_TRUE(model_error(edit(blk, {{7, "    out: [4, 8, 8]"}, {8, ""}, {9, ""}, {10, ""}}), 5,
                          "missing required key 'body'"));
  EXPECT_TRUE(model_error(edit(blk, {{6, "    op: block"}, {7, "    out: [5, 8, 8]"}, {8, "    body:"},
                                     {9, "      - {name: a, op: relu}"}, {10, ""}}),
                          5, "declared out [5, 8, 8] disagrees with the inferred [4, 8, 8]"));
}

TEST(ModelLoader, DeclarationOrderPutsExitLayersAfterTheirAfterLayer) {
  const Model m = load_model(source_path("models/tiny-ee.yaml"));
  std::vector<std::string> names;
  for (const Layer& l : m.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "relu1", "e1_pool", "e1_fc", "pool1",
                                             "conv2", "relu2", "pool2", "e2_conv", "e2_pool",
                                             "e2_fc", "conv3", "relu3", "pool3", "fc"}));
  EXPECT_EQ(m.backbone, (std::vector<int>{0, 1, 4, 5, 6, 7, 11, 12, 13, 14}));
  ASSERT_EQ(m.exits.size(), 2u);
  EXPECT_EQ(m.exits[0].after, 1);
  EXPECT_EQ(m.exits[0].layers, (std::vector<int>{2, 3}));
  EXPECT_EQ(m.exits[1].after, 7);
  EXPECT_EQ(m.exits[1].layers, (std::vector<int>{8, 9, 10}));
  EXPECT_EQ(m.layers[2].exit, 0);
  EXPECT_EQ(m.layers[10].exit, 1);
  EXPECT_EQ(m.layers[4].exit, -1);
  EXPECT_EQ(m.layers[2].inputs, (std::vector<int>{1}));  // first exit layer reads `after`
  EXPECT_EQ(m.layers[4].inputs, (std::vector<int>{1}));  // the backbone skips the exit
  EXPECT_EQ(m.layers[8].out.dims, (std::vector<std::int64_t>{32, 8, 8}));
  EXPECT_EQ(m.final_layer(), 14);
  EXPECT_EQ(m.layers[14].out.dims, (std::vector<std::int64_t>{10}));
  // Consumers, each once, in increasing order; the exits fork at relu1 and pool2.
  EXPECT_EQ(m.input_consumers, (std::vector<int>{0}));
  EXPECT_EQ(m.layers[1].consumers, (std::vector<int>{2, 4}));
  EXPECT_EQ(m.layers[7].consumers, (std::vector<int>{8, 11}));
  EXPECT_TRUE(m.layers[3].consumers.empty());
  std::size_t edges = 0;
  for (const Layer& l : m.layers) edges += l.consumers.size();
  EXPECT_EQ(edges, 14u);
}

TEST(ModelLoader, ExitsAreOrderedAlongTheBackbone) {
  // Exits listed out of order; two share `after` and keep their file order.
  const Model m = model_of(join({
      "name: m",
      "input: [3, 8, 8]",
      "layers:",
      "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",
      "  - {name: r1, op: relu}",
      "  - {name: fc, op: fc, units: 10}",
      "exits:",
      "  - {name: late, after: r1, layers: [{name: l_fc, op: fc, units: 10}], taken: 0.1}",
      "  - {name: early_a, after: c1, layers: [{name: a_fc, op: fc, units: 10}], taken: 0.2}",
      "  - {name: early_b, after: c1, layers: [{name: b_fc, op: fc, units: 10}], taken: 0.3}",
  }));
  ASSERT_EQ(m.exits.size(), 3u);
  EXPECT_EQ(m.exits[0].name, "early_a");
  EXPECT_EQ(m.exits[1].name, "early_b");
  EXPECT_EQ(m.exits[2].name, "late");
  EXPECT_DOUBLE_EQ(m.exits[2].taken, 0.1);
  std::vector<std::string> names;
  for (const Layer& l : m.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c1", "a_fc", "b_fc", "r1", "l_fc", "fc"}));
  EXPECT_EQ(m.layers[m.find_layer("a_fc")].exit, 0);
  EXPECT_EQ(m.layers[m.find_layer("b_fc")].exit, 1);
  EXPECT_EQ(m.layers[m.find_layer("l_fc")].exit, 2);
  EXPECT_EQ(m.exits[2].layers, (std::vector<int>{4}));
  EXPECT_EQ(m.find_exit("late"), 2);
}

TEST(YamlErrors, SyntaxErrorsCarryALine) {
  // The bad indentation is on line 3.
  EXPECT_TRUE(model_error("name: m\ninput: [3, 8, 8]\n  layers: x\n", 3, "invalid YAML"));
  // An unclosed flow mapping is detected a little later, but still with a line.
  try {
    model_of(edit(kModel, {{5, "  - {name: r1, op: relu"}}));
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_GE(e.line(), 5);
    EXPECT_EQ(std::string(e.what()).rfind("m.yaml:" + std::to_string(e.line()) + ": invalid YAML", 0), 0u)
        << e.what();
  }
  EXPECT_TRUE(throws_at<InputError>([] { parse_platform("name: p\nhost: [a\n", "pf.yaml"); },
                                    "pf.yaml", 3, "invalid YAML"));
  const std::string dir = temp_dir();
  const std::string path = write_file(dir, "map.yaml", "model: m\nplatform: p\n  policy: x\n");
  EXPECT_TRUE(throws_at<InputError>([&] { load_mapping(path); }, path, 3, "invalid YAML"));
}

TEST(YamlErrors, EmptyOrNonMappingDocument) {
  EXPECT_TRUE(model_error("", 0, "expected a mapping"));
  EXPECT_TRUE(model_error("- a\n- b\n", 1, "expected a mapping"));
}

TEST(FileErrors, MissingFilesAreNamed) {
  const std::string dir = temp_dir();
  const std::string missing = dir + "/does-not-exist.yaml";
  EXPECT_TRUE(throws_at<InputError>([&] { load_model(missing); }, missing, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>([&] { load_platform(missing); }, missing, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>([&] { load_mapping(missing); }, missing, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>([&] { load_model(dir); }, dir, 0, "folder"));
  const Model m = load_model(source_path("models/tiny-ee.yaml"));
  const Platform p = load_platform(source_path("profiles/example/platform.yaml"));
  const std::string csv = dir + "/nope.csv";
  EXPECT_TRUE(throws_at<InputError>([&] { load_profile(csv, m, p); }, csv, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>([&] { load_transfers(csv, m, p); }, csv, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>([&] { load_trace(csv, m); }, csv, 0, "cannot open"));
  EXPECT_TRUE(throws_at<InputError>(
      [&] {
        load_problem(source_path("models/tiny-ee.yaml"),
                     source_path("profiles/example/platform.yaml"), csv);
      },
      csv, 0, "cannot open"));
}

// ---------------------------------------------------------------------------------------------
// Platform

const std::vector<std::string> kPlatform = {
    "name: pf",                                                                                // 1
    "host: big",                                                                               // 2
    "processors:",                                                                             // 3
    "  - {name: big, kind: cpu, cores: 2, freqs_mhz: [408, 1008, 1800], active_w: [0.3, 0.9, 2.1], idle_w: 0.05}",
    "  - {name: gpu, kind: gpu, freqs_mhz: [200, 800], active_w: 2.4, idle_w: 0.1}",          // 5
    "  - {name: npu, kind: npu}",                                                              // 6
    "links:",                                                                                  // 7
    "  - {between: [big, gpu], latency_ms: 0.15, gbytes_per_s: 2.0}",                          // 8
    "contention: 1.25",                                                                        // 9
    "source: \"unit test\"",                                                                   // 10
};

Platform platform_of(const std::string& yaml) { return parse_platform(yaml, "pf.yaml"); }

::testing::AssertionResult platform_error(const std::string& yaml, int line,
                                          const std::string& needle) {
  return throws_at<InputError>([&] { platform_of(yaml); }, "pf.yaml", line, needle);
}

TEST(PlatformLoader, Values) {
  const Platform p = platform_of(join(kPlatform));
  EXPECT_EQ(p.name, "pf");
  EXPECT_EQ(p.file, "pf.yaml");
  EXPECT_EQ(p.host, 0);
  ASSERT_EQ(p.processors.size(), 3u);
  const Processor& big = p.processors[0];
  EXPECT_EQ(big.kind, ProcKind::cpu);
  EXPECT_EQ(big.cores, 2);
  EXPECT_EQ(big.freqs_mhz, (std::vector<double>{408, 1008, 1800}));
  EXPECT_EQ(big.active_w, (std::vector<double>{0.3, 0.9, 2.1}));
  EXPECT_DOUBLE_EQ(big.idle_w, 0.05);
  EXPECT_TRUE(big.has_power);
  EXPECT_DOUBLE_EQ(big.default_freq(), 1800);
  EXPECT_EQ(big.default_threads(), 2);
  EXPECT_EQ(big.freq_level(1008), 1);
  EXPECT_EQ(big.freq_level(1000), -1);
  EXPECT_EQ(big.levels(), 3);
  const Processor& gpu = p.processors[1];
  EXPECT_EQ(gpu.kind, ProcKind::gpu);
  EXPECT_EQ(gpu.cores, 1);
  EXPECT_EQ(gpu.active_w, (std::vector<double>{2.4, 2.4}));  // one number: every level
  const Processor& npu = p.processors[2];
  EXPECT_EQ(npu.kind, ProcKind::npu);
  EXPECT_TRUE(npu.freqs_mhz.empty());
  EXPECT_EQ(npu.levels(), 1);
  EXPECT_DOUBLE_EQ(npu.default_freq(), 0.0);
  EXPECT_FALSE(npu.has_power);
  EXPECT_FALSE(p.has_power());
  EXPECT_EQ(npu.line, 6);
  ASSERT_EQ(p.links.size(), 1u);
  EXPECT_EQ(p.links[0].a, 0);
  EXPECT_EQ(p.links[0].b, 1);
  EXPECT_EQ(p.links[0].line, 8);
  EXPECT_EQ(p.link_index(1, 0), 0);
  EXPECT_EQ(p.link_index(0, 2), -1);
  // latency + bytes / (GB/s * 1e9) * 1e3 ms
  EXPECT_DOUBLE_EQ(p.links[0].copy_ms(4e6), 0.15 + 2.0);
  EXPECT_DOUBLE_EQ(p.contention, 1.25);
  EXPECT_EQ(p.source, "unit test");
  EXPECT_EQ(p.find("gpu"), 1);
  EXPECT_EQ(p.find("dsp"), -1);

  const Platform shipped = load_platform(source_path("profiles/example/platform.yaml"));
  EXPECT_EQ(shipped.name, "example");
  EXPECT_TRUE(shipped.has_power());
  EXPECT_EQ(shipped.links.size(), 2u);
  EXPECT_DOUBLE_EQ(shipped.contention, 1.0);
}

// kMaxProcessors (64) is the most a platform may have: 64 load, 65 are refused.
TEST(PlatformLoader, AtMostKMaxProcessors) {
  const auto platform_of = [](int n) {
    std::string y = "name: wide\nhost: p0\nprocessors:\n";
    for (int p = 0; p < n; ++p) y += "  - {name: p" + std::to_string(p) + ", kind: cpu}\n";
    return y;
  };
  EXPECT_EQ(parse_platform(platform_of(kMaxProcessors), "wide.yaml").processors.size(), 64u);
  try {
    parse_platform(platform_of(kMaxProcessors + 1), "wide.yaml");
    FAIL() << "65 processors were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("at most 64 processors"), std::string::npos) << e.what();
  }
}

TEST(PlatformLoader, Errors) {
  EXPECT_TRUE(platform_error(edit(kPlatform, {}, {"colour: red"}), 11, "unknown key 'colour'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu, kind: npu, freq: 3}"}}), 6,
                             "unknown key 'freq'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu, kind: dsp}"}}), 6,
                             "expected cpu, gpu or npu, got 'dsp'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu}"}}), 6,
                             "missing required key 'kind'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{2, "host: little"}}), 2,
                             "'little' is not a processor"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{2, ""}}), 1, "missing required key 'host'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: gpu, kind: npu}"}}), 6,
                             "duplicate processor 'gpu'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big, dsp], gbytes_per_s: 2}"}}), 8,
                             "unknown processor 'dsp'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big], gbytes_per_s: 2}"}}), 8,
                             "expected two processor names"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big, big], gbytes_per_s: 2}"}}), 8,
                             "two different processors"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{9, "  - {between: [gpu, big], latency_ms: 1, gbytes_per_s: 1}"}}), 9,
      "duplicate link between 'gpu' and 'big'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big, gpu], gbytes_per_s: -1}"}}), 8,
                             "gbytes_per_s: expected > 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big, gpu], gbytes_per_s: 0}"}}), 8,
                             "gbytes_per_s: expected > 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{8, "  - {between: [big, gpu]}"}}), 8,
                             "missing required key 'gbytes_per_s'"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{8, "  - {between: [big, gpu], latency_ms: -0.1, gbytes_per_s: 1}"}}), 8,
      "latency_ms: expected >= 0"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{5, "  - {name: gpu, kind: gpu, freqs_mhz: [200, 800], active_w: [0.6, 1.2, 2.4]}"}}),
      5, "expected one value per frequency (2), got 3"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{6, "  - {name: npu, kind: npu, active_w: [1, 2]}"}}), 6,
      "expected one value per frequency (1), got 2"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{5, "  - {name: gpu, kind: gpu, freqs_mhz: [800, 200]}"}}), 5,
      "strictly ascending"));
  EXPECT_TRUE(platform_error(
      edit(kPlatform, {{5, "  - {name: gpu, kind: gpu, freqs_mhz: [200, 200]}"}}), 5,
      "strictly ascending"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{5, "  - {name: gpu, kind: gpu, freqs_mhz: [0, 200]}"}}),
                             5, "must be > 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{5, "  - {name: gpu, kind: gpu, freqs_mhz: []}"}}), 5,
                             "expected 1 to 255 frequencies"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu, kind: npu, cores: 0}"}}), 6,
                             "cores: expected 1..255"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu, kind: npu, idle_w: -1}"}}), 6,
                             "idle_w: expected watts >= 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{6, "  - {name: npu, kind: npu, active_w: -1}"}}), 6,
                             "active_w: expected watts >= 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{9, "contention: 0"}}), 9, "expected a factor > 0"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{9, "contention: high"}}), 9,
                             "expected a number, got 'high'"));
  EXPECT_TRUE(platform_error(edit(kPlatform, {{3, "processors: []"}, {4, ""}, {5, ""}, {6, ""}}), 3,
                             "non-empty list of processors"));
}

// ---------------------------------------------------------------------------------------------
// Profile

const std::string kProfModel = join({
    "name: m",
    "input: [3, 8, 8]",
    "layers:",
    "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",
    "  - {name: r1, op: relu}",
    "exits: [{name: e1, after: c1, layers: [{name: e1_fc, op: fc, units: 10}], taken: 0.5}]",
});

struct ProfileFixture : ::testing::Test {
  Model model = parse_model(kProfModel, "m.yaml");
  Platform platform = parse_platform(join(kPlatform), "pf.yaml");
  Profile profile_of(const std::string& csv) {
    return parse_profile(csv, "prof.csv", model, platform);
  }
  ::testing::AssertionResult profile_error(const std::string& csv, int line,
                                           const std::string& needle) {
    return throws_at<InputError>([&] { profile_of(csv); }, "prof.csv", line, needle);
  }
};

const std::vector<std::string> kProfile = {
    "# source: unit test numbers",                              // 1
    "layer,processor,freq_mhz,threads,mean_ms,std_ms,p99_ms,samples",  // 2
    "c1,big,1800,2,1.0,0.1,1.2,10",                             // 3
    "c1,big,1008,2,2.0,0.2,2.4,10",                             // 4
    "c1,big,408,1,5.0,0.5,6.0,10",                              // 5
    "",                                                         // 6 (blank)
    "# a comment between rows",                                 // 7
    "r1,gpu,,,0.5,,,",                                          // 8
    "e1_fc,npu,,,0.25,0.01,0.3,5",                              // 9
};

TEST_F(ProfileFixture, Values) {
  const Profile p = profile_of(join(kProfile));
  EXPECT_EQ(p.file, "prof.csv");
  EXPECT_EQ(p.source, "unit test numbers");
  ASSERT_EQ(p.rows().size(), 5u);
  EXPECT_EQ(p.rows()[0].layer, model.find_layer("c1"));
  EXPECT_EQ(p.rows()[0].proc, 0);
  EXPECT_DOUBLE_EQ(p.rows()[0].freq_mhz, 1800);
  EXPECT_EQ(p.rows()[0].threads, 2);
  EXPECT_DOUBLE_EQ(p.rows()[0].mean_ms, 1.0);
  EXPECT_DOUBLE_EQ(p.rows()[0].std_ms, 0.1);
  EXPECT_DOUBLE_EQ(p.rows()[0].p99_ms, 1.2);
  EXPECT_EQ(p.rows()[0].samples, 10);
  EXPECT_EQ(p.rows()[0].line, 3);
  // Empty frequency and threads: the processor's defaults; empty optional numbers are 0.
  EXPECT_DOUBLE_EQ(p.rows()[3].freq_mhz, 800);
  EXPECT_EQ(p.rows()[3].threads, 1);
  EXPECT_DOUBLE_EQ(p.rows()[3].std_ms, 0.0);
  EXPECT_EQ(p.rows()[3].samples, 0);
  EXPECT_EQ(p.rows()[3].line, 8);
  EXPECT_DOUBLE_EQ(p.rows()[4].freq_mhz, 0.0);  // npu: no DVFS levels
  // Only the required columns, in any order, with quoted cells.
  const Profile q = profile_of("mean_ms,\"processor\",layer\n\"1.5\",big,\"r1\"\n");
  ASSERT_EQ(q.rows().size(), 1u);
  EXPECT_DOUBLE_EQ(q.rows()[0].mean_ms, 1.5);
  EXPECT_DOUBLE_EQ(q.rows()[0].freq_mhz, 1800);
  EXPECT_EQ(q.rows()[0].threads, 2);
  EXPECT_EQ(q.source, "");
  // CRLF line ends, also after a quoted last cell, and blanks around quoted cells.
  const Profile w = profile_of("layer,processor,mean_ms,samples\r\n"
                               "r1,big,2.5,\"7\"\r\n"
                               " \"c1\" , gpu ,\"0.5\" ,\r\n");
  ASSERT_EQ(w.rows().size(), 2u);
  EXPECT_EQ(w.rows()[0].samples, 7);
  EXPECT_EQ(w.rows()[1].layer, model.find_layer("c1"));
  EXPECT_EQ(w.rows()[1].proc, 1);
  EXPECT_DOUBLE_EQ(w.rows()[1].mean_ms, 0.5);
  EXPECT_EQ(w.rows()[1].line, 3);
  // A quoted cell keeps its commas and inner blanks: here an unknown layer named "c1, x ".
  EXPECT_TRUE(profile_error("layer,processor,mean_ms\n\"c1, x \",big,1\n", 2,
                            "unknown layer 'c1, x '"));
}

TEST_F(ProfileFixture, Lookup) {
  const Profile p = profile_of(join(kProfile));
  const int c1 = model.find_layer("c1"), r1 = model.find_layer("r1");
  const int e1 = model.find_layer("e1_fc");
  auto mean = [&](int l, int proc, double f, int t) {
    auto v = p.lookup(l, proc, f, t);
    return v ? v->mean_ms : -1.0;
  };
  // Exact rows.
  EXPECT_DOUBLE_EQ(mean(c1, 0, 1800, 2), 1.0);
  EXPECT_DOUBLE_EQ(mean(c1, 0, 1008, 2), 2.0);
  EXPECT_DOUBLE_EQ(mean(c1, 0, 408, 1), 5.0);
  EXPECT_DOUBLE_EQ(p.lookup(c1, 0, 1008, 2)->std_ms, 0.2);
  // No exact row: the highest-frequency row with the same threads, scaled by f_row / f
  // (not the nearer 1008 MHz row).
  EXPECT_DOUBLE_EQ(mean(c1, 0, 408, 2), 1.0 * 1800 / 408);
  EXPECT_DOUBLE_EQ(p.lookup(c1, 0, 408, 2)->std_ms, 0.1 * 1800 / 408);
  EXPECT_DOUBLE_EQ(mean(c1, 0, 1008, 1), 5.0 * 408 / 1008);
  // Other thread counts never stand in.
  EXPECT_FALSE(p.lookup(c1, 0, 1800, 3).has_value());
  // Nothing for that layer and processor.
  EXPECT_FALSE(p.lookup(c1, 1, 800, 1).has_value());
  EXPECT_FALSE(p.lookup(r1, 0, 1800, 2).has_value());
  // Defaults.
  EXPECT_DOUBLE_EQ(mean(r1, 1, 800, 1), 0.5);
  EXPECT_DOUBLE_EQ(mean(r1, 1, 200, 1), 0.5 * 800 / 200);
  EXPECT_DOUBLE_EQ(mean(e1, 2, 0, 1), 0.25);

  // The same through a compiled Problem: durations per level and thread count.
  const Problem pb(model, platform, p);
  EXPECT_DOUBLE_EQ(pb.duration(c1, 0, 2, 2), 1.0);
  EXPECT_DOUBLE_EQ(pb.duration(c1, 0, 0, 2), 1.0 * 1800 / 408);
  EXPECT_DOUBLE_EQ(pb.duration(c1, 0, 0, 1), 5.0);
  EXPECT_DOUBLE_EQ(pb.duration(c1, 0, 2, 1), 5.0 * 408 / 1800);
  EXPECT_TRUE(std::isnan(pb.duration(c1, 1, 1, 1)));
  EXPECT_TRUE(pb.can_run(c1, 0));
  EXPECT_FALSE(pb.can_run(c1, 1));
  EXPECT_TRUE(pb.can_run(e1, 2));
  EXPECT_DOUBLE_EQ(pb.duration(e1, 2, 0, 1), 0.25);
}

TEST_F(ProfileFixture, Errors) {
  EXPECT_TRUE(profile_error(edit(kProfile, {{2, "layer,processor,freq_mhz,threads,mean_ms,std,p99_ms,samples"}}),
                            2, "unknown column 'std'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{2, "layer,processor,freq_mhz,threads,std_ms,p99_ms,samples,x"}}),
                            2, "unknown column 'x'"));
  EXPECT_TRUE(profile_error("layer,processor,std_ms\nc1,big,1\n", 1, "missing column 'mean_ms'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{4, "c2,big,1008,2,2.0,0.2,2.4,10"}}), 4,
                            "unknown layer 'c2'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,dsp,,,0.5,,,"}}), 8,
                            "unknown processor 'dsp'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,-0.5,,,"}}), 8,
                            "column 'mean_ms': expected >= 0"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,0.5,-1,,"}}), 8,
                            "column 'std_ms': expected >= 0"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,0.5,,-2,"}}), 8,
                            "column 'p99_ms': expected >= 0"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,0.5,,,-3"}}), 8,
                            "column 'samples': expected >= 0"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,fast,,,"}}), 8,
                            "column 'mean_ms': expected a number, got 'fast'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,1.2.3,,,"}}), 8,
                            "expected a number, got '1.2.3'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,,,,"}}), 8,
                            "column 'mean_ms': expected a number"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,nan,,,"}}), 8, "expected a number"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,fast,,1,,,"}}), 8,
                            "column 'freq_mhz': expected a number"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,1,,,5.5"}}), 8,
                            "column 'samples': expected an integer, got '5.5'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,0.5,,"}}), 8, "expected 8 cells"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{8, "r1,gpu,,,0.5,,,,"}}), 8, "got 9"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{4, "c1,big,1800,2,2.0,0.2,2.4,10"}}), 4,
                            "duplicate row for layer 'c1' on 'big'"));
  // An empty frequency/threads is the default: the same cell as the explicit 1800 MHz, 2 threads.
  EXPECT_TRUE(profile_error(edit(kProfile, {{4, "c1,big,,,2.0,0.2,2.4,10"}}), 4, "duplicate row"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "c1,big,408,0,5.0,0.5,6.0,10"}}), 5,
                            "column 'threads': expected 1..2 for 'big'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "c1,big,408,3,5.0,0.5,6.0,10"}}), 5,
                            "column 'threads': expected 1..2"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "c1,big,408,1.5,5.0,0.5,6.0,10"}}), 5,
                            "column 'threads': expected an integer"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "c1,big,408,4294967297,5.0,0.5,6.0,10"}}), 5,
                            "column 'threads'"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "c1,big,-408,1,5.0,0.5,6.0,10"}}), 5,
                            "column 'freq_mhz': expected > 0"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{9, "e1_fc,npu,500,,0.25,0.01,0.3,5"}}), 9,
                            "'npu' has no freqs_mhz"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{5, "\"c1,big,408,1,5.0,0.5,6.0,10"}}), 5,
                            "unterminated quoted field"));
  EXPECT_TRUE(profile_error(edit(kProfile, {{2, "layer,processor,freq_mhz,threads,mean_ms,std_ms,p99_ms,mean_ms"}}),
                            2, "duplicate column 'mean_ms'"));
  EXPECT_TRUE(profile_error("", 0, "empty CSV"));
  EXPECT_TRUE(profile_error("# only a comment\n", 0, "empty CSV"));
}

// ---------------------------------------------------------------------------------------------
// Transfers

TEST_F(ProfileFixture, Transfers) {
  const std::string dir = temp_dir();
  const std::vector<std::string> tr = {
      "# measured copies",        // 1
      "layer,from,to,mean_ms",    // 2
      "c1,big,gpu,0.7",           // 3
      "input,big,npu,0.3",        // 4
      "c1,gpu,big,0.8",           // 5
  };
  const std::string path = write_file(dir, "m.transfers.csv", join(tr));
  const Transfers t = load_transfers(path, model, platform);
  EXPECT_EQ(t.file, path);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[1].layer, -1);
  EXPECT_EQ(t.rows[2].line, 5);
  EXPECT_DOUBLE_EQ(*t.lookup(0, 0, 1), 0.7);
  EXPECT_DOUBLE_EQ(*t.lookup(0, 1, 0), 0.8);  // directed
  EXPECT_DOUBLE_EQ(*t.lookup(-1, 0, 2), 0.3);
  EXPECT_FALSE(t.lookup(-1, 2, 0).has_value());

  // Found beside the profile and used in place of the link formula.
  const std::string prof = write_file(dir, "m.csv", join(kProfile));
  EXPECT_EQ(transfers_path_for(prof), path);
  EXPECT_FALSE(transfers_path_for(dir + "/other.csv").has_value());
  const Problem pb(model, platform, profile_of(join(kProfile)), t);
  EXPECT_DOUBLE_EQ(pb.copy_ms(0, 0, 1), 0.7);
  EXPECT_DOUBLE_EQ(pb.copy_ms(-1, 0, 2), 0.3);
  // r1's output big -> gpu has no measurement: the link formula.
  const int r1 = model.find_layer("r1");
  EXPECT_DOUBLE_EQ(pb.copy_ms(r1, 0, 1), platform.links[0].copy_ms(4.0 * 4 * 8 * 8));
  EXPECT_DOUBLE_EQ(pb.copy_ms(r1, 0, 2), 0.0);  // unlinked pair, not measured

  auto err = [&](const std::map<int, std::string>& repl, int line, const std::string& needle) {
    const std::string p = write_file(dir, "bad.transfers.csv", edit(tr, repl));
    return throws_at<InputError>([&] { load_transfers(p, model, platform); }, p, line, needle);
  };
  EXPECT_TRUE(err({{2, "layer,from,to,mean"}}, 2, "unknown column 'mean'"));
  EXPECT_TRUE(err({{2, "layer,from,to,to"}}, 2, "duplicate column 'to'"));
  EXPECT_TRUE(err({{2, "layer,from,mean_ms"}, {3, "c1,big,1"}, {4, "c1,gpu,1"}, {5, "c1,npu,1"}},
                  2, "missing column 'to'"));
  EXPECT_TRUE(err({{3, "zz,big,gpu,0.7"}}, 3, "unknown layer 'zz'"));
  EXPECT_TRUE(err({{3, "c1,dsp,gpu,0.7"}}, 3, "column 'from': unknown processor 'dsp'"));
  EXPECT_TRUE(err({{3, "c1,big,dsp,0.7"}}, 3, "column 'to': unknown processor 'dsp'"));
  EXPECT_TRUE(err({{3, "c1,big,big,0.7"}}, 3, "'from' and 'to' must differ"));
  EXPECT_TRUE(err({{3, "c1,big,gpu,-0.7"}}, 3, "expected >= 0"));
  EXPECT_TRUE(err({{3, "c1,big,gpu,slow"}}, 3, "expected a number, got 'slow'"));
  EXPECT_TRUE(err({{3, "c1,big,gpu"}}, 3, "expected 4 cells"));
  EXPECT_TRUE(err({{5, "c1,big,gpu,0.9"}}, 5, "duplicate transfer row"));
}

// ---------------------------------------------------------------------------------------------
// Exit trace

TEST(TraceLoader, ValuesAndErrors) {
  // Two exits, listed in the file against backbone order.
  const Model m = parse_model(join({
                                  "name: m",
                                  "input: [3, 8, 8]",
                                  "layers:",
                                  "  - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}",
                                  "  - {name: r1, op: relu}",
                                  "  - {name: fc, op: fc, units: 10}",
                                  "exits:",
                                  "  - {name: x2, after: r1, layers: [{name: x2_fc, op: fc, units: 10}]}",
                                  "  - {name: x1, after: c1, layers: [{name: x1_fc, op: fc, units: 10}]}",
                              }),
                              "m.yaml");
  ASSERT_EQ(m.exits[0].name, "x1");
  const std::string dir = temp_dir();
  const std::vector<std::string> tr = {
      "sample,x2_conf,x2_ok,x1_conf,x1_ok,final_ok",  // 1
      "0,0.9,1,0.2,0,1",                              // 2
      "1,0.1,0,0.95,1,0",                             // 3
      "2,0.5,true,0.5,false,true",                    // 4: the boolean rule's spellings
  };
  const std::string path = write_file(dir, "trace.csv", join(tr));
  const ExitTrace t = load_trace(path, m);
  EXPECT_EQ(t.file, path);
  EXPECT_EQ(t.samples, 3);
  ASSERT_EQ(t.conf.size(), 2u);
  // Indexed by Model::exits order (x1 first), not by column order.
  EXPECT_FLOAT_EQ(t.conf[0][0], 0.2f);
  EXPECT_FLOAT_EQ(t.conf[0][1], 0.95f);
  EXPECT_FLOAT_EQ(t.conf[1][0], 0.9f);
  EXPECT_EQ(t.ok[0], (std::vector<unsigned char>{0, 1, 0}));
  EXPECT_EQ(t.ok[1], (std::vector<unsigned char>{1, 0, 1}));
  EXPECT_EQ(t.final_ok, (std::vector<unsigned char>{1, 0, 1}));

  auto err = [&](const std::vector<std::string>& text, int line, const std::string& needle) {
    const std::string p = write_file(dir, "bad.csv", join(text));
    return throws_at<InputError>([&] { load_trace(p, m); }, p, line, needle);
  };
  EXPECT_TRUE(err({"sample,x2_conf,x2_ok,x1_conf,x1_ok,final_ok,x3_conf", "0,1,1,1,1,1,1"}, 1,
                  "unknown column 'x3_conf'"));
  EXPECT_TRUE(err({"sample,x2_conf,x2_ok,x1_conf,final_ok", "0,1,1,1,1"}, 1,
                  "missing column 'x1_ok'"));
  EXPECT_TRUE(err({"sample,x2_conf,x2_ok,x1_conf,x1_ok", "0,1,1,1,1"}, 1,
                  "missing column 'final_ok'"));
  EXPECT_TRUE(err({tr[0], tr[1], "1,0.1,0,0.95,2,0"}, 3, "column 'x1_ok': expected 0 or 1, got '2'"));
  for (const char* bad : {"yes", "True", "on"})
    EXPECT_TRUE(err({tr[0], tr[1], std::string("1,0.1,0,0.95,") + bad + ",0"}, 3,
                    std::string("column 'x1_ok': expected 0 or 1, got '") + bad + "'"));
  EXPECT_TRUE(err({tr[0], tr[1], "1,high,0,0.95,1,0"}, 3,
                  "column 'x2_conf': expected a number, got 'high'"));
  EXPECT_TRUE(err({tr[0], tr[1], "1,0.1,0,0.95,1"}, 3, "expected 6 cells"));
  EXPECT_TRUE(err({tr[0]}, 1, "no samples"));
  // A repeated column would be read once and the copy ignored.
  EXPECT_TRUE(err({"sample,x2_conf,x2_ok,x1_conf,x1_ok,final_ok,x1_conf", "0,1,1,1,1,1,0"}, 1,
                  "duplicate column 'x1_conf'"));
  // Confidences are compared with thresholds in 0..1; sample ids name rows (docs/reliability.md).
  EXPECT_TRUE(err({tr[0], tr[1], "1,-0.5,0,0.95,1,0"}, 3,
                  "column 'x2_conf': expected a confidence in 0..1, got '-0.5'"));
  EXPECT_TRUE(err({tr[0], tr[1], "1,0.1,0,1e300,1,0"}, 3,
                  "column 'x1_conf': expected a confidence in 0..1, got '1e300'"));
  EXPECT_TRUE(err({tr[0], tr[1], "0,0.1,0,0.95,1,0"}, 3, "column 'sample': sample 0 appears twice"));
  EXPECT_TRUE(err({tr[0], tr[1], "one,0.1,0,0.95,1,0"}, 3,
                  "column 'sample': expected a non-negative integer id, got 'one'"));
  EXPECT_TRUE(err({tr[0], tr[1], "-3,0.1,0,0.95,1,0"}, 3,
                  "column 'sample': expected a non-negative integer id, got '-3'"));
}

// ---------------------------------------------------------------------------------------------
// Mapping

struct MappingFixture : ::testing::Test {
  static const Problem& problem() {
    static const Problem p = load_problem(source_path("models/tiny-ee.yaml"),
                                          source_path("profiles/example/platform.yaml"),
                                          source_path("profiles/example/tiny-ee.csv"));
    return p;
  }
  Config resolve(const std::string& yaml) { return problem().resolve(parse_mapping(yaml, "map.yaml")); }
  ::testing::AssertionResult input_error(const std::string& yaml, int line,
                                         const std::string& needle) {
    return throws_at<InputError>([&] { resolve(yaml); }, "map.yaml", line, needle);
  }
  ::testing::AssertionResult infeasible(const std::string& yaml, int line,
                                        const std::string& needle) {
    return throws_at<InfeasibleError>([&] { resolve(yaml); }, "map.yaml", line, needle);
  }
};

const std::vector<std::string> kMapping = {
    "model: tiny-ee",                              // 1
    "platform: example",                           // 2
    "policy: parallel",                            // 3
    "default: gpu",                                // 4
    "assign:",                                     // 5
    "  e1_pool: little",                           // 6
    "  e1_fc: little",                             // 7
    "exits: {exit1: true, exit2: false}",          // 8
    "freq_mhz: {big: 1008, gpu: 200}",             // 9
    "threads: {little: 4, big: 1}",                // 10
    "thresholds: {exit1: 0.8}",                    // 11
};

TEST_F(MappingFixture, Values) {
  const Mapping mp = parse_mapping(join(kMapping), "map.yaml");
  EXPECT_EQ(mp.file, "map.yaml");
  EXPECT_EQ(mp.model, "tiny-ee");
  EXPECT_EQ(mp.platform, "example");
  EXPECT_EQ(mp.policy, Policy::parallel);
  ASSERT_TRUE(mp.default_proc.has_value());
  EXPECT_EQ(*mp.default_proc, "gpu");
  EXPECT_EQ(mp.line_model, 1);
  EXPECT_EQ(mp.line_platform, 2);
  EXPECT_EQ(mp.line_default, 4);
  ASSERT_EQ(mp.assign.size(), 2u);
  EXPECT_EQ(mp.assign.at("e1_fc").value, "little");
  EXPECT_EQ(mp.assign.at("e1_fc").line, 7);
  EXPECT_FALSE(mp.exits.at("exit2").value);
  EXPECT_DOUBLE_EQ(mp.freq_mhz.at("gpu").value, 200);
  EXPECT_EQ(mp.threads.at("little").value, 4);
  EXPECT_DOUBLE_EQ(mp.thresholds.at("exit1").value, 0.8);

  const Problem& pb = problem();
  const Config c = pb.resolve(mp);
  const Model& m = pb.model();
  const int little = 1, gpu = 2;
  EXPECT_EQ(c.policy, Policy::parallel);
  EXPECT_EQ(c.proc[m.find_layer("conv1")], gpu);
  EXPECT_EQ(c.proc[m.find_layer("e1_pool")], little);
  EXPECT_EQ(c.proc[m.find_layer("e2_conv")], gpu);
  EXPECT_TRUE(c.exit_enabled(0));
  EXPECT_FALSE(c.exit_enabled(1));
  EXPECT_EQ(c.freq_level, (std::vector<std::uint8_t>{1, 1, 0}));
  EXPECT_EQ(c.threads, (std::vector<std::uint8_t>{1, 4, 1}));
  EXPECT_EQ(c.thresholds, (std::vector<double>{0.8, kDefaultThreshold}));

  // Defaults: host, sequential, every exit on, highest frequency, all cores.
  const Config d = resolve("model: tiny-ee\nplatform: example\n");
  EXPECT_EQ(d, pb.default_config());
  EXPECT_EQ(d.policy, Policy::sequential);
  EXPECT_EQ(d.proc, std::vector<std::uint8_t>(m.layers.size(), 0));
  EXPECT_EQ(d.freq_level, (std::vector<std::uint8_t>{2, 1, 1}));
  EXPECT_EQ(d.threads, (std::vector<std::uint8_t>{2, 4, 1}));

  // The shipped examples resolve, and to_yaml round-trips.
  const Config ex = pb.resolve(load_mapping(source_path("examples/tiny-ee-parallel.yaml")));
  EXPECT_EQ(ex.proc[m.find_layer("e2_fc")], little);
  EXPECT_EQ(ex.proc[m.find_layer("fc")], gpu);
  EXPECT_EQ(pb.resolve(parse_mapping(to_yaml(pb.to_mapping(ex)), "rt.yaml")), ex);
  EXPECT_NO_THROW(pb.resolve(load_mapping(source_path("examples/tiny-ee-sequential-big.yaml"))));
}

// One boolean rule for every file (docs/formats.md, "Booleans"): exactly `true` or `false`.
// yaml-cpp's as<bool>() would take the YAML 1.1 spellings too; hetmap refuses them.
TEST_F(MappingFixture, BooleansAreExactlyTrueOrFalse) {
  EXPECT_EQ(detail::parse_bool("true"), std::optional<bool>(true));
  EXPECT_EQ(detail::parse_bool("false"), std::optional<bool>(false));
  const std::vector<std::string> refused = {"yes", "no", "on", "off", "y", "n", "Y", "True", "TRUE",
                                            "False", "1", "0", "", " true", "true ", "tru"};
  for (const std::string& v : refused) {
    EXPECT_FALSE(detail::parse_bool(v).has_value()) << "'" << v << "'";
    if (v.empty() || v.front() == ' ' || v.back() == ' ') continue;  // YAML trims plain scalars
    EXPECT_TRUE(input_error(edit(kMapping, {{8, "exits: {exit1: " + v + ", exit2: false}"}}), 8,
                            "mapping.exits.exit1: expected true or false, got '" + v + "'"))
        << v;
    EXPECT_TRUE(model_error(edit(kModel, {{6, "  - {name: p1, op: maxpool, global: " + v + "}"}}), 6,
                            "global: expected true or false, got '" + v + "'"))
        << v;
  }
  EXPECT_NO_THROW(resolve(edit(kMapping, {{8, "exits: {exit1: false, exit2: true}"}})));
  EXPECT_TRUE(model_of(edit(kModel, {{6, "  - {name: p1, op: maxpool, global: true}"}})).layers[2].global);
}

// The policy a mapping names goes through policy_named, the one policy parser.
TEST(PolicyNames, OnlyTheTwoPolicies) {
  EXPECT_EQ(policy_named("sequential"), std::optional<Policy>(Policy::sequential));
  EXPECT_EQ(policy_named("parallel"), std::optional<Policy>(Policy::parallel));
  for (const char* bad : {"search", "Parallel", "par", "", "sequential "})
    EXPECT_FALSE(policy_named(bad).has_value()) << bad;
  for (Policy p : {Policy::sequential, Policy::parallel}) EXPECT_EQ(policy_named(to_string(p)), p);
}

TEST_F(MappingFixture, ParseErrors) {
  EXPECT_TRUE(input_error(edit(kMapping, {}, {"colour: red"}), 12, "unknown key 'colour'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{3, "policy: greedy"}}), 3,
                          "expected sequential or parallel, got 'greedy'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{8, "exits: {exit1: maybe}"}}), 8,
                          "expected true or false"));
  EXPECT_TRUE(input_error(edit(kMapping, {{10, "threads: {big: two}"}}), 10,
                          "expected an integer, got 'two'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{9, "freq_mhz: {big: fast}"}}), 9,
                          "expected a number, got 'fast'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{5, "assign: [conv1]"}, {6, ""}, {7, ""}}), 5,
                          "expected a mapping of names to values"));
  EXPECT_TRUE(input_error(edit(kMapping, {{1, ""}}), 2, "missing required key 'model'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{7, "  e1_pool: big"}}), 7, "duplicate key 'e1_pool'"));
}

TEST_F(MappingFixture, ResolveErrors) {
  EXPECT_TRUE(input_error(edit(kMapping, {{7, "  conv9: little"}}), 7,
                          "assign: unknown layer 'conv9'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{7, "  e1_fc: dsp"}}), 7,
                          "assign.e1_fc: unknown processor 'dsp'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{4, "default: dsp"}}), 4,
                          "default: unknown processor 'dsp'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{8, "exits: {exit1: true, exit3: false}"}}), 8,
                          "exits: unknown exit 'exit3'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{11, "thresholds: {exit9: 0.8}"}}), 11,
                          "thresholds: unknown exit 'exit9'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{9, "freq_mhz: {big: 1500}"}}), 9,
                          "freq_mhz.big: expected one of 408, 1008, 1800"));
  EXPECT_TRUE(input_error(edit(kMapping, {{9, "freq_mhz: {dsp: 1500}"}}), 9,
                          "freq_mhz: unknown processor 'dsp'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{10, "threads: {big: 3}"}}), 10,
                          "threads.big: expected 1..2"));
  EXPECT_TRUE(input_error(edit(kMapping, {{10, "threads: {big: 0}"}}), 10,
                          "threads.big: expected 1..2"));
  EXPECT_TRUE(input_error(edit(kMapping, {{10, "threads: {big: 4294967298}"}}), 10,
                          "threads.big"));
  EXPECT_TRUE(input_error(edit(kMapping, {{10, "threads: {npu: 1}"}}), 10,
                          "threads: unknown processor 'npu'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{1, "model: resnet"}}), 1,
                          "the mapping is for 'resnet', the model is 'tiny-ee'"));
  EXPECT_TRUE(input_error(edit(kMapping, {{2, "platform: jetson"}}), 2,
                          "the mapping is for 'jetson', the platform is 'example'"));
}

TEST(MappingResolve, FrequencyOnAProcessorWithoutLevels) {
  const Problem pb = test::make_problem(kProfModel, join(kPlatform), join(kProfile));
  auto resolve = [&](const std::string& extra) {
    return pb.resolve(parse_mapping("model: m\nplatform: pf\ndefault: big\n" + extra, "map.yaml"));
  };
  EXPECT_TRUE(throws_at<InputError>([&] { resolve("freq_mhz: {npu: 500}\n"); }, "map.yaml", 4,
                                    "freq_mhz.npu: processor has no DVFS levels"));
  // `big` only has rows for c1: the first layer in declaration order (c1, e1_fc, r1) that the
  // default puts where it cannot run is reported.
  EXPECT_TRUE(throws_at<InfeasibleError>([&] { resolve(""); }, "map.yaml", 3,
                                         "layer 'e1_fc' cannot run on 'big'"));
  const Config c = resolve("assign: {r1: gpu, e1_fc: npu}\nthreads: {big: 1}\nfreq_mhz: {big: 408}\n");
  EXPECT_DOUBLE_EQ(pb.duration(0, c.proc[0], c.freq_level[0], c.threads[0]), 5.0);
  EXPECT_TRUE(throws_at<InfeasibleError>([&] { resolve("assign: {r1: gpu, e1_fc: big}\n"); },
                                         "map.yaml", 4, "layer 'e1_fc' cannot run on 'big'"));
}

TEST_F(MappingFixture, InfeasiblePlacement) {
  // The profile has only the default (all cores) rows on `little`: 2 threads cannot run e1_pool,
  // reported at the line that put it there.
  EXPECT_TRUE(infeasible(edit(kMapping, {{10, "threads: {little: 2}"}}), 6,
                         "layer 'e1_pool' cannot run on 'little'"));
  // Placed by `default`: reported at the default's line.
  EXPECT_TRUE(infeasible(edit(kMapping, {{4, "default: little"}, {10, "threads: {little: 1}"}}), 4,
                         "layer 'conv1' cannot run on 'little'"));
  // A disabled exit's layers never run, so their placement does not matter.
  EXPECT_NO_THROW(resolve(edit(kMapping, {{8, "exits: {exit1: false}"}, {10, "threads: {little: 1}"}})));
  // Another frequency is fine: the profile's highest-frequency row is scaled.
  EXPECT_NO_THROW(resolve(edit(kMapping, {{9, "freq_mhz: {little: 408}"}})));
}

}  // namespace
}  // namespace hetmap
