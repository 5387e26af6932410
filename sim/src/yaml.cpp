#include "hetmap/detail/yaml.hpp"

#include <limits>
#include <vector>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"

namespace hetmap::detail {

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  // hetmap's files are one document each: a second one would otherwise be silently ignored.
  // An empty document (a trailing '---') says nothing and is allowed.
  for (std::size_t i = 1; i < docs.size(); ++i)
    if (!docs[i].IsNull())
      throw InputError(file, line_of(docs[i]),
                       "a second YAML document: expected one document per file (remove the '---')");
  return docs.empty() ? YAML::Node() : docs[0];
}

YAML::Node load_yaml_file(const std::string& path) { return parse_yaml(read_file(path), path); }

int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark m = node.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

void fail(const std::string& file, const YAML::Node& node, const std::string& msg) {
  throw InputError(file, line_of(node), msg);
}

std::string as_string(const std::string& file, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) fail(file, node, what + ": expected a string");
  return node.Scalar();
}

double as_double(const std::string& file, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) fail(file, node, what + ": expected a number");
  const std::string& s = node.Scalar();
  const std::optional<double> v = parse_number(s);
  if (!v) fail(file, node, what + ": expected a number, got '" + s + "'");
  return *v;
}

long long as_int(const std::string& file, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) fail(file, node, what + ": expected an integer");
  const std::string& s = node.Scalar();
  const std::optional<long long> v = parse_integer(s);
  if (!v) fail(file, node, what + ": expected an integer, got '" + s + "'");
  // Callers store ints: a value that does not fit must not wrap around silently.
  if (*v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())
    fail(file, node, what + ": integer out of range: '" + s + "'");
  return *v;
}

bool as_bool(const std::string& file, const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) fail(file, node, what + ": expected true or false");
  const std::string& s = node.Scalar();
  const std::optional<bool> v = parse_bool(s);
  if (!v) fail(file, node, what + ": expected true or false, got '" + s + "'");
  return *v;
}

std::vector<double> as_double_list(const std::string& file, const YAML::Node& node,
                                   const std::string& what) {
  if (!node.IsSequence()) fail(file, node, what + ": expected a list of numbers");
  std::vector<double> out;
  for (const auto& item : node) out.push_back(as_double(file, item, what));
  return out;
}

std::vector<std::string> as_string_list(const std::string& file, const YAML::Node& node,
                                        const std::string& what) {
  if (!node.IsSequence()) fail(file, node, what + ": expected a list of names");
  std::vector<std::string> out;
  for (const auto& item : node) out.push_back(as_string(file, item, what));
  return out;
}

MapReader::MapReader(std::string file, YAML::Node node, std::string what)
    : file_(std::move(file)), node_(std::move(node)), what_(std::move(what)) {
  if (!node_.IsMap()) fail(file_, node_, what_ + ": expected a mapping of keys to values");
  // yaml-cpp keeps both entries of a repeated key and lookups see only the first: reject it.
  std::set<std::string> seen;
  for (const auto& kv : node_)
    if (!seen.insert(kv.first.Scalar()).second)
      fail(file_, kv.first, what_ + ": duplicate key '" + kv.first.Scalar() + "'");
}

// Lookups go through a const node: yaml-cpp's non-const operator[] may insert the key.
bool MapReader::has(const std::string& key) const {
  const YAML::Node& n = node_;
  return static_cast<bool>(n[key]);
}

YAML::Node MapReader::get(const std::string& key) {
  used_.insert(key);
  const YAML::Node& n = node_;
  return n[key];
}

YAML::Node MapReader::required(const std::string& key) {
  YAML::Node n = get(key);
  if (!n || n.IsNull()) fail(file_, node_, what_ + ": missing required key '" + key + "'");
  return n;
}

std::string MapReader::str(const std::string& key) {
  return as_string(file_, required(key), what_ + "." + key);
}

std::optional<std::string> MapReader::opt_str(const std::string& key) {
  YAML::Node n = get(key);
  if (!n || n.IsNull()) return std::nullopt;
  return as_string(file_, n, what_ + "." + key);
}

double MapReader::num(const std::string& key) {
  return as_double(file_, required(key), what_ + "." + key);
}

std::optional<double> MapReader::opt_num(const std::string& key) {
  YAML::Node n = get(key);
  if (!n || n.IsNull()) return std::nullopt;
  return as_double(file_, n, what_ + "." + key);
}

long long MapReader::integer(const std::string& key) {
  return as_int(file_, required(key), what_ + "." + key);
}

std::optional<long long> MapReader::opt_int(const std::string& key) {
  YAML::Node n = get(key);
  if (!n || n.IsNull()) return std::nullopt;
  return as_int(file_, n, what_ + "." + key);
}

std::optional<bool> MapReader::opt_bool(const std::string& key) {
  YAML::Node n = get(key);
  if (!n || n.IsNull()) return std::nullopt;
  return as_bool(file_, n, what_ + "." + key);
}

void MapReader::finish() const {
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!used_.count(key)) fail(file_, kv.first, what_ + ": unknown key '" + key + "'");
  }
}

}  // namespace hetmap::detail
