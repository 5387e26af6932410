#include "hetmap/detail/io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hetmap/error.hpp"

namespace hetmap::detail {

std::string read_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw InputError(path, 0, "is a folder, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, std::string("cannot open file: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path, 0, std::string("cannot write: ") + std::strerror(errno), kOtherError);
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error(path, 0, "write failed", kOtherError);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(path, 0, "cannot rename into place: " + ec.message(), kOtherError);
  }
}

void check_output_dir(const std::string& dir, const std::string& option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p = dir.empty() ? fs::path(".") : fs::path(dir);
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec)) throw InputError(dir, 0, option + ": exists and is not a folder");
    if (::access(p.c_str(), W_OK | X_OK) != 0)
      throw InputError(dir, 0, option + ": the folder is not writable (" + std::strerror(errno) + ")");
    return;
  }
  // It will be created: its nearest existing ancestor must be a folder this process may write.
  fs::path a = fs::absolute(p, ec).parent_path();
  while (!a.empty() && a != a.root_path() && !fs::exists(a, ec)) a = a.parent_path();
  if (!fs::is_directory(a, ec))
    throw InputError(dir, 0, option + ": cannot be created: " + a.string() + " is not a folder");
  if (::access(a.c_str(), W_OK | X_OK) != 0)
    throw InputError(dir, 0, option + ": cannot be created in " + a.string() + " (" +
                                 std::strerror(errno) + ")");
}

void check_output_file(const std::string& path, const std::string& option) {
  namespace fs = std::filesystem;
  if (path.empty() || path == "-") return;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, 0, option + ": is a folder, expected a file");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && fs::exists(parent, ec) && !fs::is_directory(parent, ec))
    throw InputError(path, 0, option + ": cannot be created: " + parent.string() + " is not a folder");
  check_output_dir(parent.empty() ? "." : parent.string(), option);
}

}  // namespace hetmap::detail
