// hetmap: map early-exit DNNs onto heterogeneous processors. Parsing and printing only
// (cli.cpp); the work happens in the libraries.
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  return hetmap::cli::run(std::vector<std::string>(argv + 1, argv + argc));
}
