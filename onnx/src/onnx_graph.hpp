#pragma once
// An ONNX model as the importer reads it: the parsed ModelProto, the shape of every tensor from
// ONNX's own shape inference (run with the batch fixed to 1), the values of constant tensors,
// and node attributes. Internal to hetmap_onnx.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hetmap::onnx_import {

using Dims = std::vector<std::int64_t>;

/// "[1, 3, 32, 32]".
std::string dims_str(const Dims& dims);

class OnnxGraph {
 public:
  /// Reads and parses `file`, finds the one activation input and runs shape inference. Throws
  /// InputError for a missing or unreadable file, bytes that are no ONNX model, a graph without
  /// nodes, or an input hetmap cannot take (several inputs, a batch other than 1, a symbolic
  /// size other than the batch).
  explicit OnnxGraph(const std::string& file);

  const std::string& file() const { return file_; }
  const onnx::ModelProto& model() const { return model_; }
  const onnx::GraphProto& graph() const { return model_.graph(); }
  /// Opset version of the default ("ai.onnx") domain.
  int opset() const { return opset_; }
  /// The graph input that carries the data (graph inputs that are initializers are weights).
  const std::string& input() const { return input_; }

  /// The fully known shape of a tensor, batch included; nullopt where ONNX's shape inference
  /// could not tell (a symbolic or missing dimension).
  std::optional<Dims> shape(const std::string& tensor) const;
  /// The values of an initializer or a Constant node's output, as doubles; nullopt for any
  /// other tensor or a data type that is no plain number.
  std::optional<std::vector<double>> constant(const std::string& tensor) const;

  /// Problems shape inference reported (the import goes on: hetmap infers shapes itself).
  const std::vector<std::string>& inference_notes() const { return inference_notes_; }

 private:
  void find_input();
  void infer_shapes();
  void collect_shapes();
  int elem_type(const std::string& tensor) const;  // of an input or inferred tensor

  std::string file_;
  onnx::ModelProto model_;
  int opset_ = 0;
  std::string input_;
  std::map<std::string, Dims> shapes_;
  std::map<std::string, const onnx::TensorProto*> constants_;
  std::vector<std::string> inference_notes_;
};

// Node attributes, with the ONNX defaults passed in.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name);
std::int64_t attr_int(const onnx::NodeProto& node, const std::string& name, std::int64_t dflt);
double attr_float(const onnx::NodeProto& node, const std::string& name, double dflt);
std::string attr_string(const onnx::NodeProto& node, const std::string& name,
                        const std::string& dflt);
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name);

/// How messages name a node: its name, or its first output where it has none.
std::string node_label(const onnx::NodeProto& node);

}  // namespace hetmap::onnx_import
