// Power meters (backends/include/hetmap/backend/power.hpp): RAPL against fake powercap trees
// (counting, wrap-around, unreadable or absent counters), NVML where no driver is (this
// machine) or is, the sampler's energy over a window from a meter of known power, and the
// profiler's idle/active split and the executor's energy with fake meters injected into a
// backend whose kernels report when they run. `hetmap profile/run/validate` with power.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/backend/power.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/backend/validate.hpp"
#include "hetmap/des.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"

namespace hetmap::backend {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text << "\n";
}

// A powercap zone: DIR/NAME/{name, energy_uj, max_energy_range_uj}.
std::string zone(const std::string& root, const std::string& dir, const std::string& label,
                 unsigned long long energy_uj, unsigned long long range_uj) {
  const std::string d = root + "/" + dir;
  write(d + "/name", label);
  write(d + "/energy_uj", std::to_string(energy_uj));
  write(d + "/max_energy_range_uj", std::to_string(range_uj));
  return d + "/energy_uj";
}

// ------------------------------------------------------------------------------------------
// RAPL

TEST(Rapl, CountsTheIncrementsOfAPackageCounter) {
  const std::string root = test::temp_dir();
  const std::string e = zone(root, "intel-rapl:0", "package-0", 1000000, 262143328850ULL);
  zone(root, "intel-rapl:0:0", "core", 5, 262143328850ULL);  // a sub-zone: ignored
  zone(root, "intel-rapl:1", "psys", 7, 262143328850ULL);    // not a package: ignored
  std::string why = "stale";
  std::unique_ptr<PowerMeter> m = make_rapl_meter({0, 1}, why, root);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(why, "");
  EXPECT_EQ(m->name(), "rapl:package-0");
  EXPECT_EQ(m->processors(), (std::vector<int>{0, 1}));
  EXPECT_NE(m->method().find("wrap-around at 262143 J"), std::string::npos) << m->method();
  EXPECT_DOUBLE_EQ(m->energy_j(), 0.0);  // counted from the meter's creation
  write(e, "3500000");
  EXPECT_DOUBLE_EQ(m->energy_j(), 2.5);
  write(e, "3500001");
  EXPECT_NEAR(m->energy_j(), 2.500001, 1e-12);
  EXPECT_NEAR(m->energy_j(), 2.500001, 1e-12);  // unchanged counter, unchanged energy
}

TEST(Rapl, HandlesTheWrapAround) {
  const std::string root = test::temp_dir();
  const std::string e = zone(root, "intel-rapl:0", "package-0", 9000000, 10000000);  // wraps at 10 J
  std::string why;
  std::unique_ptr<PowerMeter> m = make_rapl_meter({0}, why, root);
  ASSERT_TRUE(m) << why;
  write(e, "9900000");
  EXPECT_NEAR(m->energy_j(), 0.9, 1e-12);
  write(e, "400000");  // past the range: 0.1 J to the top, then 0.4 J from 0
  EXPECT_NEAR(m->energy_j(), 1.4, 1e-12);
  write(e, "9000000");
  EXPECT_NEAR(m->energy_j(), 10.0, 1e-12);
  write(e, "0");
  EXPECT_NEAR(m->energy_j(), 11.0, 1e-12);
}

TEST(Rapl, SumsEveryPackageAndFindsAmdZones) {
  const std::string root = test::temp_dir();
  const std::string e0 = zone(root, "intel-rapl:0", "package-0", 100, 1000000000);
  const std::string e1 = zone(root, "intel-rapl:1", "package-1", 200, 1000000000);
  std::string why;
  std::unique_ptr<PowerMeter> m = make_rapl_meter({0, 1, 2}, why, root);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->name(), "rapl:package-0+package-1");
  write(e0, "1000100");
  write(e1, "2000200");
  EXPECT_NEAR(m->energy_j(), 3.0, 1e-12);

  const std::string amd = test::temp_dir();
  const std::string a = zone(amd, "amd-rapl:0", "package-0", 0, 1000000000);
  std::unique_ptr<PowerMeter> m2 = make_rapl_meter({0}, why, amd);
  ASSERT_TRUE(m2) << why;
  write(a, "250000");
  EXPECT_NEAR(m2->energy_j(), 0.25, 1e-12);
}

TEST(Rapl, NotMeasuredSaysWhy) {
  std::string why;
  const std::string none = test::temp_dir() + "/no-such-powercap";
  EXPECT_FALSE(make_rapl_meter({0}, why, none));
  EXPECT_NE(why.find(none + " is absent"), std::string::npos) << why;

  const std::string psys = test::temp_dir();
  zone(psys, "intel-rapl:0", "psys", 1, 1000);
  EXPECT_FALSE(make_rapl_meter({0}, why, psys));
  EXPECT_NE(why.find("no CPU package domain"), std::string::npos) << why;

  // An unreadable counter: a folder where the file should be (reading it fails even as root).
  const std::string dir = test::temp_dir();
  zone(dir, "intel-rapl:0", "package-0", 1, 1000);
  fs::remove(dir + "/intel-rapl:0/energy_uj");
  fs::create_directory(dir + "/intel-rapl:0/energy_uj");
  EXPECT_FALSE(make_rapl_meter({0}, why, dir));
  EXPECT_EQ(why.rfind("rapl: " + dir + "/intel-rapl:0/energy_uj: ", 0), 0u) << why;

  // A root-only counter, as most kernels make them (only testable when not root).
  if (geteuid() != 0) {
    const std::string ro = test::temp_dir();
    const std::string e = zone(ro, "intel-rapl:0", "package-0", 1, 1000);
    ::chmod(e.c_str(), 0);
    EXPECT_FALSE(make_rapl_meter({0}, why, ro));
    EXPECT_NE(why.find("Permission denied"), std::string::npos) << why;
    EXPECT_NE(why.find("root"), std::string::npos) << why;
  }

  const std::string garbage = test::temp_dir();
  write(zone(garbage, "intel-rapl:0", "package-0", 1, 1000), "12abc");
  EXPECT_FALSE(make_rapl_meter({0}, why, garbage));
  EXPECT_NE(why.find("expected a non-negative integer"), std::string::npos) << why;

  const std::string norange = test::temp_dir();
  zone(norange, "intel-rapl:0", "package-0", 1, 1000);
  fs::remove(norange + "/intel-rapl:0/max_energy_range_uj");
  EXPECT_FALSE(make_rapl_meter({0}, why, norange));
  EXPECT_NE(why.find("max_energy_range_uj"), std::string::npos) << why;
}

TEST(Rapl, ACounterThatVanishesFailsTheReading) {
  const std::string root = test::temp_dir();
  const std::string e = zone(root, "intel-rapl:0", "package-0", 1, 1000000);
  std::string why;
  std::unique_ptr<PowerMeter> m = make_rapl_meter({0}, why, root);
  ASSERT_TRUE(m) << why;
  fs::remove(e);
  try {
    m->energy_j();
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& ex) {
    EXPECT_NE(std::string(ex.what()).find(e), std::string::npos) << ex.what();
  }
}

// ------------------------------------------------------------------------------------------
// Backend::power_meters()'s default and PowerMeters

Platform cpu_gpu_platform() {
  return parse_platform(
      "name: p\nhost: c0\nprocessors:\n  - {name: c0, kind: cpu}\n  - {name: g, kind: gpu}\n"
      "  - {name: c1, kind: cpu}\n",
      "p.yaml");
}

TEST(DefaultMeters, RaplCoversTheCpuProcessorsOnly) {
  const std::string root = test::temp_dir();
  zone(root, "intel-rapl:0", "package-0", 1, 1000000);
  PowerMeters m = default_power_meters(cpu_gpu_platform(), "fake", root);
  ASSERT_EQ(m.meters.size(), 1u);
  EXPECT_EQ(m.meters[0]->processors(), (std::vector<int>{0, 2}));
  EXPECT_TRUE(m.covers(0));
  EXPECT_FALSE(m.covers(1));
  EXPECT_TRUE(m.covers(2));
  EXPECT_FALSE(m.covers_all(3));
  EXPECT_EQ(m.why_not(0), "");
  EXPECT_EQ(m.why_not(1), "the fake backend has no power meter for gpu processors");

  // Without RAPL: the CPU processors are "not measured" with RAPL's reason.
  PowerMeters none = default_power_meters(cpu_gpu_platform(), "fake", root + "/absent");
  EXPECT_TRUE(none.meters.empty());
  EXPECT_NE(none.why_not(0).find("is absent"), std::string::npos) << none.why_not(0);
  EXPECT_EQ(none.why_not(0), none.why_not(2));
  EXPECT_NE(none.why_not(1).find("gpu processors"), std::string::npos);
}

class ConstantMeter : public PowerMeter {
 public:
  ConstantMeter(double watts, std::vector<int> processors, std::string name = "const")
      : w_(watts), procs_(std::move(processors)), name_(std::move(name)), t0_(Clock::now()) {}
  std::string name() const override { return name_; }
  const std::vector<int>& processors() const override { return procs_; }
  double energy_j() override {
    if (fail_after_ >= 0 && reads_++ >= fail_after_) throw std::runtime_error(name_ + ": gone");
    return w_ * secs(Clock::now() - t0_);
  }
  std::string method() const override { return "constant power"; }
  int fail_after_ = -1;  // reads that succeed before every later one throws (-1: never)

 private:
  double w_;
  std::vector<int> procs_;
  std::string name_;
  Clock::time_point t0_;
  int reads_ = 0;
};

TEST(DefaultMeters, AddAndUnmeasuredKeepTheLatestWord) {
  PowerMeters m = default_power_meters(cpu_gpu_platform(), "fake", test::temp_dir() + "/absent");
  // An override of Backend::power_meters(): an NVML meter for the GPU...
  m.add(std::make_unique<ConstantMeter>(50.0, std::vector<int>{1}, "nvml:0"));
  EXPECT_TRUE(m.covers(1));
  EXPECT_EQ(m.why_not(1), "");
  for (const UnmeasuredPower& u : m.not_measured)
    EXPECT_EQ(std::count(u.processors.begin(), u.processors.end(), 1), 0);
  // ... or, without one, its own reason replaces the default's.
  PowerMeters n = default_power_meters(cpu_gpu_platform(), "fake", test::temp_dir() + "/absent");
  n.unmeasured({1}, "nvml: cannot load libnvidia-ml.so.1");
  EXPECT_EQ(n.why_not(1), "nvml: cannot load libnvidia-ml.so.1");
  EXPECT_EQ(PowerMeters{}.why_not(0), "no power meter covers it");
}

// ------------------------------------------------------------------------------------------
// NVML

TEST(Nvml, WithoutTheDriverSaysWhichLibraryIsMissing) {
  std::string why;
  EXPECT_FALSE(make_nvml_meter(0, {0}, why, "libhetmap-no-such-nvml.so.1"));
  EXPECT_EQ(why.rfind("nvml: cannot load libhetmap-no-such-nvml.so.1 (", 0), 0u) << why;
  EXPECT_NE(why.find("no NVIDIA driver"), std::string::npos) << why;

  // The real library: absent on a machine without an NVIDIA driver (CI, the development VM).
  void* lib = dlopen(kNvmlLibrary, RTLD_NOW | RTLD_LOCAL);
  std::unique_ptr<PowerMeter> m = make_nvml_meter(0, {3}, why);
  std::string why_pci;
  std::unique_ptr<PowerMeter> by_pci = make_nvml_meter_by_pci("0000:FF:1F.7", {3}, why_pci);
  if (!lib) {
    EXPECT_FALSE(m);
    EXPECT_EQ(why.rfind("nvml: cannot load libnvidia-ml.so.1 (", 0), 0u) << why;
    EXPECT_FALSE(by_pci);
    EXPECT_EQ(why_pci.rfind("nvml: cannot load libnvidia-ml.so.1 (", 0), 0u) << why_pci;
    return;
  }
  dlclose(lib);
  // With a driver: GPU 0 has a meter (Volta and newer: the energy counter), or a reason.
  EXPECT_FALSE(by_pci) << "no GPU sits at that bus id";
  EXPECT_NE(why_pci.find("0000:FF:1F.7"), std::string::npos) << why_pci;
  if (!m) {
    EXPECT_EQ(why.rfind("nvml", 0), 0u) << why;
    return;
  }
  EXPECT_EQ(m->name().rfind("nvml:0 ", 0), 0u) << m->name();
  EXPECT_EQ(m->processors(), (std::vector<int>{3}));
  const double e0 = m->energy_j();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double e1 = m->energy_j();
  EXPECT_GE(e0, 0.0);
  EXPECT_GT(e1, e0) << "an idle GPU still draws tens of watts: " << m->method();
  EXPECT_LT(e1 - e0, 0.3 * 2000) << "under 2 kW";
  std::string no_gpu;
  EXPECT_FALSE(make_nvml_meter(4096, {0}, no_gpu));
  EXPECT_NE(no_gpu.find("GPU 4096"), std::string::npos) << no_gpu;
}

// ------------------------------------------------------------------------------------------
// PowerSampler

TEST(Sampler, EnergyOverAWindowOfKnownPower) {
  ConstantMeter meter(40.0, {0});
  PowerSampler s({&meter}, std::chrono::milliseconds(5));
  s.start();
  EXPECT_TRUE(s.running());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const PowerWindow w = s.stop();
  EXPECT_FALSE(s.running());
  ASSERT_EQ(w.meters.size(), 1u);
  const MeterWindow& m = w.meters[0];
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(m.name, "const");
  EXPECT_GE(m.seconds, 0.2);
  EXPECT_LE(m.seconds, w.seconds);
  EXPECT_NEAR(m.mean_w(), 40.0, 0.4);
  EXPECT_DOUBLE_EQ(w.energy_j(), m.energy_j);
  // Samples: {0, 0} at start(), about one per period, {seconds, energy} at stop().
  ASSERT_GE(m.samples.size(), 10u);
  EXPECT_DOUBLE_EQ(m.samples.front().t_s, 0.0);
  EXPECT_DOUBLE_EQ(m.samples.front().energy_j, 0.0);
  EXPECT_DOUBLE_EQ(m.samples.back().t_s, m.seconds);
  EXPECT_DOUBLE_EQ(m.samples.back().energy_j, m.energy_j);
  for (std::size_t i = 1; i < m.samples.size(); ++i) {
    EXPECT_GT(m.samples[i].t_s, m.samples[i - 1].t_s);
    EXPECT_GE(m.samples[i].energy_j, m.samples[i - 1].energy_j);
  }
  EXPECT_LE(m.samples.size(), 200u / 5 + 3);
}

TEST(Sampler, AShortWindowIsStillExactAndWindowsRepeat) {
  ConstantMeter meter(100.0, {0});
  PowerSampler s({&meter}, std::chrono::milliseconds(50), /*keep_samples=*/false);
  for (int round = 0; round < 3; ++round) {
    s.start();
    const Clock::time_point t = Clock::now();
    while (secs(Clock::now() - t) < 0.002) {
    }
    const PowerWindow w = s.stop();  // no periodic sample fell inside: start and stop readings
    ASSERT_EQ(w.meters.size(), 1u);
    const MeterWindow& m = w.meters[0];
    EXPECT_EQ(m.samples.size(), 2u);
    EXPECT_GE(m.seconds, 0.002);
    EXPECT_NEAR(m.energy_j, 100.0 * m.seconds, 100.0 * 0.002) << "within 2 ms of power";
    EXPECT_GT(m.energy_j, 0.0);
  }
}

// A meter whose counter changes every 50 ms is read that often, not every 5 ms.
class SlowMeter : public ConstantMeter {
 public:
  using ConstantMeter::ConstantMeter;
  double update_interval_s() const override { return 0.05; }
};

TEST(Sampler, ASlowCounterIsReadAtItsOwnPeriod) {
  ConstantMeter fast(10.0, {0}, "fast");
  SlowMeter slow(20.0, {1}, "slow");
  PowerSampler s({&fast, &slow}, std::chrono::milliseconds(5));
  s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const PowerWindow w = s.stop();
  EXPECT_GE(w.meters[0].samples.size(), 30u);
  EXPECT_LE(w.meters[1].samples.size(), 300u / 50 + 3);
  EXPECT_GE(w.meters[1].samples.size(), 4u);
  EXPECT_NEAR(w.meters[1].mean_w(), 20.0, 0.2);
}

TEST(Sampler, AFailingMeterIsReportedAndTheOthersGoOn) {
  ConstantMeter good(10.0, {0}, "good"), bad(10.0, {1}, "bad");
  bad.fail_after_ = 1;  // its start() reading works, then it fails
  PowerSampler s({&good, &bad}, std::chrono::milliseconds(2));
  s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const PowerWindow w = s.stop();
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(std::isnan(w.energy_j()));
  EXPECT_EQ(w.meters[0].error, "");
  EXPECT_NEAR(w.meters[0].mean_w(), 10.0, 0.2);
  EXPECT_EQ(w.meters[1].error, "bad: gone");
  EXPECT_TRUE(std::isnan(w.meters[1].energy_j));
  EXPECT_THROW(s.stop(), std::logic_error);
}

// ------------------------------------------------------------------------------------------
// A backend whose kernels say when they run, and meters driven by that

// Per processor: seconds spent inside Kernel::run so far (a run in progress counts to now).
class Activity {
 public:
  explicit Activity(int n) : busy_(n, 0.0), since_(n), running_(n, 0) {}
  void begin(int p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_[p]++ == 0) since_[p] = Clock::now();
  }
  void end(int p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_[p] == 0) busy_[p] += secs(Clock::now() - since_[p]);
  }
  double busy_s(int p, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    return busy_[p] + (running_[p] > 0 ? secs(now - since_[p]) : 0.0);
  }

 private:
  std::mutex mu_;
  std::vector<double> busy_;
  std::vector<Clock::time_point> since_;
  std::vector<int> running_;
};

// energy = idle_w x time + sum over processors p of rise_w[p] x (time p spent in kernels).
class ActivityMeter : public PowerMeter {
 public:
  ActivityMeter(std::shared_ptr<Activity> a, std::string name, std::vector<int> procs, double idle_w,
                std::vector<double> rise_w)
      : a_(std::move(a)), name_(std::move(name)), procs_(std::move(procs)), idle_w_(idle_w),
        rise_w_(std::move(rise_w)), t0_(Clock::now()) {}
  std::string name() const override { return name_; }
  const std::vector<int>& processors() const override { return procs_; }
  double energy_j() override {
    const Clock::time_point now = Clock::now();
    double e = idle_w_ * secs(now - t0_);
    for (std::size_t p = 0; p < rise_w_.size(); ++p) e += rise_w_[p] * a_->busy_s(static_cast<int>(p), now);
    return e;
  }
  std::string method() const override { return "fake: idle power plus a rise per running processor"; }

 private:
  std::shared_ptr<Activity> a_;
  std::string name_;
  std::vector<int> procs_;
  double idle_w_;
  std::vector<double> rise_w_;
  Clock::time_point t0_;
};

struct MeterSpec {
  std::string name;
  std::vector<int> processors;
  double idle_w;
  std::vector<double> rise_w;  // per processor
};

// The reference backend (2 clusters), its kernels reporting to an Activity, its power meters
// ActivityMeters made from `specs`; processors no spec covers get the reason "fake: no meter".
class MeteredBackend : public Backend {
 public:
  MeteredBackend(std::unique_ptr<Backend> inner, std::vector<MeterSpec> specs)
      : inner_(std::move(inner)), specs_(std::move(specs)),
        activity_(std::make_shared<Activity>(static_cast<int>(inner_->platform().processors.size()))) {
    for (int p = 0; p < static_cast<int>(inner_->platform().processors.size()); ++p)
      devices_.push_back(std::make_unique<Dev>(inner_->device(p), activity_, p));
  }
  std::string name() const override { return "metered"; }
  const Platform& platform() const override { return inner_->platform(); }
  Device& device(int p) override { return *devices_.at(p); }
  void copy(const Buffer& s, int from, Buffer& d, int to) override { inner_->copy(s, from, d, to); }
  void upload(const float* x, Buffer& d, int p) override { inner_->upload(x, d, p); }
  void download(const Buffer& s, int p, float* x) override { inner_->download(s, p, x); }
  std::string describe() const override { return "metered " + inner_->describe(); }
  PowerMeters power_meters() override {
    PowerMeters m;
    std::vector<int> all;
    for (int p = 0; p < static_cast<int>(platform().processors.size()); ++p) all.push_back(p);
    m.unmeasured(all, "fake: no meter");
    for (const MeterSpec& s : specs_)
      m.add(std::make_unique<ActivityMeter>(activity_, s.name, s.processors, s.idle_w, s.rise_w));
    return m;
  }

 private:
  struct Tracked : Kernel {
    std::unique_ptr<Kernel> inner;
    std::shared_ptr<Activity> a;
    int p;
    void run(const std::vector<const Buffer*>& in, Buffer& out) override {
      a->begin(p);
      inner->run(in, out);
      a->end(p);
    }
  };
  struct Dev : Device {
    Dev(Device& d, std::shared_ptr<Activity> a, int p) : inner(d), a(std::move(a)), p(p) {}
    std::unique_ptr<Kernel> build(const Model& m, int l, std::uint64_t seed) override {
      auto k = std::make_unique<Tracked>();
      k->inner = inner.build(m, l, seed);
      k->a = a;
      k->p = p;
      return k;
    }
    std::unique_ptr<Buffer> allocate(const Shape& s) override { return inner.allocate(s); }
    void bind_thread() override { inner.bind_thread(); }
    Device& inner;
    std::shared_ptr<Activity> a;
    int p;
  };
  std::unique_ptr<Backend> inner_;
  std::vector<MeterSpec> specs_;
  std::shared_ptr<Activity> activity_;
  std::vector<std::unique_ptr<Dev>> devices_;
};

// Milliseconds per input: convolutions dominate, so kernels fill most of a pass.
const char* kModel = R"(
name: t
input: [3, 24, 24]
layers:
  - {name: conv1, op: conv, filters: 8, kernel: 3, pad: 1}
  - {name: relu1, op: relu}
  - {name: conv2, op: conv, filters: 32, kernel: 3, pad: 1}
  - {name: relu2, op: relu}
  - {name: pool2, op: maxpool, kernel: 2, stride: 2}
  - {name: conv3, op: conv, filters: 32, kernel: 3, pad: 1}
  - {name: pool3, op: avgpool, global: true}
  - {name: fc, op: fc, units: 10}
exits:
  - name: e
    after: relu1
    layers:
      - {name: e_pool, op: avgpool, global: true}
      - {name: e_fc, op: fc, units: 10}
    taken: 0.4
)";

std::unique_ptr<MeteredBackend> metered(std::vector<MeterSpec> specs) {
  std::unique_ptr<Backend> inner;
  try {
    inner = make_backend("reference", BackendOptions{2});
  } catch (const BackendError&) {
    return nullptr;
  }
  return std::make_unique<MeteredBackend>(std::move(inner), std::move(specs));
}

#define NEEDS_TWO_CPUS(b) \
  if (!(b)) GTEST_SKIP() << "needs two CPUs"

// Small caps: the layer and link numbers do not matter here, the power windows do.
ProfileOptions power_profile() {
  ProfileOptions o = ProfileOptions::quick();
  o.layers = {1, 3, 5, 0.5, 20};
  // Links: memcpy alone, sizes far apart, a few samples each: the fit needs times that grow
  // with size even on a loaded machine (thread hand-overs there can take milliseconds).
  o.links = {1, 5, 20, 0.5, 100};
  o.link_bytes = {4096, 16 << 20};
  o.link_handoff = false;
  o.transfers = false;
  o.contention = false;
  o.power_idle_s = 0.3;
  o.power_active_s = 0.3;
  o.power_period_ms = 5;
  return o;
}

TEST(ProfilePower, IdleSplitEvenlyAndActiveIsIdleShareplusRise) {
  // One domain over both processors: 10 W idle, +20 W while cpu0 runs a kernel, +8 W for cpu1.
  auto be = metered({{"fake:pkg", {0, 1}, 10.0, {20.0, 8.0}}});
  NEEDS_TWO_CPUS(be);
  const Model model = parse_model(kModel, "t.yaml");
  const ProfileResult r = profile(*be, model, power_profile());
  const PowerMeasurement& pw = r.power;
  ASSERT_TRUE(pw.any()) << pw.note;
  EXPECT_TRUE(pw.attempted);
  for (int p = 0; p < 2; ++p) {
    EXPECT_EQ(pw.why_not[p], "") << p;
    EXPECT_NEAR(pw.idle_w[p], 5.0, 0.05) << "10 W split between 2 processors";
    EXPECT_GT(pw.busy_share[p], 0.5);
    EXPECT_GE(pw.active_s[p], 0.3);
  }
  EXPECT_NEAR(pw.active_w[0], 25.0, 0.5);
  EXPECT_NEAR(pw.active_w[1], 13.0, 0.3);
  ASSERT_EQ(pw.domains.size(), 1u);
  EXPECT_NEAR(pw.domains[0].idle_before_w, 10.0, 0.05);
  EXPECT_NEAR(pw.domains[0].idle_after_w, 10.0, 0.05);
  // The domain's power in cpu0's window is the idle power plus the rise for the time in kernels.
  EXPECT_NEAR(pw.domains[0].active_window_w[0], 10.0 + 20.0 * pw.busy_share[0], 0.5);
  EXPECT_GE(pw.idle_s, 0.3);

  // platform.yaml: active_w / idle_w that load back, the method in comments, the source line.
  const std::string y = platform_yaml(r);
  const Platform pf = parse_platform(y, "platform.yaml");
  ASSERT_TRUE(pf.has_power()) << y;
  EXPECT_NEAR(pf.processors[0].active_w.at(0), pw.active_w[0], 1e-3 * pw.active_w[0]);
  EXPECT_NEAR(pf.processors[1].idle_w, pw.idle_w[1], 1e-3 * pw.idle_w[1]);
  EXPECT_NE(y.find("# Power (docs/validation.md"), std::string::npos) << y;
  EXPECT_NE(y.find("fake:pkg"), std::string::npos) << y;
  EXPECT_NE(y.find("split evenly between 2 processors"), std::string::npos) << y;
  EXPECT_EQ(y.find("not measured for"), std::string::npos) << y;
  EXPECT_NE(pf.source.find("; power measured for cpu0, cpu1 (fake:pkg)"), std::string::npos) << pf.source;
}

TEST(ProfilePower, EveryMetersRiseBelongsToTheProcessorThatRan) {
  // cpu0's domain and cpu1's domain; while cpu0 runs, cpu1's domain rises too by 3 W (as a
  // CPU package does while its thread drives a GPU): that is cpu0's power as well.
  auto be = metered({{"fake:a", {0}, 4.0, {20.0, 0.0}}, {"fake:b", {1}, 6.0, {3.0, 8.0}}});
  NEEDS_TWO_CPUS(be);
  const ProfileResult r = profile(*be, parse_model(kModel, "t.yaml"), power_profile());
  const PowerMeasurement& pw = r.power;
  ASSERT_TRUE(pw.any()) << pw.note;
  EXPECT_NEAR(pw.idle_w[0], 4.0, 0.05);
  EXPECT_NEAR(pw.idle_w[1], 6.0, 0.05);
  EXPECT_NEAR(pw.active_w[0], 4.0 + 20.0 + 3.0, 0.5);
  EXPECT_NEAR(pw.active_w[1], 6.0 + 8.0, 0.3);
}

TEST(ProfilePower, AProcessorWithoutAMeterIsNotMeasuredAndSaysWhy) {
  auto be = metered({{"fake:a", {0}, 4.0, {20.0, 5.0}}});
  NEEDS_TWO_CPUS(be);
  ProfileResult r = profile(*be, parse_model(kModel, "t.yaml"), power_profile());
  const PowerMeasurement& pw = r.power;
  EXPECT_EQ(pw.why_not[0], "");
  EXPECT_NEAR(pw.idle_w[0], 4.0, 0.05);
  EXPECT_EQ(pw.why_not[1], "fake: no meter");
  EXPECT_TRUE(std::isnan(pw.active_w[1]));
  const std::string y = platform_yaml(r);
  const Platform pf = parse_platform(y, "platform.yaml");
  EXPECT_TRUE(pf.processors[0].has_power);
  EXPECT_FALSE(pf.processors[1].has_power);
  EXPECT_FALSE(pf.has_power()) << "energy needs every processor's power";
  EXPECT_NE(y.find("not measured for cpu1 (fake: no meter): no active_w/idle_w"), std::string::npos) << y;
  EXPECT_NE(pf.source.find("power measured for cpu0 (fake:a), not measured for cpu1 (fake: no meter)"),
            std::string::npos)
      << pf.source;

  // Switched off: nothing measured, and the file says so.
  ProfileOptions off = power_profile();
  off.power = false;
  r = profile(*be, parse_model(kModel, "t.yaml"), off);
  EXPECT_FALSE(r.power.any());
  EXPECT_FALSE(r.power.attempted);
  const std::string y2 = platform_yaml(r);
  EXPECT_NE(y2.find("# No power data: not measured for cpu0, cpu1 (switched off with --no-power)."),
            std::string::npos)
      << y2;
  EXPECT_FALSE(parse_platform(y2, "platform.yaml").processors[0].has_power);
}

// ------------------------------------------------------------------------------------------
// The executor's energy

Config spread_config(const Problem& problem) {
  return problem.resolve(parse_mapping("model: t\nplatform: host-cpu\npolicy: parallel\ndefault: cpu0\n"
                                       "assign: {conv2: cpu1, relu2: cpu1, e_pool: cpu1, fc: cpu1}\n",
                                       "m.yaml"),
                         false);
}

TEST(ExecutePower, EnergyPerInputIsTheMeasuredEnergyOverTheRun) {
  auto be = metered({{"fake:pkg", {0, 1}, 10.0, {20.0, 8.0}}});
  NEEDS_TWO_CPUS(be);
  const Model model = parse_model(kModel, "t.yaml");
  const Problem problem = execution_problem(model, *be);
  ExecuteOptions x;
  // Long enough (over 0.1 s) that a loaded machine's scheduling delays, a few milliseconds at
  // the meter's start and stop, stay within the window's 10% and the sampled mean within 5%.
  x.inputs = 200;
  x.power_period_ms = 2;
  const ExecuteResult r = execute(*be, problem, spread_config(problem), x);
  ASSERT_TRUE(std::isfinite(r.metrics.energy_mj)) << r.energy_note;
  EXPECT_EQ(r.energy_note.rfind("measured: ", 0), 0u) << r.energy_note;
  EXPECT_NE(r.energy_note.find("by fake:pkg; mean power x the run's"), std::string::npos) << r.energy_note;
  EXPECT_NE(r.energy_note.find(" span / 200 inputs"), std::string::npos) << r.energy_note;
  ASSERT_EQ(r.power.meters.size(), 1u);
  const MeterWindow& m = r.power.meters[0];
  EXPECT_NEAR(r.metrics.energy_mj, m.mean_w() * r.metrics.makespan_ms / 200, 1e-9 * r.metrics.energy_mj);
  // The window: from just before the clock starts to just after the last input is done.
  EXPECT_GE(m.seconds * 1e3, r.metrics.makespan_ms);
  EXPECT_LT(m.seconds * 1e3, r.metrics.makespan_ms + std::max(5.0, 0.1 * r.metrics.makespan_ms));
  EXPECT_GE(m.samples.size(), 3u);
  // The DES's energy per input with the fake's powers and the measured busy times: idle power
  // over the span, plus each processor's rise over its busy time (docs/semantics.md, "Energy").
  const double span = r.metrics.makespan_ms;
  const double expected = (10.0 * span + 20.0 * r.metrics.utilization[0] * span + 8.0 * r.metrics.utilization[1] * span) / 200;
  EXPECT_NEAR(r.metrics.energy_mj, expected, 0.05 * expected);
}

TEST(ExecutePower, NotEveryProcessorCoveredMeansNoEnergyAndTheReason) {
  auto be = metered({{"fake:a", {0}, 4.0, {20.0, 5.0}}});
  NEEDS_TWO_CPUS(be);
  const Model model = parse_model(kModel, "t.yaml");
  const Problem problem = execution_problem(model, *be);
  ExecuteOptions x;
  x.inputs = 3;
  ExecuteResult r = execute(*be, problem, spread_config(problem), x);
  EXPECT_TRUE(std::isnan(r.metrics.energy_mj));
  EXPECT_EQ(r.energy_note, "not measured: cpu1: fake: no meter");
  ASSERT_EQ(r.power.meters.size(), 1u) << "the meters that exist are still sampled";
  EXPECT_GT(r.power.meters[0].energy_j, 0.0);

  x.power = false;
  r = execute(*be, problem, spread_config(problem), x);
  EXPECT_TRUE(std::isnan(r.metrics.energy_mj));
  EXPECT_EQ(r.energy_note, "not measured: power sampling switched off");
  EXPECT_TRUE(r.power.meters.empty());

  // Meters handed in are used instead of the backend's.
  PowerMeters mine;
  mine.add(std::make_unique<ConstantMeter>(50.0, std::vector<int>{0, 1}, "mine"));
  x.power = true;
  x.meters = &mine;
  x.inputs = 10;
  r = execute(*be, problem, spread_config(problem), x);
  ASSERT_TRUE(std::isfinite(r.metrics.energy_mj)) << r.energy_note;
  EXPECT_NE(r.energy_note.find("by mine"), std::string::npos) << r.energy_note;
  EXPECT_NEAR(r.metrics.energy_mj, 50.0 * r.metrics.makespan_ms / 10, 1e-3 * r.metrics.energy_mj);
}

// ------------------------------------------------------------------------------------------
// Validation's energy

TEST(ValidatePower, EnergyColumnsAndMape) {
  const Problem problem = load_problem(test::source_path("models/tiny-ee.yaml"),
                                       test::source_path("profiles/example/platform.yaml"),
                                       test::source_path("profiles/example/tiny-ee.csv"));
  ASSERT_TRUE(problem.platform().has_power());
  std::vector<NamedMapping> maps = {
      {"a.yaml", load_mapping(test::source_path("examples/tiny-ee-parallel.yaml"))},
      {"b.yaml", load_mapping(test::source_path("examples/tiny-ee-sequential-big.yaml"))}};
  ValidateOptions o;
  o.inputs = 4;
  o.warmup_inputs = 1;
  int calls = 0;
  // "Measured": the DES's own latencies; energy 1/0.9 of the prediction on the first mapping
  // (error 10% of measured), none on the second.
  const ValidationReport rep = validate(problem, maps, o, [&](const Config& c, const NamedMapping&) {
    DesOptions d;
    d.inputs = 5;
    d.arrival = Arrival{ArrivalKind::closed, 0.0};
    d.seed = o.seed;
    const Metrics des = simulate_des(problem, c, d);
    Measurement m;
    m.latency_ms = des.latency_ms;
    if (calls++ == 0) m.energy_mj = des.energy_mj / 0.9;
    else m.energy_note = "not measured: big: no meter";
    return m;
  });
  ASSERT_EQ(rep.rows.size(), 2u);
  EXPECT_TRUE(std::isfinite(rep.rows[0].predicted_energy_mj));
  EXPECT_NEAR(rep.rows[0].measured_energy_mj, rep.rows[0].predicted_energy_mj / 0.9, 1e-9);
  EXPECT_TRUE(std::isnan(rep.rows[1].measured_energy_mj));
  EXPECT_EQ(rep.energy_rows, 1);
  EXPECT_NEAR(rep.energy_mape_pct, 10.0, 1e-9);
  EXPECT_EQ(rep.energy_note, "measured: not measured: big: no meter");
  EXPECT_EQ(rep.rows[0].energy_scope, "all");
  EXPECT_EQ(rep.rows[1].energy_scope, "");
  const std::string csv = validation_csv(rep);
  EXPECT_NE(csv.find("error_pct,predicted_energy_mj,measured_energy_mj,energy_scope,"
                     "predicted_worst_ms,measured_worst_ms,predicted_max_ms,measured_max_ms\n"),
            std::string::npos)
      << csv;
  const std::string row_b = csv.substr(csv.find("b.yaml"));
  EXPECT_NE(row_b.find(",,,"), std::string::npos) << "empty energies and scope: " << row_b;
  EXPECT_EQ(std::count(row_b.begin(), row_b.end(), ','), 12);
}

// Meters over only some processors: the energy of those processors is compared (the DES's
// per-processor terms), and a run too short for the meters is written but left out.
TEST(ValidatePower, EnergyOverTheMeteredProcessorsOnly) {
  const Problem problem = load_problem(test::source_path("models/tiny-ee.yaml"),
                                       test::source_path("profiles/example/platform.yaml"),
                                       test::source_path("profiles/example/tiny-ee.csv"));
  const int gpu = problem.platform().find("gpu");
  ASSERT_GE(gpu, 0);
  std::vector<NamedMapping> maps = {
      {"a.yaml", load_mapping(test::source_path("examples/tiny-ee-parallel.yaml"))},
      {"b.yaml", load_mapping(test::source_path("examples/tiny-ee-sequential-big.yaml"))}};
  ValidateOptions o;
  o.inputs = 4;
  o.warmup_inputs = 1;
  int calls = 0;
  const ValidationReport rep = validate(problem, maps, o, [&](const Config& c, const NamedMapping&) {
    DesOptions d;
    d.inputs = 5;
    d.arrival = Arrival{ArrivalKind::closed, 0.0};
    d.seed = o.seed;
    const Metrics des = simulate_des(problem, c, d);
    Measurement m;
    m.latency_ms = des.latency_ms;
    m.energy_note = "not measured: big, little: no meter";
    m.metered = {gpu};
    m.metered_energy_mj = des.energy_by_processor_mj.at(static_cast<std::size_t>(gpu)) / 0.8;
    m.energy_coarse = calls++ == 1;
    return m;
  });
  ASSERT_EQ(rep.rows.size(), 2u);
  EXPECT_EQ(rep.rows[0].energy_scope, "gpu");
  EXPECT_EQ(rep.rows[1].energy_scope, "gpu;coarse");
  EXPECT_NEAR(rep.rows[0].measured_energy_mj, rep.rows[0].predicted_energy_mj / 0.8, 1e-9);
  EXPECT_EQ(rep.energy_rows, 1);
  EXPECT_NEAR(rep.energy_mape_pct, 20.0, 1e-9);
  EXPECT_NE(rep.energy_note.find("over gpu only"), std::string::npos) << rep.energy_note;
  EXPECT_NE(rep.energy_note.find("1 run shorter"), std::string::npos) << rep.energy_note;
}

// ------------------------------------------------------------------------------------------
// The commands

TEST(PowerCli, ProfileRunAndValidateSayWhatWasMeasured) {
  const std::string dir = test::temp_dir();
  // Whether this machine's RAPL counters cover the reference backend's processors.
  std::unique_ptr<Backend> ref = make_backend("reference");
  const int P = static_cast<int>(ref->platform().processors.size());
  const PowerMeters meters = ref->power_meters();
  const bool measured = meters.covers_all(P);

  auto r = test::run_hetmap("profile -m models/tiny-ee.yaml --quick --no-power --out '" + dir + "/off'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("power             not measured: switched off with --no-power"), std::string::npos) << r.out;
  EXPECT_FALSE(load_platform(dir + "/off/platform.yaml").has_power());

  r = test::run_hetmap("profile -m models/tiny-ee.yaml --quick --out '" + dir + "/on'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Platform pf = load_platform(dir + "/on/platform.yaml");
  EXPECT_EQ(pf.has_power(), measured) << test::slurp(dir + "/on/platform.yaml");
  if (!measured) {
    EXPECT_NE(r.out.find("power             not measured: " + meters.why_not(0)), std::string::npos) << r.out;
    EXPECT_NE(pf.source.find("power not measured for cpu0"), std::string::npos) << pf.source;
  }

  const std::string map = test::write_file(dir, "m.yaml",
                                           "model: tiny-ee\nplatform: host-cpu\npolicy: parallel\ndefault: cpu0\n");
  r = test::run_hetmap("run -m models/tiny-ee.yaml --mapping '" + map + "' --inputs 3 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["energy_mj"].is_null(), !measured);
  EXPECT_EQ(j["power"].size(), meters.meters.size());
  const std::string note = j["energy_note"].get<std::string>();
  EXPECT_EQ(note.rfind(measured ? "measured: " : "not measured: ", 0), 0u) << note;
  r = test::run_hetmap("run -m models/tiny-ee.yaml --mapping '" + map + "' --inputs 2 --no-power");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("energy: not measured: power sampling switched off"), std::string::npos) << r.out;

  r = test::run_hetmap("validate -m models/tiny-ee.yaml --profile '" + dir + "/off' --random 2 --inputs 2 "
                       "--warmup-inputs 0 --out '" + dir + "/val'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("energy not compared: predicted: the profile's platform has no active_w for cpu0"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace hetmap::backend

namespace hetmap::backend {
namespace {

TEST(PowerCli, PowerWindowIsChecked) {
  const auto r = test::run_hetmap("profile -m models/tiny-ee.yaml --power-window 0 --out " +
                                  test::quote(test::temp_dir() + "/p"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--power-window"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hetmap::backend
