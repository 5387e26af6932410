#pragma once
// Per-layer measurements (`MODEL.csv`) and measured transfer costs (`MODEL.transfers.csv`).
#include <optional>
#include <string>
#include <vector>

#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"

namespace hetmap {

struct ProfileRow {
  int layer = -1;
  int proc = -1;
  double freq_mhz = 0.0;  // empty in the file = the processor's default frequency
  int threads = 0;        // empty in the file = all the processor's cores
  double mean_ms = 0.0, std_ms = 0.0, p99_ms = 0.0;
  int samples = 0;
  int line = 0;
};

struct Timing {
  double mean_ms = 0.0;
  double std_ms = 0.0;
};

struct Profile {
  std::string file;
  std::string source;
  std::vector<ProfileRow> rows;

  /// docs/formats.md lookup: the exact row; else the row at the highest profiled frequency (same
  /// threads) scaled by f_row / f; else nothing (the layer cannot run there).
  std::optional<Timing> lookup(int layer, int proc, double freq_mhz, int threads) const;

  /// A profile with no rows (execution needs the model's structure, not its timings).
  static Profile empty(const Model& model, const Platform& platform);

  /// Row indices per (layer, processor): by_cell[layer * processors + proc].
  std::vector<std::vector<int>> by_cell;
  int processors = 0;
};

struct TransferRow {
  int layer = -1;  // -1 = the model input
  int from = -1, to = -1;
  double mean_ms = 0.0;
  int line = 0;
};

struct Transfers {
  std::string file;
  std::vector<TransferRow> rows;
  std::optional<double> lookup(int layer, int from, int to) const;
};

Profile load_profile(const std::string& path, const Model& model, const Platform& platform);
Profile parse_profile(const std::string& csv_text, const std::string& file, const Model& model,
                      const Platform& platform);

/// `MODEL.transfers.csv` beside a profile `MODEL.csv`, if it exists.
std::optional<std::string> transfers_path_for(const std::string& profile_path);
Transfers load_transfers(const std::string& path, const Model& model, const Platform& platform);

}  // namespace hetmap
