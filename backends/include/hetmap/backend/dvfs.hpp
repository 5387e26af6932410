#pragma once
// DVFS through Linux sysfs (docs/dvfs.md): CPU clusters through cpufreq
// (ROOT/devices/system/cpu/...), GPUs through devfreq (ROOT/class/devfreq/NAME). A domain reads
// its levels and governor when it is built, writes only in set_mhz(), and puts the governor
// (and, for devfreq pinning, min_freq/max_freq) back in restore() and in its destructor.
// Every path is relative to a root ("/sys" on a board), so tests run on fake trees.
// Anything missing, unwritable or unsupported is a BackendError naming the file and what is
// needed; nothing is silently skipped.
#include <functional>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"

namespace hetmap::backend {

/// Writes `value` to the sysfs file `path`; returns 0, or the errno of the failure (EACCES,
/// EROFS, EISDIR, ...). The default (empty function) is open(O_WRONLY | O_TRUNC) + write().
/// Tests inject one to play the kernel (update cur_freq) or to refuse writes as a non-root
/// user would (tests run as root, where a 0444 file is still writable).
using SysfsWriter = std::function<int(const std::string& path, const std::string& value)>;

struct DvfsOptions {
  std::string root = "/sys";
  SysfsWriter writer;  // empty: the real write()
  /// set_mhz() reads cur_freq back and throws unless it is the level asked for. On a board the
  /// kernel updates cur_freq; a fake tree must do it itself (a writer playing the kernel, or
  /// the file written beforehand). Off: the caller checks with verify() when it wants to.
  bool verify = true;
};

/// One cpufreq policy (a cluster of cores sharing a clock), as list_cpufreq_policies() finds it.
struct CpuFreqPolicyInfo {
  std::string name;                  // "policy0"; "cpu0" on kernels without policy folders
  std::string path;                  // its folder
  std::vector<int> cores;            // related_cpus (affected_cpus where that is missing)
  std::vector<double> levels_mhz;    // ascending; scaling_available_frequencies, else min/max
  bool levels_listed = true;         // false: only cpuinfo_min_freq/cpuinfo_max_freq were there
  std::string governor;              // scaling_governor
  std::vector<std::string> governors;  // scaling_available_governors (empty if unreadable)
};

/// One devfreq device (a GPU, a memory controller, an NPU), as list_devfreq_devices() finds it.
struct DevFreqInfo {
  std::string name;                  // "ff9a0000.gpu", "17000000.gv11b", "dmc"
  std::string path;
  std::vector<double> levels_mhz;    // ascending; available_frequencies (Hz) / 1e6
  std::string governor;
  std::vector<std::string> governors;
};

/// Every cpufreq policy under ROOT, by first core. Empty when ROOT has no cpufreq (a VM).
std::vector<CpuFreqPolicyInfo> list_cpufreq_policies(const std::string& root = "/sys");
/// Every devfreq device under ROOT/class/devfreq, by name. Empty when there is none.
std::vector<DevFreqInfo> list_devfreq_devices(const std::string& root = "/sys");
/// The devfreq device that looks like a GPU ("gpu", "mali", "gv11b", "gp10b", "ga10b", "gk20a"
/// in its name); empty when none does.
std::string find_gpu_devfreq(const std::string& root = "/sys");

/// Why CPU DVFS cannot be driven under ROOT (no cpufreq, no userspace governor, a governor
/// file that is not writable), as the one-line message CpuFreqDomain would throw; empty when
/// every policy can be driven.
std::string dvfs_unavailable_reason(const std::string& root = "/sys");
/// The same for devfreq device `name`; empty when it can be driven.
std::string devfreq_unavailable_reason(const std::string& name, const std::string& root = "/sys");

/// One processor's frequency, as a board backend drives it whatever the mechanism (a CPU
/// cluster's cpufreq policy, a GPU's devfreq device).
class FreqDomain {
 public:
  virtual ~FreqDomain() = default;
  virtual const std::vector<double>& levels_mhz() const = 0;
  /// The governor as read now.
  virtual std::string governor() const = 0;
  /// The current frequency in MHz, as the kernel reports it.
  virtual double cur_mhz() const = 0;
  /// Pins the frequency to `mhz`, which must be one of levels_mhz(); then verify() when the
  /// options ask for it.
  virtual void set_mhz(double mhz) = 0;
  /// Throws unless the current frequency is `mhz`'s level.
  virtual void verify(double mhz) const = 0;
  /// Puts back what the first set_mhz() changed; nothing when nothing was changed.
  virtual void restore() = 0;
};

/// The frequency of one cpufreq policy, the one holding `cores` (all of them: cores of two
/// policies are an error).
class CpuFreqDomain : public FreqDomain {
 public:
  explicit CpuFreqDomain(const std::vector<int>& cores, DvfsOptions options = {});
  ~CpuFreqDomain() override;  // restore(); a failure there is printed to stderr (no throwing here)
  CpuFreqDomain(const CpuFreqDomain&) = delete;
  CpuFreqDomain& operator=(const CpuFreqDomain&) = delete;

  const CpuFreqPolicyInfo& info() const { return info_; }
  const std::vector<double>& levels_mhz() const override { return info_.levels_mhz; }
  /// scaling_governor as read now.
  std::string governor() const override;
  /// scaling_cur_freq in MHz.
  double cur_mhz() const override;
  /// Sets the governor to `userspace` (remembering the old one, once) and writes
  /// scaling_setspeed in kHz, then verify() when options.verify. `mhz` must be a level.
  void set_mhz(double mhz) override;
  /// Throws unless scaling_cur_freq is `mhz` (within half a kHz).
  void verify(double mhz) const override;
  /// Puts back the governor found before the first set_mhz(); nothing when none was changed.
  void restore() override;

 private:
  CpuFreqPolicyInfo info_;
  DvfsOptions options_;
  std::string saved_governor_;  // empty: nothing to restore
};

/// The frequency of one devfreq device (a GPU). With the `userspace` governor offered:
/// governor := userspace, userspace/set_freq := Hz. Without it: min_freq and max_freq are both
/// pinned to the level, the governor left alone.
class DevFreqDomain : public FreqDomain {
 public:
  explicit DevFreqDomain(const std::string& name, DvfsOptions options = {});
  ~DevFreqDomain() override;
  DevFreqDomain(const DevFreqDomain&) = delete;
  DevFreqDomain& operator=(const DevFreqDomain&) = delete;

  const DevFreqInfo& info() const { return info_; }
  const std::vector<double>& levels_mhz() const override { return info_.levels_mhz; }
  bool uses_userspace() const { return userspace_; }
  std::string governor() const override;
  double cur_mhz() const override;
  void set_mhz(double mhz) override;
  void verify(double mhz) const override;
  /// Puts back the governor, or min_freq/max_freq, found before the first set_mhz().
  void restore() override;

 private:
  DevFreqInfo info_;
  DvfsOptions options_;
  bool userspace_ = false;
  bool changed_ = false;
  std::string saved_governor_;
  long long saved_min_hz_ = 0, saved_max_hz_ = 0;
};

}  // namespace hetmap::backend
