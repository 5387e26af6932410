// Power meters (power.hpp): the meters' bookkeeping, the default meters of a platform (RAPL for
// the CPU processors) and the sampler. NVML, RAPL, INA3221 and serial meters live in
// power_nvml.cpp, power_rapl.cpp, power_ina3221.cpp and power_serial.cpp, Backend::power_meters()
// in power_backend.cpp (this file needs no Backend).
#include "hetmap/backend/power.hpp"
#include "hetmap/detail/number.hpp"

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace hetmap::backend {

namespace {
using hetmap::detail::kNaN;

void drop(std::vector<UnmeasuredPower>& list, const std::vector<int>& processors) {
  for (UnmeasuredPower& u : list)
    u.processors.erase(std::remove_if(u.processors.begin(), u.processors.end(),
                                      [&](int p) {
                                        return std::find(processors.begin(), processors.end(), p) !=
                                               processors.end();
                                      }),
                       u.processors.end());
  list.erase(std::remove_if(list.begin(), list.end(),
                            [](const UnmeasuredPower& u) { return u.processors.empty(); }),
             list.end());
}
}  // namespace

// ------------------------------------------------------------------------------------------
// PowerMeters

void PowerMeters::add(std::unique_ptr<PowerMeter> meter) {
  if (!meter) throw std::invalid_argument("PowerMeters::add: no meter");
  drop(not_measured, meter->processors());
  meters.push_back(std::move(meter));
}

void PowerMeters::unmeasured(std::vector<int> processors, std::string why) {
  drop(not_measured, processors);
  if (!processors.empty()) not_measured.push_back({std::move(processors), std::move(why)});
}

bool PowerMeters::covers(int processor) const {
  for (const auto& m : meters) {
    const std::vector<int>& ps = m->processors();
    if (std::find(ps.begin(), ps.end(), processor) != ps.end()) return true;
  }
  return false;
}

bool PowerMeters::covers_all(int count) const {
  for (int p = 0; p < count; ++p)
    if (!covers(p)) return false;
  return count > 0;
}

std::string PowerMeters::why_not(int processor) const {
  if (covers(processor)) return "";
  std::string why;
  for (const UnmeasuredPower& u : not_measured)
    if (std::find(u.processors.begin(), u.processors.end(), processor) != u.processors.end())
      why += (why.empty() ? "" : "; ") + u.why;
  return why.empty() ? "no power meter covers it" : why;
}

std::vector<PowerMeter*> PowerMeters::pointers() const {
  std::vector<PowerMeter*> out;
  for (const auto& m : meters) out.push_back(m.get());
  return out;
}

SlowestMeter slowest_meter(const std::vector<PowerMeter*>& meters) {
  SlowestMeter s;
  for (const PowerMeter* m : meters)
    if (m->update_interval_s() > s.interval_s) s = {m, m->update_interval_s()};
  return s;
}

std::vector<std::pair<std::string, std::vector<int>>> group_by_reason(const std::vector<std::string>& why) {
  std::vector<std::pair<std::string, std::vector<int>>> groups;
  for (int p = 0; p < static_cast<int>(why.size()); ++p) {
    if (why[p].empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == why[p]; });
    if (it == groups.end()) groups.push_back({why[p], {p}});
    else it->second.push_back(p);
  }
  return groups;
}

PowerMeters default_power_meters(const Platform& platform, const std::string& backend,
                                 const std::string& powercap_root) {
  PowerMeters out;
  std::vector<int> cpus;
  for (int p = 0; p < static_cast<int>(platform.processors.size()); ++p) {
    const ProcKind kind = platform.processors[p].kind;
    if (kind == ProcKind::cpu) cpus.push_back(p);
    else
      out.unmeasured({p}, fmt::format("the {} backend has no power meter for {} processors", backend,
                                      to_string(kind)));
  }
  if (cpus.empty()) return out;
  // The CPU package domain holds every core the processors are pinned to (and the uncore and
  // any other process: the profiler's idle window measures that part).
  std::string why;
  if (std::unique_ptr<PowerMeter> rapl = make_rapl_meter(cpus, why, powercap_root))
    out.add(std::move(rapl));
  else
    out.unmeasured(cpus, why);
  return out;
}

// ------------------------------------------------------------------------------------------
// Windows

double MeterWindow::mean_w() const {
  return seconds > 0.0 && std::isfinite(energy_j) ? energy_j / seconds : kNaN;
}

bool PowerWindow::ok() const {
  for (const MeterWindow& m : meters)
    if (!m.error.empty()) return false;
  return true;
}

double PowerWindow::energy_j() const {
  double sum = 0.0;
  for (const MeterWindow& m : meters) sum += m.energy_j;
  return ok() ? sum : kNaN;
}

// ------------------------------------------------------------------------------------------
// PowerSampler

PowerSampler::PowerSampler(std::vector<PowerMeter*> meters, std::chrono::microseconds period,
                           bool keep_samples)
    : meters_(std::move(meters)), period_(period), keep_samples_(keep_samples) {
  if (period_.count() <= 0) throw std::invalid_argument("PowerSampler: the period must be > 0");
  // A meter is read no more often than its counter changes: reading NVML's counter took about
  // 4 ms on an H100 machine, and it steps every 100 ms (docs/validation.md).
  for (PowerMeter* m : meters_) {
    const auto update = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::duration<double>(m->update_interval_s()));
    meter_period_.push_back(std::max(period_, update));
  }
}

PowerSampler::~PowerSampler() {
  if (running_) {
    try {
      (void)stop();
    } catch (...) {
    }
  }
}

// Reads every meter once (`due_only`: those whose own period has passed); the time of a
// reading is the middle of its call.
void PowerSampler::read_all(bool record, bool due_only) {
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    MeterWindow& w = windows_[i];
    if (!w.error.empty()) continue;
    const Clock::time_point a = Clock::now();
    if (due_only && a < due_[i]) continue;
    due_[i] = a + meter_period_[i];
    try {
      const double e = meters_[i]->energy_j();
      const Clock::time_point b = Clock::now();
      const double t = std::chrono::duration<double>((a - t0_) + (b - a) / 2).count();
      if (std::isnan(origin_j_[i])) {
        origin_j_[i] = e;
        w.samples.push_back({0.0, 0.0});
        w.seconds = 0.0;
        w.energy_j = 0.0;
        start_s_[i] = t;
        continue;
      }
      w.seconds = t - start_s_[i];
      w.energy_j = e - origin_j_[i];
      if (record) w.samples.push_back({w.seconds, w.energy_j});
    } catch (const std::exception& ex) {
      w.error = ex.what();
      w.energy_j = kNaN;
    }
  }
}

void PowerSampler::start() {
  if (running_) throw std::logic_error("PowerSampler::start: already running");
  windows_.assign(meters_.size(), MeterWindow{});
  for (std::size_t i = 0; i < meters_.size(); ++i) {
    windows_[i].name = meters_[i]->name();
    windows_[i].method = meters_[i]->method();
    windows_[i].processors = meters_[i]->processors();
  }
  origin_j_.assign(meters_.size(), kNaN);
  start_s_.assign(meters_.size(), 0.0);
  due_.assign(meters_.size(), Clock::time_point{});
  t0_ = Clock::now();
  read_all(true, false);
  stop_ = false;
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void PowerSampler::loop() {
#ifdef __linux__
  // A thread inherits the CPU mask of the thread that made it, which may be a worker pinned to
  // a processor's cores (the profiler starts windows from such threads): take the main
  // thread's mask instead, so that the sampler does not compete with the processor measured.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(getpid(), sizeof(set), &set) == 0)
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort
#endif
  std::unique_lock<std::mutex> lock(mu_);
  Clock::time_point next = t0_ + period_;
  while (!cv_.wait_until(lock, next, [&] { return stop_; })) {
    lock.unlock();
    read_all(keep_samples_, true);
    lock.lock();
    next += period_;
    const Clock::time_point now = Clock::now();
    if (next <= now) next = now + period_;  // late (a busy machine): skip, do not catch up
  }
}

PowerWindow PowerSampler::stop() {
  if (!running_) throw std::logic_error("PowerSampler::stop: not running");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  running_ = false;
  // Every meter is read once more here, so that the window ends now, however short it is.
  read_all(true, false);
  PowerWindow out;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  out.meters = std::move(windows_);
  windows_.clear();
  return out;
}

}  // namespace hetmap::backend
