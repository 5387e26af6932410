#include "hetmap/trace.hpp"

#include <set>

#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"

namespace hetmap {

ExitTrace load_trace(const std::string& path, const Model& model) {
  using detail::CsvTable;
  const CsvTable t = detail::parse_csv(detail::read_file(path), path);
  std::set<std::string> allowed = {"sample", "final_ok", "final_conf"};
  for (const Exit& e : model.exits) {
    allowed.insert(e.name + "_conf");
    allowed.insert(e.name + "_ok");
  }
  for (const std::string& h : t.header)
    if (!allowed.count(h))
      throw InputError(path, t.header_line,
                       "unknown column '" + h + "' (expected sample, EXIT_conf, EXIT_ok for the "
                       "exits of model " + model.name + ", final_ok)");
  auto bit = [&](const CsvTable::Row& row, int col) -> unsigned char {
    const std::string& s = row.cells[col];
    if (s == "1") return 1;
    if (s == "0") return 0;
    if (const std::optional<bool> b = detail::parse_bool(s)) return *b ? 1 : 0;
    throw InputError(path, row.line, "column '" + t.header[col] + "': expected 0 or 1, got '" + s + "'");
  };
  ExitTrace tr;
  tr.file = path;
  tr.samples = static_cast<int>(t.rows.size());
  if (tr.samples == 0) throw InputError(path, t.header_line, "the trace has no samples");
  const int c_final = t.require("final_ok");
  // Sample ids name the rows in reports: each a non-negative integer, each once.
  if (const int c_sample = t.column("sample"); c_sample >= 0) {
    std::set<long long> seen;
    for (const auto& row : t.rows) {
      const std::optional<long long> id = detail::parse_integer(row.cells[c_sample]);
      if (!id || *id < 0)
        throw InputError(path, row.line, "column 'sample': expected a non-negative integer id, got '" +
                                             row.cells[c_sample] + "'");
      if (!seen.insert(*id).second)
        throw InputError(path, row.line, "column 'sample': sample " + row.cells[c_sample] + " appears twice");
    }
  }
  for (const Exit& e : model.exits) {
    const int c_conf = t.require(e.name + "_conf"), c_ok = t.require(e.name + "_ok");
    std::vector<float> conf;
    std::vector<unsigned char> ok;
    for (const auto& row : t.rows) {
      // A confidence, as the thresholds it is compared with (docs/formats.md, "Exit trace").
      const double c = detail::csv_double(t, row, c_conf);
      if (!(c >= 0.0 && c <= 1.0))
        throw InputError(path, row.line, "column '" + t.header[c_conf] +
                                             "': expected a confidence in 0..1, got '" +
                                             row.cells[c_conf] + "'");
      conf.push_back(static_cast<float>(c));
      ok.push_back(bit(row, c_ok));
    }
    tr.conf.push_back(std::move(conf));
    tr.ok.push_back(std::move(ok));
  }
  for (const auto& row : t.rows) tr.final_ok.push_back(bit(row, c_final));
  return tr;
}

}  // namespace hetmap
