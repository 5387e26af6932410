#pragma once
// Strict text-to-number and text-to-boolean conversion shared by every reader (YAML, CSV,
// experiment files and grids, constraints, command-line flags). Internal to hetmap.
#include <optional>
#include <string>

namespace hetmap::detail {

/// `text` as a finite number, or nothing if any of it is not part of one ("3x"), it is empty,
/// or it is out of range, inf or nan.
std::optional<double> parse_number(const std::string& text);

/// `text` as an integer, or nothing if any of it is not part of one ("3.5") or it does not fit
/// in a long long.
std::optional<long long> parse_integer(const std::string& text);

/// The shortest text that parse_number reads back as the same double ("1800", "0.1", "1e-05");
/// "" for inf and nan (an empty cell: no value).
std::string number_text(double value);
/// `text` as a boolean: exactly `true` or `false`, nothing else (docs/formats.md, "Booleans").
/// The one rule for every boolean hetmap reads: model and mapping YAML, experiment keys, the
/// exit trace's cells and command-line flags. yaml-cpp's own as<bool>() would also take y, n,
/// yes, no, on, off and their capitalised forms: one spelling per value keeps files greppable
/// and a typo (`ture`, `no` meant as a name) an error.
std::optional<bool> parse_bool(const std::string& text);

}  // namespace hetmap::detail
