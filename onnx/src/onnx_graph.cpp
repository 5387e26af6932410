#include "onnx_graph.hpp"

#include <onnx/defs/schema.h>
#include <onnx/defs/tensor_proto_util.h>
#include <onnx/shape_inference/implementation.h>

#include <set>
#include <sstream>

#include "hetmap/detail/io.hpp"
#include "hetmap/error.hpp"

namespace hetmap::onnx_import {

std::string dims_str(const Dims& dims) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

namespace {

// The fully known dimensions of a shape, or nullopt if one is symbolic or missing.
std::optional<Dims> known(const onnx::TypeProto& type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return std::nullopt;
  Dims dims;
  for (const auto& d : type.tensor_type().shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() < 0) return std::nullopt;
    dims.push_back(d.dim_value());
  }
  return dims;
}

// Replaces the symbolic batch dimension `batch` by 1 wherever a tensor's first dimension uses it,
// so that exporters' value_info agrees with the input fixed to batch 1.
void fix_batch(onnx::ValueInfoProto& v, const std::string& batch) {
  if (batch.empty() || !v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
  auto* shape = v.mutable_type()->mutable_tensor_type()->mutable_shape();
  if (shape->dim_size() > 0 && shape->dim(0).dim_param() == batch)
    shape->mutable_dim(0)->set_dim_value(1);
}

}  // namespace

OnnxGraph::OnnxGraph(const std::string& file) : file_(file) {
  const std::string bytes = detail::read_file(file);
  if (!model_.ParseFromString(bytes))
    throw InputError(file, 0, "not an ONNX model (the protobuf data does not parse)");
  if (!model_.has_graph() || model_.graph().node_size() == 0)
    throw InputError(file, 0, "not an ONNX model, or an empty one: the file holds no graph nodes");
  for (const auto& o : model_.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
  find_input();
  infer_shapes();
}

void OnnxGraph::find_input() {
  std::set<std::string> weights;
  for (const auto& t : graph().initializer()) weights.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : graph().input())
    if (!weights.count(in.name())) inputs.push_back(&in);
  if (inputs.empty()) throw InputError(file_, 0, "the graph has no input");
  if (inputs.size() > 1) {
    std::string names;
    for (const auto* in : inputs) names += (names.empty() ? "'" : ", '") + in->name() + "'";
    throw InputError(file_, 0, "the graph has " + std::to_string(inputs.size()) + " inputs (" +
                                   names + "): a hetmap model has one input");
  }
  input_ = inputs[0]->name();
  const std::string what = "input '" + input_ + "'";
  const auto& type = inputs[0]->type();
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    throw InputError(file_, 0, what + " has no shape: hetmap needs a fixed input size");
  const auto& shape = type.tensor_type().shape();
  if (shape.dim_size() < 2)
    throw InputError(file_, 0, what + ": expected a batch dimension and the sample's, e.g. "
                                      "[1, C, H, W], got rank " +
                                   std::to_string(shape.dim_size()));

  // The batch must be 1 or symbolic (then taken as 1); every other size must be fixed.
  const auto& batch = shape.dim(0);
  if (batch.has_dim_value() && batch.dim_value() != 1)
    throw InputError(file_, 0, what + ": batch size " + std::to_string(batch.dim_value()) +
                                   ": hetmap models one input at a time; export with batch 1");
  for (int i = 1; i < shape.dim_size(); ++i) {
    const auto& d = shape.dim(i);
    if (!d.has_dim_value() || d.dim_value() < 1)
      throw InputError(file_, 0, what + ": dimension " + std::to_string(i) + " is " +
                                     (d.dim_param().empty() ? "unknown" : "symbolic ('" +
                                                                              d.dim_param() + "')") +
                                     ": hetmap needs a fixed input size; export with fixed sizes");
  }
  const std::string symbol = batch.has_dim_value() ? "" : batch.dim_param();
  auto* g = model_.mutable_graph();
  for (auto& in : *g->mutable_input())
    if (in.name() == input_)
      in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_value(1);
  for (auto& v : *g->mutable_value_info()) fix_batch(v, symbol);
  for (auto& v : *g->mutable_output()) fix_batch(v, symbol);
}

namespace {

// The output shape of a Reshape of `in` to `target` (0 copies the input's size unless
// `allowzero`, -1 takes what is left); nullopt if the target does not fit.
std::optional<Dims> reshaped(const Dims& in, const Dims& target, bool allowzero) {
  std::int64_t total = 1, known = 1;
  for (auto d : in) total *= d;
  Dims out = target;
  int free = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowzero) {
      if (i >= in.size()) return std::nullopt;
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (free >= 0) return std::nullopt;
      free = static_cast<int>(i);
    } else if (out[i] < 0) {
      return std::nullopt;
    } else {
      known *= out[i];
    }
  }
  if (free >= 0) {
    if (known == 0 || total % known != 0) return std::nullopt;
    out[free] = total / known;
  } else if (known != total) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

void OnnxGraph::infer_shapes() {
  // Data propagation computes the values of the Shape -> Gather -> Concat chains that exporters
  // write for `x.view(x.size(0), -1)`, but ONNX 1.12's Reshape does not use a computed target
  // with -1 in it: the importer completes those Reshapes and infers again.
  for (int round = 0; round < 8; ++round) {
    std::unordered_map<std::string, onnx::TensorShapeProto> computed;
    try {
      onnx::shape_inference::InferShapes(model_, onnx::OpSchemaRegistry::Instance(),
                                         onnx::ShapeInferenceOptions(false, 0, true), &computed);
    } catch (const std::exception& e) {
      inference_notes_.push_back(std::string("ONNX shape inference stopped early: ") + e.what());
      break;
    }
    collect_shapes();
    bool completed = false;
    for (const auto& n : graph().node()) {
      if (n.op_type() != "Reshape" || n.input_size() < 2 || shapes_.count(n.output(0))) continue;
      auto in = shape(n.input(0));
      std::optional<Dims> target;
      if (auto c = constant(n.input(1))) target = Dims(c->begin(), c->end());
      if (auto it = computed.find(n.input(1)); !target && it != computed.end()) {
        target.emplace();
        for (const auto& d : it->second.dim()) {
          if (!d.has_dim_value()) {
            target.reset();
            break;
          }
          target->push_back(d.dim_value());
        }
      }
      if (!in || !target) continue;
      auto out = reshaped(*in, *target, attr_int(n, "allowzero", 0) != 0);
      if (!out) continue;
      auto* v = model_.mutable_graph()->add_value_info();
      v->set_name(n.output(0));
      auto* t = v->mutable_type()->mutable_tensor_type();
      t->set_elem_type(elem_type(n.input(0)));
      for (auto d : *out) t->mutable_shape()->add_dim()->set_dim_value(d);
      completed = true;
    }
    if (!completed) break;
  }
}

void OnnxGraph::collect_shapes() {
  const auto& g = graph();
  for (const auto& t : g.initializer()) {
    shapes_[t.name()] = Dims(t.dims().begin(), t.dims().end());
    constants_[t.name()] = &t;
  }
  for (const auto* list : {&g.input(), &g.value_info(), &g.output()})
    for (const auto& v : *list)
      if (auto d = known(v.type())) shapes_[v.name()] = *d;
  for (const auto& n : g.node()) {
    if (n.op_type() != "Constant" || n.output_size() != 1) continue;
    if (const auto* a = find_attr(n, "value"); a && a->has_t()) {
      constants_[n.output(0)] = &a->t();
      shapes_[n.output(0)] = Dims(a->t().dims().begin(), a->t().dims().end());
    }
  }
}

int OnnxGraph::elem_type(const std::string& tensor) const {
  for (const auto* list : {&graph().input(), &graph().value_info()})
    for (const auto& v : *list)
      if (v.name() == tensor && v.type().has_tensor_type()) return v.type().tensor_type().elem_type();
  return onnx::TensorProto::FLOAT;
}

std::optional<Dims> OnnxGraph::shape(const std::string& tensor) const {
  auto it = shapes_.find(tensor);
  if (it == shapes_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::vector<double>> OnnxGraph::constant(const std::string& tensor) const {
  auto it = constants_.find(tensor);
  if (it == constants_.end()) {
    // Constant nodes may also hold plain numbers (opset 12 and later).
    for (const auto& n : graph().node()) {
      if (n.op_type() != "Constant" || n.output_size() != 1 || n.output(0) != tensor) continue;
      if (const auto* a = find_attr(n, "value_float")) return std::vector<double>{a->f()};
      if (const auto* a = find_attr(n, "value_int"))
        return std::vector<double>{static_cast<double>(a->i())};
      if (const auto* a = find_attr(n, "value_floats"))
        return std::vector<double>(a->floats().begin(), a->floats().end());
      if (const auto* a = find_attr(n, "value_ints"))
        return std::vector<double>(a->ints().begin(), a->ints().end());
    }
    return std::nullopt;
  }
  const onnx::TensorProto* t = it->second;
  auto widen = [](const auto& v) { return std::vector<double>(v.begin(), v.end()); };
  try {
    switch (t->data_type()) {
      case onnx::TensorProto::FLOAT: return widen(onnx::ParseData<float>(t));
      case onnx::TensorProto::DOUBLE: return widen(onnx::ParseData<double>(t));
      case onnx::TensorProto::INT64: return widen(onnx::ParseData<std::int64_t>(t));
      case onnx::TensorProto::INT32: return widen(onnx::ParseData<std::int32_t>(t));
      default: return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;  // e.g. data stored in an external file
  }
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::int64_t attr_int(const onnx::NodeProto& node, const std::string& name, std::int64_t dflt) {
  const auto* a = find_attr(node, name);
  return a ? a->i() : dflt;
}

double attr_float(const onnx::NodeProto& node, const std::string& name, double dflt) {
  const auto* a = find_attr(node, name);
  return a ? a->f() : dflt;
}

std::string attr_string(const onnx::NodeProto& node, const std::string& name,
                        const std::string& dflt) {
  const auto* a = find_attr(node, name);
  return a ? a->s() : dflt;
}

std::vector<std::int64_t> attr_ints(const onnx::NodeProto& node, const std::string& name) {
  const auto* a = find_attr(node, name);
  if (!a) return {};
  return std::vector<std::int64_t>(a->ints().begin(), a->ints().end());
}

std::string node_label(const onnx::NodeProto& node) {
  if (!node.name().empty()) return node.name();
  return node.output_size() > 0 ? node.output(0) : std::string("?");
}

}  // namespace hetmap::onnx_import
