#include "hetmap/sweep/results.hpp"

#include <algorithm>

#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"

namespace hetmap::sweep {

namespace {

// The columns after the keys.
const std::vector<std::string> kTail = {
    "task",           "status",      "best_mean_latency_ms",  "best_worst_latency_ms",
    "best_energy_mj", "hypervolume", "front_size",            "improvement_objective",
    "improvement_pct", "dir"};

}  // namespace

std::vector<std::string> results_columns(const std::vector<std::string>& keys) {
  std::vector<std::string> cols = {"id"};
  cols.insert(cols.end(), keys.begin(), keys.end());
  cols.insert(cols.end(), kTail.begin(), kTail.end());
  return cols;
}

std::vector<std::string> result_cells(const PointResult& r) {
  using detail::number_text;
  std::vector<std::string> cells = {std::to_string(r.id)};
  cells.insert(cells.end(), r.values.begin(), r.values.end());
  for (const std::string& c :
       {r.task, r.status, number_text(r.best_mean_latency_ms), number_text(r.best_worst_latency_ms),
        number_text(r.best_energy_mj), number_text(r.hypervolume),
        r.front_size >= 0 ? std::to_string(r.front_size) : std::string(), r.improvement_objective,
        number_text(r.improvement_pct), r.dir})
    cells.push_back(c);
  return cells;
}

std::string results_csv(const ResultsTable& t) {
  auto line = [](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + detail::csv_cell(cells[i]);
    return s + "\n";
  };
  std::string csv = line(results_columns(t.keys));
  for (const PointResult& r : t.rows) csv += line(result_cells(r));
  return csv;
}

ResultsTable parse_results_csv(const std::string& csv_text, const std::string& file) {
  const detail::CsvTable t = detail::parse_csv(csv_text, file);
  // By position: the keys are whatever the experiment's grid names, between id and the tail.
  const std::size_t n = t.header.size(), tail = kTail.size();
  if (n < tail + 1 || t.header[0] != "id" ||
      !std::equal(kTail.begin(), kTail.end(), t.header.end() - static_cast<std::ptrdiff_t>(tail)))
    throw InputError(file, t.header_line, "expected the columns of results.csv: id, the point "
                                          "keys, task, status, the metrics, dir");
  ResultsTable out;
  out.keys.assign(t.header.begin() + 1, t.header.end() - static_cast<std::ptrdiff_t>(tail));
  const int k = static_cast<int>(out.keys.size());
  for (const auto& row : t.rows) {
    auto number = [&](int col) {
      return row.cells[col].empty() ? PointResult::kNone : detail::csv_double(t, row, col);
    };
    PointResult r;
    r.id = detail::csv_int(t, row, 0);
    r.values.assign(row.cells.begin() + 1, row.cells.begin() + 1 + k);
    const int c = k + 1;  // the tail's first column
    r.task = row.cells[c];
    r.status = row.cells[c + 1];
    r.best_mean_latency_ms = number(c + 2);
    r.best_worst_latency_ms = number(c + 3);
    r.best_energy_mj = number(c + 4);
    r.hypervolume = number(c + 5);
    r.front_size = row.cells[c + 6].empty() ? -1 : detail::csv_int(t, row, c + 6);
    r.improvement_objective = row.cells[c + 7];
    r.improvement_pct = number(c + 8);
    r.dir = row.cells[c + 9];
    out.rows.push_back(std::move(r));
  }
  return out;
}

ResultsTable load_results_csv(const std::string& path) {
  return parse_results_csv(detail::read_file(path), path);
}

}  // namespace hetmap::sweep
