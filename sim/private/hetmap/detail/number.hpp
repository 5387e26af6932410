#pragma once
// Strict text-to-number conversion shared by every reader (YAML, CSV, experiment grids,
// constraints). Internal to hetmap.
#include <optional>
#include <string>

namespace hetmap::detail {

/// `text` as a finite number, or nothing if any of it is not part of one ("3x"), it is empty,
/// or it is out of range, inf or nan.
std::optional<double> parse_number(const std::string& text);

/// `text` as an integer, or nothing if any of it is not part of one ("3.5") or it does not fit
/// in a long long.
std::optional<long long> parse_integer(const std::string& text);

}  // namespace hetmap::detail
