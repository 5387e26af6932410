// The sysfs DVFS controller (dvfs.hpp, docs/dvfs.md) on fake cpufreq/devfreq trees in temp
// folders: no board is needed, and none is touched.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fake_sysfs.hpp"
#include "fixtures.hpp"
#include "hetmap/backend/dvfs.hpp"

namespace hetmap::backend {
namespace {

namespace fs = std::filesystem;
using test::slurp;
using test::trimmed;
using test::temp_dir;
using test::write_file;


// A policy folder under ROOT/devices/system/cpu/cpufreq/NAME.
void write_policy(const std::string& root, const std::string& name, const std::string& cpus,
                  const std::string& khz, const std::string& governors, bool list_levels = true) {
  const std::string dir = "devices/system/cpu/cpufreq/" + name + "/";
  write_file(root, dir + "related_cpus", cpus + "\n");
  write_file(root, dir + "affected_cpus", cpus + "\n");
  if (list_levels) write_file(root, dir + "scaling_available_frequencies", khz + " \n");
  const auto first = khz.substr(0, khz.find(' '));
  const auto last = khz.substr(khz.rfind(' ') + 1);
  write_file(root, dir + "cpuinfo_min_freq", first + "\n");
  write_file(root, dir + "cpuinfo_max_freq", last + "\n");
  write_file(root, dir + "scaling_cur_freq", first + "\n");
  write_file(root, dir + "scaling_governor", "schedutil\n");
  write_file(root, dir + "scaling_available_governors", governors + "\n");
  write_file(root, dir + "scaling_setspeed", "<unsupported>\n");
}

const char* const kLittleKhz = "408000 600000 816000 1008000 1200000 1416000";
const char* const kBigKhz = "408000 600000 816000 1008000 1200000 1416000 1608000 1800000";
const char* const kGovernors = "conservative ondemand userspace powersave performance schedutil";

// An RK3399: policy0 = cpu0-3 (Cortex-A53), policy4 = cpu4-5 (Cortex-A72), with the per-core
// cpuN/cpufreq links of current kernels unless `links` is false.
std::string rk3399_tree(bool links = true) {
  const std::string root = temp_dir();
  write_policy(root, "policy0", "0 1 2 3", kLittleKhz, kGovernors);
  write_policy(root, "policy4", "4 5", kBigKhz, kGovernors);
  for (int c = 0; c < 6; ++c) {
    const std::string cpu = root + "/devices/system/cpu/cpu" + std::to_string(c);
    fs::create_directories(cpu);
    if (links) fs::create_directory_symlink(c < 4 ? "../cpufreq/policy0" : "../cpufreq/policy4",
                                            cpu + "/cpufreq");
  }
  return root;
}

// A devfreq device under ROOT/class/devfreq/NAME, at its lowest level.
void write_devfreq(const std::string& root, const std::string& name, const std::string& hz,
                   const std::string& governors, const std::string& governor) {
  const std::string dir = "class/devfreq/" + name + "/";
  const auto first = hz.substr(0, hz.find(' '));
  const auto last = hz.substr(hz.rfind(' ') + 1);
  write_file(root, dir + "available_frequencies", hz + "\n");
  write_file(root, dir + "available_governors", governors + "\n");
  write_file(root, dir + "governor", governor + "\n");
  write_file(root, dir + "cur_freq", first + "\n");
  write_file(root, dir + "min_freq", first + "\n");
  write_file(root, dir + "max_freq", last + "\n");
}

const char* const kMaliHz = "200000000 300000000 400000000 600000000 800000000";

using test::FakeKernel;

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const BackendError& e) {
    return e.what();
  }
  return "(no BackendError)";
}

// ---------------------------------------------------------------------------------------------
// cpufreq

TEST(Dvfs, ListsBigLittlePolicies) {
  const auto root = rk3399_tree();
  const auto policies = list_cpufreq_policies(root);
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].name, "policy0");
  EXPECT_EQ(policies[0].cores, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(policies[0].levels_mhz, (std::vector<double>{408, 600, 816, 1008, 1200, 1416}));
  EXPECT_TRUE(policies[0].levels_listed);
  EXPECT_EQ(policies[1].name, "policy4");
  EXPECT_EQ(policies[1].cores, (std::vector<int>{4, 5}));
  EXPECT_EQ(policies[1].levels_mhz.back(), 1800);
  EXPECT_EQ(policies[1].governor, "schedutil");
  EXPECT_EQ(policies[1].governors.size(), 6u);
  EXPECT_EQ(dvfs_unavailable_reason(root), "");
}

TEST(Dvfs, FindsThePolicyOfCores) {
  for (bool links : {true, false}) {  // through cpuN/cpufreq, and through related_cpus alone
    const auto root = rk3399_tree(links);
    CpuFreqDomain big({4, 5}, DvfsOptions{root, {}, true});
    EXPECT_EQ(big.info().name, "policy4") << links;
    EXPECT_EQ(big.levels_mhz().size(), 8u);
    CpuFreqDomain little({2}, DvfsOptions{root, {}, true});
    EXPECT_EQ(little.info().name, "policy0");
    EXPECT_EQ(little.info().cores, (std::vector<int>{0, 1, 2, 3}));
  }
}

TEST(Dvfs, CoresOfTwoPoliciesAreAnError) {
  const auto root = rk3399_tree();
  const auto msg = error_of([&] { CpuFreqDomain d({3, 4}, DvfsOptions{root, {}, true}); });
  EXPECT_NE(msg.find("cpu 4 is not in cpufreq policy0"), std::string::npos) << msg;
  const auto none = error_of([&] { CpuFreqDomain d({7}, DvfsOptions{root, {}, true}); });
  EXPECT_NE(none.find("no cpufreq policy covers cpu 7"), std::string::npos) << none;
}

TEST(Dvfs, LevelsFallBackToCpuinfoMinMax) {
  const std::string root = temp_dir();
  write_policy(root, "policy0", "0-3", kLittleKhz, kGovernors, /*list_levels=*/false);
  const auto policies = list_cpufreq_policies(root);
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].cores, (std::vector<int>{0, 1, 2, 3}));  // the "0-3" list form
  EXPECT_EQ(policies[0].levels_mhz, (std::vector<double>{408, 1416}));
  EXPECT_FALSE(policies[0].levels_listed);
}

// The real write() on the fake files; the test writes the cur_freq the kernel would report
// beforehand, since nothing updates a fake tree.
TEST(Dvfs, SetWritesGovernorAndKhzAndRestoresOnDestruction) {
  const auto root = rk3399_tree();
  const std::string dir = root + "/devices/system/cpu/cpufreq/policy0/";
  {
    CpuFreqDomain little({0, 1, 2, 3}, DvfsOptions{root, {}, true});
    write_file(root, "devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "1416000\n");
    little.set_mhz(1416);
    EXPECT_EQ(trimmed(dir + "scaling_governor"), "userspace");
    EXPECT_EQ(trimmed(dir + "scaling_setspeed"), "1416000");
    EXPECT_EQ(little.governor(), "userspace");
    EXPECT_DOUBLE_EQ(little.cur_mhz(), 1416);
  }
  EXPECT_EQ(trimmed(dir + "scaling_governor"), "schedutil");
  EXPECT_EQ(trimmed(root + "/devices/system/cpu/cpufreq/policy4/scaling_governor"), "schedutil");
}

TEST(Dvfs, SecondSetKeepsTheFirstGovernorAndRestoreIsExplicitToo) {
  const auto root = rk3399_tree();
  FakeKernel kernel{root, "", {}};
  CpuFreqDomain big({4, 5}, kernel.options());
  big.set_mhz(600);
  big.set_mhz(1800);
  EXPECT_DOUBLE_EQ(big.cur_mhz(), 1800);
  big.restore();
  big.restore();  // nothing left to restore
  const std::string p = "devices/system/cpu/cpufreq/policy4/";
  EXPECT_EQ(kernel.writes, (std::vector<std::string>{
                               p + "scaling_governor=userspace", p + "scaling_setspeed=600000",
                               p + "scaling_setspeed=1800000", p + "scaling_governor=schedutil"}));
}

TEST(Dvfs, AlreadyUserspaceIsLeftAsItIs) {
  const auto root = rk3399_tree();
  write_file(root, "devices/system/cpu/cpufreq/policy0/scaling_governor", "userspace\n");
  FakeKernel kernel{root, "", {}};
  {
    CpuFreqDomain little({0}, kernel.options());
    little.set_mhz(816);
  }
  EXPECT_EQ(kernel.writes,
            (std::vector<std::string>{"devices/system/cpu/cpufreq/policy0/scaling_setspeed=816000"}));
}

TEST(Dvfs, ReadBackMustShowTheLevel) {
  const auto root = rk3399_tree();
  CpuFreqDomain little({0}, DvfsOptions{root, {}, true});  // cur_freq stays 408000
  const auto msg = error_of([&] { little.set_mhz(1416); });
  EXPECT_NE(msg.find("scaling_cur_freq reads 408000 kHz after setting 1416 MHz"), std::string::npos)
      << msg;
  CpuFreqDomain unchecked({4}, DvfsOptions{root, {}, false});
  unchecked.set_mhz(1800);  // written, not checked
  EXPECT_THROW(unchecked.verify(1800), BackendError);
  write_file(root, "devices/system/cpu/cpufreq/policy4/scaling_cur_freq", "1799998\n");
  unchecked.verify(1800);  // a clock driver's rounding is within the level
}

TEST(Dvfs, NonLevelIsAnErrorNamingTheLevels) {
  const auto root = rk3399_tree();
  FakeKernel kernel{root, "", {}};
  CpuFreqDomain little({0}, kernel.options());
  const auto msg = error_of([&] { little.set_mhz(1000); });
  EXPECT_NE(msg.find("1000 MHz is not a level"), std::string::npos) << msg;
  EXPECT_NE(msg.find("408, 600, 816, 1008, 1200, 1416 MHz"), std::string::npos) << msg;
  EXPECT_TRUE(kernel.writes.empty());
}

// Tests run as root, and root writes a 0444 file anyway, so chmod cannot make a file
// unwritable here. The writer stands in for the kernel's refusal (EACCES for a non-root user,
// EROFS for a read-only sysfs), and the default writer meets a folder where a file should be.
TEST(Dvfs, UnwritableFilesAreErrorsSayingWhatIsNeeded) {
  const auto root = rk3399_tree();
  const std::string dir = root + "/devices/system/cpu/cpufreq/policy0/";
  for (int err : {EACCES, EROFS}) {
    DvfsOptions options{root, [err](const std::string&, const std::string&) { return err; }, true};
    CpuFreqDomain little({0}, options);
    const auto msg = error_of([&] { little.set_mhz(600); });
    EXPECT_NE(msg.find(dir + "scaling_governor is not writable"), std::string::npos) << msg;
    EXPECT_NE(msg.find("run as root, or set the userspace governor yourself"), std::string::npos)
        << msg;
  }
  EXPECT_EQ(trimmed(dir + "scaling_governor"), "schedutil");

  fs::remove(dir + "scaling_setspeed");
  fs::create_directory(dir + "scaling_setspeed");
  {
    CpuFreqDomain little({0}, DvfsOptions{root, {}, true});
    const auto msg = error_of([&] { little.set_mhz(600); });
    EXPECT_NE(msg.find(dir + "scaling_setspeed: writing '600000' failed (Is a directory)"),
              std::string::npos)
        << msg;
    EXPECT_EQ(trimmed(dir + "scaling_governor"), "userspace");  // switched before the failure
  }
  EXPECT_EQ(trimmed(dir + "scaling_governor"), "schedutil");  // and put back on destruction
}

TEST(Dvfs, NoUserspaceGovernorIsAnError) {
  const auto root = rk3399_tree();
  write_file(root, "devices/system/cpu/cpufreq/policy4/scaling_available_governors",
             "performance schedutil\n");
  CpuFreqDomain big({4}, DvfsOptions{root, {}, true});
  const auto msg = error_of([&] { big.set_mhz(1800); });
  EXPECT_NE(msg.find("policy4/scaling_available_governors offers no userspace governor"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("CONFIG_CPU_FREQ_GOV_USERSPACE"), std::string::npos) << msg;
  EXPECT_NE(dvfs_unavailable_reason(root).find("offers no userspace governor"), std::string::npos);
}

TEST(Dvfs, MissingSysfsIsAnErrorAndAReason) {
  const std::string root = temp_dir();  // like the development VM: no cpufreq, no devfreq
  const auto msg = error_of([&] { CpuFreqDomain d({0}, DvfsOptions{root, {}, true}); });
  EXPECT_NE(msg.find(root + "/devices/system/cpu/cpufreq is absent"), std::string::npos) << msg;
  EXPECT_EQ(dvfs_unavailable_reason(root), msg);
  EXPECT_TRUE(list_cpufreq_policies(root).empty());
  EXPECT_TRUE(list_devfreq_devices(root).empty());
  EXPECT_EQ(find_gpu_devfreq(root), "");
  const auto gpu = error_of([&] { DevFreqDomain d("gpu", DvfsOptions{root, {}, true}); });
  EXPECT_NE(gpu.find(root + "/class/devfreq is absent"), std::string::npos) << gpu;
  EXPECT_EQ(devfreq_unavailable_reason("gpu", root), gpu);
  // the development VM's layout: an empty cpufreq folder
  fs::create_directories(root + "/devices/system/cpu/cpufreq");
  fs::create_directories(root + "/devices/system/cpu/cpu0");
  const auto empty = error_of([&] { CpuFreqDomain d({0}, DvfsOptions{root, {}, true}); });
  EXPECT_NE(empty.find("cpu/cpufreq has no policies: this kernel exposes no cpufreq"),
            std::string::npos)
      << empty;
  EXPECT_EQ(dvfs_unavailable_reason(root), empty);
  // cpufreq present, a policy's governor file gone
  const auto broken = rk3399_tree();
  fs::remove(broken + "/devices/system/cpu/cpufreq/policy4/scaling_governor");
  EXPECT_NE(dvfs_unavailable_reason(broken).find("policy4/scaling_governor cannot be read"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// devfreq

TEST(Dvfs, DevfreqWithUserspaceGovernor) {
  const std::string root = temp_dir();
  write_devfreq(root, "dmc", "200000000 800000000", "simple_ondemand userspace", "simple_ondemand");
  write_devfreq(root, "ff9a0000.gpu", kMaliHz,
                "userspace powersave performance simple_ondemand", "simple_ondemand");
  const auto devices = list_devfreq_devices(root);
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[1].name, "ff9a0000.gpu");
  EXPECT_EQ(devices[1].levels_mhz, (std::vector<double>{200, 300, 400, 600, 800}));
  EXPECT_EQ(find_gpu_devfreq(root), "ff9a0000.gpu");
  EXPECT_EQ(devfreq_unavailable_reason("ff9a0000.gpu", root), "");

  FakeKernel kernel{root, "", {}};
  const std::string dir = root + "/class/devfreq/ff9a0000.gpu/";
  {
    DevFreqDomain gpu("ff9a0000.gpu", kernel.options());
    EXPECT_TRUE(gpu.uses_userspace());
    gpu.set_mhz(600);
    EXPECT_EQ(trimmed(dir + "governor"), "userspace");
    EXPECT_EQ(trimmed(dir + "userspace/set_freq"), "600000000");
    EXPECT_DOUBLE_EQ(gpu.cur_mhz(), 600);
    const auto msg = error_of([&] { gpu.set_mhz(500); });
    EXPECT_NE(msg.find("500 MHz is not a level; the levels are 200, 300, 400, 600, 800 MHz"),
              std::string::npos)
        << msg;
  }
  EXPECT_EQ(trimmed(dir + "governor"), "simple_ondemand");
  const std::string p = "class/devfreq/ff9a0000.gpu/";
  EXPECT_EQ(kernel.writes,
            (std::vector<std::string>{p + "governor=userspace", p + "userspace/set_freq=600000000",
                                      p + "governor=simple_ondemand"}));
}

TEST(Dvfs, DevfreqWithoutUserspacePinsMinAndMax) {
  const std::string root = temp_dir();
  // A Jetson-like GPU: no userspace governor, levels that are not whole MHz.
  write_devfreq(root, "17000000.gv11b", "114750000 318750000 522750000 1377000000",
                "nvhost_podgov performance", "nvhost_podgov");
  EXPECT_EQ(find_gpu_devfreq(root), "17000000.gv11b");
  FakeKernel kernel{root, "", {}};
  const std::string dir = root + "/class/devfreq/17000000.gv11b/";
  {
    DevFreqDomain gpu("17000000.gv11b", kernel.options());
    EXPECT_FALSE(gpu.uses_userspace());
    EXPECT_EQ(gpu.levels_mhz().front(), 114.75);
    gpu.set_mhz(522.75);   // from [114.75, 1377]: min first, then max
    gpu.set_mhz(1377);     // from [522.75, 522.75]: max first, then min
    EXPECT_EQ(trimmed(dir + "min_freq"), "1377000000");
    EXPECT_EQ(trimmed(dir + "max_freq"), "1377000000");
    EXPECT_EQ(gpu.governor(), "nvhost_podgov");
  }
  EXPECT_EQ(trimmed(dir + "min_freq"), "114750000");
  EXPECT_EQ(trimmed(dir + "max_freq"), "1377000000");
  const std::string p = "class/devfreq/17000000.gv11b/";
  EXPECT_EQ(kernel.writes,
            (std::vector<std::string>{p + "min_freq=522750000", p + "max_freq=522750000",
                                      p + "max_freq=1377000000", p + "min_freq=1377000000",
                                      p + "min_freq=114750000", p + "max_freq=1377000000"}));
}

TEST(Dvfs, DevfreqErrors) {
  const std::string root = temp_dir();
  write_devfreq(root, "ff9a0000.gpu", kMaliHz, "simple_ondemand performance", "simple_ondemand");
  fs::remove(root + "/class/devfreq/ff9a0000.gpu/min_freq");
  const auto msg = error_of([&] { DevFreqDomain d("ff9a0000.gpu", DvfsOptions{root, {}, true}); });
  EXPECT_NE(msg.find("offers no userspace governor (simple_ondemand performance) and has no "
                     "min_freq/max_freq to pin"),
            std::string::npos)
      << msg;
  const auto absent = error_of([&] { DevFreqDomain d("mali", DvfsOptions{root, {}, true}); });
  EXPECT_NE(absent.find("class/devfreq/mali is absent; the devfreq devices here: ff9a0000.gpu"),
            std::string::npos)
      << absent;

  write_devfreq(root, "npu", kMaliHz, "userspace performance", "performance");
  DvfsOptions refusing{root, [](const std::string&, const std::string&) { return EACCES; }, true};
  DevFreqDomain npu("npu", refusing);
  const auto denied = error_of([&] { npu.set_mhz(800); });
  EXPECT_NE(denied.find("class/devfreq/npu/governor is not writable (Permission denied): run as root"),
            std::string::npos)
      << denied;
}

}  // namespace
}  // namespace hetmap::backend
