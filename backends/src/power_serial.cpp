// External power meters (power.hpp): a line-based stream of timestamped power samples, as a
// USB power meter writes over a serial port. Offline, the energy between a start and a stop
// marker of a recorded file; live, a PowerMeter reading the lines as they arrive.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <istream>
#include <stdexcept>

#include <fmt/format.h>

#include "hetmap/backend/power.hpp"

namespace hetmap::backend {

namespace {

enum class LineKind { kBlank, kComment, kStart, kStop, kSample, kBad };

bool space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && space(s[a])) ++a;
  while (b > a && space(s[b - 1])) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A decimal number filling the whole field; `why` says what is wrong otherwise.
bool parse_number(const std::string& field, const char* what, double& value, std::string& why) {
  if (field.empty()) {
    why = fmt::format("missing {}", what);
    return false;
  }
  char* end = nullptr;
  value = std::strtod(field.c_str(), &end);
  if (end == field.c_str() || *end != '\0') {
    why = fmt::format("{} '{}' is not a number", what, field);
    return false;
  }
  if (!std::isfinite(value)) {
    why = fmt::format("{} '{}' is not finite", what, field);
    return false;
  }
  return true;
}

// One line of the stream (docs/validation.md, "Power on a board"): its kind, and for a sample
// its time and power; for kBad, why.
LineKind parse_line(const std::string& raw, double& t, double& w, std::string& why) {
  const std::string s = trim(raw);
  if (s.empty()) return LineKind::kBlank;
  if (s[0] == '#') {
    const std::string rest = lower(trim(s.substr(1)));
    if (rest == "start") return LineKind::kStart;
    if (rest == "stop") return LineKind::kStop;
    return LineKind::kComment;
  }
  const std::string word = lower(s);
  if (word == "start") return LineKind::kStart;
  if (word == "stop") return LineKind::kStop;
  // T,W or T W: split at the comma if there is one, else at the first run of blanks.
  std::string a, b;
  const std::size_t comma = s.find(',');
  if (comma != std::string::npos) {
    a = trim(s.substr(0, comma));
    b = trim(s.substr(comma + 1));
  } else {
    std::size_t i = 0;
    while (i < s.size() && !space(s[i])) ++i;
    a = s.substr(0, i);
    b = trim(s.substr(i));
  }
  if (b.find_first_of(", \t") != std::string::npos) {
    why = fmt::format("expected 'T_SECONDS,WATTS' or 'T_SECONDS WATTS', got '{}'", s);
    return LineKind::kBad;
  }
  if (!parse_number(a, "time", t, why) || !parse_number(b, "power", w, why)) {
    why += fmt::format(" in '{}' (expected 'T_SECONDS,WATTS' or 'T_SECONDS WATTS')", s);
    return LineKind::kBad;
  }
  if (w < 0.0) {
    why = fmt::format("negative power {} W in '{}'", b, s);
    return LineKind::kBad;
  }
  return LineKind::kSample;
}

class SerialMeter : public PowerMeter {
 public:
  SerialMeter(std::string path, int fd, bool char_device, std::vector<int> processors)
      : path_(std::move(path)), fd_(fd), char_device_(char_device),
        processors_(std::move(processors)) {}
  ~SerialMeter() override { ::close(fd_); }
  SerialMeter(const SerialMeter&) = delete;
  SerialMeter& operator=(const SerialMeter&) = delete;

  std::string name() const override { return "serial:" + path_; }
  const std::vector<int>& processors() const override { return processors_; }
  double energy_j() override {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n > 0) {
        pending_.append(buf, static_cast<std::size_t>(n));
        consume_lines();
        continue;
      }
      if (n == 0) break;  // end of a file, or a FIFO without a writer: nothing more for now
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(std::string("read: ") + std::strerror(errno));
    }
    return total_j_;
  }
  std::string method() const override {
    return "external meter's samples (T_SECONDS,WATTS lines) read from " + path_ +
           ", integrated over the meter's timestamps (trapezoids)";
  }
  double update_interval_s() const override { return interval_s_.load(); }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(name() + ": " + why);
  }

  void consume_lines() {
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
      line(pending_.substr(start, nl - start));
    pending_.erase(0, start);
    // A long run without a line end is not this format (a wrong baud rate gives noise).
    if (pending_.size() > 4096)
      fail(fmt::format("{}:{}: over 4096 bytes without a line end: not a sample stream (wrong "
                       "baud rate? set it with stty)",
                       path_, line_no_ + 1));
  }

  void line(const std::string& text) {
    ++line_no_;
    double t = 0.0, w = 0.0;
    std::string why;
    const LineKind kind = parse_line(text, t, w, why);
    if (kind == LineKind::kBad) {
      // The port may have been opened in the middle of a line.
      if (line_no_ == 1 && char_device_) return;
      fail(fmt::format("{}:{}: {}", path_, line_no_, why));
    }
    if (kind != LineKind::kSample) return;
    if (samples_ > 0) {
      if (t < last_t_)
        fail(fmt::format("{}:{}: time goes backwards ({} s after {} s)", path_, line_no_, t,
                         last_t_));
      total_j_ += 0.5 * (last_w_ + w) * (t - last_t_);
    } else {
      first_t_ = t;
    }
    ++samples_;
    last_t_ = t;
    last_w_ = w;
    if (samples_ > 1) interval_s_.store((last_t_ - first_t_) / static_cast<double>(samples_ - 1));
  }

  std::string path_;
  int fd_;
  bool char_device_;
  std::vector<int> processors_;
  std::string pending_;  // bytes after the last complete line
  std::size_t line_no_ = 0, samples_ = 0;
  double first_t_ = 0.0, last_t_ = 0.0, last_w_ = 0.0, total_j_ = 0.0;
  std::atomic<double> interval_s_{0.0};
};

}  // namespace

MarkedEnergy energy_between_markers(std::istream& in, const std::string& source) {
  MarkedEnergy out;
  std::string text, why;
  std::size_t line_no = 0, start_line = 0;
  bool started = false, stopped = false, any = false;
  double last_t = 0.0, last_w = 0.0, first_t = 0.0;
  while (std::getline(in, text)) {
    ++line_no;
    double t = 0.0, w = 0.0;
    switch (parse_line(text, t, w, why)) {
      case LineKind::kBlank:
      case LineKind::kComment:
        break;
      case LineKind::kBad:
        throw std::runtime_error(fmt::format("{}:{}: {}", source, line_no, why));
      case LineKind::kStart:
        if (started)
          throw std::runtime_error(fmt::format(
              "{}:{}: a second start marker (the first is at line {}, with no stop between)",
              source, line_no, start_line));
        started = true;
        start_line = line_no;
        break;
      case LineKind::kStop:
        if (!started)
          throw std::runtime_error(
              fmt::format("{}:{}: a stop marker before any start marker", source, line_no));
        stopped = true;
        break;
      case LineKind::kSample:
        if (any && t < last_t)
          throw std::runtime_error(fmt::format("{}:{}: time goes backwards ({} s after {} s)",
                                               source, line_no, t, last_t));
        if (started) {
          if (out.samples == 0) first_t = t;
          else out.joules += 0.5 * (last_w + w) * (t - last_t);
          ++out.samples;
        }
        any = true;
        last_t = t;
        last_w = w;
        break;
    }
    if (stopped) break;
  }
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error after line {}", source, line_no));
  if (!started)
    throw std::runtime_error(fmt::format("{}: no start marker ('# start' or 'START')", source));
  if (!stopped)
    throw std::runtime_error(fmt::format(
        "{}: the start marker at line {} has no stop marker ('# stop' or 'STOP') after it", source,
        start_line));
  if (out.samples < 2)
    throw std::runtime_error(fmt::format(
        "{}:{}: {} sample{} between the start marker (line {}) and the stop marker: at least 2 "
        "are needed",
        source, line_no, out.samples, out.samples == 1 ? "" : "s", start_line));
  out.seconds = last_t - first_t;
  return out;
}

MarkedEnergy energy_between_markers(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  return energy_between_markers(in, path);
}

std::unique_ptr<PowerMeter> make_serial_meter(const std::string& path, std::vector<int> processors,
                                              std::string& why_not) {
  why_not.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    why_not = fmt::format("serial: {}: {}{}", path, std::strerror(errno),
                          errno == EACCES ? " (serial ports usually need the dialout group)" : "");
    return nullptr;
  }
  struct stat st {};
  const bool char_device = ::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
  return std::make_unique<SerialMeter>(path, fd, char_device, std::move(processors));
}

}  // namespace hetmap::backend
