#include "hetmap/detail/csv.hpp"
#include "hetmap/dse/export.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "hetmap/detail/io.hpp"
#include "hetmap/dse/hypervolume.hpp"
#include "hetmap/report.hpp"

namespace hetmap::dse {

namespace fs = std::filesystem;

namespace {

// Shortest text that reads back as the same double.
std::string num(double v) {
  if (!std::isfinite(v)) return "";
  return fmt::format("{}", v);
}

std::string file_safe(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  return s;
}

}  // namespace

void measure(Exploration& x) {
  std::vector<Point> front, base;
  for (const Individual& ind : x.front) front.push_back(ind.f);
  for (const Baseline& b : x.baselines)
    if (b.individual.satisfies()) base.push_back(b.individual.f);
  if (front.empty() && base.empty()) {
    x.reference.clear();
    x.hypervolume = 0.0;
    return;
  }
  x.reference = reference_point({front, base});
  x.hypervolume = front.empty() ? 0.0 : hypervolume(front, x.reference);
}

std::vector<Improvement> improvements(const Exploration& x) {
  const ObjectiveSet& set = x.objectives;
  std::vector<Improvement> out;
  for (int i = 0; i < set.size(); ++i) {
    Improvement imp;
    imp.objective = set.list()[i];
    double best_front = std::numeric_limits<double>::infinity();
    for (const Individual& ind : x.front) best_front = std::min(best_front, ind.f[i]);
    double best_base = std::numeric_limits<double>::infinity();
    for (const Baseline& b : x.baselines) {
      if (!b.individual.satisfies() || !(b.individual.f[i] < best_base)) continue;
      best_base = b.individual.f[i];
      imp.baseline_name = b.name;
    }
    if (!std::isfinite(best_front) || !std::isfinite(best_base)) continue;
    imp.front = set.raw(i, best_front);
    imp.baseline = set.raw(i, best_base);
    // Minimised values: a lower front value is an improvement for either sense.
    imp.percent = imp.baseline != 0.0 ? (best_base - best_front) / std::abs(imp.baseline) * 100.0 : 0.0;
    out.push_back(imp);
  }
  return out;
}

void write_exploration(const std::string& dir, const Problem& pb, const Exploration& x) {
  const ObjectiveSet& set = x.objectives;
  const fs::path root(dir);
  fs::create_directories(root / "mappings");
  for (const auto& entry : fs::directory_iterator(root / "mappings"))
    if (entry.path().extension() == ".yaml") fs::remove(entry.path());

  std::string header = "id";
  for (Objective o : set.list()) header += std::string(",") + to_string(o);
  header += ",mapping\n";

  auto row_values = [&](const Individual& ind) {
    std::string s;
    for (int i = 0; i < set.size(); ++i) s += "," + num(set.raw(i, ind.f[i]));
    return s;
  };
  auto mapping_yaml = [&](const Config& c) {
    Mapping m = pb.to_mapping(c);
    return to_yaml(m);
  };

  Evaluator ev(pb);
  std::string front_csv = header;
  Json front_json = Json::array();
  for (std::size_t i = 0; i < x.front.size(); ++i) {
    const Individual& ind = x.front[i];
    const std::string rel = fmt::format("mappings/{}.yaml", i);
    detail::write_file_atomic((root / rel).string(), mapping_yaml(ind.config));
    front_csv += std::to_string(i) + row_values(ind) + "," + rel + "\n";
    Json item;
    item["id"] = i;
    item["mapping"] = rel;
    Json obj = Json::object();
    for (int k = 0; k < set.size(); ++k) obj[to_string(set.list()[k])] = set.raw(k, ind.f[k]);
    item["objectives"] = obj;
    item["metrics"] = to_json(pb, ev.evaluate(ind.config));
    front_json.push_back(item);
  }

  std::string base_csv = "name";
  for (Objective o : set.list()) base_csv += std::string(",") + to_string(o);
  base_csv += ",satisfies_constraints,mapping\n";
  Json base_json = Json::array();
  for (const Baseline& b : x.baselines) {
    const std::string rel = "mappings/baseline-" + file_safe(b.name) + ".yaml";
    detail::write_file_atomic((root / rel).string(), mapping_yaml(b.individual.config));
    base_csv += detail::csv_cell(b.name) + row_values(b.individual) + "," +
                (b.individual.satisfies() ? "true" : "false") + "," + rel + "\n";
    Json item;
    item["name"] = b.name;
    item["mapping"] = rel;
    item["satisfies_constraints"] = b.individual.satisfies();
    item["metrics"] = to_json(pb, b.evaluation);
    base_json.push_back(item);
  }

  Json doc;
  doc["model"] = pb.model().name;
  doc["platform"] = pb.platform().name;
  doc["method"] = x.method;
  Json objs = Json::array();
  for (Objective o : set.list())
    objs.push_back({{"name", to_string(o)}, {"sense", maximised(o) ? "max" : "min"}});
  doc["objectives"] = objs;
  Json cons = Json::array();
  for (const Constraint& c : x.constraints) cons.push_back(c.str());
  doc["constraints"] = cons;
  // The reference point in raw units (maximised objectives negated back).
  Json ref = Json::array();
  for (std::size_t i = 0; i < x.reference.size(); ++i) ref.push_back(set.raw(static_cast<int>(i), x.reference[i]));
  doc["hypervolume"] = x.hypervolume;
  doc["hypervolume_reference"] = ref;
  doc["evaluations"] = x.evaluations;
  doc["settings"] = x.settings;
  doc["front"] = front_json;
  doc["baselines"] = base_json;

  // The schedule of the first front point (the best in the first objective), for Gantt charts.
  if (!x.front.empty()) {
    ev.evaluate(x.front[0].config);
    detail::write_file_atomic((root / "trace.json").string(), chrome_trace(pb, ev.schedule()).dump() + "\n");
  }
  detail::write_file_atomic((root / "front.csv").string(), front_csv);
  detail::write_file_atomic((root / "baselines.csv").string(), base_csv);
  detail::write_file_atomic((root / "front.json").string(), doc.dump(2) + "\n");
}

}  // namespace hetmap::dse
