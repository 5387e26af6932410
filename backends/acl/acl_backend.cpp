// The Arm Compute Library backend (docs/acl.md): the board's CPU clusters (one cpufreq policy
// each) with NEON functions on per-cluster thread pools, and its Mali GPU with OpenCL
// functions. Tensors move between them through map/unmap of the GPU's buffers.
#include <arm_compute/core/CL/CLKernelLibrary.h>
#include <arm_compute/runtime/CL/CLScheduler.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <set>

#include "acl/acl.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "reference/reference.hpp"

namespace hetmap::backend::acl {

namespace {

// The NUL-separated strings of a device-tree property ("" where there is none: not a board).
std::vector<std::string> device_tree_strings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  std::string cur;
  for (char c : raw) {
    if (c == '\0') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// The SoC a board's device tree names last ("rockchip,rk3399pro" -> "rk3399pro"), else "acl".
std::string soc_name() {
  const std::vector<std::string> compatible = device_tree_strings("/proc/device-tree/compatible");
  if (compatible.empty()) return "acl";
  const std::string& soc = compatible.back();
  const std::size_t comma = soc.find(',');
  return comma == std::string::npos ? soc : soc.substr(comma + 1);
}

std::string board_name() {
  const std::vector<std::string> model = device_tree_strings("/proc/device-tree/model");
  return model.empty() ? reference::host_name() : model.front();
}

// Each warning once per process: a backend is built per command, and tests build many.
void warn_once(const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (said.insert(message).second) std::cerr << "hetmap: warning: " << message << "\n";
}

// A CPU cluster: NEON functions on the cluster's thread pool. Layers ACL cannot compute exactly
// (unsupported_reason) run the reference kernel, single-threaded on the calling thread, with a
// warning.
class NeonDevice : public Device {
 public:
  NeonDevice(std::string name, std::vector<int> cores) : name_(std::move(name)), pool_(std::move(cores)) {}
  std::unique_ptr<Kernel> build(const Model& model, int layer, std::uint64_t seed) override {
    const Layer& l = model.layers.at(static_cast<std::size_t>(layer));
    const std::string why = unsupported_reason(l);  // "" for opaque: refused below, by name
    if (!why.empty()) {
      warn_once(fmt::format("acl: layer '{}' runs the reference kernel (single-threaded) on {}: {}",
                            l.name, name_, why));
      return reference::make_kernel(model, layer, seed);
    }
    return make_neon_kernel(pool_, model, layer, seed);
  }
  std::unique_ptr<Buffer> allocate(const Shape& shape) override {
    return std::make_unique<reference::HostBuffer>(shape);
  }
  void bind_thread() override { reference::pin_thread(pool_.cores()); }
  std::vector<int> cores() const override { return pool_.cores(); }

 private:
  std::string name_;
  ClusterPool pool_;
};

// The Mali GPU through OpenCL. Its layers are enqueued by the thread that runs them (the
// executor's worker for the GPU), which the OS schedules on any core: ACL's OpenCL runtime
// needs no host core of its own between launches.
class ClDevice : public Device {
 public:
  std::unique_ptr<Kernel> build(const Model& model, int layer, std::uint64_t seed) override {
    return make_cl_kernel(model, layer, seed);
  }
  std::unique_ptr<Buffer> allocate(const Shape& shape) override {
    return std::make_unique<ClBuffer>(shape);
  }
  void bind_thread() override {}
};

struct Cluster {
  std::string name;
  std::vector<int> cores;
  std::vector<double> levels_mhz;
};

// The CPU clusters: one per cpufreq policy (the cores that share a clock), restricted to the
// cores this process may use; without cpufreq (VMs, emulators), `clusters` even splits.
std::vector<Cluster> find_clusters(const BackendOptions& o) {
  const std::vector<int> usable = reference::usable_cpus();
  std::vector<Cluster> out;
  for (const CpuFreqPolicyInfo& p : list_cpufreq_policies("/sys")) {
    Cluster c;
    for (int core : p.cores)
      if (std::find(usable.begin(), usable.end(), core) != usable.end()) c.cores.push_back(core);
    if (c.cores.empty()) continue;
    if (c.cores.size() != p.cores.size())
      warn_once(fmt::format("acl: cpufreq {} has cores {}, this process may use only {}", p.name,
                            fmt::join(p.cores, " "), fmt::join(c.cores, " ")));
    c.levels_mhz = p.levels_mhz;
    out.push_back(std::move(c));
  }
  if (!out.empty()) {
    if (o.clusters > 0 && o.clusters != static_cast<int>(out.size()))
      warn_once(fmt::format("acl: --clusters {} ignored: the CPU clusters are the {} cpufreq "
                            "policies of this machine",
                            o.clusters, out.size()));
    // Two clusters are big.LITTLE: `little` clocks lower. Otherwise name them by first core.
    if (out.size() == 2) {
      const bool first_little = out[0].levels_mhz.empty() || out[1].levels_mhz.empty() ||
                                out[0].levels_mhz.back() <= out[1].levels_mhz.back();
      out[first_little ? 0 : 1].name = "little";
      out[first_little ? 1 : 0].name = "big";
    } else if (out.size() == 1) {
      out[0].name = "cpu";
    } else {
      for (std::size_t k = 0; k < out.size(); ++k) out[k].name = fmt::format("cpu{}", k);
    }
    return out;
  }
  const int n = o.clusters > 0 ? o.clusters : std::min<int>(2, static_cast<int>(usable.size()));
  for (std::vector<int>& cores : reference::split_cpus(usable, n))
    out.push_back(Cluster{fmt::format("cpu{}", out.size()), std::move(cores), {}});
  return out;
}

class AclBackend : public Backend {
 public:
  explicit AclBackend(const BackendOptions& o) {
    install_scheduler();
    platform_.name = soc_name();
    for (Cluster& c : find_clusters(o)) {
      Processor p;
      p.name = c.name;
      p.kind = ProcKind::cpu;
      p.cores = static_cast<int>(c.cores.size());
      p.freqs_mhz = c.levels_mhz;
      p.active_w.assign(1, 0.0);
      platform_.processors.push_back(p);
      clusters_.push_back(describe_cluster(c));
      devices_.push_back(std::make_unique<NeonDevice>(c.name, std::move(c.cores)));
    }
    // The host holds the input and gets the results: the fastest cluster.
    platform_.host = 0;
    for (std::size_t k = 0; k < platform_.processors.size(); ++k)
      if (platform_.processors[k].name == "big") platform_.host = static_cast<int>(k);
    const std::string why = init_opencl();
    if (why.empty()) {
      Processor g;
      g.name = "gpu";
      g.kind = ProcKind::gpu;
      g.cores = 1;
      const std::string devfreq = find_gpu_devfreq("/sys");
      if (!devfreq.empty())
        for (const DevFreqInfo& d : list_devfreq_devices("/sys"))
          if (d.name == devfreq) g.freqs_mhz = d.levels_mhz;
      g.active_w.assign(1, 0.0);
      platform_.processors.push_back(g);
      devices_.push_back(std::make_unique<ClDevice>());
      gpu_ = static_cast<int>(platform_.processors.size()) - 1;
      gpu_name_ = arm_compute::CLKernelLibrary::get().get_device().getInfo<CL_DEVICE_NAME>();
    } else {
      warn_once("acl: no gpu processor: " + why);
    }
  }

  std::string name() const override { return "acl"; }
  const Platform& platform() const override { return platform_; }
  Device& device(int processor) override { return *devices_.at(static_cast<std::size_t>(processor)); }

  void copy(const Buffer& src, int from, Buffer& dst, int to) override {
    const std::size_t bytes = std::min(src.bytes(), dst.bytes());
    if (from != gpu_ && to != gpu_) {
      std::memcpy(host(dst), host(src), bytes);
    } else if (from == gpu_ && to == gpu_) {  // (the executor never copies a GPU tensor to the GPU)
      auto& s = const_cast<arm_compute::CLTensor&>(gpu(src).tensor());
      auto& d = gpu(dst).tensor();
      s.map(true);
      d.map(true);
      std::memcpy(d.buffer(), s.buffer(), bytes);
      d.unmap();
      s.unmap();
    } else if (to == gpu_) {  // map, write, unmap: the driver moves the data (or nothing, on
                              // a board whose GPU shares the CPU's memory)
      auto& t = gpu(dst).tensor();
      t.map(true);
      std::memcpy(t.buffer(), host(src), bytes);
      t.unmap();
      arm_compute::CLScheduler::get().sync();
    } else {
      auto& t = const_cast<arm_compute::CLTensor&>(gpu(src).tensor());
      t.map(true);
      std::memcpy(host(dst), t.buffer(), bytes);
      t.unmap();
      arm_compute::CLScheduler::get().sync();
    }
  }
  void upload(const float* data, Buffer& dst, int processor) override {
    reference::HostBuffer staged(dst.shape());
    std::memcpy(staged.data(), data, dst.bytes());
    copy(staged, processor == gpu_ ? -1 : processor, dst, processor);
  }
  void download(const Buffer& src, int processor, float* data) override {
    reference::HostBuffer staged(src.shape());
    copy(src, processor, staged, processor == gpu_ ? -1 : processor);
    std::memcpy(data, staged.data(), src.bytes());
  }
  std::string describe() const override {
    std::string s = fmt::format("acl backend (Arm Compute Library 20.08, NEON{}) on {}, {}",
                                gpu_ >= 0 ? " + OpenCL" : "", board_name(),
                                fmt::join(clusters_, ", "));
    if (gpu_ >= 0) s += ", gpu=" + gpu_name_;
    return s;
  }

 private:
  static std::string describe_cluster(const Cluster& c) {
    return fmt::format("{}=cores {}{}", c.name, fmt::join(c.cores, "+"),
                       c.levels_mhz.empty() ? ""
                                            : fmt::format(" up to {:g} MHz", c.levels_mhz.back()));
  }
  static float* host(Buffer& b) { return static_cast<reference::HostBuffer&>(b).data(); }
  static const float* host(const Buffer& b) {
    return static_cast<const reference::HostBuffer&>(b).data();
  }
  static ClBuffer& gpu(Buffer& b) { return static_cast<ClBuffer&>(b); }
  static const ClBuffer& gpu(const Buffer& b) { return static_cast<const ClBuffer&>(b); }

  Platform platform_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<std::string> clusters_;
  int gpu_ = -1;
  std::string gpu_name_;
};

}  // namespace

std::unique_ptr<Backend> make_acl_backend(const BackendOptions& options) {
  return std::make_unique<AclBackend>(options);
}

}  // namespace hetmap::backend::acl
