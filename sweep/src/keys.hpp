#pragma once
// The experiment keys table (docs/experiments.md, "Keys"): every settings key an experiment
// file may set, declared once with its type, its parser, what it sets on a run and how the
// resolved experiment.yaml records it. Loading (top level and sections), `cases:`, `grid:`,
// experiment.yaml and therefore the resume check all read this table, so a key added here is
// parsed, overridable and part of the resume fingerprint with nothing else to change.
// Internal to hetmap_sweep.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hetmap/sweep/experiment.hpp"

namespace hetmap::sweep::keys {

/// Where a value was written: errors name the file, the line and the key as written.
struct Source {
  std::string file;
  int line = 0;
  std::string key;
  std::filesystem::path dir;  // relative paths are relative to the experiment file
};

using Apply = std::function<void(RunSpec&)>;

struct Key {
  ExperimentKey info;
  /// A YAML list value is joined into one text with this separator; '\0': scalars only.
  char list_separator = '\0';
  /// Parses the text (throws InputError naming `at`) into the setter of its typed value.
  std::function<Apply(const std::string& text, const Source& at)> parse;
  /// Writes `key: value` of `run` into the resolved experiment.yaml (nothing while an optional
  /// key is unset). Set exactly for base keys.
  std::function<void(YAML::Emitter& out, const RunSpec& run)> record;
  /// Override-only keys are patterns: the key begins with `prefix` and ends with `suffix`.
  std::string prefix, suffix;

  /// The section (`search`, `simulate`) or "" for the top level.
  std::string section() const;
  /// The name within its section (`dvfs` for search.dvfs).
  std::string short_name() const;
  bool matches(const std::string& key) const;
};

/// The table, grouped by section (top level, search, simulate), then the override-only keys.
const std::vector<Key>& table();

/// The key `key` (a name or a pattern's instance), or null.
const Key* find(const std::string& key);

/// The key `key`; an InputError naming `at` for an unknown key (listing the known ones) or a
/// pattern's key of the wrong shape.
const Key& require(const std::string& key, const Source& at);

}  // namespace hetmap::sweep::keys
