#include "keys.hpp"

#include <fmt/format.h>

#include "hetmap/des.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/detail/random.hpp"
#include "hetmap/detail/text.hpp"
#include "hetmap/dse/exhaustive.hpp"
#include "hetmap/dse/nsga2.hpp"
#include "hetmap/error.hpp"

namespace hetmap::sweep::keys {

namespace {

[[noreturn]] void bad(const Source& at, const std::string& expected, const std::string& v) {
  throw InputError(at.file, at.line, at.key + ": expected " + expected + ", got '" + v + "'");
}

// hetmap's own parsers (objectives, constraints, policy, arrival) name `what` in their
// InputError; a value from the experiment file also names the file and the key's line.
template <class Parse>
auto located(const Source& at, Parse parse) {
  try {
    return parse(at.key);
  } catch (const InputError& e) {
    throw InputError(at.file, at.line, e.what());
  }
}

double number(const std::string& v, const Source& at) {
  const std::optional<double> d = detail::parse_number(v);
  if (!d) bad(at, "a number", v);
  return *d;
}

long long integer(const std::string& v, const Source& at, long long lo, long long hi) {
  const std::optional<long long> i = detail::parse_integer(v);
  if (!i || *i < lo || *i > hi) bad(at, fmt::format("an integer in {}..{}", lo, hi), v);
  return *i;
}

bool boolean(const std::string& v, const Source& at) {
  const std::optional<bool> b = detail::parse_bool(v);
  if (!b) bad(at, "true or false", v);
  return *b;
}

std::string resolve_path(const std::string& p, const Source& at) {
  if (p.empty()) return p;
  return std::filesystem::path(p).is_absolute() ? p : (at.dir / p).lexically_normal().string();
}

// The resolved form of an arrival: closed, or the kind and the rate in its shortest exact form.
std::string arrival_text(const Arrival& a) {
  if (a.kind == ArrivalKind::closed) return "closed";
  return fmt::format("{}:{}", a.kind == ArrivalKind::periodic ? "periodic" : "poisson", a.rate_hz);
}

// The bound in its shortest exact form (Constraint::str rounds to 6 digits, which could hide a
// change from the resume check).
std::string constraint_text(const dse::Constraint& c) {
  return fmt::format("{} {} {}", dse::to_string(c.objective), c.at_most ? "<=" : ">=", c.bound);
}

template <class T>
void put(YAML::Emitter& out, const std::string& name, const T& value) {
  out << YAML::Key << name << YAML::Value << value;
}

// Builders for the common kinds of keys. `access` is a generic lambda returning the run's field
// (const or not); `example` is a valid value other than the default.

Key make(const std::string& name, const std::string& type, const std::string& example) {
  Key k;
  k.info = ExperimentKey{name, type, example, true};
  return k;
}

template <class Access>
Key path_key(const std::string& name, Access access, bool optional) {
  Key k = make(name, "a path (relative to the experiment file)", "other/" + name + ".file");
  k.parse = [access](const std::string& v, const Source& at) -> Apply {
    const std::string p = resolve_path(v, at);
    return [access, p](RunSpec& r) { access(r) = p; };
  };
  k.record = [access, name, optional](YAML::Emitter& out, const RunSpec& r) {
    if (!optional || !access(r).empty()) put(out, name, access(r));
  };
  return k;
}

template <class Access>
Key boolean_key(const std::string& name, Access access) {
  Key k = make(name, "true or false", "true");
  k.parse = [access](const std::string& v, const Source& at) -> Apply {
    const bool b = boolean(v, at);
    return [access, b](RunSpec& r) { access(r) = b; };
  };
  const std::string short_name = name.substr(name.find('.') + 1);
  k.record = [access, short_name](YAML::Emitter& out, const RunSpec& r) { put(out, short_name, access(r)); };
  return k;
}

template <class T, class Access>
Key integer_key(const std::string& name, Access access, long long lo, long long hi,
                const std::string& example) {
  Key k = make(name, fmt::format("an integer in {}..{}", lo, hi), example);
  k.parse = [access, lo, hi](const std::string& v, const Source& at) -> Apply {
    const T i = static_cast<T>(integer(v, at, lo, hi));
    return [access, i](RunSpec& r) { access(r) = i; };
  };
  const std::string short_name = name.substr(name.find('.') + 1);
  k.record = [access, short_name](YAML::Emitter& out, const RunSpec& r) { put(out, short_name, access(r)); };
  return k;
}

// The top-level `policy` and `search.policy` set the same two fields: the search's choice and
// a simulate task's override of the mapping's policy (check_run refuses `search` there).
Apply parse_policy(const std::string& v, const Source& at) {
  const dse::PolicyChoice c = located(at, [&](const std::string& what) { return dse::parse_policy_choice(v, what); });
  return [c](RunSpec& r) {
    r.search.policy = c;
    r.policy = c;
  };
}

std::vector<Key> build() {
  std::vector<Key> t;
  // Top level, in the order experiment.yaml lists them.
  Key task = make("task", "explore or simulate", "simulate");
  task.parse = [](const std::string& v, const Source& at) -> Apply {
    Task x = Task::explore;
    if (v == to_string(Task::simulate)) x = Task::simulate;
    else if (v != to_string(Task::explore)) bad(at, "explore or simulate", v);
    return [x](RunSpec& r) { r.task = x; };
  };
  task.record = [](YAML::Emitter& out, const RunSpec& r) { put(out, "task", to_string(r.task)); };
  t.push_back(task);
  t.push_back(path_key("model", [](auto& r) -> auto& { return r.model; }, false));
  t.push_back(path_key("platform", [](auto& r) -> auto& { return r.platform; }, false));
  t.push_back(path_key("profile", [](auto& r) -> auto& { return r.profile; }, false));
  t.push_back(path_key("trace", [](auto& r) -> auto& { return r.trace; }, true));
  t.push_back(path_key("mapping", [](auto& r) -> auto& { return r.mapping; }, true));
  Key policy = make("policy", "search, parallel or sequential", "parallel");
  policy.parse = parse_policy;
  policy.record = [](YAML::Emitter& out, const RunSpec& r) {
    if (r.policy) put(out, "policy", dse::to_string(*r.policy));
  };
  t.push_back(policy);
  Key contention = make("contention", "a factor > 0", "1.5");
  contention.parse = [](const std::string& v, const Source& at) -> Apply {
    const double c = number(v, at);
    if (!(c > 0)) bad(at, "a factor > 0", v);
    return [c](RunSpec& r) { r.contention = c; };
  };
  contention.record = [](YAML::Emitter& out, const RunSpec& r) {
    if (r.contention) put(out, "contention", *r.contention);
  };
  t.push_back(contention);

  // search: the exploration's settings (dse::ExploreSettings).
  Key objectives = make("search.objectives", "objective names (a list, or comma-separated)",
                        "mean_latency,energy");
  objectives.list_separator = ',';
  objectives.parse = [](const std::string& v, const Source& at) -> Apply {
    auto set = located(at, [&](const std::string& what) { return dse::parse_objectives(v, what); });
    return [set](RunSpec& r) { r.search.objectives = set; };
  };
  objectives.record = [](YAML::Emitter& out, const RunSpec& r) {
    std::string text;
    if (r.search.objectives)
      for (dse::Objective o : r.search.objectives->list()) text += (text.empty() ? "" : ",") + std::string(dse::to_string(o));
    put(out, "objectives", text);
  };
  t.push_back(objectives);
  Key constraints = make("search.constraints", "constraints (a list, or ';'-separated)", "accuracy >= 0.5");
  constraints.list_separator = ';';
  constraints.parse = [](const std::string& v, const Source& at) -> Apply {
    std::vector<dse::Constraint> list;
    for (const std::string& c : detail::split(v, ';'))
      list.push_back(located(at, [&](const std::string& what) { return dse::Constraint::parse(c, what); }));
    return [list](RunSpec& r) { r.search.constraints = list; };
  };
  constraints.record = [](YAML::Emitter& out, const RunSpec& r) {
    std::vector<std::string> text;
    for (const dse::Constraint& c : r.search.constraints) text.push_back(constraint_text(c));
    out << YAML::Key << "constraints" << YAML::Value << YAML::Flow << text;
  };
  t.push_back(constraints);
  Key search_policy = make("search.policy", "search, parallel or sequential", "sequential");
  search_policy.parse = parse_policy;
  search_policy.record = [](YAML::Emitter& out, const RunSpec& r) {
    put(out, "policy", dse::to_string(r.search.policy));
  };
  t.push_back(search_policy);
  Key processors = make("search.processors", "processor names (a list, or comma-separated)", "big,gpu");
  processors.list_separator = ',';
  processors.parse = [](const std::string& v, const Source&) -> Apply {
    const std::vector<std::string> names = detail::split(v, ',');  // checked against the platform later
    return [names](RunSpec& r) { r.search.processors = names; };
  };
  processors.record = [](YAML::Emitter& out, const RunSpec& r) {
    if (!r.search.processors.empty())
      out << YAML::Key << "processors" << YAML::Value << YAML::Flow << r.search.processors;
  };
  t.push_back(processors);
  t.push_back(integer_key<int>("search.generations", [](auto& r) -> auto& { return r.search.generations; },
                               0, 1000000, "7"));
  // NSGA-II's own rule (dse::valid_population), so that an odd population is refused here,
  // with the line, and never by a point that has started.
  Key population = make("search.population", dse::population_rule(), "16");
  population.parse = [](const std::string& v, const Source& at) -> Apply {
    const std::optional<long long> n = detail::parse_integer(v);
    if (!n || !dse::valid_population(*n)) bad(at, dse::population_rule(), v);
    const int i = static_cast<int>(*n);
    return [i](RunSpec& r) { r.search.population = i; };
  };
  population.record = [](YAML::Emitter& out, const RunSpec& r) {
    put(out, "population", r.search.population);
  };
  t.push_back(population);
  t.push_back(integer_key<std::uint64_t>("search.seed", [](auto& r) -> auto& { return r.search.seed; },
                                         0, detail::kMaxSeed, "2"));
  t.push_back(boolean_key("search.dvfs", [](auto& r) -> auto& { return r.search.dvfs; }));
  t.push_back(boolean_key("search.threads", [](auto& r) -> auto& { return r.search.threads; }));
  t.push_back(boolean_key("search.fixed_exits", [](auto& r) -> auto& { return r.search.fixed_exits; }));
  t.push_back(boolean_key("search.exhaustive", [](auto& r) -> auto& { return r.search.exhaustive; }));
  Key limit = make("search.exhaustive_limit", "a number", "1000");
  limit.parse = [](const std::string& v, const Source& at) -> Apply {
    const double l = number(v, at);
    if (!dse::valid_exhaustive_limit(l))
      bad(at, fmt::format("a number of points in 1..{:g}", dse::kMaxExhaustiveLimit), v);
    return [l](RunSpec& r) { r.search.exhaustive_limit = l; };
  };
  limit.record = [](YAML::Emitter& out, const RunSpec& r) {
    put(out, "exhaustive_limit", r.search.exhaustive_limit);
  };
  t.push_back(limit);

  // simulate: the simulate task's settings (RunSettings).
  t.push_back(integer_key<int>("simulate.inputs", [](auto& r) -> auto& { return r.simulate.inputs; },
                               0, 100000000, "10"));
  Key arrival = make("simulate.arrival", "closed, periodic:RATE_HZ or poisson:RATE_HZ", "poisson:100");
  arrival.parse = [](const std::string& v, const Source& at) -> Apply {
    const Arrival a = located(at, [&](const std::string& what) { return parse_arrival(v, what); });
    return [a](RunSpec& r) { r.simulate.arrival = a; };
  };
  // Only when given: an arrival process makes the DES run (run.hpp: needs_des).
  arrival.record = [](YAML::Emitter& out, const RunSpec& r) {
    if (r.simulate.arrival) put(out, "arrival", arrival_text(*r.simulate.arrival));
  };
  t.push_back(arrival);
  t.push_back(boolean_key("simulate.jitter", [](auto& r) -> auto& { return r.simulate.jitter; }));
  t.push_back(integer_key<std::uint64_t>("simulate.seed", [](auto& r) -> auto& { return r.simulate.seed; },
                                         0, detail::kMaxSeed, "2"));

  // Override-only keys (cases: and grid:), checked against the model and platform when a
  // point's problem is built (build_problem).
  Key taken = make("exits.EXIT.taken", "a share in [0, 1]", "0.1");
  taken.info.base = false;
  taken.prefix = "exits.";
  taken.suffix = ".taken";
  taken.parse = [](const std::string& v, const Source& at) -> Apply {
    const std::string exit = at.key.substr(6, at.key.size() - 6 - 6);
    if (exit.find('.') != std::string::npos) throw InputError(at.file, at.line, at.key + ": expected exits.EXIT.taken");
    const double x = number(v, at);
    if (x < 0 || x > 1) bad(at, "a share in [0, 1]", v);
    const int line = at.line;
    return [exit, x, line](RunSpec& r) { r.taken.push_back({exit, x, line}); };
  };
  t.push_back(taken);
  for (const char* field : {"gbytes_per_s", "latency_ms"}) {
    const bool bandwidth = std::string(field) == "gbytes_per_s";
    Key link = make(std::string("links.A-B.") + field, bandwidth ? "a number > 0" : "a number >= 0", "0.5");
    link.info.base = false;
    link.prefix = "links.";
    link.suffix = std::string(".") + field;
    link.parse = [field, bandwidth](const std::string& v, const Source& at) -> Apply {
      const std::string pair = at.key.substr(6, at.key.size() - 6 - std::string(field).size() - 1);
      if (pair.find('-') == std::string::npos)
        throw InputError(at.file, at.line, at.key + ": expected links.A-B." + field);
      const double x = number(v, at);
      if (bandwidth ? !(x > 0) : !(x >= 0)) bad(at, bandwidth ? "> 0" : ">= 0", v);
      const int line = at.line;
      return [pair, field = std::string(field), x, line](RunSpec& r) { r.links.push_back({pair, field, x, line}); };
    };
    t.push_back(link);
  }
  return t;
}

}  // namespace

std::string Key::section() const {
  if (!info.base) return "";
  const std::size_t dot = info.name.find('.');
  return dot == std::string::npos ? "" : info.name.substr(0, dot);
}

std::string Key::short_name() const {
  const std::string s = section();
  return s.empty() ? info.name : info.name.substr(s.size() + 1);
}

bool Key::matches(const std::string& key) const {
  if (prefix.empty()) return key == info.name;
  return key.size() > prefix.size() + suffix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
         key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const std::vector<Key>& table() {
  static const std::vector<Key> t = build();
  return t;
}

const Key* find(const std::string& key) {
  for (const Key& k : table())
    if (k.matches(key)) return &k;
  return nullptr;
}

const Key& require(const std::string& key, const Source& at) {
  if (const Key* k = find(key)) return *k;
  // A pattern's prefix with a wrong shape: name the shapes it takes.
  std::string shapes;
  for (const Key& k : table())
    if (!k.prefix.empty() && key.rfind(k.prefix, 0) == 0) shapes += (shapes.empty() ? "" : " or ") + k.info.name;
  if (!shapes.empty()) throw InputError(at.file, at.line, key + ": expected " + shapes);
  std::string known;
  for (const Key& k : table()) known += (known.empty() ? "" : ", ") + k.info.name;
  throw InputError(at.file, at.line, "unknown key '" + key + "' (expected one of " + known + ")");
}

}  // namespace hetmap::sweep::keys

namespace hetmap::sweep {

std::vector<ExperimentKey> experiment_keys() {
  std::vector<ExperimentKey> out;
  for (const keys::Key& k : keys::table()) out.push_back(k.info);
  return out;
}

}  // namespace hetmap::sweep
