#include "hetmap/sweep/experiment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/yaml.hpp"
#include "hetmap/error.hpp"
#include "keys.hpp"

namespace hetmap::sweep {

namespace fs = std::filesystem;
using detail::MapReader;

const char* to_string(Task task) { return task == Task::simulate ? "simulate" : "explore"; }

namespace {

// A YAML value as text: a scalar as written, a list joined with `separator` where the key takes
// lists ('\0': it does not).
std::string text_of(const std::string& file, const YAML::Node& n, const std::string& what,
                    char separator) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence() && separator != '\0') {
    std::string s;
    for (const auto& item : n) s += (s.empty() ? "" : std::string(1, separator)) + detail::as_string(file, item, what);
    return s;
  }
  detail::fail(file, n, what + (separator != '\0' ? ": expected a value or a list of values" : ": expected a value"));
}

// `key: node` parsed through the keys table (keys.hpp), ready to apply; errors name `line`.
Override read_override(const std::string& file, const std::string& key, const YAML::Node& node,
                       int line, const fs::path& dir) {
  const keys::Source at{file, line, key, dir};
  const keys::Key& k = keys::require(key, at);
  Override o;
  o.key = key;
  o.line = line;
  o.value = text_of(file, node, key, k.list_separator);
  o.apply = k.parse(o.value, at);
  return o;
}

// Rejects a key of the mapping `node` that is not a base key of `section` (nor one of `before`
// or `after`), naming every key the mapping takes.
void check_keys(const std::string& file, const YAML::Node& node, const std::string& what,
                const std::string& section, std::vector<std::string> before,
                const std::vector<std::string>& after) {
  std::vector<std::string> known = std::move(before);
  for (const keys::Key& k : keys::table())
    if (k.info.base && k.section() == section) known.push_back(k.short_name());
  known.insert(known.end(), after.begin(), after.end());
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    detail::fail(file, kv.first, what + ": unknown key '" + key + "' (expected one of " + list + ")");
  }
}

void check_run(const RunSpec& r, const std::string& file, int line) {
  if (r.model.empty() || r.platform.empty() || r.profile.empty())
    throw InputError(file, line, "model, platform and profile are required");
  if (r.task == Task::simulate) {
    if (r.mapping.empty()) throw InputError(file, line, "task simulate needs a mapping");
    if (r.policy && *r.policy == dse::PolicyChoice::search)
      throw InputError(file, line, "policy: a simulate task takes parallel or sequential");
  }
}

}  // namespace

Experiment load_experiment(const std::string& path) {
  const YAML::Node root = detail::parse_yaml(detail::read_file(path), path);
  MapReader r(path, root, "experiment");  // rejects duplicate keys
  // Unknown keys are errors listing the known ones (in place of MapReader::finish, which does
  // not list them).
  check_keys(path, root, "experiment", "", {"name", "description"}, {"search", "simulate", "cases", "grid"});
  Experiment x;
  x.file = path;
  const fs::path dir = fs::path(path).parent_path();
  x.name = r.str("name");
  // The name is the default output folder's last component (out/NAME): a path would write
  // outside it.
  if (x.name.empty() || x.name == "." || x.name == ".." ||
      x.name.find_first_of("/\\") != std::string::npos)
    throw InputError(path, detail::line_of(r.get("name")),
                     "name: expected a plain name (no '/', '\\', '.' or '..'), got '" + x.name + "'");
  r.opt_str("description");
  // The base run: the top level first, then the sections (so search.policy wins over policy).
  for (const std::string section : {"", "search", "simulate"}) {
    // One const node per section: assigning a YAML::Node overwrites the node it refers to.
    const YAML::Node n = section.empty() ? root : r.get(section);
    if (!n || n.IsNull()) continue;
    if (!section.empty()) {
      MapReader sr(path, n, section);  // rejects duplicate keys
      check_keys(path, n, section, section, {}, {});
    }
    for (const keys::Key& k : keys::table()) {
      if (!k.info.base || k.section() != section) continue;
      const YAML::Node v = n[k.short_name()];  // const: a lookup never inserts
      if (!v) continue;
      read_override(path, k.info.name, v, detail::line_of(v), dir).apply(x.base);
    }
  }
  if (!r.has("task")) throw InputError(path, r.line(), "experiment: missing required key 'task'");
  x.base.search.what = path;
  x.base.file = path;
  if (const YAML::Node cs = r.get("cases"); cs && !cs.IsNull()) {
    if (!cs.IsSequence() || cs.size() == 0)
      detail::fail(path, cs, "cases: expected a non-empty list of mappings of keys to values");
    for (const auto& item : cs) {
      if (!item.IsMap()) detail::fail(path, item, "cases: expected a mapping of keys to values");
      MapReader cr(path, item, "case");  // rejects duplicate keys
      Case c;
      c.line = detail::line_of(item);
      c.name = fmt::format("case{}", x.cases.size());
      for (const auto& kv : item) {
        const std::string key = kv.first.Scalar();
        if (key == "name") c.name = detail::as_string(path, kv.second, "cases: name");
        else c.overrides.push_back(read_override(path, key, kv.second, detail::line_of(kv.second), dir));
      }
      for (const Case& other : x.cases)
        if (other.name == c.name)
          throw InputError(path, c.line, "cases: duplicate case name '" + c.name + "'");
      x.cases.push_back(std::move(c));
    }
  }
  if (const YAML::Node g = r.get("grid"); g && !g.IsNull()) {
    if (!g.IsMap()) detail::fail(path, g, "grid: expected a mapping of keys to lists of values");
    MapReader gr(path, g, "grid");  // rejects duplicate keys
    for (const auto& kv : g) {
      GridAxis axis;
      axis.key = kv.first.Scalar();
      axis.line = detail::line_of(kv.first);
      if (!kv.second.IsSequence() || kv.second.size() == 0)
        detail::fail(path, kv.second, "grid." + axis.key + ": expected a non-empty list of values");
      for (const auto& v : kv.second) axis.values.push_back(read_override(path, axis.key, v, axis.line, dir));
      x.grid.push_back(std::move(axis));
    }
  }
  if (x.cases.empty()) check_run(x.base, path, r.line());  // else each case's point is checked
  return x;
}

std::vector<std::string> point_keys(const Experiment& x) {
  std::vector<std::string> keys;
  if (!x.cases.empty()) keys.push_back("case");
  for (const GridAxis& a : x.grid) keys.push_back(a.key);
  return keys;
}

namespace {

// "point 003 (case=b, search.seed=2)": the folder and the values that tell the point apart,
// for the errors of everything that runs it.
std::string point_label(const Point& p, const std::vector<std::string>& keys) {
  std::string values;
  for (std::size_t a = 0; a < keys.size(); ++a)
    values += (a ? ", " : "") + keys[a] + "=" + p.values[a];
  return "point " + p.dir + (values.empty() ? "" : " (" + values + ")");
}

}  // namespace

std::vector<Point> expand(const Experiment& x) {
  // Counted with a bound at every step: 64 axes of 2 values would wrap a plain product to 0.
  constexpr std::size_t kMaxPoints = 1000000;
  std::size_t combos = 1;
  const std::size_t cases = std::max<std::size_t>(1, x.cases.size());
  for (const GridAxis& a : x.grid) {
    if (a.values.empty()) throw InputError(x.file, 0, "grid: " + a.key + ": expected at least one value");
    if (combos > kMaxPoints / a.values.size())
      throw InputError(x.file, 0, fmt::format("the grid has more than {} points", kMaxPoints));
    combos *= a.values.size();
  }
  if (combos > kMaxPoints / cases)
    throw InputError(x.file, 0, fmt::format("the grid has more than {} points", kMaxPoints));
  const std::size_t n = combos * cases;
  const int width = std::max<int>(3, static_cast<int>(std::to_string(n - 1).size()));
  const std::vector<std::string> keys = point_keys(x);
  std::vector<Point> points;
  for (std::size_t i = 0; i < n; ++i) {
    Point p;
    p.id = static_cast<int>(i);
    p.dir = fmt::format("{:0{}}", i, width);
    p.spec = x.base;
    if (!x.cases.empty()) {
      const Case& c = x.cases[i / combos];
      p.values.push_back(c.name);
      for (const Override& o : c.overrides) o.apply(p.spec);
    }
    std::size_t rest = i % combos;
    std::vector<std::size_t> digits(x.grid.size());
    for (std::size_t a = x.grid.size(); a-- > 0;) {
      digits[a] = rest % x.grid[a].values.size();
      rest /= x.grid[a].values.size();
    }
    for (std::size_t a = 0; a < x.grid.size(); ++a) {
      const Override& o = x.grid[a].values[digits[a]];
      p.values.push_back(o.value);
      o.apply(p.spec);
    }
    p.spec.label = point_label(p, keys);
    p.spec.search.what = x.file + ": " + p.spec.label;
    check_run(p.spec, x.file, x.cases.empty() ? 0 : x.cases[i / combos].line);
    points.push_back(std::move(p));
  }
  return points;
}

Problem build_problem(const RunSpec& r) {
  const std::string at = r.label.empty() ? "" : r.label + ": ";
  Model model = load_model(r.model);
  Platform platform = load_platform(r.platform);
  if (r.contention) platform.contention = *r.contention;
  for (const RunSpec::Taken& t : r.taken) {
    const int k = model.find_exit(t.exit);
    if (k < 0)
      throw InputError(r.file, t.line, at + "exits." + t.exit + ".taken: model " + model.name +
                                           " has no exit '" + t.exit + "'");
    model.exits[k].taken = t.value;
  }
  double taken = 0;
  for (const Exit& e : model.exits) taken += e.taken;
  if (taken > 1.0 + 1e-9)
    throw InputError(r.file, r.taken.empty() ? 0 : r.taken.back().line,
                     at + fmt::format("exit shares sum to {:.4g} after the overrides, expected at most 1", taken));
  for (const RunSpec::LinkOverride& l : r.links) {
    // The pair A-B: try every '-' (processor names may contain one).
    int li = -1;
    for (std::size_t cut = l.pair.find('-'); cut != std::string::npos && li < 0; cut = l.pair.find('-', cut + 1)) {
      const int p = platform.find(l.pair.substr(0, cut)), q = platform.find(l.pair.substr(cut + 1));
      if (p >= 0 && q >= 0) li = platform.link_index(p, q);
    }
    if (li < 0)
      throw InputError(r.file, l.line, at + "links." + l.pair + ": platform " + platform.name + " has no such link");
    if (l.field == "gbytes_per_s") platform.links[li].gbytes_per_s = l.value;
    else platform.links[li].latency_ms = l.value;
  }
  Profile profile = load_profile(r.profile, model, platform);
  std::optional<Transfers> transfers;
  if (auto tp = transfers_path_for(r.profile)) transfers = load_transfers(*tp, model, platform);
  std::optional<ExitTrace> trace;
  if (!r.trace.empty()) trace = load_trace(r.trace, model);
  return Problem(std::move(model), std::move(platform), std::move(profile), std::move(transfers),
                 std::move(trace));
}

std::string resolved_yaml(const Experiment& x, const std::vector<Point>& points) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << x.name;
  out << YAML::Key << "hetmap_version" << YAML::Value << HETMAP_VERSION;
  out << YAML::Key << "experiment" << YAML::Value << x.file;
  // Every base key in the table's order, each section a mapping of its own.
  std::string section;
  for (const keys::Key& k : keys::table()) {
    if (!k.record) continue;
    if (k.section() != section) {
      if (!section.empty()) out << YAML::EndMap;
      section = k.section();
      if (!section.empty()) out << YAML::Key << section << YAML::Value << YAML::BeginMap;
    }
    k.record(out, x.base);
  }
  if (!section.empty()) out << YAML::EndMap;
  if (!x.cases.empty()) {
    out << YAML::Key << "cases" << YAML::Value << YAML::BeginSeq;
    for (const Case& c : x.cases) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name;
      for (const Override& o : c.overrides) out << YAML::Key << o.key << YAML::Value << o.value;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "grid" << YAML::Value << YAML::BeginMap;
  for (const GridAxis& a : x.grid) {
    out << YAML::Key << a.key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const Override& o : a.values) out << o.value;
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  out << YAML::Key << "points" << YAML::Value << points.size();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace hetmap::sweep
