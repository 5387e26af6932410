#pragma once
// A small CSV reader (RFC 4180 quoting, `#` comment lines) that keeps line numbers for error
// messages, and the one cell writer every CSV hetmap writes goes through. Hand-written: Debian
// ships no maintained C++ CSV library, and the formats here are flat tables of numbers and
// names. Internal to hetmap.
#include <optional>
#include <string>
#include <vector>

namespace hetmap::detail {

struct CsvTable {
  std::string file;
  std::vector<std::string> comments;  // text of `#` lines, without the '#'
  std::vector<std::string> header;
  int header_line = 0;
  struct Row {
    std::vector<std::string> cells;
    int line = 0;
  };
  std::vector<Row> rows;

  /// Column index of `name`, or -1.
  int column(const std::string& name) const;
  /// Column index of `name`; an InputError if the header lacks it.
  int require(const std::string& name) const;
  /// `source:` value from the comment lines, if any.
  std::optional<std::string> source() const;
};

/// Parses CSV text; rows must have as many cells as the header.
CsvTable parse_csv(const std::string& text, const std::string& file);

/// One cell as RFC 4180 writes it: as is, or quoted (quotes doubled) when it holds a comma, a
/// quote or a line break, starts with '#' or has blanks at either end, so that any name reads
/// back as written.
std::string csv_cell(const std::string& value);

/// Cell conversions that name the file, line and column on error.
double csv_double(const CsvTable& t, const CsvTable::Row& row, int col);
int csv_int(const CsvTable& t, const CsvTable::Row& row, int col);

}  // namespace hetmap::detail
