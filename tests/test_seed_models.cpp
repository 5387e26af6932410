// Seed-model suite: the static cost model (hetmap/cost.hpp) on hand-computed cases, and the
// shipped seed networks (models/*.yaml) against the published figures and the board data.
#include <gtest/gtest.h>

#include <string>

#include "hetmap/cost.hpp"
#include "hetmap/model.hpp"

namespace hetmap {
namespace {

// ---------------------------------------------------------------------------------------------
// Cost model on tiny hand-computed cases

TEST(OpCost, ConvCountsWeightsBiasAndTraffic) {
  const Model m = parse_model(R"(
name: t
input: [3, 8, 8]
layers:
  - {name: c, op: conv, filters: 4, kernel: 3, stride: 1, pad: 1}
)", "t.yaml");
  // out [4, 8, 8] = 256 elements, each 3*3*3 = 27 MACs; weights 4*27 + 4 biases.
  EXPECT_EQ(layer_cost(m, 0), (OpCost{256 * 27, 4 * 27 + 4, 4 * 3 * 64, 4 * 256}));
}

TEST(OpCost, GroupedAndDepthwiseConv) {
  const Model m = parse_model(R"(
name: t
input: [4, 6, 6]
layers:
  - {name: g, op: conv, filters: 8, kernel: 1, groups: 2}
  - {name: d, op: dwconv, kernel: 3, stride: 2, pad: 1}
)", "t.yaml");
  // g: out [8, 6, 6] = 288 elements x (4/2)*1*1 MACs; weights 8*2 + 8.
  EXPECT_EQ(layer_cost(m, 0), (OpCost{288 * 2, 8 * 2 + 8, 4 * 144, 4 * 288}));
  // d: out [8, 3, 3] = 72 elements x 9 MACs; weights 8*9 + 8.
  EXPECT_EQ(layer_cost(m, 1), (OpCost{72 * 9, 8 * 9 + 8, 4 * 288, 4 * 72}));
}

TEST(OpCost, FcFlattensAndWeightFreeOpsCostTrafficOnly) {
  const Model m = parse_model(R"(
name: t
input: [2, 3, 3]
layers:
  - {name: bn, op: batchnorm}
  - {name: p, op: maxpool, kernel: 3, stride: 3}
  - {name: f, op: fc, units: 5}
  - {name: s, op: softmax}
)", "t.yaml");
  EXPECT_EQ(layer_cost(m, 0), (OpCost{0, 2 * 2, 4 * 18, 4 * 18}));  // scale + shift a channel
  EXPECT_EQ(layer_cost(m, 1), (OpCost{0, 0, 4 * 18, 4 * 2}));
  EXPECT_EQ(layer_cost(m, 2), (OpCost{2 * 5, 2 * 5 + 5, 4 * 2, 4 * 5}));
  EXPECT_EQ(layer_cost(m, 3), (OpCost{0, 0, 4 * 5, 4 * 5}));
}

TEST(OpCost, BlockSumsItsBodyAndAddReadsEveryInput) {
  const Model m = parse_model(R"(
name: t
input: [2, 4, 4]
layers:
  - {name: stem, op: relu}
  - name: res
    op: block
    body:
      - {name: c, op: conv, filters: 2, kernel: 1}
      - {name: r, op: relu}
      - {name: a, op: add, inputs: [r, stem]}
  - {name: tail, op: concat, inputs: [res, stem]}
)", "t.yaml");
  const std::int64_t t = 4 * 32;  // one [2, 4, 4] tensor in bytes
  const OpCost conv{32 * 2, 2 * 2 + 2, t, t}, relu{0, 0, t, t}, add{0, 0, 2 * t, t};
  OpCost sum = conv;
  sum += relu;
  sum += add;
  EXPECT_EQ(layer_cost(m, 1), sum);
  EXPECT_EQ(layer_cost(m, 2), (OpCost{0, 0, 2 * t, 2 * t}));
  OpCost all = layer_cost(m, 0);
  all += sum;
  all += layer_cost(m, 2);
  EXPECT_EQ(backbone_cost(m), all);
}

TEST(OpCost, BackboneCostLeavesExitsOut) {
  const Model m = parse_model(R"(
name: t
input: [1, 2, 2]
layers:
  - {name: f1, op: fc, units: 3}
  - {name: f2, op: fc, units: 2}
exits:
  - {name: e, after: f1, layers: [{name: ef, op: fc, units: 7}]}
)", "t.yaml");
  EXPECT_EQ(backbone_cost(m).macs, 4 * 3 + 3 * 2);
  EXPECT_EQ(layer_cost(m, m.find_layer("ef")).macs, 3 * 7);
}

}  // namespace
}  // namespace hetmap
