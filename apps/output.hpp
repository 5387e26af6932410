#pragma once
// Writing a command's result files: all of them or none (docs/design.md, "Output files").
#include <string>
#include <utility>
#include <vector>

namespace hetmap::cli {

/// Writes each (path, text) through one detail::OutputSet: every file is replaced, or none is
/// and every existing file stays as it was. Entries with an empty path are skipped.
void write_all_or_none(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace hetmap::cli
