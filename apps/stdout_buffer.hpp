#pragma once
// Standard output that remembers why a write failed (docs/design.md, "Output files").
#include <array>
#include <streambuf>

namespace hetmap::cli {

/// std::cout's buffer for the whole run: writes to a file descriptor and keeps the reason
/// (errno) of the first write that failed, so that a result printed to a full disk (`> file`
/// on ENOSPC, /dev/full) or to a closed pipe (with SIGPIPE ignored) ends in an error saying
/// why rather than a silent success. C's stdout cannot tell: its error flag keeps no errno,
/// and the errno of a write that failed midway is overwritten long before the end. Output
/// after a failure is dropped. hetmap writes its standard output through std::cout alone.
class StdoutBuffer : public std::streambuf {
 public:
  explicit StdoutBuffer(int fd);
  StdoutBuffer(const StdoutBuffer&) = delete;
  StdoutBuffer& operator=(const StdoutBuffer&) = delete;

  /// The errno of the first failed write; 0 if none failed.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override;
  int sync() override;

 private:
  bool drain();  // writes the buffered bytes; false once a write failed

  int fd_;
  int error_ = 0;
  std::array<char, 8192> buffer_{};
};

}  // namespace hetmap::cli
