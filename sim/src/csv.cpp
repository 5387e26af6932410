#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "hetmap/detail/number.hpp"
#include "hetmap/error.hpp"

namespace hetmap::detail {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The cells of a line without quotes, text[begin, end): split at commas, each trimmed, as
// split_record reads it, without going through the text a character at a time.
std::vector<std::string> split_plain(const std::string& text, std::size_t begin, std::size_t end,
                                     std::size_t expected_cells) {
  std::vector<std::string> cells;
  cells.reserve(expected_cells);
  for (;;) {
    const void* at = std::memchr(text.data() + begin, ',', end - begin);
    const std::size_t comma = at ? static_cast<const char*>(at) - text.data() : end;
    std::size_t b = begin, e = comma;
    while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r')) ++b;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r')) --e;
    cells.emplace_back(text, b, e - b);
    if (comma == end) return cells;
    begin = comma + 1;
  }
}

// Splits one record starting at text[pos]; advances pos past its line end. Quoted fields may
// hold commas, doubled quotes and newlines (which advance `line`).
std::vector<std::string> split_record(const std::string& text, std::size_t& pos, int& line,
                                      const std::string& file, std::size_t expected_cells) {
  std::vector<std::string> cells;
  cells.reserve(expected_cells);
  std::string cell;
  bool quoted = false, was_quoted = false;
  const int start_line = line;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          cell += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
    } else if (c == '"' && trim(cell).empty()) {
      quoted = was_quoted = true;
      cell.clear();
    } else if (c == ',') {
      cells.push_back(was_quoted ? cell : trim(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\n') {
      ++pos;
      break;
    } else if (was_quoted && (c == ' ' || c == '\t' || c == '\r')) {
      // Blanks after a closing quote (and the CR of a CRLF line end) are not part of the cell.
    } else {
      cell += c;
    }
  }
  if (quoted) throw InputError(file, start_line, "unterminated quoted field");
  cells.push_back(was_quoted ? cell : trim(cell));
  return cells;
}

}  // namespace

int CsvTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

int CsvTable::require(const std::string& name) const {
  const int c = column(name);
  if (c < 0) throw InputError(file, header_line, "missing column '" + name + "'");
  return c;
}

std::optional<std::string> CsvTable::source() const {
  for (const std::string& c : comments) {
    const std::string t = trim(c);
    if (t.rfind("source:", 0) == 0) return trim(t.substr(7));
  }
  return std::nullopt;
}

CsvTable parse_csv(const std::string& text, const std::string& file) {
  check_utf8(text, file);
  CsvTable t;
  t.file = file;
  // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first column's name.
  std::size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  int line = 1;
  while (pos < text.size()) {
    const int this_line = line;
    // Blank and comment lines (looked at in place: most lines are neither).
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::size_t first = text.find_first_not_of(" \t\r", pos);
    if (first >= eol || text[first] == '#') {
      if (first < eol) t.comments.push_back(trim(text.substr(first, eol - first)).substr(1));
      pos = eol + 1;
      ++line;
      continue;
    }
    std::vector<std::string> cells;
    if (std::memchr(text.data() + pos, '"', eol - pos) == nullptr) {
      cells = split_plain(text, pos, eol, t.header.size());
      pos = eol + 1;
    } else {
      cells = split_record(text, pos, line, file, t.header.size());
    }
    ++line;
    if (t.header.empty()) {
      std::set<std::string> names;
      for (const std::string& h : cells)
        if (!names.insert(h).second)
          throw InputError(file, this_line, "duplicate column '" + h + "'");
      t.header = std::move(cells);
      t.header_line = this_line;
      continue;
    }
    if (cells.size() != t.header.size())
      throw InputError(file, this_line,
                       "expected " + std::to_string(t.header.size()) + " cells (" +
                           std::to_string(t.header.size()) + " columns), got " +
                           std::to_string(cells.size()));
    t.rows.push_back({std::move(cells), this_line});
  }
  if (t.header.empty()) throw InputError(file, 0, "empty CSV: expected a header line");
  return t;
}

double csv_double(const CsvTable& t, const CsvTable::Row& row, int col) {
  const std::string& s = row.cells[col];
  const std::optional<double> v = parse_number(s);
  if (!v)
    throw InputError(t.file, row.line,
                     "column '" + t.header[col] + "': expected a number, got '" + s + "'");
  return *v;
}

int csv_int(const CsvTable& t, const CsvTable::Row& row, int col) {
  const std::string& s = row.cells[col];
  const std::optional<long long> v = parse_integer(s);
  if (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())
    throw InputError(t.file, row.line,
                     "column '" + t.header[col] + "': expected an integer, got '" + s + "'");
  return static_cast<int>(*v);
}

std::string csv_cell(const std::string& value) {
  // Quoted also where the reader would otherwise change it: blanks at either end are trimmed
  // from an unquoted cell, and a line starting with '#' is a comment.
  const bool plain = value.find_first_of(",\"\r\n") == std::string::npos &&
                     (value.empty() || (value.front() != '#' && trim(value) == value));
  if (plain) return value;
  std::string q = "\"";
  for (char c : value) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace hetmap::detail
