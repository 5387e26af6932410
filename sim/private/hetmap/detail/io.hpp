#pragma once
// File input and output shared by loaders and writers. Internal to hetmap.
#include <string>

namespace hetmap::detail {

/// The whole file; a file that cannot be read is an InputError naming it.
std::string read_file(const std::string& path);

/// Writes `text` to `path` atomically: a temporary file in the same folder, then rename, so a
/// reader never sees half a file and a killed run leaves the old file intact.
void write_file_atomic(const std::string& path, const std::string& text);

/// Checks, before any work starts, that the output folder `dir` (given as `option`, e.g.
/// "--out") is a writable folder or can be created: an InputError (exit 2) naming it and why
/// otherwise, instead of a filesystem error after the whole run.
void check_output_dir(const std::string& dir, const std::string& option);

/// The same for an output file (its folder is created when written): not a folder, and its
/// folder writable or creatable. "" and "-" (stdout) pass.
void check_output_file(const std::string& path, const std::string& option);

}  // namespace hetmap::detail
