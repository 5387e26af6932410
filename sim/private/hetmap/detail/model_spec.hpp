#pragma once
// A model as its file describes it, before names are resolved and shapes inferred: the half of
// the model loader (sim/src/model.cpp) that comes after YAML. parse_model reads a file into a
// ModelSpec, checking every key and value where it is written, then calls build_model. Code
// that generates models too large for yaml-cpp to parse quickly (tests and benchmarks of a
// million layers, docs/formats.md "Model size") fills a spec in directly and goes through the
// same resolution, DAG checks and shape inference. Internal to hetmap.
#include <optional>
#include <string>
#include <vector>

#include "hetmap/model.hpp"

namespace hetmap::detail {

struct ExitSpec {
  Exit exit;               // name, taken, accuracy, line; `after` and `layers` are resolved
  std::string after;       // a backbone layer's name
  int after_line = 0;
  std::vector<Op> layers;  // in file order
};

struct ModelSpec {
  std::string name;
  Shape input;
  std::optional<double> final_accuracy;
  std::vector<Op> layers;       // the backbone, in file order
  std::vector<ExitSpec> exits;  // in file order
};

/// The model a spec describes: unique names, `after` and `inputs` resolved, declaration order,
/// the DAG checked for cycles, its consumers, and every shape inferred and bounded. Errors are
/// InputErrors naming `file` and the lines the spec carries. The values parse_model checks as
/// it reads them (op fields in range, shares and accuracies in 0..1, reserved names, bounded
/// input shape) are taken as given.
Model build_model(ModelSpec spec, const std::string& file);

}  // namespace hetmap::detail
