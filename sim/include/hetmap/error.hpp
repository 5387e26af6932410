#pragma once
// Errors hetmap reports to its users. Every message names the file and, where known, the line:
// the CLI prints `hetmap: error: FILE:LINE: what was expected` and exits with `exit_code()`.
#include <stdexcept>
#include <string>

namespace hetmap {

enum ExitCode : int { kOk = 0, kOtherError = 1, kBadInput = 2, kInfeasible = 3 };

class Error : public std::runtime_error {
 public:
  Error(std::string file, int line, const std::string& message, ExitCode code)
      : std::runtime_error(format(file, line, message)),
        file_(std::move(file)), line_(line), code_(code) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when unknown
  ExitCode exit_code() const { return code_; }

 private:
  static std::string format(const std::string& file, int line, const std::string& message) {
    if (file.empty()) return message;
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ": " + message;
  }
  std::string file_;
  int line_;
  ExitCode code_;
};

/// Malformed or inconsistent input (exit code 2).
class InputError : public Error {
 public:
  InputError(std::string file, int line, const std::string& message)
      : Error(std::move(file), line, message, kBadInput) {}
};

/// A mapping that puts a layer where no profile lets it run (exit code 3).
class InfeasibleError : public Error {
 public:
  InfeasibleError(std::string file, int line, const std::string& message)
      : Error(std::move(file), line, message, kInfeasible) {}
};

}  // namespace hetmap
