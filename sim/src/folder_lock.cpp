#include "hetmap/detail/folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "hetmap/error.hpp"

namespace hetmap::detail {

// Why flock(2) and not Boost.Interprocess's file_lock (or fcntl record locks, which it uses on
// POSIX): a record lock belongs to the process, so a second lock taken by the same process
// succeeds (a test, or two folders that turn out to be one, would not see it), and closing
// *any* descriptor of the file in the process silently drops it. A flock belongs to the one
// open file description: it conflicts with every other open of the file, this process's
// included, and ends exactly when this descriptor closes or the process dies. Linux emulates
// flock with record locks on NFS, so ranks on several machines still see each other's.

namespace fs = std::filesystem;

namespace {

// The process id the holder wrote into the lock file, or "" if none can be read (it may be
// between taking the lock and writing its id).
std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  long pid = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9' && pid < 1000000000L; ++i)
    pid = pid * 10 + (buf[i] - '0');
  return pid > 0 ? std::to_string(pid) : "";
}

// True if the descriptor still refers to the file at `path` (its previous holder may have
// removed it between this process's open and flock).
bool still_at(int fd, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

FolderLock::FolderLock(const std::string& dir, const std::string& option)
    : dir_(dir.empty() ? "." : dir), file_((fs::path(dir_) / kLockFileName).string()) {
  std::error_code ec;
  fs::path start = fs::path(dir_).lexically_normal();
  if (!start.has_filename() && start.has_parent_path()) start = start.parent_path();  // "a/b/"
  for (fs::path a = start; !a.empty() && !fs::exists(fs::symlink_status(a, ec)); a = a.parent_path()) {
    created_.insert(created_.begin(), a.string());
    if (a == a.parent_path()) break;
  }
  fs::create_directories(dir_, ec);
  if (ec) {
    remove_created();
    throw Error(dir_, 0, option + ": cannot create the folder: " + ec.message(), kOtherError);
  }
  // The file at the path is the lock: a descriptor of a file its holder removed in the
  // meantime locks nothing anyone else sees, so open it again (bounded: each retry follows a
  // holder's removal, which takes a whole run).
  for (int attempt = 0; fd_ < 0; ++attempt) {
    const int fd = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      remove_created();
      throw Error(file_, 0, fmt::format("cannot open the lock file of {} {}: {}", option, dir_,
                                        std::strerror(err)),
                  kOtherError);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string pid = holder_of(fd);
      ::close(fd);
      remove_created();  // rmdir leaves alone a folder the holder has its lock file in
      if (err == EWOULDBLOCK)
        throw InputError(dir_, 0, fmt::format("in use by another hetmap run{}; wait for it to end "
                                              "or choose another {}",
                                              pid.empty() ? "" : " (pid " + pid + ")", option));
      throw Error(file_, 0, std::string("cannot lock: ") + std::strerror(err), kOtherError);
    }
    if (still_at(fd, file_)) {
      fd_ = fd;
    } else {
      ::close(fd);
      if (attempt == 100) {
        remove_created();
        throw Error(file_, 0, "cannot lock: the file keeps being replaced", kOtherError);
      }
    }
  }
  // The id for the message of a run refused while this one holds the folder; best effort.
  const std::string id = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd_, id.data(), id.size(), 0);
  }
}

FolderLock::~FolderLock() {
  // Removed while still held: a run that opened the file just before sees, once it has the
  // lock, that the file is gone from the path and opens the new one (still_at).
  ::unlink(file_.c_str());
  ::close(fd_);
  remove_created();
}

void FolderLock::remove_created() noexcept {
  // Innermost first; a folder with anything in it stays (rmdir refuses), and so do those above.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it)
    if (::rmdir(it->c_str()) != 0) break;
  created_.clear();
}

}  // namespace hetmap::detail
