#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include <Eigen/Core>
#include <fmt/ranges.h>

#include "reference/reference.hpp"

namespace hetmap::backend::reference {

namespace {
std::vector<int> affinity_now() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}
}  // namespace

std::vector<int> usable_cpus() {
  // Read once: a thread that bound itself to a cluster (Device::bind_thread) would otherwise
  // see only that cluster's cores when it makes the next backend.
  static const std::vector<int> cpus = affinity_now();
  return cpus;
}

std::vector<std::vector<int>> split_cpus(const std::vector<int>& cpus, int clusters) {
  const int n = static_cast<int>(cpus.size());
  if (clusters < 1 || clusters > n)
    throw BackendError(fmt::format("{} CPU clusters asked for, but only {} CPUs are usable",
                                   clusters, n));
  std::vector<std::vector<int>> out;
  for (int k = 0; k < clusters; ++k) {
    const int first = k * n / clusters, last = (k + 1) * n / clusters;
    out.emplace_back(cpus.begin() + first, cpus.begin() + last);
  }
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string host_name() {
  char host[256] = "unknown host";
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

void pin_thread(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);  // best effort (containers)
}

std::unique_ptr<Kernel> CpuDevice::build(const Model& model, int layer, std::uint64_t seed) {
  return make_kernel(model, layer, seed);
}

std::unique_ptr<Buffer> CpuDevice::allocate(const Shape& shape) {
  if (allocate_) return allocate_(shape);
  return std::make_unique<HostBuffer>(shape);
}

void CpuDevice::bind_thread() { pin_thread(cpus_); }

namespace {

class ReferenceBackend : public Backend {
 public:
  explicit ReferenceBackend(const BackendOptions& o) {
    const std::vector<int> cpus = usable_cpus();
    const int clusters = o.clusters > 0 ? o.clusters : std::min<int>(2, static_cast<int>(cpus.size()));
    platform_.name = "host-cpu";
    platform_.host = 0;
    for (std::vector<int>& mine : split_cpus(cpus, clusters)) {
      Processor p;
      p.name = fmt::format("cpu{}", platform_.processors.size());
      p.kind = ProcKind::cpu;
      p.cores = static_cast<int>(mine.size());
      p.active_w.assign(1, 0.0);
      platform_.processors.push_back(p);
      devices_.push_back(std::make_unique<CpuDevice>(std::move(mine)));
    }
  }
  std::string name() const override { return "reference"; }
  const Platform& platform() const override { return platform_; }
  Device& device(int processor) override { return *devices_.at(processor); }
  void copy(const Buffer& src, int, Buffer& dst, int) override {
    const auto& s = static_cast<const HostBuffer&>(src);
    auto& d = static_cast<HostBuffer&>(dst);
    std::memcpy(d.data(), s.data(), std::min(src.bytes(), dst.bytes()));
  }
  void upload(const float* data, Buffer& dst, int) override {
    std::memcpy(static_cast<HostBuffer&>(dst).data(), data, dst.bytes());
  }
  void download(const Buffer& src, int, float* data) override {
    std::memcpy(data, static_cast<const HostBuffer&>(src).data(), src.bytes());
  }
  std::string describe() const override {
    std::string clusters;
    for (std::size_t k = 0; k < devices_.size(); ++k) {
      const auto& c = devices_[k]->cpus();
      clusters += fmt::format("{}{}=cores {}", k ? ", " : "", platform_.processors[k].name,
                              fmt::join(c, "+"));
    }
    return fmt::format("reference backend (Eigen {}.{}.{}, single-threaded kernels) on {} ({}), {}",
                       EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, host_name(),
                       cpu_model(), clusters);
  }

 private:
  Platform platform_;
  std::vector<std::unique_ptr<CpuDevice>> devices_;
};

}  // namespace

std::uint64_t layer_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

const std::vector<std::vector<float>>& parameters_of(
    const std::map<std::string, std::vector<std::vector<float>>>& params, const std::string& name,
    std::size_t count, const std::string& backend) {
  auto it = params.find(name);
  if (it == params.end() || it->second.size() != count)
    throw BackendError(backend + " backend: no reference weights for '" + name + "'");
  return it->second;
}

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options) {
  return std::make_unique<ReferenceBackend>(options);
}

}  // namespace hetmap::backend::reference
