#pragma once
// A model: the backbone layers, the early-exit branches, and the DAG that joins them.
// Loaded from `models/NAME.yaml` (docs/formats.md); output shapes are inferred.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hetmap {

enum class OpKind {
  conv, dwconv, fc, maxpool, avgpool, relu, leaky_relu, batchnorm, add, concat, flatten,
  softmax, lrn, upsample, block, opaque
};
const char* to_string(OpKind kind);

/// Bounds on every tensor (docs/formats.md, "Models"): each dimension at most kMaxDimension (so
/// that kernels may index it with an int) and at most kMaxElements elements (so that byte counts,
/// copy times and work estimates stay exact). The loader refuses larger shapes, inferred or given.
inline constexpr std::int64_t kMaxDimension = 2147483647;    // 2^31 - 1
inline constexpr std::int64_t kMaxElements = std::int64_t{1} << 40;

/// A tensor shape, outermost first (C, H, W for images; one dimension after `fc`/`flatten`).
struct Shape {
  std::vector<std::int64_t> dims;
  std::int64_t elements() const;
  std::int64_t bytes() const { return 4 * elements(); }  // float32
  std::string str() const;                               // "[16, 32, 32]"
  bool operator==(const Shape& o) const { return dims == o.dims; }
};

/// One operation. Top-level ops are the units that are placed, profiled and run; a `block`
/// holds a body of ops that run together as one unit.
struct Op {
  std::string name;
  OpKind kind = OpKind::relu;
  std::vector<std::string> input_names;  // as resolved (default: the previous op)
  int filters = 0;                        // conv / dwconv output channels
  int units = 0;                          // fc
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int groups = 1;
  bool global = false;                    // global pooling
  bool ceil = false;                      // pooling output size rounds up (Caffe models)
  int lrn_size = 5;
  double lrn_alpha = 1e-4, lrn_beta = 0.75, lrn_k = 1.0;
  int axis = 0;                           // concat axis (0 = channels)
  double leaky_alpha = 0.1;               // leaky_relu: y = x < 0 ? alpha * x : x
  int scale = 1;                          // upsample: nearest-neighbour factor along H and W
  Shape out;
  std::vector<Op> body;                   // block only
  int line = 0;
};

/// The name that refers to the model's input tensor in `inputs:` lists.
inline constexpr const char* kModelInput = "input";

/// A top-level layer: an Op placed in the model's declaration order. `inputs` and `consumers`
/// are the model's DAG, both ways: the one graph hetmap keeps (the Problem compiles it into
/// flat arrays; the loader checks it for cycles and orders it).
struct Layer : Op {
  std::vector<int> inputs;     // producers as listed (a repeat is read twice); -1 = the model input
  std::vector<int> consumers;  // layers reading this one's output, increasing, each once
  int exit = -1;               // index into Model::exits, -1 for the backbone
};

struct Exit {
  std::string name;
  int after = -1;                 // layer index of the backbone layer feeding the branch
  std::vector<int> layers;        // layer indices of the branch, in order
  double taken = 0.0;             // marginal share of all inputs that leave here
  std::optional<double> accuracy;
  int line = 0;
};

struct Model {
  std::string name;
  std::string file;
  Shape input;
  /// Every layer in declaration order: the backbone, each exit's layers right after its
  /// `after` layer (exits sharing an `after` in file order).
  std::vector<Layer> layers;
  std::vector<int> input_consumers;  // layers reading the model input, increasing, each once
  std::vector<int> backbone;      // backbone layer indices, in order; back() is the final output
  std::vector<Exit> exits;        // ordered along the backbone (by position of `after`)
  std::optional<double> final_accuracy;

  /// Index of the layer or exit of that name, -1 if absent. Constant time on average: loaders
  /// resolve every name of a file through these (a model may have a million layers,
  /// docs/formats.md "Model size").
  int find_layer(const std::string& name) const;
  int find_exit(const std::string& name) const;
  int final_layer() const { return backbone.back(); }

  /// Builds the name index find_layer() and find_exit() read. The loader calls it; code that
  /// adds, removes or renames layers or exits afterwards must call it again (the lookups check
  /// the index's size and the name they find, and throw std::logic_error when it is stale).
  void index_names();

 private:
  std::unordered_map<std::string, int> layer_at_, exit_at_;
};

/// Loads and validates a model file; throws InputError naming file and line.
Model load_model(const std::string& path);

/// Parses a model from YAML text; `file` is used in error messages.
Model parse_model(const std::string& yaml_text, const std::string& file);

}  // namespace hetmap
