#pragma once
// Strict YAML reading shared by every loader: unknown keys are errors, and every error names
// the file and the line of the offending node. Internal to hetmap.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hetmap/error.hpp"

namespace hetmap::detail {

/// Parses YAML text; a syntax error becomes an InputError naming `file` and the line.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

/// Parses a YAML file; a missing file or a syntax error becomes an InputError.
YAML::Node load_yaml_file(const std::string& path);

/// 1-based line of a node (0 if it has none, e.g. a missing node).
int line_of(const YAML::Node& node);

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& msg);

std::string as_string(const std::string& file, const YAML::Node& node, const std::string& what);
double as_double(const std::string& file, const YAML::Node& node, const std::string& what);
long long as_int(const std::string& file, const YAML::Node& node, const std::string& what);
/// A boolean scalar by the one rule (parse_bool in number.hpp): `true` or `false`.
bool as_bool(const std::string& file, const YAML::Node& node, const std::string& what);
std::vector<double> as_double_list(const std::string& file, const YAML::Node& node,
                                   const std::string& what);
std::vector<std::string> as_string_list(const std::string& file, const YAML::Node& node,
                                        const std::string& what);

/// Reads one YAML mapping; `finish()` rejects every key that was never asked for.
class MapReader {
 public:
  MapReader(std::string file, YAML::Node node, std::string what);
  bool has(const std::string& key) const;
  YAML::Node get(const std::string& key);       // the node, or a null node when absent
  YAML::Node required(const std::string& key);  // error when absent
  std::string str(const std::string& key);
  std::optional<std::string> opt_str(const std::string& key);
  double num(const std::string& key);
  std::optional<double> opt_num(const std::string& key);
  long long integer(const std::string& key);
  std::optional<long long> opt_int(const std::string& key);
  std::optional<bool> opt_bool(const std::string& key);
  void finish() const;
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  int line() const { return line_of(node_); }

 private:
  std::string file_;
  YAML::Node node_;
  std::string what_;
  std::set<std::string> used_;
};

}  // namespace hetmap::detail
