#include "fake_sysfs.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace hetmap::test {

namespace fs = std::filesystem;

backend::SysfsWriter FakeKernel::writer() {
  return [this](const std::string& path, const std::string& value) {
    writes.push_back(path.substr(root.size() + 1) + "=" + value);
    if (!refuse.empty() && path.find(refuse) != std::string::npos) return EACCES;
    if (!fs::is_regular_file(path)) return ENOENT;
    std::ofstream(path) << value;
    const fs::path p(path);
    const std::string file = p.filename().string();
    if (file == "scaling_setspeed") std::ofstream(p.parent_path() / "scaling_cur_freq") << value;
    if (file == "set_freq") std::ofstream(p.parent_path().parent_path() / "cur_freq") << value;
    if (file == "governor" && value == "userspace") {
      fs::create_directories(p.parent_path() / "userspace");
      std::ofstream(p.parent_path() / "userspace" / "set_freq") << "";
    }
    if (file == "min_freq") std::ofstream(p.parent_path() / "cur_freq") << value;
    return 0;
  };
}

std::vector<std::string> FakeKernel::values(const std::string& file) const {
  std::vector<std::string> out;
  for (const std::string& w : writes) {
    const auto eq = w.find('=');
    if (w.substr(0, eq).find(file) != std::string::npos) out.push_back(w.substr(eq + 1));
  }
  return out;
}

}  // namespace hetmap::test
