#pragma once
// A writer for fake sysfs trees (tests/test_dvfs.cpp, tests/test_dvfs_profile.cpp): it writes
// the file and then plays the kernel, so that DVFS read-back checks see what a board would.
#include <string>
#include <vector>

#include "hetmap/backend/dvfs.hpp"

namespace hetmap::test {

/// A new scaling_setspeed or userspace/set_freq becomes cur_freq, the devfreq userspace
/// governor grows userspace/set_freq, a pinned min_freq moves cur_freq. Every write is
/// recorded as "FILE=VALUE" (FILE relative to `root`); a path containing `refuse` (when not
/// empty) is refused with EACCES, as a non-root user would be; a missing file is ENOENT.
struct FakeKernel {
  std::string root;
  std::string refuse;
  std::vector<std::string> writes;

  backend::SysfsWriter writer();
  backend::DvfsOptions options() { return backend::DvfsOptions{root, writer(), true}; }
  /// The values written to files whose path contains `file`, in order.
  std::vector<std::string> values(const std::string& file) const;
};

}  // namespace hetmap::test
