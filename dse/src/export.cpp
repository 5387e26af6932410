#include "hetmap/dse/export.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"
#include "hetmap/dse/hypervolume.hpp"
#include "hetmap/report.hpp"

namespace hetmap::dse {

namespace fs = std::filesystem;

namespace {

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

std::string front_csv(const FrontTable& t) {
  std::string s = "id";
  for (const std::string& o : t.objectives) s += "," + detail::csv_cell(o);
  s += ",mapping\n";
  for (const FrontTable::Row& r : t.rows) {
    s += std::to_string(r.id);
    for (double v : r.values) s += "," + detail::number_text(v);
    s += "," + detail::csv_cell(r.mapping) + "\n";
  }
  return s;
}

FrontTable parse_front_csv(const std::string& csv_text, const std::string& file) {
  const detail::CsvTable t = detail::parse_csv(csv_text, file);
  const int c_id = t.require("id"), c_map = t.require("mapping");
  if (c_id != 0 || c_map + 1 != static_cast<int>(t.header.size()))
    throw InputError(file, t.header_line, "expected the columns id, one per objective, mapping");
  FrontTable f;
  f.objectives.assign(t.header.begin() + 1, t.header.end() - 1);
  for (const auto& row : t.rows) {
    FrontTable::Row r;
    r.id = detail::csv_int(t, row, c_id);
    for (int c = 1; c < c_map; ++c)
      r.values.push_back(row.cells[c].empty() ? std::numeric_limits<double>::quiet_NaN()
                                              : detail::csv_double(t, row, c));
    r.mapping = row.cells[c_map];
    f.rows.push_back(std::move(r));
  }
  return f;
}

FrontTable load_front_csv(const std::string& path) {
  return parse_front_csv(detail::read_file(path), path);
}

void write_exploration(const std::string& dir, const Problem& pb, const Exploration& x) {
  const ObjectiveSet& set = x.objectives;
  const fs::path root(dir);
  // All or none (docs/design.md, "Output files"), the stale mappings' removal included.
  detail::OutputSet out;
  const fs::path mappings = root / "mappings";
  detail::create_folder(mappings.string());
  std::error_code ec;
  for (fs::directory_iterator it(mappings, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".yaml") out.remove(it->path().string());
  if (ec) throw Error(mappings.string(), 0, "cannot list the folder: " + ec.message(), kOtherError);

  auto row_values = [&](const Individual& ind) {
    std::vector<double> v;
    for (int i = 0; i < set.size(); ++i) v.push_back(set.raw(i, ind.f[i]));
    return v;
  };
  auto mapping_yaml = [&](const Config& c) {
    Mapping m = pb.to_mapping(c);
    return to_yaml(m);
  };

  Evaluator ev(pb);
  FrontTable front;
  for (Objective o : set.list()) front.objectives.push_back(to_string(o));
  Json front_json = Json::array();
  for (std::size_t i = 0; i < x.front.size(); ++i) {
    const Individual& ind = x.front[i];
    const std::string rel = fmt::format("mappings/{}.yaml", i);
    out.write((root / rel).string(), mapping_yaml(ind.config));
    front.rows.push_back({static_cast<int>(i), row_values(ind), rel});
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
    out.write((root / rel).string(), mapping_yaml(b.individual.config));
    base_csv += detail::csv_cell(b.name);
    for (double v : row_values(b.individual)) base_csv += "," + detail::number_text(v);
    base_csv += std::string(",") + (b.individual.satisfies() ? "true" : "false") + "," + rel + "\n";
    Json item;
    item["name"] = b.name;
    item["mapping"] = rel;
    item["satisfies_constraints"] = b.individual.satisfies();
    item["metrics"] = to_json(pb, b.metrics);
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
    out.write((root / "trace.json").string(), chrome_trace(pb, ev.schedule()).dump() + "\n");
  }
  out.write((root / "front.csv").string(), front_csv(front));
  out.write((root / "baselines.csv").string(), base_csv);
  out.write((root / "front.json").string(), doc.dump(2) + "\n");
  out.commit();
}

}  // namespace hetmap::dse
