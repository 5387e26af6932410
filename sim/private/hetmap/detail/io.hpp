#pragma once
// File input and output shared by loaders and writers. Internal to hetmap.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace hetmap::detail {

/// The whole file; a file that cannot be read is an InputError naming it.
std::string read_file(const std::string& path);

/// Throws InputError naming `file` and the line of the first byte sequence that is not UTF-8
/// (docs/formats.md): names end up in JSON and CSV outputs, which must be valid text.
void check_utf8(const std::string& text, const std::string& file);

/// The output files of one command, written all or none (docs/design.md, "Output files").
/// write() stages each file's text in a temporary file beside its target (creating its
/// folder), remove() marks a stale file for removal; commit() then puts every staged file in
/// place by rename and removes the marked ones. If staging or committing fails, or the set is
/// destroyed without commit(), every temporary file is removed and every file that existed is
/// left as it was: a commit that fails midway puts back the files it had already replaced
/// (it keeps a hard link, or a copy, of each until it is done). A reader never sees half a file.
///
/// The limit: the renames are one filesystem operation each, not one for the set, so a process
/// killed (or a machine that stops) during commit() leaves the files renamed so far new and the
/// others old, plus the leftover temporary files (`NAME.tmp.PID.N`) and kept versions
/// (`NAME.old.PID.N`) beside them.
///
/// A target that is a folder is an InputError (exit 2); any other failure to write is an Error
/// with exit code 1; both name the file, and an Error also what failed (creating the folder or
/// the temporary file, writing it, renaming it into place) and why (strerror: "No space left
/// on device").
class OutputSet {
 public:
  OutputSet() = default;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  ~OutputSet();

  /// Stages `text` as the new content of `path` (a later write() or remove() of the same path
  /// replaces this one).
  void write(const std::string& path, const std::string& text);
  /// Marks `path` for removal at commit() (nothing happens if it does not exist then).
  void remove(const std::string& path);
  /// Puts every staged file in place; all or none (see above). The set is empty afterwards.
  void commit();
  /// Drops everything staged, leaving every file as it was.
  void discard() noexcept;

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string target;
    std::string temp;  // "" for a removal
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> index_;  // target (lexically normal) -> entry
};

/// Creates the folder `dir` and its parents if missing; an Error (exit 1) naming it and why
/// otherwise (a file in the way: "Not a directory").
void create_folder(const std::string& dir);

/// Removes `path` and everything under it, if it exists; an Error (exit 1) naming it and why
/// otherwise.
void remove_tree(const std::string& path);

/// Writes `text` to `path` atomically: an OutputSet of one file.
void write_file_atomic(const std::string& path, const std::string& text);

/// Checks, before any work starts, that the output folder `dir` (given as `option`, e.g.
/// "--out") is a writable folder or can be created: an InputError (exit 2) naming it and why
/// otherwise, instead of a filesystem error after the whole run.
void check_output_dir(const std::string& dir, const std::string& option);

/// The same for an output file (its folder is created when written): not a folder, and its
/// folder writable or creatable. "" and "-" (stdout) pass.
void check_output_file(const std::string& path, const std::string& option);

}  // namespace hetmap::detail
