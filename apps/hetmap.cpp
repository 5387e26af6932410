// hetmap: map early-exit DNNs onto heterogeneous processors. Parsing and printing only
// (cli.cpp); the work happens in the libraries.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "hetmap/error.hpp"
#include "stdout_buffer.hpp"

int main(int argc, char** argv) {
  // Standard output through a buffer that keeps why a write failed (stdout_buffer.hpp): a
  // result that could not be printed is an error (exit 1), not a success.
  hetmap::cli::StdoutBuffer out(STDOUT_FILENO);
  std::streambuf* const previous = std::cout.rdbuf(&out);
  if (::isatty(STDOUT_FILENO)) std::cout.setf(std::ios::unitbuf);  // a terminal sees lines at once
  int rc = hetmap::cli::run(std::vector<std::string>(argv + 1, argv + argc));
  std::cout.flush();
  std::cout.rdbuf(previous);
  if (out.error() != 0) {
    std::cerr << "hetmap: error: standard output: write failed: " << std::strerror(out.error()) << "\n";
    if (rc == hetmap::kOk) rc = hetmap::kOtherError;
  }
  return rc;
}
