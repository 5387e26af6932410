#include "hetmap/model.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "hetmap/cost.hpp"
#include "hetmap/detail/graph.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/yaml.hpp"

namespace hetmap {
namespace {

using detail::as_bool;
using detail::as_int;
using detail::fail;
using detail::MapReader;

const std::map<std::string, OpKind>& op_names() {
  static const std::map<std::string, OpKind> names = {
      {"conv", OpKind::conv},         {"dwconv", OpKind::dwconv},
      {"fc", OpKind::fc},             {"maxpool", OpKind::maxpool},
      {"avgpool", OpKind::avgpool},   {"relu", OpKind::relu},
      {"leaky_relu", OpKind::leaky_relu}, {"batchnorm", OpKind::batchnorm},
      {"add", OpKind::add},           {"concat", OpKind::concat},
      {"flatten", OpKind::flatten},   {"softmax", OpKind::softmax},
      {"lrn", OpKind::lrn},           {"upsample", OpKind::upsample},
      {"block", OpKind::block},       {"opaque", OpKind::opaque}};
  return names;
}

std::string op_list() {
  std::string s;
  for (const auto& [name, kind] : op_names()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

// A kernel, stride or pad: one integer, or [height, width].
void read_pair(const std::string& file, const YAML::Node& n, const std::string& what, int min,
               int& h, int& w) {
  if (n.IsSequence()) {
    if (n.size() != 2) fail(file, n, what + ": expected an integer or [height, width]");
    h = static_cast<int>(as_int(file, n[0], what));
    w = static_cast<int>(as_int(file, n[1], what));
  } else {
    h = w = static_cast<int>(as_int(file, n, what));
  }
  if (h < min || w < min)
    fail(file, n, what + ": expected a value >= " + std::to_string(min));
}

// Why `s` is too large for hetmap's tensors (kMaxDimension, kMaxElements), or "" if it is not.
// The product is checked before it is formed, so that no arithmetic on a shape can overflow.
std::string too_large(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s.dims) {
    if (d > kMaxDimension)
      return "tensor " + s.str() + " has a dimension above 2^31 - 1";
    if (d > 0 && n > kMaxElements / d)
      return "tensor " + s.str() + " has more than 2^40 elements";
    n *= d;
  }
  return "";
}

Shape read_shape(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsSequence() || n.size() == 0) fail(file, n, what + ": expected a list of dimensions");
  Shape s;
  for (const auto& d : n) {
    const long long v = as_int(file, d, what);
    if (v < 1) fail(file, d, what + ": dimensions must be >= 1");
    s.dims.push_back(v);
  }
  if (const std::string why = too_large(s); !why.empty()) fail(file, n, what + ": " + why);
  return s;
}

// Parses one op (top level or inside a block body); shapes come later.
Op parse_op(const std::string& file, const YAML::Node& node, const std::string& where) {
  MapReader r(file, node, where);
  Op op;
  op.line = r.line();
  op.name = r.str("name");
  if (op.name == kModelInput)
    fail(file, node, where + ": the name '" + std::string(kModelInput) + "' is reserved");
  const std::string what = where + " '" + op.name + "'";
  const YAML::Node opn = r.required("op");
  const std::string opname = detail::as_string(file, opn, what + ".op");
  auto it = op_names().find(opname);
  if (it == op_names().end())
    fail(file, opn, what + ": unknown op '" + opname + "' (expected one of " + op_list() + ")");
  op.kind = it->second;
  if (YAML::Node in = r.get("inputs"); in && !in.IsNull())
    op.input_names = detail::as_string_list(file, in, what + ".inputs");

  auto positive = [&](const char* key, bool required, int& dst) {
    std::optional<long long> v = required ? r.integer(key) : r.opt_int(key);
    if (v) {
      if (*v < 1) fail(file, r.get(key), what + "." + key + ": expected an integer >= 1");
      dst = static_cast<int>(*v);
    }
  };
  auto window = [&](bool kernel_required) {
    if (YAML::Node k = r.get("kernel"); k && !k.IsNull())
      read_pair(file, k, what + ".kernel", 1, op.kernel_h, op.kernel_w);
    else if (kernel_required)
      fail(file, node, what + ": missing required key 'kernel'");
    if (YAML::Node s = r.get("stride"); s && !s.IsNull())
      read_pair(file, s, what + ".stride", 1, op.stride_h, op.stride_w);
    if (YAML::Node p = r.get("pad"); p && !p.IsNull())
      read_pair(file, p, what + ".pad", 0, op.pad_h, op.pad_w);
  };

  switch (op.kind) {
    case OpKind::conv:
      positive("filters", true, op.filters);
      window(true);
      positive("groups", false, op.groups);
      break;
    case OpKind::dwconv:
      positive("filters", false, op.filters);
      window(true);
      break;
    case OpKind::fc:
      positive("units", true, op.units);
      break;
    case OpKind::maxpool:
    case OpKind::avgpool: {
      op.global = r.opt_bool("global").value_or(false);
      op.ceil = r.opt_bool("ceil").value_or(false);
      window(!op.global);
      break;
    }
    case OpKind::lrn:
      positive("size", false, op.lrn_size);
      op.lrn_alpha = r.opt_num("alpha").value_or(op.lrn_alpha);
      op.lrn_beta = r.opt_num("beta").value_or(op.lrn_beta);
      op.lrn_k = r.opt_num("k").value_or(op.lrn_k);
      break;
    case OpKind::leaky_relu:
      op.leaky_alpha = r.opt_num("alpha").value_or(op.leaky_alpha);
      break;
    case OpKind::upsample:
      positive("scale", true, op.scale);
      break;
    case OpKind::concat: {
      const long long axis = r.opt_int("axis").value_or(0);
      if (axis < 0) fail(file, r.get("axis"), what + ".axis: expected an integer >= 0");
      op.axis = static_cast<int>(axis);
      break;
    }
    case OpKind::block: {
      const YAML::Node body = r.required("body");
      if (!body.IsSequence() || body.size() == 0)
        fail(file, body, what + ".body: expected a non-empty list of ops");
      for (const auto& b : body) op.body.push_back(parse_op(file, b, what + " body op"));
      break;
    }
    case OpKind::opaque:
      if (YAML::Node o = r.get("out"); !o || o.IsNull())
        fail(file, node, what + ": op 'opaque' requires 'out'");
      break;
    default:
      break;
  }
  if (YAML::Node out = r.get("out"); out && !out.IsNull())
    op.out = read_shape(file, out, what + ".out");
  r.finish();
  return op;
}

// In 64 bits: `in` is at most 2^31 - 1 and k, s, p are ints, so nothing here overflows; the
// caller bounds the result with the rest of the shape (too_large).
std::int64_t pooled(std::int64_t in, int k, int s, int p, bool ceil_mode) {
  const std::int64_t span = in + 2 * std::int64_t{p} - k;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // Caffe: the last window must start inside the (left-padded) input.
  if (ceil_mode && p > 0 && (out - 1) * s >= in + p) --out;
  return out;
}

// Infers `op.out` from the shapes of its inputs; a declared `out` must agree.
void infer(const std::string& file, Op& op, const std::vector<Shape>& in) {
  const std::string what = "layer '" + op.name + "'";
  auto err = [&](const std::string& msg) { throw InputError(file, op.line, what + ": " + msg); };
  auto need_image = [&](const Shape& s) {
    if (s.dims.size() != 3) err("expected a [C, H, W] input, got " + s.str());
  };
  auto one_input = [&]() -> const Shape& {
    if (in.size() != 1)
      err("expected exactly one input, got " + std::to_string(in.size()));
    return in[0];
  };
  Shape out;
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::dwconv: {
      const Shape& x = one_input();
      need_image(x);
      const std::int64_t c = x.dims[0];
      int filters = op.filters, groups = op.groups;
      if (op.kind == OpKind::dwconv) {
        if (filters == 0) filters = static_cast<int>(c);
        if (filters % c != 0) err("dwconv filters must be a multiple of the input channels");
        groups = static_cast<int>(c);
        op.filters = filters;
        op.groups = groups;
      }
      if (c % groups != 0 || filters % groups != 0)
        err("groups must divide the input channels and the filters");
      const std::int64_t h = pooled(x.dims[1], op.kernel_h, op.stride_h, op.pad_h, false);
      const std::int64_t w = pooled(x.dims[2], op.kernel_w, op.stride_w, op.pad_w, false);
      if (h < 1 || w < 1) err("kernel larger than the padded input " + x.str());
      out.dims = {filters, h, w};
      break;
    }
    case OpKind::fc:
      one_input();
      out.dims = {op.units};
      break;
    case OpKind::maxpool:
    case OpKind::avgpool: {
      const Shape& x = one_input();
      need_image(x);
      if (op.global) {
        out.dims = {x.dims[0], 1, 1};
        break;
      }
      const std::int64_t h = pooled(x.dims[1], op.kernel_h, op.stride_h, op.pad_h, op.ceil);
      const std::int64_t w = pooled(x.dims[2], op.kernel_w, op.stride_w, op.pad_w, op.ceil);
      if (h < 1 || w < 1) err("pooling window larger than the padded input " + x.str());
      out.dims = {x.dims[0], h, w};
      break;
    }
    case OpKind::relu:
    case OpKind::leaky_relu:
    case OpKind::batchnorm:
    case OpKind::softmax:
    case OpKind::lrn:
      out = one_input();
      break;
    case OpKind::upsample: {
      const Shape& x = one_input();
      need_image(x);
      out.dims = {x.dims[0], x.dims[1] * op.scale, x.dims[2] * op.scale};
      break;
    }
    case OpKind::flatten:
      out.dims = {one_input().elements()};
      break;
    case OpKind::add:
      if (in.size() < 2) err("add expects at least two inputs");
      for (const Shape& s : in)
        if (!(s == in[0])) err("add inputs differ in shape: " + in[0].str() + " vs " + s.str());
      out = in[0];
      break;
    case OpKind::concat: {
      if (in.empty()) err("concat expects at least one input");
      out = in[0];
      if (op.axis >= static_cast<int>(out.dims.size())) err("concat axis out of range");
      for (std::size_t i = 1; i < in.size(); ++i) {
        if (in[i].dims.size() != out.dims.size()) err("concat inputs differ in rank");
        for (std::size_t d = 0; d < out.dims.size(); ++d) {
          if (static_cast<int>(d) == op.axis) continue;
          if (in[i].dims[d] != out.dims[d])
            err("concat inputs differ outside the axis: " + in[0].str() + " vs " + in[i].str());
        }
        out.dims[op.axis] += in[i].dims[op.axis];
      }
      break;
    }
    case OpKind::block: {
      // Body ops read body ops declared before them, or the block's own inputs by name.
      std::map<std::string, Shape> known;
      for (std::size_t i = 0; i < in.size(); ++i) known[op.input_names[i]] = in[i];
      std::string prev = op.input_names.empty() ? "" : op.input_names[0];
      std::set<std::string> body_names;
      for (Op& b : op.body) {
        // A body op named like a block input would make that name mean two tensors.
        if (std::find(op.input_names.begin(), op.input_names.end(), b.name) !=
            op.input_names.end())
          throw InputError(file, b.line, "body op '" + b.name + "' of block '" + op.name +
                                             "' has the name of the block's input '" + b.name +
                                             "' (rename one of them)");
        if (b.input_names.empty()) {
          if (prev.empty()) throw InputError(file, b.line, "body op '" + b.name + "': no input");
          b.input_names = {prev};
        }
        std::vector<Shape> bin;
        for (const std::string& n : b.input_names) {
          auto it = known.find(n);
          if (it == known.end())
            throw InputError(file, b.line, "body op '" + b.name + "' of block '" + op.name +
                                               "': input '" + n +
                                               "' is neither an earlier body op nor an input "
                                               "of the block");
          bin.push_back(it->second);
        }
        infer(file, b, bin);
        if (!body_names.insert(b.name).second)
          throw InputError(file, b.line, "block '" + op.name + "': duplicate body op '" +
                                             b.name + "'");
        known[b.name] = b.out;
        prev = b.name;
      }
      out = op.body.back().out;
      break;
    }
    case OpKind::opaque:
      return;  // `out` is given (and bounded by read_shape)
  }
  // Every input was bounded, so `out` was computed without overflow; it may still be too large
  // (a concat of many wide inputs, a large pad or upsampling scale).
  if (const std::string why = too_large(out); !why.empty()) err(why);
  if (!op.out.dims.empty() && !(op.out == out))
    err("declared out " + op.out.str() + " disagrees with the inferred " + out.str());
  op.out = out;
}

}  // namespace

const char* to_string(OpKind kind) {
  for (const auto& [name, k] : op_names())
    if (k == kind) return name.c_str();
  return "?";
}

std::int64_t Shape::elements() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

int Model::find_layer(const std::string& name) const {
  for (std::size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return static_cast<int>(i);
  return -1;
}

int Model::find_exit(const std::string& name) const {
  for (std::size_t i = 0; i < exits.size(); ++i)
    if (exits[i].name == name) return static_cast<int>(i);
  return -1;
}

Model parse_model(const std::string& yaml_text, const std::string& file) {
  MapReader r(file, detail::parse_yaml(yaml_text, file), "model");
  Model m;
  m.file = file;
  m.name = r.str("name");
  m.input = read_shape(file, r.required("input"), "model.input");
  if (auto fa = r.opt_num("final_accuracy")) {
    if (*fa < 0 || *fa > 1) fail(file, r.get("final_accuracy"), "final_accuracy: expected 0..1");
    m.final_accuracy = *fa;
  }

  // Backbone ops, then exits with their ops.
  const YAML::Node layers = r.required("layers");
  if (!layers.IsSequence() || layers.size() == 0)
    fail(file, layers, "model.layers: expected a non-empty list of layers");
  std::vector<Op> backbone;
  for (const auto& l : layers) backbone.push_back(parse_op(file, l, "layer"));

  struct RawExit {
    Exit exit;
    std::string after;
    int after_line = 0;
    std::vector<Op> ops;
    std::size_t file_order = 0;
  };
  std::vector<RawExit> raw_exits;
  if (YAML::Node ex = r.get("exits"); ex && !ex.IsNull()) {
    if (!ex.IsSequence()) fail(file, ex, "model.exits: expected a list of exits");
    for (const auto& e : ex) {
      MapReader er(file, e, "exit");
      RawExit re;
      re.file_order = raw_exits.size();
      re.exit.line = er.line();
      re.exit.name = er.str("name");
      const std::string what = "exit '" + re.exit.name + "'";
      // Results are named by exit or `final` (JSON keys, trace columns final_ok/final_conf).
      if (re.exit.name == "final")
        fail(file, er.get("name"), what + ": the name 'final' is reserved for the final output");
      re.after = er.str("after");
      re.after_line = detail::line_of(er.get("after"));
      re.exit.taken = er.opt_num("taken").value_or(0.0);
      if (re.exit.taken < 0 || re.exit.taken > 1)
        fail(file, er.get("taken"), what + ".taken: expected a share in [0, 1]");
      if (auto acc = er.opt_num("accuracy")) {
        if (*acc < 0 || *acc > 1) fail(file, er.get("accuracy"), what + ".accuracy: expected 0..1");
        re.exit.accuracy = *acc;
      }
      const YAML::Node el = er.required("layers");
      if (!el.IsSequence() || el.size() == 0)
        fail(file, el, what + ".layers: expected a non-empty list of layers");
      for (const auto& l : el) re.ops.push_back(parse_op(file, l, what + " layer"));
      er.finish();
      raw_exits.push_back(std::move(re));
    }
  }
  r.finish();

  // Names are unique across backbone, exit layers and exits.
  std::map<std::string, int> backbone_pos;
  std::set<std::string> names;
  auto claim = [&](const std::string& name, int line, const std::string& what) {
    if (!names.insert(name).second)
      throw InputError(file, line, what + ": duplicate name '" + name + "'");
  };
  for (std::size_t i = 0; i < backbone.size(); ++i) {
    claim(backbone[i].name, backbone[i].line, "layer");
    backbone_pos[backbone[i].name] = static_cast<int>(i);
  }
  for (const auto& re : raw_exits) {
    claim(re.exit.name, re.exit.line, "exit");
    for (const Op& op : re.ops) claim(op.name, op.line, "exit '" + re.exit.name + "' layer");
    if (!backbone_pos.count(re.after))
      throw InputError(file, re.after_line,
                       "exit '" + re.exit.name + "'.after: '" + re.after +
                           "' is not a backbone layer");
  }
  double taken = 0;
  for (const auto& re : raw_exits) taken += re.exit.taken;
  if (taken > 1.0 + 1e-9)
    throw InputError(file, raw_exits.back().exit.line,
                     "exit shares ('taken') sum to " + std::to_string(taken) +
                         ", expected at most 1");

  // Declaration order: backbone, each exit's layers right after its `after` layer.
  for (std::size_t i = 0; i < backbone.size(); ++i) {
    Layer l;
    static_cast<Op&>(l) = backbone[i];
    if (l.input_names.empty())
      l.input_names = {i == 0 ? std::string(kModelInput) : backbone[i - 1].name};
    m.backbone.push_back(static_cast<int>(m.layers.size()));
    m.layers.push_back(std::move(l));
    for (auto& re : raw_exits) {
      if (re.after != backbone[i].name) continue;
      for (std::size_t j = 0; j < re.ops.size(); ++j) {
        Layer el;
        static_cast<Op&>(el) = re.ops[j];
        if (el.input_names.empty())
          el.input_names = {j == 0 ? re.after : re.ops[j - 1].name};
        el.exit = static_cast<int>(re.file_order);  // renumbered below
        re.exit.layers.push_back(static_cast<int>(m.layers.size()));
        m.layers.push_back(std::move(el));
      }
      re.exit.after = m.backbone.back();
    }
  }

  // Exits ordered along the backbone (stable: file order among equal `after`).
  std::stable_sort(raw_exits.begin(), raw_exits.end(), [&](const RawExit& a, const RawExit& b) {
    return backbone_pos[a.after] < backbone_pos[b.after];
  });
  std::vector<int> renumber(raw_exits.size());
  for (std::size_t k = 0; k < raw_exits.size(); ++k) {
    renumber[raw_exits[k].file_order] = static_cast<int>(k);
    m.exits.push_back(raw_exits[k].exit);
  }
  if (m.exits.size() > 64)
    throw InputError(file, m.exits[64].line, "at most 64 exits are supported");
  for (Layer& l : m.layers)
    if (l.exit >= 0) l.exit = renumber[l.exit];

  // Resolve inputs: backbone layers read the backbone or the model input; exit layers may also
  // read earlier layers of their own exit.
  for (Layer& l : m.layers) {
    for (const std::string& n : l.input_names) {
      if (n == kModelInput) {
        l.inputs.push_back(-1);
        continue;
      }
      const int src = m.find_layer(n);
      if (src < 0)
        throw InputError(file, l.line, "layer '" + l.name + "': unknown input '" + n + "'");
      const int src_exit = m.layers[src].exit;
      if (src_exit >= 0 && src_exit != l.exit)
        throw InputError(file, l.line,
                         "layer '" + l.name + "': input '" + n +
                             "' belongs to exit '" + m.exits[src_exit].name +
                             "' (only the backbone and the layer's own exit can be read)");
      l.inputs.push_back(src);
    }
  }

  // A cycle is an error naming it, from (and at the line of) its first layer in declaration order.
  detail::Producers producers;
  for (const Layer& l : m.layers) producers.push_back(l.inputs);
  if (const std::vector<int> cycle = detail::find_cycle(producers); !cycle.empty()) {
    std::string path;
    for (int l : cycle) path += m.layers[l].name + " -> ";
    throw InputError(file, m.layers[cycle.front()].line,
                     "layers form a cycle: " + path + m.layers[cycle.front()].name);
  }
  // The other direction: each layer's consumers, in increasing order (layers visited in order).
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    std::vector<int> from = m.layers[i].inputs;
    std::sort(from.begin(), from.end());
    from.erase(std::unique(from.begin(), from.end()), from.end());
    for (int src : from)
      (src < 0 ? m.input_consumers : m.layers[src].consumers).push_back(static_cast<int>(i));
  }

  // Shapes, in topological order. Of several shape errors the first in this order is reported:
  // first ready, first inferred.
  const std::vector<int> order = detail::topological_order(producers, detail::Ties::first_ready);
  // With them the work (cost.hpp), which tensors within their bounds can still take past 64
  // bits (an fc of 2^40 inputs and 2^31 units): each layer's counts and their sums over the
  // model fit, so no cost computed on a loaded model overflows (docs/reliability.md).
  OpCost total;
  for (int i : order) {
    Layer& l = m.layers[i];
    std::vector<Shape> in;
    for (int src : l.inputs) in.push_back(src < 0 ? m.input : m.layers[src].out);
    infer(file, l, in);
    OpCost cost;
    try {
      cost = op_cost(l, in);
    } catch (const std::overflow_error& e) {
      throw InputError(file, l.line, "layer '" + l.name + "': " + e.what() +
                                         " (hetmap counts a model's work in 64 bits)");
    }
    try {
      total += cost;
    } catch (const std::overflow_error&) {
      throw InputError(file, l.line, "layer '" + l.name + "': the work of the model's layers up to "
                                     "this one does not fit in 64 bits (hetmap counts a model's "
                                     "work in 64 bits)");
    }
  }
  return m;
}

Model load_model(const std::string& path) { return parse_model(detail::read_file(path), path); }

}  // namespace hetmap
