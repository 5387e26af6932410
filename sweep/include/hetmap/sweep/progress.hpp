#pragma once
// A progress bar on stderr: points done, rate and time left. Silent when stderr is not a
// terminal (logs and CI stay clean).
#include <chrono>
#include <mutex>
#include <string>

namespace hetmap::sweep {

class ProgressBar {
 public:
  ProgressBar(int total, bool enabled);
  /// One more item done (thread-safe).
  void tick();
  /// Ends the line.
  void finish();

 private:
  void draw();
  int total_, done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
};

}  // namespace hetmap::sweep
