#include "output.hpp"

#include "hetmap/detail/io.hpp"

namespace hetmap::cli {

void write_all_or_none(const std::vector<std::pair<std::string, std::string>>& files) {
  detail::OutputSet out;
  for (const auto& [path, text] : files)
    if (!path.empty()) out.write(path, text);
  out.commit();
}

}  // namespace hetmap::cli
