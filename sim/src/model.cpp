#include "hetmap/model.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "hetmap/cost.hpp"
#include "hetmap/detail/graph.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/model_spec.hpp"
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
  auto err = [&](const std::string& msg) {
    throw InputError(file, op.line, "layer '" + op.name + "': " + msg);
  };
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
      const std::set<std::string> block_inputs(op.input_names.begin(), op.input_names.end());
      std::string prev = op.input_names.empty() ? "" : op.input_names[0];
      std::set<std::string> body_names;
      for (Op& b : op.body) {
        // A body op named like a block input would make that name mean two tensors.
        if (block_inputs.count(b.name))
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
  op.out = std::move(out);
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

namespace {

// A name's index through `at`, checked against `items` so that an index left stale by code that
// changed the model after loading is an error, not a wrong answer.
template <class T>
int find_named(const std::unordered_map<std::string, int>& at, const std::vector<T>& items,
               const std::string& name, const char* what) {
  if (at.size() != items.size())
    throw std::logic_error(std::string("Model::find_") + what +
                           ": the name index is stale (call Model::index_names())");
  const auto it = at.find(name);
  if (it == at.end()) return -1;
  if (items[static_cast<std::size_t>(it->second)].name != name)
    throw std::logic_error(std::string("Model::find_") + what +
                           ": the name index is stale (call Model::index_names())");
  return it->second;
}

}  // namespace

int Model::find_layer(const std::string& name) const {
  return find_named(layer_at_, layers, name, "layer");
}

int Model::find_exit(const std::string& name) const {
  return find_named(exit_at_, exits, name, "exit");
}

void Model::index_names() {
  layer_at_.clear();
  exit_at_.clear();
  layer_at_.reserve(layers.size());
  for (std::size_t i = 0; i < layers.size(); ++i) layer_at_.emplace(layers[i].name, static_cast<int>(i));
  for (std::size_t i = 0; i < exits.size(); ++i) exit_at_.emplace(exits[i].name, static_cast<int>(i));
}

Model parse_model(const std::string& yaml_text, const std::string& file) {
  MapReader r(file, detail::parse_yaml(yaml_text, file), "model");
  detail::ModelSpec spec;
  spec.name = r.str("name");
  spec.input = read_shape(file, r.required("input"), "model.input");
  if (auto fa = r.opt_num("final_accuracy")) {
    if (*fa < 0 || *fa > 1) fail(file, r.get("final_accuracy"), "final_accuracy: expected 0..1");
    spec.final_accuracy = *fa;
  }

  // Backbone ops, then exits with their ops.
  const YAML::Node layers = r.required("layers");
  if (!layers.IsSequence() || layers.size() == 0)
    fail(file, layers, "model.layers: expected a non-empty list of layers");
  spec.layers.reserve(layers.size());
  for (const auto& l : layers) spec.layers.push_back(parse_op(file, l, "layer"));

  if (YAML::Node ex = r.get("exits"); ex && !ex.IsNull()) {
    if (!ex.IsSequence()) fail(file, ex, "model.exits: expected a list of exits");
    for (const auto& e : ex) {
      MapReader er(file, e, "exit");
      detail::ExitSpec es;
      es.exit.line = er.line();
      es.exit.name = er.str("name");
      const std::string what = "exit '" + es.exit.name + "'";
      // Results are named by exit or `final` (JSON keys, trace columns final_ok/final_conf).
      if (es.exit.name == "final")
        fail(file, er.get("name"), what + ": the name 'final' is reserved for the final output");
      es.after = er.str("after");
      es.after_line = detail::line_of(er.get("after"));
      es.exit.taken = er.opt_num("taken").value_or(0.0);
      if (es.exit.taken < 0 || es.exit.taken > 1)
        fail(file, er.get("taken"), what + ".taken: expected a share in [0, 1]");
      if (auto acc = er.opt_num("accuracy")) {
        if (*acc < 0 || *acc > 1) fail(file, er.get("accuracy"), what + ".accuracy: expected 0..1");
        es.exit.accuracy = *acc;
      }
      const YAML::Node el = er.required("layers");
      if (!el.IsSequence() || el.size() == 0)
        fail(file, el, what + ".layers: expected a non-empty list of layers");
      for (const auto& l : el) es.layers.push_back(parse_op(file, l, what + " layer"));
      er.finish();
      spec.exits.push_back(std::move(es));
    }
  }
  r.finish();
  return detail::build_model(std::move(spec), file);
}

namespace detail {

// Every step is linear in the model's size, up to the log factor of a sort (docs/formats.md,
// "Model size"): names are resolved through hash maps, never by scanning the layers.
Model build_model(ModelSpec spec, const std::string& file) {
  Model m;
  m.file = file;
  m.name = std::move(spec.name);
  m.input = std::move(spec.input);
  m.final_accuracy = spec.final_accuracy;
  std::vector<Op>& backbone = spec.layers;
  std::vector<ExitSpec>& exits = spec.exits;

  // Names are unique across backbone, exit layers and exits. The views point into the spec,
  // which is not changed until these checks are done.
  std::size_t n_layers = backbone.size();
  for (const ExitSpec& es : exits) n_layers += es.layers.size();
  // Every name claimed so far: a backbone layer's position, or -1 (an exit or exit layer).
  std::unordered_map<std::string_view, int> names;
  names.reserve(n_layers + exits.size());
  auto claim = [&](const std::string& name, int line, int position, const char* what) {
    if (!names.emplace(name, position).second)
      throw InputError(file, line, what + std::string(": duplicate name '") + name + "'");
  };
  for (std::size_t i = 0; i < backbone.size(); ++i)
    claim(backbone[i].name, backbone[i].line, static_cast<int>(i), "layer");
  // Exits by the backbone layer they follow, in file order.
  std::unordered_map<int, std::vector<std::size_t>> exits_after;
  for (std::size_t k = 0; k < exits.size(); ++k) {
    const ExitSpec& es = exits[k];
    claim(es.exit.name, es.exit.line, -1, "exit");
    for (const Op& op : es.layers)
      if (!names.emplace(op.name, -1).second)
        throw InputError(file, op.line, "exit '" + es.exit.name + "' layer: duplicate name '" +
                                            op.name + "'");
    const auto pos = names.find(es.after);
    if (pos == names.end() || pos->second < 0)
      throw InputError(file, es.after_line,
                       "exit '" + es.exit.name + "'.after: '" + es.after +
                           "' is not a backbone layer");
    exits_after[pos->second].push_back(k);
  }
  double taken = 0;
  for (const auto& es : exits) taken += es.exit.taken;
  if (taken > 1.0 + 1e-9)
    throw InputError(file, exits.back().exit.line,
                     "exit shares ('taken') sum to " + std::to_string(taken) +
                         ", expected at most 1");

  // Declaration order: backbone, each exit's layers right after its `after` layer. Exits are
  // numbered along the backbone (file order among equal `after`).
  names = {};  // its views are left dangling by the moves below
  std::vector<int> renumber(exits.size());
  m.layers.reserve(n_layers);
  for (std::size_t i = 0; i < backbone.size(); ++i) {
    Layer l;
    static_cast<Op&>(l) = std::move(backbone[i]);
    if (l.input_names.empty()) {  // the previous backbone layer, resolved here
      l.input_names = {i == 0 ? std::string(kModelInput) : m.layers[m.backbone.back()].name};
      l.inputs = {i == 0 ? -1 : m.backbone.back()};
    }
    m.backbone.push_back(static_cast<int>(m.layers.size()));
    m.layers.push_back(std::move(l));
    const auto after = exits_after.find(static_cast<int>(i));
    if (after == exits_after.end()) continue;
    for (std::size_t k : after->second) {
      ExitSpec& es = exits[k];
      renumber[k] = static_cast<int>(m.exits.size());
      for (std::size_t j = 0; j < es.layers.size(); ++j) {
        Layer el;
        static_cast<Op&>(el) = std::move(es.layers[j]);
        if (el.input_names.empty()) {  // the `after` layer or the exit's previous layer
          el.input_names = {j == 0 ? es.after : m.layers.back().name};
          el.inputs = {j == 0 ? m.backbone.back() : static_cast<int>(m.layers.size()) - 1};
        }
        el.exit = renumber[k];
        es.exit.layers.push_back(static_cast<int>(m.layers.size()));
        m.layers.push_back(std::move(el));
      }
      es.exit.after = m.backbone.back();
      m.exits.push_back(std::move(es.exit));
    }
  }
  if (m.exits.size() > 64)
    throw InputError(file, m.exits[64].line, "at most 64 exits are supported");
  m.index_names();

  // Resolve inputs: backbone layers read the backbone or the model input; exit layers may also
  // read earlier layers of their own exit. Default inputs were resolved above; a named input
  // is most often the layer declared just before (checked first: no hashing).
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    Layer& l = m.layers[i];
    if (!l.inputs.empty()) continue;
    for (const std::string& n : l.input_names) {
      if (n == kModelInput) {
        l.inputs.push_back(-1);
        continue;
      }
      const int src = i > 0 && m.layers[i - 1].name == n ? static_cast<int>(i) - 1 : m.find_layer(n);
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

  // A cycle is an error naming it, from (and at the line of) its first layer in declaration
  // order. A topological order places every layer exactly when there is none, so the search for
  // the cycle itself runs only when there is one to name.
  detail::Producers producers;
  producers.reserve(m.layers.size());
  for (const Layer& l : m.layers) producers.push_back(l.inputs);
  const std::vector<int> order = detail::topological_order(producers, detail::Ties::first_ready);
  if (order.size() != m.layers.size()) {
    const std::vector<int> cycle = detail::find_cycle(producers);
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
  std::vector<Shape> in;  // assigned in place: the shapes' buffers are reused layer to layer
  // With them the work (cost.hpp), which tensors within their bounds can still take past 64
  // bits (an fc of 2^40 inputs and 2^31 units): each layer's counts and their sums over the
  // model fit, so no cost computed on a loaded model overflows (docs/reliability.md).
  OpCost total;
  for (int i : order) {
    Layer& l = m.layers[i];
    in.resize(l.inputs.size());
    for (std::size_t k = 0; k < l.inputs.size(); ++k)
      in[k].dims = (l.inputs[k] < 0 ? m.input : m.layers[l.inputs[k]].out).dims;
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

}  // namespace detail

Model load_model(const std::string& path) { return parse_model(detail::read_file(path), path); }

}  // namespace hetmap
