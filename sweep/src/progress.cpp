#include "hetmap/sweep/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace hetmap::sweep {

ProgressBar::ProgressBar(int total, bool enabled)
    : total_(total), enabled_(enabled && ::isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {
  if (enabled_) draw();
}

void ProgressBar::tick() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  if (enabled_) draw();
}

void ProgressBar::draw() {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const int width = 30;
  const int filled = total_ > 0 ? done_ * width / total_ : width;
  std::string eta = "--";
  if (rate > 0 && done_ < total_) eta = fmt::format("{:.0f}s", (total_ - done_) / rate);
  std::fprintf(stderr, "\r[%s%s] %d/%d points  %.2f points/s  %s left ",
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done_,
               total_, rate, eta.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_) std::fprintf(stderr, "\n");
}

}  // namespace hetmap::sweep
