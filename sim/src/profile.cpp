#include "hetmap/profile.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"

namespace hetmap {

using detail::csv_cell;
using detail::csv_double;
using detail::csv_int;
using detail::CsvTable;
using detail::number_text;

Profile Profile::empty(const Model& model, const Platform& platform) {
  Profile p;
  p.layers_ = static_cast<int>(model.layers.size());
  p.processors_ = static_cast<int>(platform.processors.size());
  return p;
}

void Profile::add(const ProfileRow& row) {
  if (row.layer < 0 || row.layer >= layers_ || row.proc < 0 || row.proc >= processors_)
    throw std::out_of_range("Profile::add: a row outside the model and platform of the profile");
  const int i = static_cast<int>(rows_.size());
  const auto [cell, added] =
      by_cell_.try_emplace(static_cast<std::int64_t>(row.layer) * processors_ + row.proc, i, i);
  if (!added) {
    next_[cell->second.second] = i;
    cell->second.second = i;
  }
  rows_.push_back(row);
  next_.push_back(-1);
}

int Profile::first_row(int layer, int proc) const {
  const auto it = by_cell_.find(static_cast<std::int64_t>(layer) * processors_ + proc);
  return it == by_cell_.end() ? -1 : it->second.first;
}

std::vector<ProfileRow> Profile::rows_of(int layer, int proc) const {
  std::vector<ProfileRow> out;
  for (int i = first_row(layer, proc); i >= 0; i = next_[i]) out.push_back(rows_[i]);
  return out;
}

bool Profile::has_rows(int layer, int proc) const { return first_row(layer, proc) >= 0; }

std::optional<Timing> Profile::lookup(int layer, int proc, double freq_mhz, int threads) const {
  const ProfileRow* best = nullptr;
  for (int i = first_row(layer, proc); i >= 0; i = next_[i]) {
    const ProfileRow& r = rows_[i];
    if (r.threads != threads) continue;
    if (r.freq_mhz == freq_mhz) return Timing{r.mean_ms, r.std_ms};
    if (!best || r.freq_mhz > best->freq_mhz) best = &r;
  }
  if (!best || best->freq_mhz <= 0 || freq_mhz <= 0) return std::nullopt;
  const double scale = best->freq_mhz / freq_mhz;
  return Timing{best->mean_ms * scale, best->std_ms * scale};
}

namespace {

void check_columns(const CsvTable& t, const std::set<std::string>& allowed) {
  for (const std::string& h : t.header)
    if (!allowed.count(h)) throw InputError(t.file, t.header_line, "unknown column '" + h + "'");
}

int processor_cell(const CsvTable& t, const CsvTable::Row& row, int col, const Platform& pf) {
  const int p = pf.find(row.cells[col]);
  if (p < 0)
    throw InputError(t.file, row.line, "column '" + t.header[col] + "': unknown processor '" +
                                           row.cells[col] + "' (not in platform " + pf.name + ")");
  return p;
}

int layer_cell(const CsvTable& t, const CsvTable::Row& row, int col, const Model& m,
               bool allow_input) {
  if (allow_input && row.cells[col] == kModelInput) return -1;
  const int l = m.find_layer(row.cells[col]);
  if (l < 0)
    throw InputError(t.file, row.line, "column '" + t.header[col] + "': unknown layer '" +
                                           row.cells[col] + "' (not in model " + m.name + ")");
  return l;
}

// A duration cell: >= 0 and within docs/formats.md's "Quantities" bound.
double duration_ms(const CsvTable& t, const CsvTable::Row& row, int col) {
  const double v = csv_double(t, row, col);
  if (v < 0) throw InputError(t.file, row.line, "column '" + t.header[col] + "': expected >= 0");
  if (auto e = detail::out_of_range(v, detail::kMilliseconds); !e.empty())
    throw InputError(t.file, row.line, "column '" + t.header[col] + "': " + e);
  return v;
}

}  // namespace

Profile parse_profile(const std::string& csv_text, const std::string& file, const Model& model,
                      const Platform& platform) {
  const CsvTable t = detail::parse_csv(csv_text, file);
  check_columns(t, {"layer", "processor", "freq_mhz", "threads", "mean_ms", "std_ms", "p99_ms",
                    "samples"});
  const int c_layer = t.require("layer"), c_proc = t.require("processor");
  const int c_mean = t.require("mean_ms");
  const int c_freq = t.column("freq_mhz"), c_thr = t.column("threads");
  const int c_std = t.column("std_ms"), c_p99 = t.column("p99_ms"), c_n = t.column("samples");
  Profile p = Profile::empty(model, platform);
  p.file = file;
  p.source = t.source().value_or("");
  // (layer, processor, freq, threads) of the rows so far, to refuse a second one.
  struct Key {
    int layer, proc, threads;
    double freq;
    bool operator==(const Key& o) const {
      return layer == o.layer && proc == o.proc && threads == o.threads && freq == o.freq;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      const std::size_t h = std::hash<double>()(k.freq);
      return h ^ (static_cast<std::size_t>(k.layer) * 0x9E3779B97F4A7C15ULL +
                  static_cast<std::size_t>(k.proc) * 0x100000001B3ULL +
                  static_cast<std::size_t>(k.threads));
    }
  };
  std::unordered_set<Key, KeyHash> seen;
  seen.reserve(t.rows.size());
  for (const auto& row : t.rows) {
    ProfileRow r;
    r.line = row.line;
    r.layer = layer_cell(t, row, c_layer, model, false);
    r.proc = processor_cell(t, row, c_proc, platform);
    const Processor& proc = platform.processors[r.proc];
    r.freq_mhz = proc.default_freq();
    r.default_freq = c_freq < 0 || row.cells[c_freq].empty();
    if (!r.default_freq) {
      r.freq_mhz = csv_double(t, row, c_freq);
      if (r.freq_mhz <= 0) throw InputError(file, row.line, "column 'freq_mhz': expected > 0");
      if (proc.freqs_mhz.empty())
        throw InputError(file, row.line, "column 'freq_mhz': processor '" + proc.name +
                                             "' has no freqs_mhz in the platform");
      // A level the platform does not offer could never be chosen: the row would be dead, and
      // usually means the profile was measured on another platform (docs/formats.md).
      if (std::none_of(proc.freqs_mhz.begin(), proc.freqs_mhz.end(),
                       [&](double f) { return std::abs(f - r.freq_mhz) <= 1e-9 * f; })) {
        std::string levels;
        for (double f : proc.freqs_mhz) levels += (levels.empty() ? "" : ", ") + detail::number_text(f);
        throw InputError(file, row.line, "column 'freq_mhz': " + row.cells[c_freq] +
                                             " is not a level of '" + proc.name + "' (expected one of " +
                                             levels + ")");
      }
    }
    r.threads = proc.default_threads();
    if (c_thr >= 0 && !row.cells[c_thr].empty()) {
      r.threads = csv_int(t, row, c_thr);
      if (r.threads < 1 || r.threads > proc.cores)
        throw InputError(file, row.line, "column 'threads': expected 1.." +
                                             std::to_string(proc.cores) + " for '" + proc.name + "'");
    }
    r.mean_ms = duration_ms(t, row, c_mean);
    if (c_std >= 0 && !row.cells[c_std].empty()) r.std_ms = duration_ms(t, row, c_std);
    if (c_p99 >= 0 && !row.cells[c_p99].empty()) r.p99_ms = duration_ms(t, row, c_p99);
    if (c_n >= 0 && !row.cells[c_n].empty()) {
      r.samples = csv_int(t, row, c_n);
      if (r.samples < 0) throw InputError(file, row.line, "column 'samples': expected >= 0");
    }
    if (!seen.insert({r.layer, r.proc, r.threads, r.freq_mhz}).second)
      throw InputError(file, row.line, "duplicate row for layer '" + row.cells[c_layer] +
                                           "' on '" + proc.name + "' at this frequency and threads");
    p.add(r);
  }
  return p;
}

Profile load_profile(const std::string& path, const Model& model, const Platform& platform) {
  return parse_profile(detail::read_file(path), path, model, platform);
}

std::optional<double> Transfers::lookup(int layer, int from, int to) const {
  for (const TransferRow& r : rows)
    if (r.layer == layer && r.from == from && r.to == to) return r.mean_ms;
  return std::nullopt;
}

std::optional<std::string> transfers_path_for(const std::string& profile_path) {
  namespace fs = std::filesystem;
  fs::path p(profile_path);
  if (p.extension() != ".csv") return std::nullopt;
  fs::path t = p.parent_path() / (p.stem().string() + ".transfers.csv");
  if (fs::exists(t)) return t.string();
  return std::nullopt;
}

Transfers parse_transfers(const std::string& csv_text, const std::string& path, const Model& model,
                          const Platform& platform) {
  const CsvTable t = detail::parse_csv(csv_text, path);
  check_columns(t, {"layer", "from", "to", "mean_ms"});
  const int c_layer = t.require("layer"), c_from = t.require("from"), c_to = t.require("to");
  const int c_mean = t.require("mean_ms");
  Transfers tr;
  tr.file = path;
  tr.source = t.source().value_or("");
  std::set<std::tuple<int, int, int>> seen;
  for (const auto& row : t.rows) {
    TransferRow r;
    r.line = row.line;
    r.layer = layer_cell(t, row, c_layer, model, true);
    r.from = processor_cell(t, row, c_from, platform);
    r.to = processor_cell(t, row, c_to, platform);
    if (r.from == r.to) throw InputError(path, row.line, "'from' and 'to' must differ");
    r.mean_ms = duration_ms(t, row, c_mean);
    if (!seen.insert({r.layer, r.from, r.to}).second)
      throw InputError(path, row.line, "duplicate transfer row");
    tr.rows.push_back(r);
  }
  return tr;
}

Transfers load_transfers(const std::string& path, const Model& model, const Platform& platform) {
  return parse_transfers(detail::read_file(path), path, model, platform);
}

namespace {

// A comment line: one line, whatever the text holds.
std::string comment_line(const std::string& text) {
  std::string s = text;
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return "# " + s + "\n";
}

std::string layer_name(const Model& model, int layer) {
  return layer < 0 ? std::string(kModelInput) : model.layers.at(static_cast<std::size_t>(layer)).name;
}

// An optional measurement: empty when not measured (0).
std::string measured(double v) { return v > 0 ? number_text(v) : ""; }

}  // namespace

std::string to_csv(const Profile& profile, const Model& model, const Platform& platform,
                   const std::vector<std::string>& notes) {
  std::string s;
  if (!profile.source.empty()) s += comment_line("source: " + profile.source);
  for (const std::string& n : notes) s += comment_line(n);
  s += "layer,processor,freq_mhz,threads,mean_ms,std_ms,p99_ms,samples\n";
  for (const ProfileRow& r : profile.rows()) {
    const Processor& p = platform.processors.at(static_cast<std::size_t>(r.proc));
    s += csv_cell(layer_name(model, r.layer)) + "," + csv_cell(p.name) + ",";
    s += (r.default_freq || p.freqs_mhz.empty() ? "" : number_text(r.freq_mhz)) + ",";
    s += (r.threads == p.cores ? "" : std::to_string(r.threads)) + ",";
    s += number_text(r.mean_ms) + "," + measured(r.std_ms) + "," + measured(r.p99_ms) + ",";
    s += (r.samples > 0 ? std::to_string(r.samples) : "") + "\n";
  }
  return s;
}

std::string to_csv(const Transfers& transfers, const Model& model, const Platform& platform) {
  std::string s;
  if (!transfers.source.empty()) s += comment_line("source: " + transfers.source);
  s += "layer,from,to,mean_ms\n";
  for (const TransferRow& r : transfers.rows)
    s += csv_cell(layer_name(model, r.layer)) + "," +
         csv_cell(platform.processors.at(static_cast<std::size_t>(r.from)).name) + "," +
         csv_cell(platform.processors.at(static_cast<std::size_t>(r.to)).name) + "," +
         number_text(r.mean_ms) + "\n";
  return s;
}

}  // namespace hetmap
