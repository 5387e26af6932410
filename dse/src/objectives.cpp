#include "hetmap/dse/objectives.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

const std::vector<std::pair<const char*, Objective>>& names() {
  static const std::vector<std::pair<const char*, Objective>> n = {
      {"mean_latency", Objective::mean_latency}, {"worst_latency", Objective::worst_latency},
      {"energy", Objective::energy},             {"accuracy", Objective::accuracy},
      {"throughput", Objective::throughput}};
  return n;
}

Objective objective_named(const std::string& name, const std::string& what) {
  for (const auto& [n, o] : names())
    if (name == n) return o;
  throw InputError(what, 0, "unknown objective '" + name +
                                "' (expected mean_latency, worst_latency, energy, accuracy or "
                                "throughput)");
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

const char* to_string(Objective o) {
  for (const auto& [n, k] : names())
    if (k == o) return n;
  return "?";
}

std::string column_name(Objective o) {
  switch (o) {
    case Objective::mean_latency: return "mean_latency_ms";
    case Objective::worst_latency: return "worst_latency_ms";
    case Objective::energy: return "energy_mj";
    case Objective::accuracy: return "accuracy";
    case Objective::throughput: return "throughput_ips";
  }
  return "?";
}

bool maximised(Objective o) { return o == Objective::accuracy || o == Objective::throughput; }

double raw_value(Objective o, const Metrics& e) {
  switch (o) {
    case Objective::mean_latency: return e.mean_latency_ms;
    case Objective::worst_latency: return e.worst_latency_ms;
    case Objective::energy: return e.energy_mj;
    case Objective::accuracy: return e.accuracy;
    case Objective::throughput: return e.throughput_ips;
  }
  return 0.0;
}

ObjectiveSet::ObjectiveSet(std::vector<Objective> list) : list_(std::move(list)) {}

ObjectiveSet ObjectiveSet::parse(const std::string& text, const std::string& what) {
  std::vector<Objective> list;
  if (trim(text).empty()) throw InputError(what, 0, "expected at least one objective");
  // Split on every comma, so that an empty item ("a,,b", "a,") is an error too.
  for (std::size_t begin = 0, end = 0; begin <= text.size(); begin = end + 1) {
    end = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, end - begin);
    const Objective o = objective_named(trim(item), what);
    for (Objective seen : list)
      if (seen == o) throw InputError(what, 0, "objective '" + trim(item) + "' given twice");
    list.push_back(o);
  }
  if (list.empty()) throw InputError(what, 0, "expected at least one objective");
  return ObjectiveSet(std::move(list));
}

void ObjectiveSet::minimised(const Metrics& e, double* out) const {
  for (std::size_t i = 0; i < list_.size(); ++i) {
    const double v = raw_value(list_[i], e);
    out[i] = maximised(list_[i]) ? -v : v;
  }
}

void ObjectiveSet::check(const Problem& problem, const std::string& what) const {
  for (Objective o : list_) {
    if (o == Objective::energy && !problem.has_power())
      throw InputError(what, 0, "objective 'energy' needs active_w for every processor of " +
                                    problem.platform().file);
    if (o == Objective::accuracy) {
      const Model& m = problem.model();
      bool known = problem.trace().has_value() || m.final_accuracy.has_value();
      for (const Exit& e : m.exits) known = known && (problem.trace() || e.accuracy);
      if (!known)
        throw InputError(what, 0, "objective 'accuracy' needs final_accuracy and every exit's "
                                  "accuracy in " + m.file + " (or a trace)");
    }
  }
}

Constraint Constraint::parse(const std::string& text, const std::string& what) {
  Constraint c;
  std::string op;
  std::size_t at = text.find("<=");
  if (at != std::string::npos) c.at_most = true;
  else at = text.find(">=");
  if (at == std::string::npos)
    throw InputError(what, 0, "constraint '" + text +
                                  "': expected OBJECTIVE <= NUMBER or OBJECTIVE >= NUMBER");
  c.objective = objective_named(trim(text.substr(0, at)), what);
  const std::optional<double> bound = detail::parse_number(trim(text.substr(at + 2)));
  if (!bound)
    throw InputError(what, 0, "constraint '" + text + "': expected a number after the operator");
  c.bound = *bound;
  return c;
}

double Constraint::violation(const Metrics& e) const {
  const double v = raw_value(objective, e);
  if (std::isnan(v)) return 1.0;
  const double over = at_most ? v - bound : bound - v;
  return over > 0.0 ? over / std::max(1e-12, std::abs(bound)) : 0.0;
}

void Constraint::check(const Problem& problem, const std::string& what) const {
  try {
    ObjectiveSet({objective}).check(problem, "");  // message without a prefix
  } catch (const InputError& e) {
    throw InputError(what, 0, "constraint '" + str() + "': " + e.what());
  }
}

std::string Constraint::str() const {
  std::ostringstream os;
  os << to_string(objective) << (at_most ? " <= " : " >= ") << bound;
  return os.str();
}

double violation(const std::vector<Constraint>& constraints, const Metrics& e) {
  double v = 0.0;
  for (const Constraint& c : constraints) v += c.violation(e);
  return v;
}

}  // namespace hetmap::dse
