#include "hetmap/mapping.hpp"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/yaml.hpp"

namespace hetmap {

using detail::fail;
using detail::MapReader;

const char* to_string(Policy policy) {
  return policy == Policy::parallel ? "parallel" : "sequential";
}

std::optional<Policy> policy_named(const std::string& name) {
  for (Policy p : {Policy::sequential, Policy::parallel})
    if (name == to_string(p)) return p;
  return std::nullopt;
}

namespace {

// Reads a `{name: value}` mapping, keeping each entry's line.
template <class T, class Convert>
void read_entries(const std::string& file, const YAML::Node& node, const std::string& what,
                  std::map<std::string, Mapping::Entry<T>>& out, Convert convert) {
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) fail(file, node, what + ": expected a mapping of names to values");
  for (const auto& kv : node) {
    const std::string key = detail::as_string(file, kv.first, what);
    const std::string item = what + "." + key;
    if (out.count(key)) fail(file, kv.first, what + ": duplicate key '" + key + "'");
    out[key] = Mapping::Entry<T>{convert(kv.second, item), detail::line_of(kv.first)};
  }
}

}  // namespace

Mapping parse_mapping(const std::string& yaml_text, const std::string& file) {
  MapReader r(file, detail::parse_yaml(yaml_text, file), "mapping");
  Mapping m;
  m.file = file;
  m.model = r.str("model");
  m.line_model = detail::line_of(r.get("model"));
  m.platform = r.str("platform");
  m.line_platform = detail::line_of(r.get("platform"));
  if (auto p = r.opt_str("policy")) {
    const std::optional<Policy> policy = policy_named(*p);
    if (!policy) fail(file, r.get("policy"), "mapping.policy: expected sequential or parallel, got '" + *p + "'");
    m.policy = *policy;
  }
  m.default_proc = r.opt_str("default");
  m.line_default = detail::line_of(r.get("default"));
  read_entries(file, r.get("assign"), "mapping.assign", m.assign,
               [&](const YAML::Node& n, const std::string& w) { return detail::as_string(file, n, w); });
  read_entries(file, r.get("exits"), "mapping.exits", m.exits,
               [&](const YAML::Node& n, const std::string& w) { return detail::as_bool(file, n, w); });
  read_entries(file, r.get("freq_mhz"), "mapping.freq_mhz", m.freq_mhz,
               [&](const YAML::Node& n, const std::string& w) { return detail::as_double(file, n, w); });
  read_entries(file, r.get("threads"), "mapping.threads", m.threads,
               [&](const YAML::Node& n, const std::string& w) {
                 return static_cast<int>(detail::as_int(file, n, w));
               });
  read_entries(file, r.get("thresholds"), "mapping.thresholds", m.thresholds,
               [&](const YAML::Node& n, const std::string& w) {
                 // A confidence threshold (docs/formats.md, "Exit traces"): outside 0..1 every
                 // sample would pass, or none, whatever the trace says.
                 const double t = detail::as_double(file, n, w);
                 if (t < 0.0 || t > 1.0) detail::fail(file, n, w + ": expected a threshold in 0..1");
                 return t;
               });
  r.finish();
  return m;
}

Mapping load_mapping(const std::string& path) { return parse_mapping(detail::read_file(path), path); }

std::string to_yaml(const Mapping& m) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "model" << YAML::Value << m.model;
  out << YAML::Key << "platform" << YAML::Value << m.platform;
  out << YAML::Key << "policy" << YAML::Value << to_string(m.policy);
  if (m.default_proc) out << YAML::Key << "default" << YAML::Value << *m.default_proc;
  auto section = [&](const char* key, const auto& entries) {
    if (entries.empty()) return;
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [name, e] : entries) out << YAML::Key << name << YAML::Value << e.value;
    out << YAML::EndMap;
  };
  section("assign", m.assign);
  section("exits", m.exits);
  out.SetDoublePrecision(17);
  section("freq_mhz", m.freq_mhz);
  section("threads", m.threads);
  section("thresholds", m.thresholds);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace hetmap
