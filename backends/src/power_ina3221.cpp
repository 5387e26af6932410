// INA3221 power monitors of Jetson boards (power.hpp): a rail's power read from sysfs (the
// older ina3221x iio driver, or the mainline hwmon driver) and integrated by trapezoids between
// readings, since the monitors have no energy counter.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "hetmap/backend/power.hpp"
#include "sysfs.hpp"

namespace hetmap::backend {

namespace {

namespace fs = std::filesystem;

// A sysfs file holding one integer (mW, mV, mA); false with the reason otherwise.
bool read_number(const std::string& path, double& value, std::string& error) {
  std::string text;
  if (!sysfs::read(path, text, error)) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0') {
    error = path + ": expected an integer, got '" + text + "'";
    return false;
  }
  value = static_cast<double>(v);
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Sub-folders of `dir` whose name starts with `prefix`, sorted; none when `dir` is absent.
std::vector<std::string> subdirs(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ec2;
    if (name.compare(0, prefix.size(), prefix) == 0 && fs::is_directory(it->path(), ec2))
      out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One monitored rail: where its power comes from.
struct Rail {
  std::string label;
  bool hwmon = false;
  std::string power_path;               // ina3221x: in_powerN_input (mW)
  std::string volt_path, curr_path;     // hwmon: inN_input (mV), currN_input (mA)
  std::string where() const { return hwmon ? volt_path : power_path; }

  // Watts; throws with the reason when a file cannot be read.
  double watts() const {
    std::string error;
    double a = 0.0, b = 0.0;
    if (!hwmon) {
      if (!read_number(power_path, a, error)) throw std::runtime_error(error);
      return a * 1e-3;
    }
    if (!read_number(volt_path, a, error) || !read_number(curr_path, b, error))
      throw std::runtime_error(error);
    return a * b * 1e-6;
  }
};

// Every rail under `root` in both layouts; labels that cannot be read go to `unreadable`.
std::vector<Rail> find_rails(const std::string& root, std::vector<std::string>& unreadable) {
  std::vector<Rail> rails;
  std::string label, error;
  for (const std::string& dev : subdirs(root + "/bus/i2c/drivers/ina3221x", ""))
    for (const std::string& iio : subdirs(dev, "iio:device"))
      for (int ch = 0; ch < 3; ++ch) {
        const std::string name_path = fmt::format("{}/rail_name_{}", iio, ch);
        const std::string power_path = fmt::format("{}/in_power{}_input", iio, ch);
        std::error_code ec;
        if (!fs::exists(name_path, ec) && !fs::exists(power_path, ec)) continue;
        if (!sysfs::read(name_path, label, error)) {
          unreadable.push_back(error);
          continue;
        }
        Rail r;
        r.label = label;
        r.power_path = power_path;
        rails.push_back(std::move(r));
      }
  for (const std::string& hw : subdirs(root + "/class/hwmon", "hwmon")) {
    if (!sysfs::read(hw + "/name", label, error) || label != "ina3221") continue;
    for (int ch = 1; ch <= 3; ++ch) {
      const std::string label_path = fmt::format("{}/in{}_label", hw, ch);
      std::error_code ec;
      if (!fs::exists(label_path, ec)) continue;
      if (!sysfs::read(label_path, label, error)) {
        unreadable.push_back(error);
        continue;
      }
      Rail r;
      r.label = label;
      r.hwmon = true;
      r.volt_path = fmt::format("{}/in{}_input", hw, ch);
      r.curr_path = fmt::format("{}/curr{}_input", hw, ch);
      rails.push_back(std::move(r));
    }
  }
  return rails;
}

class Ina3221Meter : public PowerMeter {
 public:
  Ina3221Meter(Rail rail, std::vector<int> processors, std::function<double()> clock_s,
               double t0, double w0)
      : rail_(std::move(rail)),
        processors_(std::move(processors)),
        clock_s_(std::move(clock_s)),
        last_t_(t0),
        last_w_(w0) {}
  std::string name() const override { return "ina3221:" + rail_.label; }
  const std::vector<int>& processors() const override { return processors_; }
  double energy_j() override {
    double w = 0.0;
    try {
      w = rail_.watts();
    } catch (const std::exception& e) {
      throw std::runtime_error(name() + ": " + e.what());
    }
    const double t = clock_s_();
    // Trapezoid between the last reading and this one; a clock that did not advance adds none.
    if (t > last_t_) total_j_ += 0.5 * (last_w_ + w) * (t - last_t_);
    last_t_ = std::max(last_t_, t);
    last_w_ = w;
    return total_j_;
  }
  std::string method() const override {
    return rail_.hwmon
               ? "INA3221 bus voltage (mV) x current (mA), hwmon sysfs " + rail_.volt_path +
                     ", integrated over the readings (trapezoids)"
               : "INA3221 rail power (mW), ina3221x sysfs " + rail_.power_path +
                     ", integrated over the readings (trapezoids)";
  }
  // No counter: the power is sampled at each reading, so read it as often as the sampler does.
  double update_interval_s() const override { return 0.0; }

 private:
  Rail rail_;
  std::vector<int> processors_;
  std::function<double()> clock_s_;
  double last_t_, last_w_;
  double total_j_ = 0.0;
};

}  // namespace

std::unique_ptr<PowerMeter> make_ina3221_meter(const std::string& rail_name,
                                               std::vector<int> processors, std::string& why_not,
                                               const std::string& sysfs_root,
                                               std::function<double()> clock_s) {
  why_not.clear();
  if (!clock_s) throw std::invalid_argument("make_ina3221_meter: no clock");
  std::vector<std::string> unreadable;
  std::vector<Rail> rails = find_rails(sysfs_root, unreadable);
  std::vector<const Rail*> match;
  for (const Rail& r : rails)
    if (lower(r.label) == lower(rail_name)) match.push_back(&r);
  std::string notes;
  for (const std::string& u : unreadable) notes += "; unreadable: " + u;
  if (match.empty()) {
    if (rails.empty()) {
      why_not = fmt::format(
          "ina3221: no INA3221 rail under {} (looked in {}/bus/i2c/drivers/ina3221x/*/iio:device*/ "
          "and {}/class/hwmon/hwmon*/ named ina3221): not a Jetson board?{}",
          sysfs_root, sysfs_root, sysfs_root, notes);
    } else {
      std::string found;
      for (const Rail& r : rails) found += (found.empty() ? "" : ", ") + r.label;
      why_not = fmt::format("ina3221: no rail named '{}' (rails found: {}){}", rail_name, found,
                            notes);
    }
    return nullptr;
  }
  if (match.size() > 1) {
    why_not = fmt::format("ina3221: two monitors have a rail named '{}' ({} and {})", rail_name,
                          match[0]->where(), match[1]->where());
    return nullptr;
  }
  double w0 = 0.0;
  try {
    w0 = match[0]->watts();
  } catch (const std::exception& e) {
    why_not = fmt::format("ina3221: rail '{}' is unreadable: {}", match[0]->label, e.what());
    return nullptr;
  }
  const double t0 = clock_s();
  return std::make_unique<Ina3221Meter>(*match[0], std::move(processors), std::move(clock_s), t0,
                                        w0);
}

std::unique_ptr<PowerMeter> make_ina3221_meter(const std::string& rail_name,
                                               std::vector<int> processors, std::string& why_not,
                                               const std::string& sysfs_root) {
  return make_ina3221_meter(rail_name, std::move(processors), why_not, sysfs_root, [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  });
}

}  // namespace hetmap::backend
