#include "hetmap/detail/number.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <stdexcept>

namespace hetmap::detail {

namespace {
// std::stod and std::stoll skip leading blanks; a number is the whole text, nothing around it.
bool starts_blank(const std::string& text) {
  return !text.empty() && std::isspace(static_cast<unsigned char>(text.front()));
}
}  // namespace

std::optional<double> parse_number(const std::string& text) {
  if (starts_blank(text)) return std::nullopt;
  std::size_t used = 0;
  double v = 0.0;
  try {
    v = std::stod(text, &used);
  } catch (const std::logic_error&) {  // invalid_argument, out_of_range
    return std::nullopt;
  }
  if (used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<long long> parse_integer(const std::string& text) {
  if (starts_blank(text)) return std::nullopt;
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return v;
}

std::string number_text(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : std::string();
}

std::string out_of_range(double value, const Quantity& q) {
  if (value >= q.lo && value <= q.hi) return "";
  const std::string unit = *q.unit ? std::string(" ") + q.unit : std::string();
  if (q.hi == kUnbounded) return fmt::format("expected >= {:g}{}, got {}", q.lo, unit, value);
  return fmt::format("expected {:g}..{:g}{}, got {}", q.lo, q.hi, unit, value);
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

}  // namespace hetmap::detail
