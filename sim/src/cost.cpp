#include "hetmap/cost.hpp"

#include <map>
#include <stdexcept>
#include <string>

namespace hetmap {
namespace {

// a * b and a + b in 64 bits, or std::overflow_error naming `what` (the count being computed).
std::int64_t times(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    throw std::overflow_error(std::string("its ") + what + " do not fit in 64 bits");
  return r;
}
std::int64_t plus(std::int64_t a, std::int64_t b, const char* what) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    throw std::overflow_error(std::string("its ") + what + " do not fit in 64 bits");
  return r;
}

std::int64_t total_bytes(const std::vector<Shape>& shapes) {
  std::int64_t n = 0;
  for (const Shape& s : shapes) n = plus(n, s.bytes(), "input bytes");
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
          times(times(in_c / op.groups, op.kernel_h, "weights"), op.kernel_w, "weights");
      c.macs = times(op.out.elements(), per_filter, "multiply-accumulates");
      c.params = plus(times(op.filters, per_filter, "weights"), op.filters, "weights");
      break;
    }
    case OpKind::fc: {
      const std::int64_t in = inputs.at(0).elements();
      c.macs = times(in, op.units, "multiply-accumulates");
      c.params = plus(c.macs, op.units, "weights");
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
