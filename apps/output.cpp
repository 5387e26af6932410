#include "output.hpp"

#include <cstdio>

#include "hetmap/detail/io.hpp"

namespace hetmap::cli {

void write_all_or_none(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> written;
  try {
    for (const auto& [path, text] : files) {
      if (path.empty()) continue;
      detail::write_file_atomic(path, text);
      written.push_back(path);
    }
  } catch (...) {
    for (const std::string& path : written) std::remove(path.c_str());
    throw;
  }
}

}  // namespace hetmap::cli
