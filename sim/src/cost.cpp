#include "hetmap/cost.hpp"

#include <map>
#include <string>

namespace hetmap {
namespace {

std::int64_t total_bytes(const std::vector<Shape>& shapes) {
  std::int64_t n = 0;
  for (const Shape& s : shapes) n += s.bytes();
  return n;
}

OpCost block_cost(const Op& block, const std::vector<Shape>& inputs) {
  // Body ops read the block's inputs or earlier body ops by name (resolved by the loader).
  std::map<std::string, Shape> known;
  for (std::size_t i = 0; i < inputs.size() && i < block.input_names.size(); ++i)
    known[block.input_names[i]] = inputs[i];
  OpCost sum;
  for (const Op& b : block.body) {
    std::vector<Shape> in;
    for (const std::string& n : b.input_names) in.push_back(known.at(n));
    sum += op_cost(b, in);
    known[b.name] = b.out;
  }
  return sum;
}

}  // namespace

OpCost op_cost(const Op& op, const std::vector<Shape>& inputs) {
  if (op.kind == OpKind::block) return block_cost(op, inputs);
  OpCost c;
  c.in_bytes = total_bytes(inputs);
  c.out_bytes = op.out.bytes();
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::dwconv: {
      // Each output element reads (in_channels / groups) x kernel window weights.
      const std::int64_t in_c = inputs.at(0).dims.at(0);
      const std::int64_t per_filter =
          in_c / op.groups * static_cast<std::int64_t>(op.kernel_h) * op.kernel_w;
      c.macs = op.out.elements() * per_filter;
      c.params = op.filters * per_filter + op.filters;
      break;
    }
    case OpKind::fc: {
      const std::int64_t in = inputs.at(0).elements();
      c.macs = in * op.units;
      c.params = in * op.units + op.units;
      break;
    }
    case OpKind::batchnorm:
      c.params = 2 * inputs.at(0).dims.at(0);
      break;
    default:
      break;  // no weights, no MACs: traffic only
  }
  return c;
}

OpCost layer_cost(const Model& model, int layer) {
  const Layer& l = model.layers.at(static_cast<std::size_t>(layer));
  std::vector<Shape> in;
  for (int src : l.inputs) in.push_back(src < 0 ? model.input : model.layers[src].out);
  return op_cost(l, in);
}

OpCost backbone_cost(const Model& model) {
  OpCost sum;
  for (int i : model.backbone) sum += layer_cost(model, i);
  return sum;
}

}  // namespace hetmap
