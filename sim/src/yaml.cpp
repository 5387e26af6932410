#include "hetmap/detail/yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <vector>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"

namespace hetmap::detail {

namespace {

constexpr std::uint32_t kNone = 0x110000;  // above every code point

// The control character that starts at p[i] of a UTF-8 text of n bytes: C0, DEL, or C1 (which
// UTF-8 writes as 0xC2 0x80..0x9F); kNone if p[i] starts another character.
std::uint32_t control_at(const unsigned char* p, std::size_t i, std::size_t n) {
  const unsigned char c = p[i];
  if (c < 0x20 || c == 0x7F) return c;
  if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) return p[i + 1];
  return kNone;
}

// The first character of `s` that has no place in a string: a control character other than
// line feed (tab and carriage return included); kNone if none. `s` is valid UTF-8.
std::uint32_t first_control(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::uint32_t c = control_at(p, i, s.size());
    if (c != kNone && c != '\n') return c;
  }
  return kNone;
}

// What the documents of a YAML text hold, from yaml-cpp's parser events (no nodes built): where
// each starts, and whether it is empty (one null node: an empty document or a trailing '---').
//
// It also guards against a defect of yaml-cpp 0.7 (Debian 12): a token no node can start with
// at the top of a document (a ',' outside brackets: ", a", "[a], b", "- a\n,") is left
// unconsumed, and the parser returns an empty document without moving on, for ever:
// YAML::LoadAll never returns, filling memory with empty documents. A document that starts
// where the one before it started is that token; the scan stops there.
class DocumentScan : public YAML::EventHandler {
 public:
  struct Document {
    YAML::Mark start;
    bool empty = true;
    YAML::Mark value;  // where its first node that is not null starts (when not empty)
  };
  std::vector<Document> documents;
  // No scalar, key or value, holds a control character but line feed (docs/formats.md, "Text"):
  // check_yaml_characters lets tab through, where YAML puts it between tokens, and YAML's
  // escapes ("\r", "\e", "\0") can put any control character in a string (a name read as
  // "p\r" was written back as text that read as another name). The first such character and
  // where its scalar starts; kNone: none. Seen per event, so an alias is checked once, however
  // often it is used.
  std::uint32_t control = kNone;
  YAML::Mark control_at;
  bool stuck() const {
    const std::size_t n = documents.size();
    return n >= 2 && documents[n - 1].start.pos == documents[n - 2].start.pos;
  }

  void OnDocumentStart(const YAML::Mark& mark) override { documents.push_back({mark, true, mark}); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { content(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string& value) override {
    content(mark);
    if (control == kNone) {
      control = first_control(value);
      control_at = mark;
    }
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnMapEnd() override {}

 private:
  void content(const YAML::Mark& mark) {
    Document& d = documents.back();
    if (d.empty) d.value = mark;
    d.empty = false;
  }
};

// YAML text holds printable characters only, with tab, line feed and carriage return (YAML 1.2,
// c-printable): no other C0 or C1 control character, DEL, U+FFFE or U+FFFF. yaml-cpp 0.7 does
// not refuse them, and mangles some: it reads a NUL byte followed by '_' as the lone byte 0xA0,
// so a name came out as invalid UTF-8. Line ends are LF or CR LF only: yaml-cpp 0.7 keeps a lone
// carriage return inside a plain scalar (`name: p\r` named "p\r"), where 0.8 and YAML 1.2 end
// the line, so the same file would read differently by the yaml-cpp it was built with. `text`
// is valid UTF-8 (check_utf8).
void check_yaml_characters(const std::string& text, const std::string& file) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  int line = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    std::uint32_t bad = kNone;
    if (c == '\r' && (i + 1 == n || p[i + 1] != '\n'))
      throw InputError(file, line,
                       "invalid YAML: a carriage return without a line feed (line ends are LF or CR LF)");
    // NEL, LS and PS: line breaks to YAML 1.1, text to 1.2; yaml-cpp's versions differ too.
    const bool nel = c == 0xC2 && i + 1 < n && p[i + 1] == 0x85;
    const bool ls_ps = c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9);
    if (nel || ls_ps)
      throw InputError(file, line,
                       fmt::format("invalid YAML: character U+{:04X} (a line break to YAML 1.1, text "
                                   "to YAML 1.2: line ends are LF or CR LF)",
                                   nel ? 0x85u : 0x2000u | (p[i + 2] & 0x3Fu)));
    if (c == '\n') ++line;
    else if (c != '\t' && c != '\r') bad = control_at(p, i, n);
    if (c == 0xEF && i + 2 < n && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
      bad = 0xFFC0u | (p[i + 2] & 0x3Fu);
    if (bad != kNone)
      throw InputError(file, line,
                       fmt::format("invalid YAML: character U+{:04X} (YAML text holds printable "
                                   "characters, tab, line feed and carriage return)",
                                   bad));
  }
}

// "unexpected ','": the character a stuck document starts at, where it is plain text.
std::string unexpected_at(const std::string& text, const YAML::Mark& mark) {
  if (mark.pos >= 0 && static_cast<std::size_t>(mark.pos) < text.size()) {
    const char c = text[static_cast<std::size_t>(mark.pos)];
    if (c > ' ' && c < 127) return std::string("unexpected '") + c + "'";
  }
  return "unexpected text";
}

}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  check_yaml_characters(text, file);
  try {
    // First the events, to know the documents (and to stop on yaml-cpp's endless loop), then
    // the first document's nodes.
    DocumentScan scan;
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(scan))
      if (scan.stuck())
        throw InputError(file, scan.documents.back().start.line + 1,
                         "invalid YAML: " + unexpected_at(text, scan.documents.back().start) +
                             " (a ',' outside brackets, or text after the document's value)");
    // hetmap's files are one document each: a second one would otherwise be silently ignored.
    // An empty document (a trailing '---') says nothing and is allowed.
    for (std::size_t i = 1; i < scan.documents.size(); ++i)
      if (!scan.documents[i].empty)
        throw InputError(file, scan.documents[i].value.line + 1,
                         "a second YAML document: expected one document per file (remove the '---')");
    if (scan.control != kNone)
      throw InputError(file, scan.control_at.line + 1,
                       fmt::format("character U+{:04X} in a string: a string holds no control "
                                   "character but line feed (no tab, carriage return, escape or "
                                   "NUL, typed or escaped)",
                                   scan.control));
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "invalid YAML: " + e.msg);
  }
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
