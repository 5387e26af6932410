// DVFS through Linux sysfs (dvfs.hpp, docs/dvfs.md): cpufreq policies and devfreq devices.
#include "hetmap/backend/dvfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sysfs.hpp"

namespace hetmap::backend {

namespace {

namespace fs = std::filesystem;

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

std::string must_read(const std::string& path, const char* needed_for) {
  std::string text;
  if (const int err = sysfs::read(path, text); err != 0)
    throw BackendError(fmt::format("{} cannot be read ({}): it is needed for {}", path,
                                   std::strerror(err), needed_for));
  return text;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

long long parse_number(const std::string& word, const std::string& path) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(word, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != word.size() || v < 0)
    throw BackendError(fmt::format("{}: '{}' is not a frequency", path, word));
  return v;
}

std::vector<long long> parse_numbers(const std::string& text, const std::string& path) {
  std::vector<long long> out;
  for (const auto& w : words(text)) out.push_back(parse_number(w, path));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// "0 1 2 3" (cpufreq) or "0-3,5" (the cpu list format), into core numbers.
std::vector<int> parse_cpu_list(const std::string& text, const std::string& path) {
  std::string spaced = text;
  std::replace(spaced.begin(), spaced.end(), ',', ' ');
  std::vector<int> out;
  for (const auto& w : words(spaced)) {
    const auto dash = w.find('-');
    const int lo = static_cast<int>(parse_number(w.substr(0, dash), path));
    const int hi = dash == std::string::npos ? lo
                                             : static_cast<int>(parse_number(w.substr(dash + 1), path));
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string join_mhz(const std::vector<double>& mhz) {
  std::string s;
  for (double f : mhz) s += (s.empty() ? "" : ", ") + fmt::format("{:g}", f);
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

bool contains(const std::vector<std::string>& v, const std::string& w) {
  return std::find(v.begin(), v.end(), w) != v.end();
}

int default_write(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int err = n < 0 ? errno : (static_cast<std::size_t>(n) != value.size() ? EIO : 0);
  if (::close(fd) != 0 && err == 0) return errno;
  return err;
}

std::string not_writable(const std::string& path, int err) {
  return fmt::format("{} is not writable ({}): run as root, or set the userspace governor "
                     "yourself and make this file writable for this user",
                     path, std::strerror(err));
}

void write_sysfs(const DvfsOptions& options, const std::string& path, const std::string& value) {
  const int err = options.writer ? options.writer(path, value) : default_write(path, value);
  if (err == 0) return;
  if (err == EACCES || err == EPERM || err == EROFS) throw BackendError(not_writable(path, err));
  if (err == ENOENT)
    throw BackendError(fmt::format("{} is absent: cannot write '{}' to it", path, value));
  throw BackendError(
      fmt::format("{}: writing '{}' failed ({})", path, value, std::strerror(err)));
}

// The index of the level equal to `mhz` (within half a unit of `unit_per_mhz`), or -1.
int level_index(const std::vector<long long>& levels, double mhz, double unit_per_mhz) {
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (std::fabs(static_cast<double>(levels[i]) - mhz * unit_per_mhz) < 0.5) return static_cast<int>(i);
  return -1;
}

// The index of the level nearest to `value` (the read-back check: a clock driver may report a
// rate a few units off the table's level).
std::size_t nearest_level(const std::vector<long long>& levels, long long value) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < levels.size(); ++i)
    if (std::llabs(levels[i] - value) < std::llabs(levels[best] - value)) best = i;
  return best;
}

std::vector<double> to_mhz(const std::vector<long long>& levels, double unit_per_mhz) {
  std::vector<double> out;
  for (long long v : levels) out.push_back(static_cast<double>(v) / unit_per_mhz);
  return out;
}

std::string cpu_dir(const std::string& root) { return root + "/devices/system/cpu"; }
std::string devfreq_dir(const std::string& root) { return root + "/class/devfreq"; }

std::string no_cpufreq(const std::string& root) {
  std::error_code ec;
  const std::string dir = cpu_dir(root) + "/cpufreq";
  return fmt::format("{} {}: this kernel exposes no cpufreq (a VM, or a kernel without "
                     "CONFIG_CPU_FREQ); CPU DVFS needs a board",
                     dir, fs::is_directory(dir, ec) ? "has no policies" : "is absent");
}

// The levels (kHz) of a policy folder: scaling_available_frequencies, else min and max.
std::vector<long long> read_policy_levels(const std::string& dir, bool& listed) {
  std::string text;
  const std::string avail = dir + "/scaling_available_frequencies";
  if (sysfs::read(avail, text) == 0 && !words(text).empty()) {
    listed = true;
    return parse_numbers(text, avail);
  }
  listed = false;
  std::vector<long long> levels = {
      parse_number(must_read(dir + "/cpuinfo_min_freq", "the frequency levels"), dir + "/cpuinfo_min_freq"),
      parse_number(must_read(dir + "/cpuinfo_max_freq", "the frequency levels"), dir + "/cpuinfo_max_freq")};
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  return levels;
}

CpuFreqPolicyInfo read_policy(const std::string& dir, const std::string& name,
                              std::vector<long long>* levels_khz = nullptr) {
  CpuFreqPolicyInfo info;
  info.name = name;
  info.path = dir;
  std::string text;
  if (sysfs::read(dir + "/related_cpus", text) == 0 && !words(text).empty())
    info.cores = parse_cpu_list(text, dir + "/related_cpus");
  else
    info.cores = parse_cpu_list(must_read(dir + "/affected_cpus", "the policy's cores"),
                                dir + "/affected_cpus");
  const auto khz = read_policy_levels(dir, info.levels_listed);
  info.levels_mhz = to_mhz(khz, 1000.0);
  if (levels_khz) *levels_khz = khz;
  info.governor = must_read(dir + "/scaling_governor", "the governor");
  if (sysfs::read(dir + "/scaling_available_governors", text) == 0) info.governors = words(text);
  return info;
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// (name, folder) of every policy: cpufreq/policyK, or on kernels without those, the cpuN/cpufreq
// folders (one per policy: the first core's).
std::vector<std::pair<std::string, std::string>> policy_dirs(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  const std::string shared = cpu_dir(root) + "/cpufreq";
  if (fs::is_directory(shared, ec)) {
    for (const auto& e : fs::directory_iterator(shared, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("policy", 0) == 0 && is_number(name.substr(6)))
        out.emplace_back(name, e.path().string());
    }
  }
  if (!out.empty()) return out;
  if (fs::is_directory(cpu_dir(root), ec)) {
    for (const auto& e : fs::directory_iterator(cpu_dir(root), ec)) {
      const std::string name = e.path().filename().string();
      const std::string dir = e.path().string() + "/cpufreq";
      if (name.rfind("cpu", 0) == 0 && is_number(name.substr(3)) && fs::is_directory(dir, ec))
        out.emplace_back(name, dir);
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Discovery

std::vector<CpuFreqPolicyInfo> list_cpufreq_policies(const std::string& root) {
  std::vector<CpuFreqPolicyInfo> out;
  for (const auto& [name, dir] : policy_dirs(root)) {
    auto info = read_policy(dir, name);
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const CpuFreqPolicyInfo& p) { return p.cores == info.cores; });
    if (!seen) out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const CpuFreqPolicyInfo& a, const CpuFreqPolicyInfo& b) {
    const int fa = a.cores.empty() ? -1 : a.cores.front(), fb = b.cores.empty() ? -1 : b.cores.front();
    return fa < fb;
  });
  return out;
}

namespace {

DevFreqInfo read_devfreq(const std::string& dir, const std::string& name,
                         std::vector<long long>* levels_hz = nullptr) {
  DevFreqInfo info;
  info.name = name;
  info.path = dir;
  const std::string avail = dir + "/available_frequencies";
  const auto hz = parse_numbers(must_read(avail, "the frequency levels"), avail);
  if (hz.empty()) throw BackendError(avail + " lists no frequencies: it is needed for the levels");
  info.levels_mhz = to_mhz(hz, 1e6);
  if (levels_hz) *levels_hz = hz;
  info.governor = must_read(dir + "/governor", "the governor");
  std::string text;
  if (sysfs::read(dir + "/available_governors", text) == 0) info.governors = words(text);
  return info;
}

}  // namespace

std::vector<DevFreqInfo> list_devfreq_devices(const std::string& root) {
  std::vector<DevFreqInfo> out;
  std::error_code ec;
  if (!fs::is_directory(devfreq_dir(root), ec)) return out;
  for (const auto& e : fs::directory_iterator(devfreq_dir(root), ec))
    out.push_back(read_devfreq(e.path().string(), e.path().filename().string()));
  std::sort(out.begin(), out.end(),
            [](const DevFreqInfo& a, const DevFreqInfo& b) { return a.name < b.name; });
  return out;
}

std::string find_gpu_devfreq(const std::string& root) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(devfreq_dir(root), ec)) return "";
  for (const auto& e : fs::directory_iterator(devfreq_dir(root), ec))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names)
    for (const char* key : {"gpu", "mali", "gv11b", "gp10b", "ga10b", "gk20a", "gm20b"})
      if (n.find(key) != std::string::npos) return n;
  return "";
}

std::string dvfs_unavailable_reason(const std::string& root) {
  try {
    const auto policies = list_cpufreq_policies(root);
    if (policies.empty()) return no_cpufreq(root);
    for (const auto& p : policies) {
      if (p.governor != "userspace" && !contains(p.governors, "userspace"))
        return fmt::format("{}/scaling_available_governors offers no userspace governor ({}): "
                           "CPU DVFS needs a kernel with CONFIG_CPU_FREQ_GOV_USERSPACE",
                           p.path, join(p.governors));
      const std::string file =
          p.path + (p.governor == "userspace" ? "/scaling_setspeed" : "/scaling_governor");
      if (::access(file.c_str(), W_OK) != 0) {
        const int err = errno;
        if (err == ENOENT) return file + " is absent: it is needed to set the frequency";
        return not_writable(file, err);
      }
    }
  } catch (const BackendError& e) {
    return e.what();
  }
  return "";
}

std::string devfreq_unavailable_reason(const std::string& name, const std::string& root) {
  try {
    DevFreqDomain domain(name, DvfsOptions{root, {}, true});
    const std::string dir = domain.info().path;
    std::vector<std::string> files;
    if (domain.uses_userspace()) {
      // userspace/set_freq appears only while the userspace governor runs.
      files.push_back(dir + (domain.info().governor == "userspace" ? "/userspace/set_freq" : "/governor"));
    } else {
      files = {dir + "/min_freq", dir + "/max_freq"};
    }
    for (const auto& file : files)
      if (::access(file.c_str(), W_OK) != 0) return not_writable(file, errno);
  } catch (const BackendError& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// CpuFreqDomain

namespace {

// The policy folder of `core`: cpuN/cpufreq (a link to cpufreq/policyK on current kernels, a
// folder of its own on old ones), else the cpufreq/policyK whose related_cpus holds it.
std::pair<std::string, std::string> find_policy(const std::string& root, int core) {
  std::error_code ec;
  const std::string link = fmt::format("{}/cpu{}/cpufreq", cpu_dir(root), core);
  if (fs::is_directory(link, ec)) {
    const fs::path real = fs::weakly_canonical(link, ec);
    const std::string name = real.filename() == "cpufreq" ? fmt::format("cpu{}", core)
                                                          : real.filename().string();
    return {name, ec ? link : real.string()};
  }
  for (const auto& [name, dir] : policy_dirs(root)) {
    std::string text;
    if ((sysfs::read(dir + "/related_cpus", text) == 0 && !words(text).empty()) ||
        sysfs::read(dir + "/affected_cpus", text) == 0) {
      const auto cores = parse_cpu_list(text, dir + "/related_cpus");
      if (std::find(cores.begin(), cores.end(), core) != cores.end()) return {name, dir};
    }
  }
  if (policy_dirs(root).empty())
    throw BackendError(no_cpufreq(root));
  throw BackendError(fmt::format("no cpufreq policy covers cpu {} ({} is absent and no "
                                 "{}/cpufreq/policy*/related_cpus lists it)",
                                 core, link, cpu_dir(root)));
}

std::vector<long long> policy_levels_khz(const CpuFreqPolicyInfo& info) {
  std::vector<long long> out;
  for (double f : info.levels_mhz) out.push_back(std::llround(f * 1000.0));
  return out;
}

}  // namespace

CpuFreqDomain::CpuFreqDomain(const std::vector<int>& cores, DvfsOptions options)
    : options_(std::move(options)) {
  if (cores.empty()) throw BackendError("a CPU frequency domain needs at least one core");
  const auto [name, dir] = find_policy(options_.root, cores.front());
  info_ = read_policy(dir, name);
  for (int c : cores)
    if (std::find(info_.cores.begin(), info_.cores.end(), c) == info_.cores.end())
      throw BackendError(fmt::format(
          "cpu {} is not in cpufreq {} (cores {}), which holds cpu {}: a domain is one policy; "
          "use one CpuFreqDomain per cluster",
          c, info_.name, fmt::join(info_.cores, " "), cores.front()));
}

CpuFreqDomain::~CpuFreqDomain() {
  try {
    restore();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hetmap: warning: %s\n", e.what());
  }
}

std::string CpuFreqDomain::governor() const {
  return must_read(info_.path + "/scaling_governor", "the governor");
}

double CpuFreqDomain::cur_mhz() const {
  const std::string path = info_.path + "/scaling_cur_freq";
  return static_cast<double>(parse_number(must_read(path, "the current frequency"), path)) / 1000.0;
}

void CpuFreqDomain::set_mhz(double mhz) {
  const auto khz = policy_levels_khz(info_);
  const int level = level_index(khz, mhz, 1000.0);
  if (level < 0)
    throw BackendError(fmt::format("cpufreq {} (cores {}): {:g} MHz is not a level; the levels "
                                   "are {} MHz",
                                   info_.name, fmt::join(info_.cores, " "), mhz,
                                   join_mhz(info_.levels_mhz)));
  const std::string now = governor();
  if (now != "userspace") {
    std::string text;
    const std::string avail = info_.path + "/scaling_available_governors";
    if (sysfs::read(avail, text) == 0 && !contains(words(text), "userspace"))
      throw BackendError(fmt::format("{} offers no userspace governor ({}): setting a CPU "
                                     "frequency needs a kernel with CONFIG_CPU_FREQ_GOV_USERSPACE",
                                     avail, text));
    write_sysfs(options_, info_.path + "/scaling_governor", "userspace");
    if (saved_governor_.empty()) saved_governor_ = now;
  }
  write_sysfs(options_, info_.path + "/scaling_setspeed", std::to_string(khz[static_cast<std::size_t>(level)]));
  if (options_.verify) verify(mhz);
}

void CpuFreqDomain::verify(double mhz) const {
  const auto khz = policy_levels_khz(info_);
  const int level = level_index(khz, mhz, 1000.0);
  const std::string path = info_.path + "/scaling_cur_freq";
  const long long cur = parse_number(must_read(path, "checking the frequency"), path);
  // Nearest level, not exact equality: some clock drivers report the rate they got, a few kHz
  // off the table's value; a different level (a thermal cap, another governor) is an error.
  if (level < 0 || nearest_level(khz, cur) != static_cast<std::size_t>(level))
    throw BackendError(fmt::format("{} reads {} kHz after setting {:g} MHz: the frequency did "
                                   "not take (a thermal limit, scaling_max_freq, or another "
                                   "program changing the governor)",
                                   path, cur, mhz));
}

void CpuFreqDomain::restore() {
  if (saved_governor_.empty()) return;
  const std::string previous = saved_governor_;
  saved_governor_.clear();  // one attempt: a failure is reported, not retried at destruction
  write_sysfs(options_, info_.path + "/scaling_governor", previous);
}

// ---------------------------------------------------------------------------------------------
// DevFreqDomain

namespace {

long long read_hz(const std::string& path, const char* needed_for) {
  return parse_number(must_read(path, needed_for), path);
}

std::vector<long long> devfreq_levels_hz(const DevFreqInfo& info) {
  std::vector<long long> out;
  for (double f : info.levels_mhz) out.push_back(std::llround(f * 1e6));
  return out;
}

// Moves [min_freq, max_freq] to [lo, hi] in an order the kernel accepts at every step (never
// min above max).
void set_range(const DvfsOptions& options, const std::string& dir, long long lo, long long hi) {
  const long long cur_max = read_hz(dir + "/max_freq", "pinning the frequency");
  if (lo > cur_max) {
    write_sysfs(options, dir + "/max_freq", std::to_string(hi));
    write_sysfs(options, dir + "/min_freq", std::to_string(lo));
  } else {
    write_sysfs(options, dir + "/min_freq", std::to_string(lo));
    write_sysfs(options, dir + "/max_freq", std::to_string(hi));
  }
}

}  // namespace

DevFreqDomain::DevFreqDomain(const std::string& name, DvfsOptions options)
    : options_(std::move(options)) {
  std::error_code ec;
  const std::string base = devfreq_dir(options_.root);
  if (!fs::is_directory(base, ec))
    throw BackendError(base + " is absent: this kernel exposes no devfreq devices; GPU DVFS "
                              "needs a board (a desktop GPU's clocks go through its driver)");
  const std::string dir = base + "/" + name;
  if (!fs::is_directory(dir, ec)) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(base, ec)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    throw BackendError(fmt::format("{} is absent; the devfreq devices here: {}", dir,
                                   names.empty() ? "none" : join(names)));
  }
  info_ = read_devfreq(dir, name);
  userspace_ = info_.governor == "userspace" || contains(info_.governors, "userspace");
  if (!userspace_ && !(exists(dir + "/min_freq") && exists(dir + "/max_freq")))
    throw BackendError(fmt::format("{} offers no userspace governor ({}) and has no "
                                   "min_freq/max_freq to pin: needs a kernel with "
                                   "CONFIG_DEVFREQ_GOV_USERSPACE",
                                   dir, join(info_.governors)));
}

DevFreqDomain::~DevFreqDomain() {
  try {
    restore();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hetmap: warning: %s\n", e.what());
  }
}

std::string DevFreqDomain::governor() const {
  return must_read(info_.path + "/governor", "the governor");
}

double DevFreqDomain::cur_mhz() const {
  return static_cast<double>(read_hz(info_.path + "/cur_freq", "the current frequency")) / 1e6;
}

void DevFreqDomain::set_mhz(double mhz) {
  const auto hz = devfreq_levels_hz(info_);
  const int level = level_index(hz, mhz, 1e6);
  if (level < 0)
    throw BackendError(fmt::format("devfreq {}: {:g} MHz is not a level; the levels are {} MHz",
                                   info_.name, mhz, join_mhz(info_.levels_mhz)));
  const long long target = hz[static_cast<std::size_t>(level)];
  if (userspace_) {
    const std::string now = governor();
    if (now != "userspace") {
      write_sysfs(options_, info_.path + "/governor", "userspace");
      if (!changed_) saved_governor_ = now;
    }
    changed_ = true;
    write_sysfs(options_, info_.path + "/userspace/set_freq", std::to_string(target));
  } else {
    if (!changed_) {
      saved_min_hz_ = read_hz(info_.path + "/min_freq", "pinning the frequency");
      saved_max_hz_ = read_hz(info_.path + "/max_freq", "pinning the frequency");
    }
    changed_ = true;
    set_range(options_, info_.path, target, target);
  }
  if (options_.verify) verify(mhz);
}

void DevFreqDomain::verify(double mhz) const {
  const auto hz = devfreq_levels_hz(info_);
  const int level = level_index(hz, mhz, 1e6);
  const std::string path = info_.path + "/cur_freq";
  const long long cur = read_hz(path, "checking the frequency");
  if (level < 0 || nearest_level(hz, cur) != static_cast<std::size_t>(level))
    throw BackendError(fmt::format("{} reads {} Hz after setting {:g} MHz: the frequency did not "
                                   "take (a thermal limit, or another program changing the "
                                   "governor)",
                                   path, cur, mhz));
}

void DevFreqDomain::restore() {
  if (!changed_) return;
  changed_ = false;  // one attempt: a failure is reported, not retried at destruction
  if (userspace_) {
    if (!saved_governor_.empty() && saved_governor_ != "userspace")
      write_sysfs(options_, info_.path + "/governor", saved_governor_);
    saved_governor_.clear();
  } else {
    set_range(options_, info_.path, saved_min_hz_, saved_max_hz_);
  }
}

}  // namespace hetmap::backend
