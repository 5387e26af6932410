// RAPL through Linux's powercap sysfs (power.hpp): the package domains' cumulative energy
// counters, in microjoules, which wrap around at max_energy_range_uj.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "hetmap/backend/power.hpp"
#include "sysfs.hpp"

namespace hetmap::backend {

namespace {

namespace fs = std::filesystem;

bool read_uj(const std::string& path, unsigned long long& value, std::string& error) {
  std::string text;
  if (!sysfs::read(path, text, error)) return false;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    error = path + ": expected a non-negative integer (microjoules), got '" + text + "'";
    return false;
  }
  try {
    value = std::stoull(text);
  } catch (const std::exception&) {
    error = path + ": expected a non-negative integer (microjoules), got '" + text + "'";
    return false;
  }
  return true;
}

// "intel-rapl:0" / "amd-rapl:1": a top-level zone (sub-zones are "intel-rapl:0:1").
bool top_level_zone(const std::string& name, unsigned& index) {
  for (const char* prefix : {"intel-rapl:", "amd-rapl:"}) {
    const std::size_t n = std::strlen(prefix);
    if (name.compare(0, n, prefix) != 0) continue;
    const std::string rest = name.substr(n);
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) return false;
    index = static_cast<unsigned>(std::stoul(rest));
    return true;
  }
  return false;
}

class RaplMeter : public PowerMeter {
 public:
  struct Zone {
    std::string label;        // the zone's `name`, e.g. "package-0"
    std::string energy_path;  // .../energy_uj
    unsigned long long range_uj = 0;  // max_energy_range_uj: the counter wraps past it
    unsigned long long last_uj = 0;
    double total_uj = 0.0;    // accumulated since the meter was made
  };

  RaplMeter(std::vector<Zone> zones, std::vector<int> processors)
      : zones_(std::move(zones)), processors_(std::move(processors)) {
    name_ = "rapl:";
    for (std::size_t i = 0; i < zones_.size(); ++i) name_ += (i ? "+" : "") + zones_[i].label;
  }
  std::string name() const override { return name_; }
  const std::vector<int>& processors() const override { return processors_; }
  double energy_j() override {
    double total = 0.0;
    for (Zone& z : zones_) {
      unsigned long long v = 0;
      std::string error;
      if (!read_uj(z.energy_path, v, error)) throw std::runtime_error(name_ + ": " + error);
      // The counter runs from 0 to max_energy_range_uj and starts again at 0: a smaller reading
      // than the last one wrapped once (a sample every few ms is far inside one wrap period,
      // which lasts minutes even at hundreds of watts). Exact to within the counter's 1 uJ.
      if (v >= z.last_uj) z.total_uj += static_cast<double>(v - z.last_uj);
      else z.total_uj += static_cast<double>(z.range_uj - z.last_uj) + static_cast<double>(v);
      z.last_uj = v;
      total += z.total_uj;
    }
    return total * 1e-6;
  }
  std::string method() const override {
    std::string ranges;
    for (std::size_t i = 0; i < zones_.size(); ++i)
      ranges += fmt::format("{}{:.0f}", i ? "/" : "", static_cast<double>(zones_[i].range_uj) * 1e-6);
    return fmt::format("RAPL energy counter{} (uJ, powercap sysfs), wrap-around at {} J",
                       zones_.size() > 1 ? "s summed" : "", ranges);
  }
  // RAPL's status registers are refreshed about once per millisecond.
  double update_interval_s() const override { return 1e-3; }

 private:
  std::vector<Zone> zones_;
  std::vector<int> processors_;
  std::string name_;
};

}  // namespace

std::unique_ptr<PowerMeter> make_rapl_meter(std::vector<int> processors, std::string& why_not,
                                            const std::string& root) {
  why_not.clear();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    why_not = "rapl: " + root + " is absent: no powercap interface, as in virtual machines and "
              "kernels without the RAPL driver";
    return nullptr;
  }
  struct Found {
    unsigned index;
    std::string dir;
  };
  std::vector<Found> found;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    unsigned index = 0;
    const std::string entry = it->path().filename().string();
    if (top_level_zone(entry, index) && fs::is_directory(it->path(), ec))
      found.push_back({index, it->path().string()});
  }
  if (ec) {
    why_not = "rapl: " + root + ": " + ec.message();
    return nullptr;
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.index != b.index ? a.index < b.index : a.dir < b.dir;
  });
  std::vector<RaplMeter::Zone> zones;
  for (const Found& f : found) {
    std::string label, error;
    if (!sysfs::read(f.dir + "/name", label, error)) {
      why_not = "rapl: " + error;
      return nullptr;
    }
    if (label.rfind("package", 0) != 0) continue;  // psys, dram, ...: not a CPU package
    bool duplicate = false;  // a kernel exposing one package twice (intel-rapl and amd-rapl)
    for (const auto& z : zones) duplicate = duplicate || z.label == label;
    if (duplicate) continue;
    RaplMeter::Zone z;
    z.label = label;
    z.energy_path = f.dir + "/energy_uj";
    if (!read_uj(f.dir + "/max_energy_range_uj", z.range_uj, error)) {
      why_not = "rapl: " + error + " (needed to handle the counter's wrap-around)";
      return nullptr;
    }
    if (!read_uj(z.energy_path, z.last_uj, error)) {
      why_not = "rapl: " + error +
                (error.find("ermission") != std::string::npos
                     ? ", as RAPL counters often are for anyone but root"
                     : "");
      return nullptr;
    }
    if (z.range_uj == 0 || z.last_uj > z.range_uj) {
      why_not = fmt::format("rapl: {}: reads {} uJ, outside max_energy_range_uj {}", z.energy_path,
                            z.last_uj, z.range_uj);
      return nullptr;
    }
    zones.push_back(std::move(z));
  }
  if (zones.empty()) {
    why_not = "rapl: no CPU package domain (intel-rapl:N or amd-rapl:N named package-N) under " + root;
    return nullptr;
  }
  return std::make_unique<RaplMeter>(std::move(zones), std::move(processors));
}

}  // namespace hetmap::backend
