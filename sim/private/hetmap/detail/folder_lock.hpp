#pragma once
// One run at a time per output folder (docs/design.md, "Output files"). Internal to hetmap.
#include <string>
#include <vector>

namespace hetmap::detail {

/// The name of the lock file inside every locked folder.
inline constexpr const char* kLockFileName = ".hetmap.lock";

/// An exclusive lock on an output folder for as long as the object lives. Every verb that
/// writes into a folder (sweep, explore, profile, validate, plot) holds one for its whole run:
/// a second run into the same folder is refused at once, instead of mixing its files with the
/// first's or (a fresh sweep) deleting the points the first has finished.
///
/// The folder is created if needed; the lock is flock(2) on `DIR/.hetmap.lock`, which holds
/// the holder's process id for the message (the lock decides, not the id). The kernel drops
/// the lock when the process ends however it ends, so the folder of a killed run can be resumed
/// at once; the killed run's lock file stays and the next run reuses it. When the object is
/// destroyed (the run ended, well or with an error) the lock file is removed, and so are the
/// folders this lock created if they are still empty: the folder then holds outputs only.
///
/// Held by another run (of this process or another): an InputError (exit 2),
/// `DIR: in use by another hetmap run (pid N); ...`. A folder that cannot be created or
/// locked: an Error (exit 1) naming the path, what failed and why.
class FolderLock {
 public:
  /// Locks `dir` ("" is the current folder); `option` (e.g. "--out") names it in the message.
  FolderLock(const std::string& dir, const std::string& option);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// The lock file.
  const std::string& file() const { return file_; }

 private:
  void remove_created() noexcept;

  std::string dir_, file_;
  std::vector<std::string> created_;  // folders created for the lock, outermost first
  int fd_ = -1;
};

}  // namespace hetmap::detail
