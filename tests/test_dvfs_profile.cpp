// DVFS in `hetmap profile` (the --dvfs sweep, holding the highest level) and in the executor
// (a mapping's freq_mhz), on fake cpufreq/devfreq trees in temp folders (docs/dvfs.md): the
// reference backend's clusters get policies of their own cores there, and a writer plays the
// kernel (a new scaling_setspeed becomes scaling_cur_freq) and records every write. Nothing on
// the machine's own /sys is written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "fake_sysfs.hpp"
#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/backend/executor.hpp"
#include "hetmap/backend/profiler.hpp"
#include "hetmap/mapping.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"

namespace hetmap::backend {
namespace {

namespace fs = std::filesystem;
using test::slurp;
using test::trimmed;
using test::temp_dir;
using test::write_file;


std::string khz_list(const std::vector<int>& mhz) {
  std::string s;
  for (int f : mhz) s += (s.empty() ? "" : " ") + std::to_string(f * 1000);
  return s;
}

std::string hz_list(const std::vector<int>& mhz) {
  std::string s;
  for (int f : mhz) s += (s.empty() ? "" : " ") + std::to_string(f) + "000000";
  return s;
}

const char* const kGovernors = "conservative ondemand userspace powersave performance schedutil";

// A cpufreq policy named after its first core, holding `cores`, with cpuN/cpufreq links.
std::string add_policy(const std::string& root, const std::vector<int>& cores,
                       const std::vector<int>& mhz) {
  const std::string name = "policy" + std::to_string(cores.front());
  const std::string dir = "devices/system/cpu/cpufreq/" + name + "/";
  std::string list;
  for (int c : cores) list += (list.empty() ? "" : " ") + std::to_string(c);
  write_file(root, dir + "related_cpus", list + "\n");
  write_file(root, dir + "affected_cpus", list + "\n");
  write_file(root, dir + "scaling_available_frequencies", khz_list(mhz) + " \n");
  write_file(root, dir + "cpuinfo_min_freq", std::to_string(mhz.front() * 1000) + "\n");
  write_file(root, dir + "cpuinfo_max_freq", std::to_string(mhz.back() * 1000) + "\n");
  write_file(root, dir + "scaling_cur_freq", std::to_string(mhz.front() * 1000) + "\n");
  write_file(root, dir + "scaling_governor", "schedutil\n");
  write_file(root, dir + "scaling_available_governors", std::string(kGovernors) + "\n");
  write_file(root, dir + "scaling_setspeed", "<unsupported>\n");
  for (int c : cores) {
    const std::string cpu = root + "/devices/system/cpu/cpu" + std::to_string(c);
    fs::create_directories(cpu);
    fs::create_directory_symlink("../cpufreq/" + name, cpu + "/cpufreq");
  }
  return root + "/" + dir;
}

// A Mali-like devfreq GPU with the userspace governor on offer.
std::string add_gpu(const std::string& root, const std::vector<int>& mhz) {
  const std::string dir = "class/devfreq/ff9a0000.gpu/";
  write_file(root, dir + "available_frequencies", hz_list(mhz) + "\n");
  write_file(root, dir + "available_governors", "userspace powersave performance simple_ondemand\n");
  write_file(root, dir + "governor", "simple_ondemand\n");
  write_file(root, dir + "cur_freq", std::to_string(mhz.front()) + "000000\n");
  write_file(root, dir + "min_freq", std::to_string(mhz.front()) + "000000\n");
  write_file(root, dir + "max_freq", std::to_string(mhz.back()) + "000000\n");
  return root + "/" + dir;
}

using test::FakeKernel;

const std::vector<int> kLevels0 = {408, 816, 1416};   // cluster 0 (the host)
const std::vector<int> kLevels1 = {600, 1800};        // cluster 1
const std::vector<int> kGpuLevels = {200, 400, 800};  // the devfreq GPU

std::vector<double> as_double(const std::vector<int>& v) { return {v.begin(), v.end()}; }

// A fake tree with one policy per cluster of `backend` (each over exactly its cores).
struct Tree {
  std::string root;
  std::vector<std::string> policy;  // per processor: its policy folder
};

Tree cluster_tree(Backend& backend, bool gpu = false) {
  Tree t;
  t.root = temp_dir();
  const int P = static_cast<int>(backend.platform().processors.size());
  for (int p = 0; p < P; ++p) {
    if (backend.platform().processors[p].kind != ProcKind::cpu) {
      t.policy.push_back("");
      continue;
    }
    t.policy.push_back(add_policy(t.root, backend.device(p).cores(), p == 0 ? kLevels0 : kLevels1));
  }
  if (gpu) add_gpu(t.root, kGpuLevels);
  return t;
}

// The reference backend's processors reshaped for a test: processor 1 a `gpu` (driven through
// the fake tree's devfreq device by Backend::freq_domain()'s default; its kernels still run on
// a host cluster), or freqs_mhz on the CPU processors, as a board backend's platform has them.
class Reshaped : public Backend {
 public:
  Reshaped(bool gpu, bool freqs) : inner_(make_backend("reference", BackendOptions{2})) {
    platform_ = inner_->platform();
    if (gpu) {
      platform_.processors[1].name = "gpu";
      platform_.processors[1].kind = ProcKind::gpu;
    }
    if (freqs)
      for (std::size_t p = 0; p < platform_.processors.size(); ++p) {
        Processor& proc = platform_.processors[p];
        if (proc.kind != ProcKind::cpu) continue;
        proc.freqs_mhz = as_double(p == 0 ? kLevels0 : kLevels1);
        proc.active_w.assign(proc.freqs_mhz.size(), 0.0);
      }
  }
  std::string name() const override { return "reference"; }
  const Platform& platform() const override { return platform_; }
  Device& device(int p) override { return inner_->device(p); }
  void copy(const Buffer& src, int from, Buffer& dst, int to) override { inner_->copy(src, from, dst, to); }
  void upload(const float* d, Buffer& dst, int p) override { inner_->upload(d, dst, p); }
  void download(const Buffer& src, int p, float* d) override { inner_->download(src, p, d); }
  std::string describe() const override { return "reshaped " + inner_->describe(); }

 private:
  std::unique_ptr<Backend> inner_;
  Platform platform_;
};

// Seconds, not minutes: few samples, no transfers, contention or power (links as --quick has
// them: their fit needs sizes far enough apart to grow on a loaded machine).
ProfileOptions fast(FakeKernel& kernel, bool sweep) {
  ProfileOptions o = ProfileOptions::quick();
  o.layers = {1, 3, 5, 1.0, 50};
  o.transfers = false;
  o.contention = false;
  o.power = false;
  o.dvfs_sweep = sweep;
  o.dvfs = kernel.options();
  o.dvfs_settle_ms = 0;
  return o;
}

const Model& tiny() {
  static const Model m = load_model(test::source_path("models/tiny-ee.yaml"));
  return m;
}

// 2 clusters need 2 usable CPUs.
bool needs_two_cpus() {
  return make_backend("reference", BackendOptions{1})->device(0).cores().size() < 2;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const BackendError& e) {
    return e.what();
  }
  return "(no BackendError)";
}

#define REQUIRE_TWO_CPUS() \
  if (needs_two_cpus()) GTEST_SKIP() << "the reference backend needs 2 usable CPUs for 2 clusters"

// ---------------------------------------------------------------------------------------------
// Devices and domains

TEST(DvfsBackend, ReferenceClustersReportTheirCoresAndFindTheirPolicies) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const auto c0 = be->device(0).cores(), c1 = be->device(1).cores();
  ASSERT_FALSE(c0.empty());
  ASSERT_FALSE(c1.empty());
  EXPECT_TRUE(std::is_sorted(c0.begin(), c0.end()));
  EXPECT_LT(c0.back(), c1.front());  // disjoint, in order
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  auto d0 = be->freq_domain(0, k.options());
  auto d1 = be->freq_domain(1, k.options());
  EXPECT_EQ(d0->levels_mhz(), as_double(kLevels0));
  EXPECT_EQ(d1->levels_mhz(), as_double(kLevels1));
  EXPECT_TRUE(k.writes.empty());  // a domain reads when it is built
}

TEST(DvfsBackend, MissingCpufreqAndGpuDevfreqNameTheProcessor) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const std::string empty = temp_dir();
  const std::string cpu = error_of([&] { be->freq_domain(0, DvfsOptions{empty, {}, true}); });
  EXPECT_EQ(cpu.rfind("processor cpu0 (cpu, cores", 0), 0u) << cpu;
  EXPECT_NE(cpu.find("cpufreq is absent"), std::string::npos) << cpu;
  Reshaped gpu(/*gpu=*/true, /*freqs=*/false);
  const std::string g = error_of([&] { gpu.freq_domain(1, DvfsOptions{empty, {}, true}); });
  EXPECT_EQ(g.rfind("processor gpu (gpu): no devfreq device", 0), 0u) << g;
  EXPECT_EQ(error_of([&] { be->freq_domain(7, DvfsOptions{empty, {}, true}); }).rfind("backend reference: no processor 7", 0), 0u);
}

TEST(DvfsBackend, CudaGpuClocksBelongToTheDriverAndItsClustersKeepTheDefault) {
  std::unique_ptr<Backend> be;
  try {
    be = make_backend("cuda");
  } catch (const Error& e) {
    GTEST_SKIP() << "no CUDA backend here: " << e.what();
  }
  const std::string empty = temp_dir();
  const auto& ps = be->platform().processors;
  for (int p = 0; p < static_cast<int>(ps.size()); ++p) {
    const std::string msg = error_of([&] { be->freq_domain(p, DvfsOptions{empty, {}, true}); });
    if (ps[p].kind == ProcKind::gpu)
      EXPECT_EQ(msg, "processor gpu (gpu): the CUDA backend's GPU clocks belong to the NVIDIA "
                     "driver (nvidia-smi --lock-gpu-clocks); hetmap does not set them");
    else
      EXPECT_EQ(msg.rfind("processor " + ps[p].name + " (cpu, cores ", 0), 0u) << msg;
  }
}

// ---------------------------------------------------------------------------------------------
// hetmap profile --dvfs

TEST(DvfsProfile, SweepWritesOneRowPerLayerLevelAndProcessorAndRestoresGovernors) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  std::vector<std::string> log;
  ProfileOptions o = fast(k, true);
  o.log = [&](const std::string& line) { log.push_back(line); };
  const ProfileResult r = profile(*be, tiny(), o);
  const std::size_t L = tiny().layers.size();
  ASSERT_TRUE(r.refused.empty()) << r.refused.front();
  // The backend's host-cpu lists no levels: the domains' levels go into the platform.
  EXPECT_EQ(r.platform.processors[0].freqs_mhz, as_double(kLevels0));
  EXPECT_EQ(r.platform.processors[1].freqs_mhz, as_double(kLevels1));
  EXPECT_EQ(r.layers.size(), L * (kLevels0.size() + kLevels1.size()));
  EXPECT_EQ(r.dvfs_layers.size(), r.layers.size());  // no GPU: the same rows
  std::set<std::tuple<int, int, double>> cells;
  for (const LayerMeasurement& m : r.layers) {
    cells.insert({m.layer, m.proc, m.freq_mhz});
    EXPECT_GT(m.freq_mhz, 0.0);
    EXPECT_GT(m.stats.mean_ms, 0.0);
  }
  EXPECT_EQ(cells.size(), r.layers.size());
  // Every level set through scaling_setspeed, back to the highest at the end of each sweep.
  EXPECT_EQ(k.values("policy" + std::to_string(be->device(0).cores().front()) + "/scaling_setspeed"),
            (std::vector<std::string>{"1416000", "408000", "816000", "1416000", "1416000"}));
  // Governors back as they were, and the progress says what was set.
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_EQ(trimmed(t.policy[1] + "scaling_governor"), "schedutil");
  EXPECT_NE(std::find_if(log.begin(), log.end(),
                         [](const std::string& l) { return l.find("cpu1 at 600 MHz") == 0; }),
            log.end());

  // The files: MODEL.csv loads back with those rows, MODEL.dvfs.csv has every one.
  const std::string dir = temp_dir() + "/prof";
  const ProfileFiles f = write_profile(r, tiny(), dir);
  const Platform pf = load_platform(f.platform);
  EXPECT_EQ(pf.processors[0].freqs_mhz, as_double(kLevels0));
  const Profile prof = load_profile(f.profile, tiny(), pf);
  EXPECT_EQ(prof.rows().size(), r.layers.size());
  EXPECT_NE(prof.source.find("every frequency level"), std::string::npos) << prof.source;
  ASSERT_EQ(f.dvfs, dir + "/tiny-ee.dvfs.csv");
  std::istringstream csv(slurp(f.dvfs));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("# source: ", 0), 0u);
  std::getline(csv, line);
  EXPECT_EQ(line, "layer,processor,freq_mhz,host_freq_mhz,threads,mean_ms,std_ms,p99_ms,samples");
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    EXPECT_NE(line.find(",,,"), std::string::npos) << "CPU rows: no host level, no threads: " << line;
  }
  EXPECT_EQ(rows, r.dvfs_layers.size());
}

TEST(DvfsProfile, GpuRowsAreMeasuredAtEveryHostLevel) {
  REQUIRE_TWO_CPUS();
  Reshaped be(/*gpu=*/true, /*freqs=*/false);
  const Tree t = cluster_tree(be, /*gpu=*/true);
  FakeKernel k{t.root, "", {}};
  const ProfileResult r = profile(be, tiny(), fast(k, true));
  const std::size_t L = tiny().layers.size();
  EXPECT_EQ(r.platform.processors[1].freqs_mhz, as_double(kGpuLevels));
  std::size_t gpu_rows = 0, gpu_sweep = 0;
  for (const LayerMeasurement& m : r.layers)
    if (m.proc == 1) {
      ++gpu_rows;
      EXPECT_EQ(m.host_freq_mhz, 0.0);  // MODEL.csv: at the host's highest, no column for it
    }
  std::set<std::pair<double, double>> pairs;
  for (const LayerMeasurement& m : r.dvfs_layers)
    if (m.proc == 1) {
      ++gpu_sweep;
      pairs.insert({m.freq_mhz, m.host_freq_mhz});
    } else {
      EXPECT_EQ(m.host_freq_mhz, 0.0);
    }
  EXPECT_EQ(gpu_rows, L * kGpuLevels.size());
  EXPECT_EQ(gpu_sweep, L * kGpuLevels.size() * kLevels0.size());
  EXPECT_EQ(pairs.size(), kGpuLevels.size() * kLevels0.size());
  EXPECT_EQ(r.layers.size(), L * (kLevels0.size() + kGpuLevels.size()));
  // devfreq through its userspace governor, put back afterwards.
  const auto set = k.values("userspace/set_freq");
  EXPECT_EQ(set.front(), "800000000");  // held at the highest first
  EXPECT_EQ(set.size(), 1 + kGpuLevels.size() * kLevels0.size() + 1);
  EXPECT_EQ(trimmed(t.root + "/class/devfreq/ff9a0000.gpu/governor"), "simple_ondemand");
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_NE(r.freq_note.find("every level of host cpu0"), std::string::npos) << r.freq_note;

  const std::string dir = temp_dir();
  const ProfileFiles f = write_profile(r, tiny(), dir);
  const std::string text = slurp(f.dvfs);
  EXPECT_NE(text.find("\nconv1,gpu,200,408,,"), std::string::npos) << text.substr(0, 800);
  EXPECT_NE(text.find("\nconv1,cpu0,408,,,"), std::string::npos);
  const Profile prof = load_profile(f.profile, tiny(), load_platform(f.platform));
  EXPECT_EQ(prof.rows().size(), r.layers.size());
}

TEST(DvfsProfile, UnwritableTreeIsABackendErrorNamingTheFileAndTouchesNothing) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "scaling_governor", {}};
  const std::string msg = error_of([&] { profile(*be, tiny(), fast(k, true)); });
  EXPECT_EQ(msg.rfind("processor cpu0: setting 1416 MHz: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("scaling_governor is not writable (Permission denied)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_TRUE(k.values("scaling_setspeed").empty());
  // The whole error is an exit-2 error.
  try {
    profile(*be, tiny(), fast(k, true));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kBadInput);
  }
}

TEST(DvfsProfile, SweepWithoutCpufreqFailsSayingWhy) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  FakeKernel k{temp_dir(), "", {}};
  const std::string msg = error_of([&] { profile(*be, tiny(), fast(k, true)); });
  EXPECT_EQ(msg.rfind("processor cpu0 (cpu, cores ", 0), 0u) << msg;
  EXPECT_NE(msg.find("CPU DVFS needs a board"), std::string::npos) << msg;
}

TEST(DvfsProfile, WithoutSweepAPlatformWithoutFreqsSetsNothing) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  const ProfileResult r = profile(*be, tiny(), fast(k, false));
  EXPECT_TRUE(k.writes.empty());
  EXPECT_TRUE(r.dvfs_layers.empty());
  EXPECT_EQ(r.pinned_mhz, (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(r.layers.size(), tiny().layers.size() * 2);
  for (const LayerMeasurement& m : r.layers) EXPECT_EQ(m.freq_mhz, 0.0);
  const std::string csv = profile_csv(r, tiny());
  EXPECT_NE(csv.find("frequencies were left to the governor"), std::string::npos) << csv.substr(0, 600);
  const std::string dir = temp_dir();
  write_file(dir, "tiny-ee.dvfs.csv", "stale\n");
  EXPECT_EQ(write_profile(r, tiny(), dir).dvfs, "");
  EXPECT_FALSE(fs::exists(dir + "/tiny-ee.dvfs.csv")) << "a stale sweep is removed";
}

TEST(DvfsProfile, WithoutSweepFreqsAreHeldAtTheHighestLevel) {
  REQUIRE_TWO_CPUS();
  Reshaped be(/*gpu=*/false, /*freqs=*/true);
  const Tree t = cluster_tree(be);
  FakeKernel k{t.root, "", {}};
  const ProfileResult r = profile(be, tiny(), fast(k, false));
  EXPECT_EQ(r.pinned_mhz, (std::vector<double>{1416.0, 1800.0}));
  EXPECT_EQ(k.values("scaling_setspeed"), (std::vector<std::string>{"1416000", "1800000"}));
  for (const LayerMeasurement& m : r.layers) EXPECT_EQ(m.freq_mhz, 0.0);  // empty = the highest
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_EQ(trimmed(t.policy[1] + "scaling_governor"), "schedutil");
  EXPECT_NE(profile_csv(r, tiny()).find("frequencies held at the highest level"), std::string::npos);
}

TEST(DvfsProfile, WithoutSweepAnUndrivableDomainIsLeftToTheGovernorAndSaidSo) {
  REQUIRE_TWO_CPUS();
  Reshaped be(/*gpu=*/false, /*freqs=*/true);
  const Tree t = cluster_tree(be);
  FakeKernel k{t.root, "scaling_governor", {}};
  std::vector<std::string> log;
  ProfileOptions o = fast(k, false);
  o.log = [&](const std::string& line) { log.push_back(line); };
  const ProfileResult r = profile(be, tiny(), o);
  EXPECT_EQ(r.pinned_mhz, (std::vector<double>{0.0, 0.0}));
  const std::string csv = profile_csv(r, tiny());
  const std::string source = csv.substr(0, csv.find('\n'));
  EXPECT_NE(source.find("frequencies left to the governor"), std::string::npos) << source;
  EXPECT_NE(source.find("scaling_governor is not writable"), std::string::npos) << source;
  EXPECT_EQ(log.front().rfind("warning: cpu0's frequency is left to the governor", 0), 0u) << log.front();
}

// ---------------------------------------------------------------------------------------------
// The executor: a mapping's freq_mhz

// The reference backend's platform with the fake tree's levels, as a --dvfs profile writes it.
Problem problem_with_levels(const Backend& be) {
  Platform pf = be.platform();
  for (std::size_t p = 0; p < pf.processors.size(); ++p) {
    pf.processors[p].freqs_mhz = as_double(p == 0 ? kLevels0 : kLevels1);
    pf.processors[p].active_w.assign(pf.processors[p].freqs_mhz.size(), 0.0);
  }
  return Problem(tiny(), pf, Profile::empty(tiny(), pf));
}

Config config_of(const Problem& pb, const std::string& extra) {
  const std::string yaml = "model: tiny-ee\nplatform: host-cpu\npolicy: parallel\n"
                           "assign: {conv2: cpu1, relu2: cpu1, pool2: cpu1}\n" + extra;
  return pb.resolve(parse_mapping(yaml, "m.yaml"), /*check_profile=*/false);
}

ExecuteOptions quiet(FakeKernel& k) {
  ExecuteOptions x;
  x.inputs = 3;
  x.power = false;
  x.dvfs = k.options();
  x.freq_settle_ms = 0;
  return x;
}

TEST(DvfsRun, AppliesTheMappingsFreqAndRestores) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  const Problem pb = problem_with_levels(*be);
  const Config c = config_of(pb, "freq_mhz: {cpu0: 816, cpu1: 600}\n");
  EXPECT_EQ(freq_processors(pb, c), (std::vector<int>{0, 1}));
  const ExecuteResult r = execute(*be, pb, c, quiet(k));
  EXPECT_EQ(r.freq_mhz, (std::vector<double>{816.0, 600.0}));
  EXPECT_EQ(k.values("scaling_setspeed"), (std::vector<std::string>{"816000", "600000"}));
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_EQ(trimmed(t.policy[1] + "scaling_governor"), "schedutil");
  EXPECT_EQ(k.values("scaling_governor"),
            (std::vector<std::string>{"userspace", "userspace", "schedutil", "schedutil"}));
  EXPECT_NE(r.freq_note.find("set cpu0 816 MHz, cpu1 600 MHz"), std::string::npos) << r.freq_note;
  EXPECT_EQ(r.metrics.inputs, 3);

  // No freq_mhz in the mapping: the highest levels (the simulator's default).
  FakeKernel k2{t.root, "", {}};
  const ExecuteResult top = execute(*be, pb, config_of(pb, ""), quiet(k2));
  EXPECT_EQ(top.freq_mhz, (std::vector<double>{1416.0, 1800.0}));
}

TEST(DvfsRun, OnlyProcessorsTheMappingUsesAreSet) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  const Problem pb = problem_with_levels(*be);
  const Config c = pb.resolve(parse_mapping("model: tiny-ee\nplatform: host-cpu\n", "m.yaml"), false);
  EXPECT_EQ(freq_processors(pb, c), (std::vector<int>{0}));
  const ExecuteResult r = execute(*be, pb, c, quiet(k));
  EXPECT_EQ(r.freq_mhz, (std::vector<double>{1416.0, 0.0}));
  EXPECT_EQ(k.values("policy" + std::to_string(be->device(1).cores().front())).size(), 0u);
}

TEST(DvfsRun, NoDvfsSetsNothingAndSaysSo) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  const Problem pb = problem_with_levels(*be);
  ExecuteOptions x = quiet(k);
  x.apply_freq = false;
  const ExecuteResult r = execute(*be, pb, config_of(pb, "freq_mhz: {cpu1: 600}\n"), x);
  EXPECT_TRUE(k.writes.empty());
  EXPECT_EQ(r.freq_mhz, (std::vector<double>{0.0, 0.0}));
  EXPECT_NE(r.freq_note.find("left to the governor (--no-dvfs)"), std::string::npos) << r.freq_note;
  EXPECT_NE(r.freq_note.find("cpu1 (mapping 600 MHz)"), std::string::npos) << r.freq_note;
}

TEST(DvfsRun, APlatformWithoutFreqsSetsNothing) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "", {}};
  const Problem pb = execution_problem(tiny(), *be);  // host-cpu: no freqs_mhz
  const Config c = config_of(pb, "");
  EXPECT_TRUE(freq_processors(pb, c).empty());
  const ExecuteResult r = execute(*be, pb, c, quiet(k));
  EXPECT_TRUE(k.writes.empty());
  EXPECT_EQ(r.freq_note, "");
  // Nor without any cpufreq at all: nothing is asked of it.
  FakeKernel none{temp_dir(), "", {}};
  EXPECT_NO_THROW(execute(*be, pb, c, quiet(none)));
}

TEST(DvfsRun, AnUnwritableTreeIsAnErrorBeforeAnythingRuns) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  const Tree t = cluster_tree(*be);
  FakeKernel k{t.root, "scaling_setspeed", {}};
  const Problem pb = problem_with_levels(*be);
  const std::string msg = error_of([&] { execute(*be, pb, config_of(pb, ""), quiet(k)); });
  EXPECT_EQ(msg.rfind("processor cpu0: setting 1416 MHz: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("scaling_setspeed is not writable"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--no-dvfs"), std::string::npos) << msg;
  // The governor it had switched is back.
  EXPECT_EQ(trimmed(t.policy[0] + "scaling_governor"), "schedutil");
  EXPECT_EQ(trimmed(t.policy[1] + "scaling_governor"), "schedutil");
}

TEST(DvfsRun, TwoLevelsOnOneSharedPolicyAreAnError) {
  REQUIRE_TWO_CPUS();
  auto be = make_backend("reference", BackendOptions{2});
  Tree t;
  t.root = temp_dir();
  std::vector<int> all = be->device(0).cores();
  for (int c : be->device(1).cores()) all.push_back(c);
  add_policy(t.root, all, kLevels0);
  FakeKernel k{t.root, "", {}};
  Platform pf = be->platform();
  for (Processor& p : pf.processors) {
    p.freqs_mhz = as_double(kLevels0);
    p.active_w.assign(kLevels0.size(), 0.0);
  }
  const Problem pb(tiny(), pf, Profile::empty(tiny(), pf));
  const std::string msg = error_of(
      [&] { execute(*be, pb, config_of(pb, "freq_mhz: {cpu0: 408, cpu1: 816}\n"), quiet(k)); });
  EXPECT_NE(msg.find("processors cpu0 and cpu1 share one frequency domain"), std::string::npos) << msg;
  EXPECT_TRUE(k.writes.empty());
  // The same level on both is fine.
  EXPECT_NO_THROW(execute(*be, pb, config_of(pb, "freq_mhz: {cpu0: 816, cpu1: 816}\n"), quiet(k)));
}

// ---------------------------------------------------------------------------------------------
// The commands on this machine's own /sys (read only: these fail before any write, or set nothing)

TEST(DvfsCli, ProfileDvfsExitsTwoWithTheReasonWhereCpufreqCannotBeDriven) {
  const std::string why = dvfs_unavailable_reason("/sys");
  if (why.empty()) GTEST_SKIP() << "this machine's cpufreq can be driven: not tried here";
  const std::string out = temp_dir() + "/p";
  const auto r = test::run_hetmap("profile --backend reference --clusters 1 -m models/tiny-ee.yaml "
                                  "--quick --no-power --dvfs --out " + test::quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("processor cpu0 (cpu, cores"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out + "/tiny-ee.csv"));
}

TEST(DvfsCli, RunOnHostCpuSetsNothingAndWarnsOfNothing) {
  const std::string map = write_file(temp_dir(), "host.yaml", "model: tiny-ee\nplatform: host-cpu\n");
  for (const char* flag : {"", " --no-dvfs"}) {
    const auto r = test::run_hetmap("run --backend reference --clusters 1 -m models/tiny-ee.yaml "
                                    "--mapping " + test::quote(map) + " --no-power --json -" + flag);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("\"freq_mhz\": {}"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace hetmap::backend
