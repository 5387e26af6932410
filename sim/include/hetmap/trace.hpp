#pragma once
// Exit trace: per input sample, each exit's confidence and correctness (docs/formats.md).
#include <string>
#include <vector>

#include "hetmap/model.hpp"

namespace hetmap {

struct ExitTrace {
  std::string file;
  int samples = 0;
  /// Indexed [exit][sample], exits in Model::exits order.
  std::vector<std::vector<float>> conf;
  std::vector<std::vector<unsigned char>> ok;
  std::vector<unsigned char> final_ok;
};

ExitTrace load_trace(const std::string& path, const Model& model);

}  // namespace hetmap
