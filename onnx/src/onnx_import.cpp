// The import pipeline: nodes in topological order -> layers (convert_ops.cpp), layers -> the
// backbone (what the final output needs) and exits (what only another output needs), then the
// YAML, checked by hetmap's model loader and against ONNX's shapes.
#include "hetmap/onnx_import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "convert_ops.hpp"
#include "hetmap/detail/graph.hpp"
#include "hetmap/error.hpp"
#include "hetmap/problem.hpp"
#include "onnx_graph.hpp"

namespace hetmap {
namespace {

using namespace onnx_import;

constexpr int kModelInputSource = -1;  // a layer source that is the model input

// A layer of the import: its spec, the ONNX node and tensor it comes from, and the layers (or
// the model input) it reads.
struct Built {
  std::string name;
  LayerSpec spec;
  int node = -1;
  std::string tensor;
  std::vector<int> sources;
};

struct ExitPlan {
  std::string name;
  int after = -1;            // layer index of the backbone layer it forks from
  std::vector<int> layers;   // layer indices, in order
};

// Layer and exit names: ONNX names with what YAML, CSV profiles and shells would trip over
// replaced by '_' ("/layer1/Conv" -> "layer1_Conv").
std::string sanitize(const std::string& raw) {
  std::string s;
  for (char c : raw) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    const char out = keep ? c : '_';
    if (out == '_' && !s.empty() && s.back() == '_') continue;
    s += out;
  }
  const auto first = s.find_first_not_of("_.-");
  if (first == std::string::npos) return "";
  s = s.substr(first);
  while (!s.empty() && (s.back() == '_' || s.back() == '.' || s.back() == '-')) s.pop_back();
  return s;
}

// A YAML scalar for a string: plain where YAML reads it back as that string, quoted otherwise.
std::string yaml_str(const std::string& s) {
  static const std::set<std::string> special = {"null", "true", "false", "yes", "no", "on",
                                                "off",  "y",    "n",     "~"};
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
               !special.count(lower);
  for (char c : s)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  if (plain) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

class Importer {
 public:
  Importer(const std::string& path, const OnnxImportOptions& options)
      : g_(path), options_(options) {}

  OnnxImport run() {
    count_uses();
    choose_final();
    convert_nodes();
    plan();
    OnnxImport result;
    result.yaml = emit();
    result.model = check(result.yaml);
    result.notes = g_.inference_notes();
    result.notes.insert(result.notes.end(), notes_.begin(), notes_.end());
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(g_.file(), 0, what); }

  void count_uses() {
    for (const auto& n : g_.graph().node()) {
      for (const auto& in : n.input()) ++uses_[in];
      // Each reading node once, in file order (a node may read a tensor twice).
      const std::set<std::string> read(n.input().begin(), n.input().end());
      for (const std::string& in : read) reader_ops_[in].push_back(n.op_type());
    }
    for (const auto& o : g_.graph().output()) graph_outputs_.insert(o.name());
  }

  // Node indices in a topological order, the file's order where it already is one (ONNX
  // requires it, but not every writer keeps to it). A cycle is an error naming its nodes.
  std::vector<int> topological_order() const {
    const auto& nodes = g_.graph().node();
    std::map<std::string, int> producer;
    for (int i = 0; i < nodes.size(); ++i)
      for (const auto& out : nodes[i].output())
        if (!out.empty()) producer[out] = i;
    detail::Producers reads(nodes.size());
    for (int i = 0; i < nodes.size(); ++i)
      for (const auto& in : nodes[i].input()) {
        auto it = producer.find(in);
        if (it != producer.end() && it->second != i) reads[i].push_back(it->second);
      }
    if (const std::vector<int> cycle = detail::find_cycle(reads); !cycle.empty()) {
      std::string path;
      for (int i : cycle) path += "'" + node_label(nodes[i]) + "' -> ";
      fail("the graph has a cycle (ONNX graphs must be acyclic): " + path + "'" +
           node_label(nodes[cycle.front()]) + "'");
    }
    return detail::topological_order(reads, detail::Ties::lowest_index);
  }

  std::string unique_name(const onnx::NodeProto& node, int index) {
    std::string base = sanitize(node.name());
    if (base.empty() && node.output_size() > 0) base = sanitize(node.output(0));
    if (base.empty()) {
      base = node.op_type() + std::to_string(index);
      std::transform(base.begin(), base.end(), base.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    return claim(base);
  }

  // A name not used yet ("input" and "final" are reserved by the model format).
  std::string claim(const std::string& base) {
    std::string name = base;
    for (int k = 2; names_.count(name) || name == kModelInput || name == "final"; ++k)
      name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  void convert_nodes() {
    source_[g_.input()] = kModelInputSource;
    NodeContext ctx{
        g_,
        [this](const std::string& t) { return source_.count(t) > 0; },
        [this](const std::string& t) { return uses_.count(t) > 0 || graph_outputs_.count(t) > 0; },
        [this](const std::string& t) {
          auto it = uses_.find(t);
          return it != uses_.end() && it->second == 1 && !graph_outputs_.count(t);
        },
        [this](const std::string& t) -> LayerSpec* {
          auto it = source_.find(t);
          return it == source_.end() || it->second < 0 ? nullptr : &layers_[it->second].spec;
        },
        [this](const std::string& t) {
          auto it = reader_ops_.find(t);
          return it == reader_ops_.end() ? std::vector<std::string>{} : it->second;
        },
        [this](const std::string& t) {
          auto it = folded_pad_.find(t);
          return it == folded_pad_.end() ? std::pair<std::int64_t, std::int64_t>{0, 0} : it->second;
        }};
    const auto& nodes = g_.graph().node();
    for (int i : topological_order()) {
      const onnx::NodeProto& node = nodes[i];
      // Nodes that read no activation compute weights or shapes: no layer.
      if (std::none_of(node.input().begin(), node.input().end(),
                       [&](const std::string& in) { return source_.count(in) > 0; }))
        continue;
      Conversion c = convert_node(node, ctx);
      if (c.kind == Conversion::Kind::shape_only) continue;
      if (node.output_size() == 0 || node.output(0).empty())
        fail("node '" + node_label(node) + "' (" + node.op_type() + "): it has no output");
      if (c.kind == Conversion::Kind::alias) {
        source_[node.output(0)] = source_.at(c.alias_of);
        if (c.fold_pad_h || c.fold_pad_w) folded_pad_[node.output(0)] = {c.fold_pad_h, c.fold_pad_w};
        continue;
      }
      Built b;
      b.name = unique_name(node, i);
      b.node = i;
      b.tensor = node.output(0);
      for (const std::string& in : c.layer.inputs) b.sources.push_back(source_.at(in));
      b.spec = std::move(c.layer);
      source_[b.tensor] = static_cast<int>(layers_.size());
      layers_.push_back(std::move(b));
    }
  }

  // The layer a graph output comes from.
  int output_layer(const std::string& output) const {
    auto it = source_.find(output);
    if (it == source_.end())
      fail("graph output '" + output + "' does not depend on the input (a constant output)");
    if (it->second < 0) fail("graph output '" + output + "' is the model input itself");
    return it->second;
  }

  // Per layer: 1 where `layer` depends on it, itself included.
  std::vector<char> needed_by(int layer) const {
    detail::Producers sources;
    for (const Built& b : layers_) sources.push_back(b.sources);
    return detail::upstream(sources, layer);
  }

  // The final output, and names for the exits: a graph output's name is its exit's (mappings
  // and traces use it), so it is taken before layers are named.
  void choose_final() {
    for (const auto& o : g_.graph().output()) outputs_.push_back(o.name());
    if (outputs_.empty()) fail("the graph has no output");
    // Each output but the final one becomes an exit, and each exit costs a pass over the layers
    // (plan()): more than a model may have are refused before any of that work.
    if (outputs_.size() > static_cast<std::size_t>(kMaxExits) + 1)
      fail("the graph has " + std::to_string(outputs_.size()) + " outputs: a hetmap model has "
           "the final output and at most " + std::to_string(kMaxExits) + " exits");
    final_output_ = options_.final_output.empty() ? outputs_.back() : options_.final_output;
    if (std::find(outputs_.begin(), outputs_.end(), final_output_) == outputs_.end()) {
      std::string list;
      for (const auto& o : outputs_) list += (list.empty() ? "'" : ", '") + o + "'";
      fail("--final: '" + final_output_ + "' is not a graph output (the outputs are " + list + ")");
    }
    for (const std::string& o : outputs_)
      if (o != final_output_) exit_names_[o] = claim(sanitize(o).empty() ? "exit" : sanitize(o));
  }

  // Backbone = what the final output needs; each other output's exit = what only it needs.
  void plan() {
    const std::vector<std::string>& outputs = outputs_;
    const std::string& final_output = final_output_;
    const std::vector<char> final_need = needed_by(output_layer(final_output));
    std::vector<int> position(layers_.size(), -1);  // backbone position
    for (std::size_t l = 0; l < layers_.size(); ++l)
      if (final_need[l]) {
        position[l] = static_cast<int>(backbone_.size());
        backbone_.push_back(static_cast<int>(l));
      }

    std::vector<char> used = final_need;
    std::vector<std::pair<std::string, std::vector<char>>> exit_needs;
    for (const std::string& o : outputs)
      if (o != final_output) exit_needs.emplace_back(o, needed_by(output_layer(o)));
    for (const auto& [output, need] : exit_needs) {
      ExitPlan e;
      e.name = exit_names_.at(output);
      for (std::size_t l = 0; l < layers_.size(); ++l) {
        if (!need[l] || final_need[l]) continue;
        for (const auto& [other, other_need] : exit_needs)
          if (other != output && other_need[l])
            fail("layer '" + layers_[l].name + "' is needed by graph outputs '" + output +
                 "' and '" + other + "' but not by the final output '" + final_output +
                 "': hetmap exits cannot share layers");
        e.layers.push_back(static_cast<int>(l));
        used[l] = 1;
      }
      if (e.layers.empty())
        fail("graph output '" + output + "' has no layers of its own (the final output '" +
             final_output + "' needs all it computes), so it is no early exit; pick another "
             "final output with --final, or drop it from the graph outputs");
      // The exit forks after the last backbone layer it reads.
      for (int l : e.layers)
        for (int s : layers_[l].sources)
          if (s >= 0 && position[s] >= 0 && (e.after < 0 || position[s] > position[e.after]))
            e.after = s;
      if (e.after < 0) e.after = backbone_.front();  // the branch reads only the model input
      exits_.push_back(std::move(e));
    }
    std::stable_sort(exits_.begin(), exits_.end(), [&](const ExitPlan& a, const ExitPlan& b) {
      return position[a.after] < position[b.after];
    });

    std::vector<std::string> dropped;
    for (std::size_t l = 0; l < layers_.size(); ++l)
      if (!used[l]) dropped.push_back(layers_[l].name);
    if (!dropped.empty()) {
      std::string list;
      for (const auto& d : dropped) list += (list.empty() ? "" : ", ") + d;
      notes_.push_back(fmt::format("{} layer(s) feed no graph output and were left out: {}",
                                   dropped.size(), list));
    }
  }

  std::string source_name(int source) const {
    return source == kModelInputSource ? std::string(kModelInput) : layers_[source].name;
  }

  // One layer as a flow mapping; `inputs` only where they differ from the default input.
  std::string layer_line(const Built& b, int default_source) const {
    std::string s = "{name: " + yaml_str(b.name) + ", op: " + b.spec.op;
    if (b.sources != std::vector<int>{default_source}) {
      s += ", inputs: [";
      for (std::size_t i = 0; i < b.sources.size(); ++i)
        s += (i ? ", " : "") + yaml_str(source_name(b.sources[i]));
      s += "]";
    }
    for (const auto& [key, value] : b.spec.keys) s += ", " + key + ": " + value;
    s += "}";
    if (!b.spec.comment.empty()) s += "  # " + b.spec.comment;
    return s;
  }

  std::string model_name() const {
    if (!options_.name.empty()) return options_.name;
    const std::string stem = sanitize(std::filesystem::path(g_.file()).stem().string());
    return stem.empty() ? "imported" : stem;
  }

  std::string emit() const {
    const auto& m = g_.model();
    std::ostringstream y;
    y << "# Imported from " << g_.file() << " by hetmap " << HETMAP_VERSION << " (hetmap import).\n";
    y << "# ONNX IR version " << m.ir_version() << ", opset " << g_.opset();
    if (!m.producer_name().empty())
      y << ", written by " << m.producer_name()
        << (m.producer_version().empty() ? "" : " " + m.producer_version());
    y << ". Shapes only: hetmap keeps no weights.\n";
    y << "name: " << yaml_str(model_name()) << "\n";
    Dims input = *g_.shape(g_.input());
    input.erase(input.begin());  // the batch
    y << "input: " << dims_str(input) << "  # ONNX input '" << g_.input() << "', batch dropped\n";
    y << "layers:\n";
    for (std::size_t i = 0; i < backbone_.size(); ++i)
      y << "  - " << layer_line(layers_[backbone_[i]], i == 0 ? kModelInputSource : backbone_[i - 1])
        << "\n";
    if (!exits_.empty()) {
      y << "exits:\n";
      for (const ExitPlan& e : exits_) {
        y << "  - name: " << yaml_str(e.name) << "\n";
        y << "    after: " << yaml_str(layers_[e.after].name) << "\n";
        y << "    layers:\n";
        for (std::size_t j = 0; j < e.layers.size(); ++j)
          y << "      - " << layer_line(layers_[e.layers[j]], j == 0 ? e.after : e.layers[j - 1])
            << "\n";
        y << "    taken: 0  # fill in: the share of all inputs that leave here (the ONNX file "
             "does not say)\n";
      }
    }
    return y.str();
  }

  // The YAML must load, and every shape hetmap infers must be the one ONNX infers.
  Model check(const std::string& yaml) const {
    Model model;
    try {
      model = parse_model(yaml, g_.file() + " (imported YAML)");
    } catch (const InputError& e) {
      fail(std::string("the imported model does not load: ") + e.what());
    }
    for (const Built& b : layers_) {
      const int l = model.find_layer(b.name);
      auto onnx_shape = g_.shape(b.tensor);
      if (l < 0 || !onnx_shape || onnx_shape->size() < 2 || (*onnx_shape)[0] != 1) continue;
      const Dims expected(onnx_shape->begin() + 1, onnx_shape->end());
      if (model.layers[l].out.dims != expected) {
        const auto& node = g_.graph().node(b.node);
        fail("node '" + node_label(node) + "' (" + node.op_type() + "): hetmap's " + b.spec.op +
             " gives " + model.layers[l].out.str() + " but ONNX infers " + dims_str(expected) +
             " (batch dropped) for '" + b.tensor + "'");
      }
    }
    return model;
  }

  OnnxGraph g_;
  OnnxImportOptions options_;
  std::map<std::string, int> uses_;          // tensor -> number of node inputs reading it
  std::map<std::string, std::vector<std::string>> reader_ops_;  // tensor -> op types reading it
  std::set<std::string> graph_outputs_;
  std::map<std::string, int> source_;        // activation tensor -> layer index or the input
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> folded_pad_;  // Pad outputs
  std::vector<Built> layers_;                // in topological order
  std::set<std::string> names_;
  std::vector<std::string> outputs_;         // graph outputs, in file order
  std::string final_output_;
  std::map<std::string, std::string> exit_names_;  // graph output -> exit name
  std::vector<int> backbone_;
  std::vector<ExitPlan> exits_;
  std::vector<std::string> notes_;
};

}  // namespace

OnnxImport import_onnx(const std::string& path, const OnnxImportOptions& options) {
  return Importer(path, options).run();
}

}  // namespace hetmap
