#include "convert_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "hetmap/error.hpp"

namespace hetmap::onnx_import {
namespace {

using Kind = Conversion::Kind;

// One node being converted: its proto, the graph around it, and the error every check throws.
struct Node {
  const onnx::NodeProto& n;
  const NodeContext& ctx;

  [[noreturn]] void unsupported(const std::string& what) const {
    throw InputError(ctx.graph.file(), 0,
                     "node '" + node_label(n) + "' (" + n.op_type() + "): " + what);
  }
  // Input i, or "" where the node omits that optional input.
  std::string input(int i) const { return i < n.input_size() ? n.input(i) : std::string(); }
  // Input i must carry the data.
  const std::string& activation(int i) const {
    if (i >= n.input_size() || !ctx.is_activation(n.input(i)))
      unsupported("input " + std::to_string(i) +
                  " does not come from the model input (hetmap layers read activations)");
    return n.input(i);
  }
  // Input i must be a weight: hetmap has no layers whose weights are computed from the data.
  void weight(int i) const {
    if (i < n.input_size() && ctx.is_activation(n.input(i)))
      unsupported("input " + std::to_string(i) + " ('" + n.input(i) +
                  "') is computed from the data; hetmap needs it to be a constant weight");
  }
  // Outputs after the first must be unused: a hetmap layer has one output.
  void one_output() const {
    for (int i = 1; i < n.output_size(); ++i)
      if (!n.output(i).empty() && ctx.is_used(n.output(i)))
        unsupported("its output " + std::to_string(i) + " ('" + n.output(i) +
                    "') is used; a hetmap layer has one output");
  }
  std::optional<Dims> shape(const std::string& tensor) const { return ctx.graph.shape(tensor); }
  // The shape of a weight, which hetmap needs to size the layer.
  Dims weight_shape(int i, std::size_t rank) const {
    auto s = shape(input(i));
    if (!s) unsupported("the shape of weight '" + input(i) + "' is unknown");
    if (s->size() != rank)
      unsupported("weight '" + input(i) + "' has shape " + dims_str(*s) + ", expected rank " +
                  std::to_string(rank));
    return *s;
  }
  // A constant scalar input or attribute, for Clip's bounds.
  std::optional<double> scalar_input(int i) const {
    if (input(i).empty()) return std::nullopt;
    auto v = ctx.graph.constant(input(i));
    if (!v || v->size() != 1) unsupported("input " + std::to_string(i) + " ('" + input(i) +
                                          "') is no constant scalar");
    return (*v)[0];
  }
};

std::string pair_value(std::int64_t h, std::int64_t w) {
  return h == w ? std::to_string(h) : fmt::format("[{}, {}]", h, w);
}

LayerSpec layer(const std::string& op, std::vector<std::string> inputs) {
  LayerSpec l;
  l.op = op;
  l.inputs = std::move(inputs);
  return l;
}

Conversion as_layer(LayerSpec l) {
  Conversion c;
  c.kind = Kind::layer;
  c.layer = std::move(l);
  return c;
}

Conversion as_alias(const std::string& tensor) {
  Conversion c;
  c.kind = Kind::alias;
  c.alias_of = tensor;
  return c;
}

// The data input of a 2-D convolution or pool must be [N, C, H, W].
void need_image(const Node& nd, const std::string& tensor) {
  auto s = nd.shape(tensor);
  if (s && s->size() != 4)
    nd.unsupported("input of shape " + dims_str(*s) +
                   ": hetmap convolutions and pools are 2-D, on [N, C, H, W] tensors");
}

struct Window {
  std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
};

// Kernel, strides and padding of a Conv or pool, in hetmap's terms: symmetric padding, no
// dilation. `kernel` is kernel_shape (or, for Conv without it, the weight's spatial dims).
Window window(const Node& nd, const Dims& kernel, const std::string& data) {
  if (kernel.size() != 2)
    nd.unsupported("kernel " + dims_str(kernel) + ": hetmap convolutions and pools are 2-D");
  Window w;
  w.kh = kernel[0];
  w.kw = kernel[1];
  const Dims strides = attr_ints(nd.n, "strides");
  if (!strides.empty()) {
    if (strides.size() != 2) nd.unsupported("strides " + dims_str(strides) + ": expected 2 values");
    w.sh = strides[0];
    w.sw = strides[1];
  }
  for (std::int64_t d : attr_ints(nd.n, "dilations"))
    if (d != 1)
      nd.unsupported("dilations " + dims_str(attr_ints(nd.n, "dilations")) +
                     ": hetmap convolutions and pools have no dilation");

  const std::string auto_pad = attr_string(nd.n, "auto_pad", "NOTSET");
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    Dims pads = attr_ints(nd.n, "pads");
    if (pads.empty()) pads.assign(4, 0);
    if (pads.size() != 4) nd.unsupported("pads " + dims_str(pads) + ": expected 4 values");
    if (pads[0] != pads[2] || pads[1] != pads[3])
      nd.unsupported("asymmetric pads " + dims_str(pads) +
                     " (top, left, bottom, right): hetmap pads both sides of a dimension equally");
    w.ph = pads[0];
    w.pw = pads[1];
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto in = nd.shape(data);
    if (!in || in->size() != 4)
      nd.unsupported("auto_pad " + auto_pad + " with an input of unknown size");
    // ONNX: output = ceil(in / stride); the padding that takes is split, the odd one out on
    // one side, which hetmap cannot express.
    auto same = [&](std::int64_t size, std::int64_t k, std::int64_t s, const char* dim) {
      const std::int64_t out = (size + s - 1) / s;
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + k - size);
      if (total % 2 != 0)
        nd.unsupported(fmt::format("auto_pad {} pads {} in total on the {}: an odd total needs "
                                   "asymmetric padding, which hetmap cannot express",
                                   auto_pad, total, dim));
      return total / 2;
    };
    w.ph = same((*in)[2], w.kh, w.sh, "height");
    w.pw = same((*in)[3], w.kw, w.sw, "width");
  } else if (auto_pad != "VALID") {
    nd.unsupported("auto_pad '" + auto_pad + "'");
  }
  const auto [fold_h, fold_w] = nd.ctx.folded_pad(data);
  w.ph += fold_h;
  w.pw += fold_w;
  return w;
}

// The comment of a Conv or pool that took over a Pad node's padding.
std::string folded_comment(const Node& nd, const std::string& data) {
  const auto [h, w] = nd.ctx.folded_pad(data);
  return h || w ? "includes the padding of the ONNX Pad before it" : "";
}

void add_window(LayerSpec& l, const Window& w) {
  l.keys.emplace_back("kernel", pair_value(w.kh, w.kw));
  if (w.sh != 1 || w.sw != 1) l.keys.emplace_back("stride", pair_value(w.sh, w.sw));
  if (w.ph != 0 || w.pw != 0) l.keys.emplace_back("pad", pair_value(w.ph, w.pw));
}

Conversion conv(const Node& nd) {
  const std::string& x = nd.activation(0);
  nd.weight(1);
  nd.weight(2);
  need_image(nd, x);
  const Dims wshape = nd.weight_shape(1, 4);  // [M, C / group, kH, kW]
  Dims kernel = attr_ints(nd.n, "kernel_shape");
  if (kernel.empty()) kernel = {wshape[2], wshape[3]};
  const Window w = window(nd, kernel, x);
  const std::int64_t filters = wshape[0];
  const std::int64_t group = attr_int(nd.n, "group", 1);
  const std::int64_t channels = wshape[1] * group;
  if (group < 1 || filters % group != 0)
    nd.unsupported(fmt::format("group {} does not divide the {} filters", group, filters));

  LayerSpec l = layer(group > 1 && group == channels ? "dwconv" : "conv", {x});
  if (l.op == "conv" || filters != channels) l.keys.emplace_back("filters", std::to_string(filters));
  add_window(l, w);
  if (l.op == "conv" && group > 1) l.keys.emplace_back("groups", std::to_string(group));
  l.comment = folded_comment(nd, x);
  return as_layer(std::move(l));
}

Conversion pool(const Node& nd, const char* op) {
  const std::string& x = nd.activation(0);
  need_image(nd, x);
  nd.one_output();  // MaxPool's Indices
  const Dims kernel = attr_ints(nd.n, "kernel_shape");
  if (kernel.empty()) nd.unsupported("no kernel_shape");
  LayerSpec l = layer(op, {x});
  add_window(l, window(nd, kernel, x));
  // count_include_pad (AveragePool) changes values, not cost: hetmap has no key for it.
  if (attr_int(nd.n, "ceil_mode", 0) != 0) l.keys.emplace_back("ceil", "true");
  l.comment = folded_comment(nd, x);
  return as_layer(std::move(l));
}

Conversion global_pool(const Node& nd, const char* op) {
  const std::string& x = nd.activation(0);
  need_image(nd, x);
  LayerSpec l = layer(op, {x});
  l.keys.emplace_back("global", "true");
  return as_layer(std::move(l));
}

Conversion gemm(const Node& nd) {
  const std::string& a = nd.activation(0);
  nd.weight(1);
  nd.weight(2);
  if (attr_int(nd.n, "transA", 0) != 0)
    nd.unsupported("transA = 1: the data would be transposed; hetmap's fc reads [N, K]");
  const Dims b = nd.weight_shape(1, 2);
  LayerSpec l = layer("fc", {a});
  l.keys.emplace_back("units", std::to_string(attr_int(nd.n, "transB", 0) ? b[0] : b[1]));
  return as_layer(std::move(l));
}

Conversion matmul(const Node& nd) {
  const std::string& a = nd.activation(0);
  nd.weight(1);
  if (auto s = nd.shape(a); s && s->size() != 2)
    nd.unsupported("MatMul over a " + dims_str(*s) +
                   " input: hetmap's fc flattens its input, so only [1, K] x [K, N] is an fc");
  const Dims b = nd.weight_shape(1, 2);
  LayerSpec l = layer("fc", {a});
  l.keys.emplace_back("units", std::to_string(b[1]));
  l.takes_bias = true;
  return as_layer(std::move(l));
}

// Add and Sum: of activations of one shape -> add; of an activation and a constant right after
// a MatMul -> that MatMul's bias (no layer).
Conversion add(const Node& nd) {
  std::vector<std::string> acts, consts;
  for (const std::string& in : nd.n.input())
    (nd.ctx.is_activation(in) ? acts : consts).push_back(in);
  if (!consts.empty()) {
    LayerSpec* fc = acts.size() == 1 ? nd.ctx.producer(acts[0]) : nullptr;
    if (fc && fc->takes_bias && nd.ctx.single_use(acts[0]) && consts.size() == 1) {
      fc->takes_bias = false;
      fc->comment = "MatMul + Add (bias) in ONNX";
      return as_alias(acts[0]);
    }
    nd.unsupported("adds a constant ('" + consts[0] +
                   "') to the data: hetmap has no such op (only a MatMul's bias is folded in)");
  }
  if (acts.size() == 1) return as_alias(acts[0]);  // Sum of one tensor
  const auto first = nd.shape(acts[0]);
  for (const std::string& in : acts)
    if (auto s = nd.shape(in); s && first && *s != *first)
      nd.unsupported("adds tensors of shapes " + dims_str(*first) + " and " + dims_str(*s) +
                     ": hetmap adds tensors of one shape (no broadcasting)");
  return as_layer(layer("add", acts));
}

Conversion concat(const Node& nd) {
  std::vector<std::string> inputs;
  for (int i = 0; i < nd.n.input_size(); ++i) inputs.push_back(nd.activation(i));
  auto s = nd.shape(inputs[0]);
  if (!s) s = nd.shape(nd.n.output(0));
  if (!s) nd.unsupported("the rank of its inputs is unknown, so the axis cannot be placed");
  const auto rank = static_cast<std::int64_t>(s->size());
  std::int64_t axis = attr_int(nd.n, "axis", 1);
  if (axis < 0) axis += rank;
  if (axis <= 0 || axis >= rank)
    nd.unsupported(fmt::format("axis {} of a rank-{} tensor: hetmap concatenates one sample's "
                               "tensors, not along the batch", attr_int(nd.n, "axis", 1), rank));
  LayerSpec l = layer("concat", inputs);
  if (axis != 1) l.keys.emplace_back("axis", std::to_string(axis - 1));  // batch dropped
  return as_layer(std::move(l));
}

// Flatten, Reshape, Squeeze, Unsqueeze: a reshape that keeps the shape is no layer, one to
// [1, N] is hetmap's flatten, any other hetmap cannot express.
Conversion reshape(const Node& nd) {
  const std::string& x = nd.activation(0);
  for (int i = 1; i < nd.n.input_size(); ++i) nd.weight(i);  // the target shape, axes
  const auto in = nd.shape(x);
  const auto out = nd.shape(nd.n.output(0));
  if (!in || !out) nd.unsupported("ONNX shape inference could not tell its input and output shapes");
  if (*in == *out) return as_alias(x);
  if (out->size() == 2 && (*out)[0] == 1 && in->size() >= 2 && (*in)[0] == 1) {
    if (in->size() == 2) return as_alias(x);  // already flat
    return as_layer(layer("flatten", {x}));
  }
  nd.unsupported("reshapes " + dims_str(*in) + " to " + dims_str(*out) +
                 ": hetmap expresses only flattening to [1, N]");
}

Conversion clip(const Node& nd) {
  const std::string& x = nd.activation(0);
  double lo = -std::numeric_limits<double>::infinity(), hi = -lo;
  if (nd.ctx.graph.opset() < 11) {
    lo = attr_float(nd.n, "min", lo);
    hi = attr_float(nd.n, "max", hi);
  } else {
    lo = nd.scalar_input(1).value_or(lo);
    hi = nd.scalar_input(2).value_or(hi);
  }
  if (lo != 0.0)
    nd.unsupported(fmt::format("Clip(min {}, max {}): only Clip(0, max), i.e. ReLU or ReLU6, "
                               "maps to a hetmap op (relu)", static_cast<float>(lo), static_cast<float>(hi)));
  LayerSpec l = layer("relu", {x});
  if (std::isfinite(hi) && hi < std::numeric_limits<float>::max())
    l.comment = fmt::format("ONNX Clip(0, {}){}: imported as relu, which costs the same",
                            static_cast<float>(hi),
                            hi == 6.0 ? " = ReLU6" : "");
  return as_layer(std::move(l));
}

Conversion lrn(const Node& nd) {
  LayerSpec l = layer("lrn", {nd.activation(0)});
  const auto* size = find_attr(nd.n, "size");
  if (!size) nd.unsupported("no size");
  l.keys.emplace_back("size", std::to_string(size->i()));
  // hetmap's defaults are ONNX's: write only what differs.
  if (const double a = attr_float(nd.n, "alpha", 1e-4); a != 1e-4f)
    l.keys.emplace_back("alpha", fmt::format("{}", static_cast<float>(a)));
  if (const double b = attr_float(nd.n, "beta", 0.75); b != 0.75)
    l.keys.emplace_back("beta", fmt::format("{}", static_cast<float>(b)));
  if (const double k = attr_float(nd.n, "bias", 1.0); k != 1.0)
    l.keys.emplace_back("k", fmt::format("{}", static_cast<float>(k)));
  return as_layer(std::move(l));
}

// An op that keeps the shape and maps to a hetmap op without keys.
Conversion elementwise(const Node& nd, const char* op) {
  nd.one_output();
  for (int i = 1; i < nd.n.input_size(); ++i) nd.weight(i);
  return as_layer(layer(op, {nd.activation(0)}));
}

Conversion leaky_relu(const Node& nd) {
  LayerSpec l = layer("leaky_relu", {nd.activation(0)});
  // ONNX's default alpha (0.01) is not hetmap's (0.1): always write it.
  l.keys.emplace_back("alpha", fmt::format("{}", static_cast<float>(attr_float(nd.n, "alpha", 0.01))));
  return as_layer(std::move(l));
}

// Resize and Upsample in nearest mode by one integer factor on H and W -> upsample. The factor
// is read off ONNX's shapes, so scales and sizes inputs alike work. Which source pixel a
// coordinate mode picks changes values, not cost.
Conversion upsample(const Node& nd) {
  const std::string& x = nd.activation(0);
  for (int i = 1; i < nd.n.input_size(); ++i) nd.weight(i);  // roi, scales, sizes
  const std::string mode = attr_string(nd.n, "mode", "nearest");
  if (mode != "nearest")
    nd.unsupported("mode '" + mode + "': hetmap's upsample is nearest-neighbour");
  const auto in = nd.shape(x);
  const auto out = nd.shape(nd.n.output(0));
  if (!in || !out) nd.unsupported("ONNX shape inference could not tell its input and output shapes");
  if (in->size() != 4 || out->size() != 4)
    nd.unsupported("resizes " + dims_str(*in) + ": hetmap upsamples [N, C, H, W] tensors");
  const std::int64_t s = (*in)[2] > 0 ? (*out)[2] / (*in)[2] : 0;
  if ((*out)[0] != (*in)[0] || (*out)[1] != (*in)[1] || s < 1 || (*out)[2] != s * (*in)[2] ||
      (*out)[3] != s * (*in)[3])
    nd.unsupported("resizes " + dims_str(*in) + " to " + dims_str(*out) +
                   ": hetmap upsamples H and W by one integer factor");
  LayerSpec l = layer("upsample", {x});
  l.keys.emplace_back("scale", std::to_string(s));
  return as_layer(std::move(l));
}

// Pad: hetmap has no pad op, but a Conv or pool pads its input itself. A Pad of H and W by
// the same amount on both sides whose one reader is a Conv or pool is folded into that layer's
// `pad` (PyTorch writes Pad + AveragePool for avg_pool2d with count_include_pad); a Pad of zero
// is no layer; any other Pad is refused.
Conversion pad(const Node& nd) {
  const std::string& x = nd.activation(0);
  for (int i = 1; i < nd.n.input_size(); ++i) nd.weight(i);
  if (!nd.input(3).empty()) nd.unsupported("an 'axes' input");
  Dims pads;
  if (nd.ctx.graph.opset() < 11) {
    pads = attr_ints(nd.n, "pads");
  } else if (auto c = nd.ctx.graph.constant(nd.input(1))) {
    pads.assign(c->begin(), c->end());
  } else {
    nd.unsupported("its pads are not a constant");
  }
  if (std::all_of(pads.begin(), pads.end(), [](std::int64_t p) { return p == 0; }))
    return as_alias(x);
  const std::string& out = nd.n.output(0);
  const auto readers = nd.ctx.consumer_ops(out);
  const bool foldable = readers.size() == 1 && nd.ctx.single_use(out) &&
                        (readers[0] == "Conv" || readers[0] == "MaxPool" ||
                         readers[0] == "AveragePool");
  // pads: [N, C, H, W] begins, then [N, C, H, W] ends.
  if (!foldable || pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5] ||
      pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0)
    nd.unsupported("pads " + dims_str(pads) + ": hetmap has no pad op; only a Pad of H and W, "
                   "equal on both sides, read by one Conv or pool (which takes the padding over) "
                   "is supported");
  Conversion c = as_alias(x);
  c.fold_pad_h = pads[2];
  c.fold_pad_w = pads[3];
  return c;
}

Conversion pass_through(const Node& nd) {
  nd.one_output();  // Dropout's mask
  return as_alias(nd.activation(0));
}

using Converter = std::function<Conversion(const Node&)>;

const std::map<std::string, Converter>& converters() {
  static const std::map<std::string, Converter> table = {
      {"Conv", conv},
      {"MaxPool", [](const Node& n) { return pool(n, "maxpool"); }},
      {"AveragePool", [](const Node& n) { return pool(n, "avgpool"); }},
      {"GlobalAveragePool", [](const Node& n) { return global_pool(n, "avgpool"); }},
      {"GlobalMaxPool", [](const Node& n) { return global_pool(n, "maxpool"); }},
      {"Gemm", gemm},
      {"MatMul", matmul},
      {"Add", add},
      {"Sum", add},
      {"Concat", concat},
      {"Flatten", reshape},
      {"Reshape", reshape},
      {"Squeeze", reshape},
      {"Unsqueeze", reshape},
      {"Relu", [](const Node& n) { return elementwise(n, "relu"); }},
      {"LeakyRelu", leaky_relu},
      {"Resize", upsample},
      {"Upsample", upsample},
      {"Clip", clip},
      {"BatchNormalization", [](const Node& n) { return elementwise(n, "batchnorm"); }},
      {"Softmax", [](const Node& n) { return elementwise(n, "softmax"); }},
      {"LRN", lrn},
      {"Pad", pad},
      {"Dropout", pass_through},
      {"Identity", pass_through},
      {"Shape", [](const Node&) { Conversion c; c.kind = Kind::shape_only; return c; }},
      {"Size", [](const Node&) { Conversion c; c.kind = Kind::shape_only; return c; }},
  };
  return table;
}

}  // namespace

std::string supported_ops() {
  std::string s;
  for (const auto& [name, fn] : converters()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

Conversion convert_node(const onnx::NodeProto& node, const NodeContext& ctx) {
  const Node nd{node, ctx};
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    nd.unsupported("op of domain '" + node.domain() + "': hetmap imports standard ONNX ops only");
  auto it = converters().find(node.op_type());
  if (it == converters().end())
    nd.unsupported("unsupported op (supported: " + supported_ops() + "; see docs/import.md)");
  return it->second(nd);
}

}  // namespace hetmap::onnx_import
