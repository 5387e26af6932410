#pragma once
// Plain-text helpers shared by hetmap's readers. Internal to hetmap.
#include <string>
#include <vector>

namespace hetmap::detail {

/// The parts of `text` between each `separator`, as written (not trimmed): "a,,b" gives
/// {"a", "", "b"}; "" gives none.
inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  out.emplace_back();
  for (char c : text) {
    if (c == separator) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

}  // namespace hetmap::detail
