#pragma once
// The exported partition the executor deploys (docs/formats.md), as written in YAML.
// `resolve()` in problem.hpp turns it into the dense Config the simulators evaluate.
#include <map>
#include <optional>
#include <string>

namespace hetmap {

enum class Policy { sequential, parallel };
const char* to_string(Policy policy);
/// The policy named `sequential` or `parallel`; nothing for any other text. The one policy
/// parser: mapping files, and through dse::parse_policy_choice the search's setting on the
/// command line and in experiment files.
std::optional<Policy> policy_named(const std::string& name);

struct Mapping {
  std::string file;
  std::string model;
  std::string platform;
  Policy policy = Policy::sequential;
  std::optional<std::string> default_proc;  // absent: the platform's host
  // Each entry keeps the line it was declared on, for error messages.
  template <class T>
  struct Entry {
    T value;
    int line = 0;
  };
  std::map<std::string, Entry<std::string>> assign;
  std::map<std::string, Entry<bool>> exits;
  std::map<std::string, Entry<double>> freq_mhz;
  std::map<std::string, Entry<int>> threads;
  std::map<std::string, Entry<double>> thresholds;
  int line_model = 0, line_platform = 0, line_default = 0;
};

Mapping load_mapping(const std::string& path);
Mapping parse_mapping(const std::string& yaml_text, const std::string& file);

/// YAML text of a mapping (keys in the order of docs/formats.md).
std::string to_yaml(const Mapping& mapping);

}  // namespace hetmap
