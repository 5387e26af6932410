#pragma once
// Writing a command's result files: all of them or none (docs/design.md: nothing is written on
// error).
#include <string>
#include <utility>
#include <vector>

namespace hetmap::cli {

/// Writes each (path, text) atomically; if one fails, removes the ones already written and
/// rethrows. Entries with an empty path are skipped.
void write_all_or_none(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace hetmap::cli
