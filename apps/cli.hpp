#pragma once
// The whole `hetmap` command line in-process: main() is run() on argv, and the CLI fuzzer
// (tests/fuzz/fuzz_cli.cpp) calls it on generated arguments.
#include <string>
#include <vector>

namespace hetmap::cli {

/// What run() does with an exception that is neither a hetmap::Error nor a command-line error.
enum class Unexpected {
  report,   // print `hetmap: error: WHAT` and return exit code 1 (the program)
  rethrow,  // let it propagate (the fuzzer: every such exception is a defect to find)
};

/// Parses `args` (the arguments after the program name), runs the verb they name and returns
/// the exit code (README, "Exit codes"); errors are printed on stderr as `hetmap: error: ...`.
int run(const std::vector<std::string>& args, Unexpected unexpected = Unexpected::report);

}  // namespace hetmap::cli
