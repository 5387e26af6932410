#include "hetmap/sweep/experiment.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/detail/yaml.hpp"
#include "hetmap/error.hpp"

namespace hetmap::sweep {

namespace fs = std::filesystem;
using detail::MapReader;

const char* to_string(Task task) { return task == Task::simulate ? "simulate" : "explore"; }

namespace {

// A YAML value as text: scalars as written, lists joined with `sep`.
std::string text_of(const std::string& file, const YAML::Node& n, const std::string& what,
                    const char* sep = ",") {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) {
    std::string s;
    for (const auto& item : n) s += (s.empty() ? "" : sep) + detail::as_string(file, item, what);
    return s;
  }
  detail::fail(file, n, what + ": expected a value or a list of values");
}

struct Setter {
  const std::string& file;
  int line;
  const std::string& key;

  [[noreturn]] void bad(const std::string& expected, const std::string& v) const {
    throw InputError(file, line, key + ": expected " + expected + ", got '" + v + "'");
  }
  double number(const std::string& v) const {
    const std::optional<double> d = detail::parse_number(v);
    if (!d) bad("a number", v);
    return *d;
  }
  long long integer(const std::string& v, long long lo, long long hi) const {
    const std::optional<long long> i = detail::parse_integer(v);
    if (!i || *i < lo || *i > hi) bad(fmt::format("an integer in {}..{}", lo, hi), v);
    return *i;
  }
  bool boolean(const std::string& v) const {
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    bad("true or false", v);
  }
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Sets the value of one dotted key on a run; `dir` resolves relative paths.
void apply(RunSpec& r, const std::string& key, const std::string& v, const std::string& file,
           int line, const fs::path& dir) {
  const Setter s{file, line, key};
  auto path = [&](const std::string& p) {
    if (p.empty()) return std::string();
    return fs::path(p).is_absolute() ? p : (dir / p).lexically_normal().string();
  };
  if (key == "model") r.model = path(v);
  else if (key == "platform") r.platform = path(v);
  else if (key == "profile") r.profile = path(v);
  else if (key == "trace") r.trace = path(v);
  else if (key == "mapping") r.mapping = path(v);
  else if (key == "task") {
    if (v == "explore") r.task = Task::explore;
    else if (v == "simulate") r.task = Task::simulate;
    else s.bad("explore or simulate", v);
  } else if (key == "policy") {
    if (v != "search" && v != "parallel" && v != "sequential") s.bad("search, parallel or sequential", v);
    r.search.policy = v;
    r.policy = v;
  } else if (key == "contention") {
    const double c = s.number(v);
    if (c <= 0) s.bad("a factor > 0", v);
    r.contention = c;
  } else if (key.rfind("exits.", 0) == 0) {
    const auto parts = split(key, '.');
    if (parts.size() != 3 || parts[2] != "taken" || parts[1].empty())
      throw InputError(file, line, key + ": expected exits.EXIT.taken");
    const double t = s.number(v);
    if (t < 0 || t > 1) s.bad("a share in [0, 1]", v);
    r.taken.push_back({parts[1], t, line});
  } else if (key.rfind("links.", 0) == 0) {
    const std::size_t last = key.rfind('.');
    const std::string pair = key.substr(6, last - 6), field = key.substr(last + 1);
    if (last <= 6 || (field != "gbytes_per_s" && field != "latency_ms") ||
        pair.find('-') == std::string::npos)
      throw InputError(file, line, key + ": expected links.A-B.gbytes_per_s or links.A-B.latency_ms");
    const double x = s.number(v);
    if (field == "gbytes_per_s" ? x <= 0 : x < 0) s.bad(field == "gbytes_per_s" ? "> 0" : ">= 0", v);
    r.links.push_back({pair, field, x, line});
  } else if (key == "search.objectives") r.search.objectives = v;
  else if (key == "search.constraints") r.search.constraints = v.empty() ? std::vector<std::string>{} : split(v, ';');
  else if (key == "search.policy") apply(r, "policy", v, file, line, dir);
  else if (key == "search.processors") r.search.processors = v.empty() ? std::vector<std::string>{} : split(v, ',');
  else if (key == "search.generations") r.search.generations = static_cast<int>(s.integer(v, 0, 1000000));
  else if (key == "search.population") r.search.population = static_cast<int>(s.integer(v, 4, 100000));
  else if (key == "search.seed") r.search.seed = static_cast<std::uint64_t>(s.integer(v, 0, 1LL << 62));
  else if (key == "search.dvfs") r.search.dvfs = s.boolean(v);
  else if (key == "search.threads") r.search.threads = s.boolean(v);
  else if (key == "search.fixed_exits") r.search.fixed_exits = s.boolean(v);
  else if (key == "search.exhaustive") r.search.exhaustive = s.boolean(v);
  else if (key == "search.exhaustive_limit") r.search.exhaustive_limit = s.number(v);
  else if (key == "simulate.inputs") r.simulate.inputs = static_cast<int>(s.integer(v, 0, 100000000));
  else if (key == "simulate.arrival") {
    r.simulate.arrival = v;
    r.simulate.arrival_given = true;
  }
  else if (key == "simulate.jitter") r.simulate.jitter = s.boolean(v);
  else if (key == "simulate.seed") r.simulate.seed = static_cast<std::uint64_t>(s.integer(v, 0, 1LL << 62));
  else
    throw InputError(file, line, "unknown key '" + key + "' (expected model, platform, profile, trace, "
                                 "mapping, task, policy, contention, exits.EXIT.taken, "
                                 "links.A-B.gbytes_per_s, links.A-B.latency_ms, search.*, simulate.*)");
}

const char* kSearchKeys[] = {"objectives", "constraints", "policy", "processors", "generations", "population", "seed",
                             "dvfs", "threads", "fixed_exits", "exhaustive", "exhaustive_limit"};
const char* kSimulateKeys[] = {"inputs", "arrival", "jitter", "seed"};

void check_run(const RunSpec& r, const std::string& file, int line) {
  if (r.model.empty() || r.platform.empty() || r.profile.empty())
    throw InputError(file, line, "model, platform and profile are required");
  if (r.task == Task::simulate) {
    if (r.mapping.empty()) throw InputError(file, line, "task simulate needs a mapping");
    if (r.policy && *r.policy == "search")
      throw InputError(file, line, "policy: a simulate task takes parallel or sequential");
  }
}

}  // namespace

Experiment load_experiment(const std::string& path) {
  const YAML::Node root = detail::parse_yaml(detail::read_file(path), path);
  MapReader r(path, root, "experiment");
  Experiment x;
  x.file = path;
  const fs::path dir = fs::path(path).parent_path();
  x.name = r.str("name");
  r.opt_str("description");
  for (const char* key : {"model", "platform", "profile", "trace", "mapping", "task", "policy", "contention"})
    if (r.has(key)) {
      const YAML::Node n = r.get(key);
      apply(x.base, key, detail::as_string(path, n, key), path, detail::line_of(n), dir);
    }
  if (!r.has("task")) throw InputError(path, r.line(), "experiment: missing required key 'task'");
  for (const auto& [section, keys, count] :
       {std::tuple{"search", kSearchKeys, sizeof(kSearchKeys) / sizeof(*kSearchKeys)},
        std::tuple{"simulate", kSimulateKeys, sizeof(kSimulateKeys) / sizeof(*kSimulateKeys)}}) {
    const YAML::Node n = r.get(section);
    if (!n || n.IsNull()) continue;
    MapReader sr(path, n, section);
    for (std::size_t i = 0; i < count; ++i) {
      if (!sr.has(keys[i])) continue;
      const YAML::Node v = sr.get(keys[i]);
      const std::string key = std::string(section) + "." + keys[i];
      apply(x.base, key, text_of(path, v, key, std::string(keys[i]) == "constraints" ? ";" : ","),
            path, detail::line_of(v), dir);
    }
    sr.finish();
  }
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
      RunSpec scratch = x.base;  // validates each value now
      for (const auto& kv : item) {
        const std::string key = kv.first.Scalar();
        cr.get(key);
        const int line = detail::line_of(kv.second);
        if (key == "name") {
          c.name = detail::as_string(path, kv.second, "cases: name");
          continue;
        }
        const std::string v = text_of(path, kv.second, "cases: " + key,
                                      key == "search.constraints" ? ";" : ",");
        apply(scratch, key, v, path, line, dir);
        c.overrides.push_back({key, v, line});
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
      gr.get(axis.key);
      if (!kv.second.IsSequence() || kv.second.size() == 0)
        detail::fail(path, kv.second, "grid." + axis.key + ": expected a non-empty list of values");
      for (const auto& v : kv.second)
        axis.values.push_back(text_of(path, v, "grid." + axis.key,
                                      axis.key == "search.constraints" ? ";" : ","));
      // Validate each value now, against a scratch run.
      for (const std::string& v : axis.values) {
        RunSpec scratch = x.base;
        apply(scratch, axis.key, v, path, axis.line, dir);
      }
      x.grid.push_back(std::move(axis));
    }
  }
  r.finish();
  if (x.cases.empty()) check_run(x.base, path, r.line());  // else each case's point is checked
  return x;
}

std::vector<std::string> point_keys(const Experiment& x) {
  std::vector<std::string> keys;
  if (!x.cases.empty()) keys.push_back("case");
  for (const GridAxis& a : x.grid) keys.push_back(a.key);
  return keys;
}

std::vector<Point> expand(const Experiment& x) {
  std::size_t combos = 1;
  for (const GridAxis& a : x.grid) combos *= a.values.size();
  const std::size_t cases = std::max<std::size_t>(1, x.cases.size());
  const std::size_t n = combos * cases;
  if (n > 1000000) throw InputError(x.file, 0, fmt::format("the grid has {} points; at most 1000000", n));
  const int width = std::max<int>(3, static_cast<int>(std::to_string(n - 1).size()));
  const fs::path dir = fs::path(x.file).parent_path();
  std::vector<Point> points;
  for (std::size_t i = 0; i < n; ++i) {
    Point p;
    p.id = static_cast<int>(i);
    p.dir = fmt::format("{:0{}}", i, width);
    p.spec = x.base;
    if (!x.cases.empty()) {
      const Case& c = x.cases[i / combos];
      p.values.push_back(c.name);
      for (const Case::Override& o : c.overrides) apply(p.spec, o.key, o.value, x.file, o.line, dir);
    }
    std::size_t rest = i % combos;
    std::vector<std::size_t> digits(x.grid.size());
    for (std::size_t a = x.grid.size(); a-- > 0;) {
      digits[a] = rest % x.grid[a].values.size();
      rest /= x.grid[a].values.size();
    }
    for (std::size_t a = 0; a < x.grid.size(); ++a) {
      const std::string& v = x.grid[a].values[digits[a]];
      p.values.push_back(v);
      apply(p.spec, x.grid[a].key, v, x.file, x.grid[a].line, dir);
    }
    p.spec.label = "point " + p.dir;
    p.spec.search.what = x.file + " (" + p.spec.label + ")";
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
  const RunSpec& b = x.base;
  out << YAML::Key << "task" << YAML::Value << to_string(b.task);
  out << YAML::Key << "model" << YAML::Value << b.model;
  out << YAML::Key << "platform" << YAML::Value << b.platform;
  out << YAML::Key << "profile" << YAML::Value << b.profile;
  if (!b.trace.empty()) out << YAML::Key << "trace" << YAML::Value << b.trace;
  if (!b.mapping.empty()) out << YAML::Key << "mapping" << YAML::Value << b.mapping;
  if (b.policy) out << YAML::Key << "policy" << YAML::Value << *b.policy;
  if (b.contention) out << YAML::Key << "contention" << YAML::Value << *b.contention;
  out << YAML::Key << "search" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "objectives" << YAML::Value << b.search.objectives;
  out << YAML::Key << "constraints" << YAML::Value << YAML::Flow << b.search.constraints;
  out << YAML::Key << "policy" << YAML::Value << b.search.policy;
  if (!b.search.processors.empty())
    out << YAML::Key << "processors" << YAML::Value << YAML::Flow << b.search.processors;
  out << YAML::Key << "generations" << YAML::Value << b.search.generations;
  out << YAML::Key << "population" << YAML::Value << b.search.population;
  out << YAML::Key << "seed" << YAML::Value << b.search.seed;
  out << YAML::Key << "dvfs" << YAML::Value << b.search.dvfs;
  out << YAML::Key << "threads" << YAML::Value << b.search.threads;
  out << YAML::Key << "fixed_exits" << YAML::Value << b.search.fixed_exits;
  out << YAML::Key << "exhaustive" << YAML::Value << b.search.exhaustive;
  out << YAML::Key << "exhaustive_limit" << YAML::Value << b.search.exhaustive_limit;
  out << YAML::EndMap;
  out << YAML::Key << "simulate" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "inputs" << YAML::Value << b.simulate.inputs;
  // Only when given: an arrival process makes the DES run (run.hpp), so a resume must see it.
  if (b.simulate.arrival_given) out << YAML::Key << "arrival" << YAML::Value << b.simulate.arrival;
  out << YAML::Key << "jitter" << YAML::Value << b.simulate.jitter;
  out << YAML::Key << "seed" << YAML::Value << b.simulate.seed;
  out << YAML::EndMap;
  if (!x.cases.empty()) {
    out << YAML::Key << "cases" << YAML::Value << YAML::BeginSeq;
    for (const Case& c : x.cases) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name;
      for (const Case::Override& o : c.overrides) out << YAML::Key << o.key << YAML::Value << o.value;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "grid" << YAML::Value << YAML::BeginMap;
  for (const GridAxis& a : x.grid) out << YAML::Key << a.key << YAML::Value << YAML::Flow << a.values;
  out << YAML::EndMap;
  out << YAML::Key << "points" << YAML::Value << points.size();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace hetmap::sweep
