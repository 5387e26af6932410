#pragma once
// Per-layer measurements (`MODEL.csv`) and measured transfer costs (`MODEL.transfers.csv`):
// their readers and their writers (docs/formats.md).
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"

namespace hetmap {

struct ProfileRow {
  int layer = -1;
  int proc = -1;
  double freq_mhz = 0.0;  // resolved: the processor's default frequency where the file says none
  /// The file left freq_mhz empty ("the processor's default", which is what was measured when
  /// its frequency was not set); written back empty.
  bool default_freq = false;
  int threads = 0;        // empty in the file = all the processor's cores
  double mean_ms = 0.0, std_ms = 0.0, p99_ms = 0.0;
  int samples = 0;
  int line = 0;
};

struct Timing {
  double mean_ms = 0.0;
  double std_ms = 0.0;
};

/// The rows of a profile, indexed by (layer, processor) for lookup.
class Profile {
 public:
  std::string file;
  std::string source;  // the `# source:` line, without its key

  Profile() = default;

  /// A profile of `model` on `platform` with no rows yet (add() adds them; execution needs the
  /// model's structure, not its timings).
  static Profile empty(const Model& model, const Platform& platform);

  /// Appends a row (layer and processor within the model and platform given to empty(); the
  /// caller checks duplicates, as parse_profile does).
  void add(const ProfileRow& row);

  /// Every row, in file order.
  const std::vector<ProfileRow>& rows() const { return rows_; }
  /// The rows of one layer on one processor, in file order.
  std::vector<ProfileRow> rows_of(int layer, int proc) const;
  /// Whether the layer has any row on the processor.
  bool has_rows(int layer, int proc) const;

  /// docs/formats.md lookup: the exact row; else the row at the highest profiled frequency (same
  /// threads) scaled by f_row / f; else nothing (the layer cannot run there).
  std::optional<Timing> lookup(int layer, int proc, double freq_mhz, int threads) const;

 private:
  int first_row(int layer, int proc) const;  // -1: none

  // The rows of each (layer, processor) that has any, as a chain in file order: the first and
  // last row keyed layer * processors_ + proc, then next_[row] (-1 at the end). Sized by the
  // rows, not by layers x processors (a million layers on 64 processors, docs/formats.md).
  std::vector<ProfileRow> rows_;
  std::vector<int> next_;
  std::unordered_map<std::int64_t, std::pair<int, int>> by_cell_;
  int layers_ = 0, processors_ = 0;
};

struct TransferRow {
  int layer = -1;  // -1 = the model input
  int from = -1, to = -1;
  double mean_ms = 0.0;
  int line = 0;
};

struct Transfers {
  std::string file;
  std::string source;  // the `# source:` line, without its key
  std::vector<TransferRow> rows;
  /// The row for a tensor and direction: a pass over the rows, for a few lookups (Problem
  /// applies every row in one pass instead).
  std::optional<double> lookup(int layer, int from, int to) const;
};

Profile load_profile(const std::string& path, const Model& model, const Platform& platform);
Profile parse_profile(const std::string& csv_text, const std::string& file, const Model& model,
                      const Platform& platform);

/// The profile's CSV text, which parse_profile reads back into the same rows: `# source:` (when
/// there is one), a `#` line per note, the header, then the rows in order. Names go through
/// the one CSV cell writer (quoted where they need it); numbers are written exactly (the
/// shortest text that reads back as the same double). freq_mhz is empty for a processor
/// without levels and for a default_freq row, threads empty for all cores, std_ms, p99_ms and
/// samples empty for 0 (not measured). Line breaks in the source and notes become spaces.
std::string to_csv(const Profile& profile, const Model& model, const Platform& platform,
                   const std::vector<std::string>& notes = {});

/// `MODEL.transfers.csv` beside a profile `MODEL.csv`, if it exists.
std::optional<std::string> transfers_path_for(const std::string& profile_path);
Transfers load_transfers(const std::string& path, const Model& model, const Platform& platform);
Transfers parse_transfers(const std::string& csv_text, const std::string& file, const Model& model,
                          const Platform& platform);

/// The transfers' CSV text, which parse_transfers reads back into the same rows (`# source:`
/// when there is one, the header, the rows in order; names and numbers as in to_csv(Profile)).
std::string to_csv(const Transfers& transfers, const Model& model, const Platform& platform);

}  // namespace hetmap
