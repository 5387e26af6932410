#pragma once
// Reading small sysfs files (cpufreq, devfreq, powercap, hwmon): the power meters and the DVFS
// controller read them alike. Internal to hetmap_backends.
#include <string>

namespace hetmap::backend::sysfs {

/// The whole (small) file with surrounding white space removed; 0, or the errno of the failure.
int read(const std::string& path, std::string& out);

/// read() with the failure as "PATH: strerror" in `error`; false on failure.
bool read(const std::string& path, std::string& out, std::string& error);

}  // namespace hetmap::backend::sysfs
