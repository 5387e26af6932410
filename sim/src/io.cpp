#include "hetmap/detail/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hetmap/error.hpp"

namespace hetmap::detail {

void check_utf8(const std::string& text, const std::string& file) {
  int line = 1;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == '\n') ++line;
      ++i;
      continue;
    }
    // Lead byte: the sequence length and the smallest value it may encode (no overlong forms).
    int len = 0;
    std::uint32_t cp = 0, min = 0;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok)
      throw InputError(file, line, fmt::format("invalid UTF-8 (byte 0x{:02X}): expected UTF-8 text", c));
    i += static_cast<std::size_t>(len);
  }
}

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  if (fs::is_directory(path)) throw InputError(path, 0, "is a folder, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, std::string("cannot open file: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// A name beside `path` no other writer uses: this process's id and a number unique in it
// (sweep points are written by parallel threads).
std::string sibling(const std::string& path, const char* what) {
  static std::atomic<unsigned long> counter{0};
  return path + what + std::to_string(::getpid()) + "." + std::to_string(++counter);
}

bool exists_here(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

void remove_quietly(const std::string& path) noexcept {
  if (!path.empty()) std::remove(path.c_str());
}

void check_not_folder(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, 0, "is a folder, expected a file");
}

// Writes `text` into `temp`, a new file (staging `target`); an Error naming `target`, the
// temporary file, what failed and why (a full disk: ENOSPC) otherwise, with nothing left behind.
// POSIX calls rather than an ofstream: a failed write sets errno there, and close() reports the
// errors of writes the kernel deferred (NFS).
void write_new_file(const std::string& target, const std::string& temp, const std::string& text) {
  auto fail = [&](const char* what, int err) {
    remove_quietly(temp);
    throw Error(target, 0, fmt::format("cannot {} {}: {}", what, temp, std::strerror(err)), kOtherError);
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    throw Error(target, 0, fmt::format("cannot create the temporary file {}: {}", temp, std::strerror(err)),
                kOtherError);
  }
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      fail("write", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("write (on close)", errno);
}

}  // namespace

OutputSet::~OutputSet() { discard(); }

void OutputSet::discard() noexcept {
  for (const Entry& e : entries_) remove_quietly(e.temp);
  entries_.clear();
  index_.clear();
}

void OutputSet::write(const std::string& path, const std::string& text) {
  check_not_folder(path);
  const fs::path target(path);
  if (target.has_parent_path()) create_folder(target.parent_path().string());
  const std::string temp = sibling(path, ".tmp.");
  write_new_file(path, temp, text);
  const auto [it, added] = index_.emplace(fs::path(path).lexically_normal().string(), entries_.size());
  if (added) {
    entries_.push_back({path, temp});
  } else {
    remove_quietly(entries_[it->second].temp);
    entries_[it->second].temp = temp;
  }
}

void OutputSet::remove(const std::string& path) {
  const auto [it, added] = index_.emplace(fs::path(path).lexically_normal().string(), entries_.size());
  if (added) {
    entries_.push_back({path, ""});
  } else {
    remove_quietly(entries_[it->second].temp);
    entries_[it->second].temp.clear();
  }
}

void OutputSet::commit() {
  // kept[i]: where entry i's previous file is kept until the end ("" when there was none).
  std::vector<std::string> kept(entries_.size());
  std::size_t done = 0;  // entries already put in place
  try {
    // 1. Keep every previous version before anything changes: a hard link (a copy where the
    //    filesystem has none) of each file to replace; a file to remove is moved aside in 2.
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      check_not_folder(e.target);
      if (!exists_here(e.target)) continue;
      kept[i] = sibling(e.target, ".old.");
      if (e.temp.empty()) continue;
      std::error_code ec;
      fs::create_hard_link(e.target, kept[i], ec);
      if (ec) fs::copy_file(e.target, kept[i], ec);
      if (ec) {
        const std::string why = "cannot keep the previous version (as " + kept[i] + ") while replacing it: " +
                                ec.message();
        kept[i].clear();
        throw Error(e.target, 0, why, kOtherError);
      }
    }
    // 2. Every file into place.
    for (; done < entries_.size(); ++done) {
      const Entry& e = entries_[done];
      std::error_code ec;
      if (!e.temp.empty()) {
        fs::rename(e.temp, e.target, ec);
        if (ec)
          throw Error(e.target, 0, "cannot rename into place from " + e.temp + ": " + ec.message(), kOtherError);
      } else if (!kept[done].empty()) {
        fs::rename(e.target, kept[done], ec);
        if (ec)
          throw Error(e.target, 0, "cannot remove (move aside to " + kept[done] + "): " + ec.message(),
                      kOtherError);
      }
    }
  } catch (...) {
    // Back as it was: the entries put in place get their previous version back (or go, where
    // they had none), then the temporary files and kept versions go.
    for (std::size_t i = done; i-- > 0;) {
      std::error_code ec;
      if (!kept[i].empty()) fs::rename(kept[i], entries_[i].target, ec);
      else if (!entries_[i].temp.empty()) fs::remove(entries_[i].target, ec);
      kept[i].clear();
    }
    for (std::size_t i = done; i < entries_.size(); ++i) {
      if (!entries_[i].temp.empty()) remove_quietly(kept[i]);  // a link: the file itself stays
      remove_quietly(entries_[i].temp);
    }
    entries_.clear();
    index_.clear();
    throw;
  }
  for (const std::string& k : kept) remove_quietly(k);
  entries_.clear();
  index_.clear();
}

void create_folder(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir, 0, "cannot create the folder: " + ec.message(), kOtherError);
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) throw Error(path, 0, "cannot remove: " + ec.message(), kOtherError);
}

void write_file_atomic(const std::string& path, const std::string& text) {
  OutputSet out;
  out.write(path, text);
  out.commit();
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
