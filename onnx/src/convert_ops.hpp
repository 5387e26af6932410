#pragma once
// One ONNX node -> one hetmap layer (or nothing, for nodes that only pass data on or compute
// shapes). The op table of docs/import.md is this file's dispatch. Internal to hetmap_onnx.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "onnx_graph.hpp"

namespace hetmap::onnx_import {

/// A hetmap layer as it will be written: op, keys in order (values already YAML text), the
/// activation tensors it reads, and a comment for the reader of the YAML.
struct LayerSpec {
  std::string op;
  std::vector<std::pair<std::string, std::string>> keys;
  std::vector<std::string> inputs;
  std::string comment;
  bool takes_bias = false;  ///< an fc from MatMul: an Add of a constant right after is its bias
};

/// What a node becomes.
struct Conversion {
  enum class Kind {
    layer,       ///< a hetmap layer; its output is the node's first output
    alias,       ///< no layer: the node's first output is `alias_of` (Identity, Dropout, ...)
    shape_only,  ///< no layer and no activation output (Shape, Size)
  };
  Kind kind = Kind::layer;
  LayerSpec layer;
  std::string alias_of;
  /// An alias that is a Pad folded into the Conv or pool reading it: the padding it adds.
  std::int64_t fold_pad_h = 0, fold_pad_w = 0;
};

/// What converting a node may ask about the rest of the graph.
struct NodeContext {
  const OnnxGraph& graph;
  /// Whether a tensor is (derived from) the model input, as opposed to weights or shapes.
  std::function<bool(const std::string&)> is_activation;
  /// Whether a tensor is read by any node or is a graph output.
  std::function<bool(const std::string&)> is_used;
  /// Whether a tensor is read by exactly one node and is no graph output.
  std::function<bool(const std::string&)> single_use;
  /// The layer that produces an activation tensor, or nullptr (the model input).
  std::function<LayerSpec*(const std::string&)> producer;
  /// The op types of the nodes that read a tensor.
  std::function<std::vector<std::string>(const std::string&)> consumer_ops;
  /// Padding (height, width) of Pad nodes folded into a tensor, to add to its Conv or pool.
  std::function<std::pair<std::int64_t, std::int64_t>(const std::string&)> folded_pad;
};

/// Converts one node that reads at least one activation. Throws InputError
/// `node 'NAME' (OpType): what is unsupported` for what hetmap cannot express.
Conversion convert_node(const onnx::NodeProto& node, const NodeContext& ctx);

/// The ONNX op types convert_node() accepts, for messages and docs.
std::string supported_ops();

}  // namespace hetmap::onnx_import
