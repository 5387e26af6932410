#pragma once
// Static cost of a model's ops and layers: multiply-accumulates, parameters and activation
// traffic, computed from the shapes the loader inferred. Used to check shipped models against
// published figures and by estimators that predict a layer's time from its work (roofline).
//
// Conventions (the ones published parameter/MAC counts use):
//  - MACs count only the weighted ops: conv/dwconv (one MAC per output element per weight of
//    its filter) and fc (inputs x units). Pooling, activations, normalisation, add, concat,
//    upsample and softmax have 0 MACs: their cost is their memory traffic.
//  - Parameters are the learned values: conv/dwconv/fc weights plus one bias per output
//    channel or unit; batchnorm a scale and a shift per channel (its running mean/variance are
//    folded into them at inference). Weight bytes = 4 x params (float32).
//  - in_bytes / out_bytes are the activation tensors read / written (4 bytes an element); an op
//    with several inputs reads each once. A `block` sums its body, so its bytes are the body's
//    internal traffic (each body op reading and writing memory), not only the block's boundary
//    tensors; those are the block's inputs and `out` (Layer::out.bytes()).
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "hetmap/model.hpp"

namespace hetmap {

struct OpCost {
  std::int64_t macs = 0;       // multiply-accumulates
  std::int64_t params = 0;     // weights + biases (batchnorm: scale + shift)
  std::int64_t in_bytes = 0;   // activation bytes read
  std::int64_t out_bytes = 0;  // activation bytes written

  /// Throws std::overflow_error where a sum does not fit in 64 bits (see op_cost).
  OpCost& operator+=(const OpCost& o) {
    if (__builtin_add_overflow(macs, o.macs, &macs) || __builtin_add_overflow(params, o.params, &params) ||
        __builtin_add_overflow(in_bytes, o.in_bytes, &in_bytes) ||
        __builtin_add_overflow(out_bytes, o.out_bytes, &out_bytes))
      throw std::overflow_error("a cost sum does not fit in 64 bits");
    return *this;
  }
  bool operator==(const OpCost& o) const {
    return macs == o.macs && params == o.params && in_bytes == o.in_bytes &&
           out_bytes == o.out_bytes;
  }
};

/// Cost of one op of a loaded model (shapes inferred) given the shapes of its inputs, in the
/// order of op.input_names. A block sums its body (nested blocks included); `opaque` costs
/// only its traffic (its work is known from its profile alone).
///
/// Every count is exact 64-bit arithmetic, checked: a count that does not fit (shapes within
/// the tensor bounds can still multiply past 2^63, e.g. an fc of 2^40 inputs and 2^31 units)
/// throws std::overflow_error naming it. parse_model rejects such a model (docs/reliability.md),
/// so for a loaded model neither op_cost nor the sums below (layer_cost, backbone_cost) throw.
OpCost op_cost(const Op& op, const std::vector<Shape>& inputs);

/// Cost of top-level layer `layer` (an index into model.layers).
OpCost layer_cost(const Model& model, int layer);

/// Sum over the backbone layers (the network without its early exits).
OpCost backbone_cost(const Model& model);

}  // namespace hetmap
