#pragma once
// File input and output shared by loaders and writers. Internal to hetmap.
#include <string>

namespace hetmap::detail {

/// The whole file; a file that cannot be read is an InputError naming it.
std::string read_file(const std::string& path);

/// Writes `text` to `path` atomically: a temporary file in the same folder, then rename, so a
/// reader never sees half a file and a killed run leaves the old file intact.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace hetmap::detail
