#pragma once
// `hetmap import`: turns an ONNX model into a hetmap model (docs/formats.md).
//
// hetmap models only the shapes and the cost structure of a network, so the import keeps each
// node's operation and its shape parameters (filters, units, kernel, stride, pad, groups, ...)
// and drops the weights. The batch dimension (which must be 1) is dropped: an ONNX input
// [1, 3, 224, 224] becomes `input: [3, 224, 224]`. Nodes that only carry data through
// (Identity, Dropout) or compute shapes and constants are not layers; their consumers read
// the tensor they pass on. docs/import.md lists every supported op and why the rest is not.
//
// A model with several graph outputs is an early-exit network: one output is the final output,
// every other output becomes an exit made of the layers only it needs, attached `after` the
// backbone layer where it forks. Exit shares (`taken`) are left 0: the ONNX file does not say
// how many inputs leave where, and the import never invents numbers.
#include <string>
#include <vector>

#include "hetmap/model.hpp"

namespace hetmap {

struct OnnxImportOptions {
  std::string name;          ///< model name; empty: the file name without folder and extension
  std::string final_output;  ///< graph output that is the final output; empty: the last one
};

struct OnnxImport {
  /// The hetmap model YAML, headed by a comment naming the ONNX file and the hetmap version.
  std::string yaml;
  /// `yaml` as the hetmap model loader reads it: the import checks its own output with the
  /// loader and every inferred layer shape against ONNX's shape inference.
  Model model;
  /// What the user should know but is no error (nodes that feed no output and were left out).
  std::vector<std::string> notes;
};

/// Imports the ONNX model in `path`. A missing or corrupt file, and an op or attribute hetmap
/// cannot express, throw InputError (exit code 2); the message names the file and, for an
/// unsupported node, `node 'NAME' (OpType): what is unsupported`.
OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options = {});

}  // namespace hetmap
