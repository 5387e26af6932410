// The CUDA backend (docs/cuda.md): the host's cores as CPU clusters running the reference
// kernels, plus one GPU running cuDNN/cuBLAS kernels (cuda_kernels.cpp), as platform
// `x86-<card>` (x86-h100 on an H100).
//
//  * Cores: the last `gpu_host_cores` usable CPUs are kept for the GPU's host side (its worker,
//    which launches kernels and waits for them, and the copy workers of its links, all bound
//    through the GPU device); the rest are split into the CPU clusters. A GPU thread that
//    shared a core with a CPU cluster's kernel would delay every launch by a time slice.
//  * Waiting: the device is set to spin (cudaDeviceScheduleSpin), so the thread waiting on a
//    layer's event sees it complete within a microsecond or so instead of a wake-up later; it
//    costs a core per waiting thread, which the reserved cores provide.
//  * Streams: one for the GPU's layers (GpuContext), one per link (processor pair with the GPU),
//    all non-blocking, so copies overlap kernels as the simulator's links do.
//  * Copies: CPU buffers are page-locked (cudaHostAlloc), so host<->device copies are single
//    DMA transfers with no staging; each copy is enqueued on its link's stream and the copying
//    thread waits on an event recorded after it (never a device-wide synchronisation).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "cuda/cuda.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/backend/power.hpp"
#include "reference/reference.hpp"

namespace hetmap::backend::cuda {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw BackendError(fmt::format("cuda backend: {}: {} ({})", what, cudaGetErrorString(status),
                                   cudaGetErrorName(status)));
}

void check(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS)
    throw BackendError(fmt::format("cuda backend: {}: {}", what, cudnnGetErrorString(status)));
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw BackendError(fmt::format("cuda backend: {}: {}", what, cublasGetStatusString(status)));
}

DeviceBuffer::DeviceBuffer(Shape shape) : shape_(std::move(shape)) {
  check(cudaMalloc(&data_, std::max<std::size_t>(bytes(), sizeof(float))), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);
}

GpuContext::GpuContext(int device_index) : device(device_index) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaGetDeviceProperties(&props, device), "cudaGetDeviceProperties");
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudnnCreate(&cudnn), "cudnnCreate");
  check(cudnnSetStream(cudnn, stream), "cudnnSetStream");
  check(cublasCreate(&cublas), "cublasCreate");
  check(cublasSetStream(cublas, stream), "cublasSetStream");
}

GpuContext::~GpuContext() {
  if (workspace) cudaFree(workspace);
  if (cublas) cublasDestroy(cublas);
  if (cudnn) cudnnDestroy(cudnn);
  if (stream) cudaStreamDestroy(stream);
}

void GpuContext::reserve_workspace(std::size_t bytes) {
  if (bytes <= workspace_bytes) return;
  if (workspace) check(cudaFree(workspace), "cudaFree (workspace)");
  workspace = nullptr;
  workspace_bytes = 0;
  check(cudaMalloc(&workspace, bytes), "cudaMalloc (convolution workspace)");
  workspace_bytes = bytes;
}

namespace {

// "NVIDIA H100 80GB HBM3" -> "h100", "NVIDIA H200" -> "h200": the card's model in lower case.
std::string card_slug(const std::string& name) {
  std::string rest = name;
  for (const char* vendor : {"NVIDIA ", "Tesla ", "GeForce ", "Quadro "})
    if (rest.rfind(vendor, 0) == 0) rest = rest.substr(std::strlen(vendor));
  std::string slug;
  for (char c : rest) {
    if (c == ' ') break;
    if (std::isalnum(static_cast<unsigned char>(c))) slug += static_cast<char>(std::tolower(c));
  }
  return slug.empty() ? "gpu" : slug;
}

std::string nvidia_driver_version() {
  // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ..."
  // (absent in some VMs): the first word that is a dotted number.
  std::ifstream in("/proc/driver/nvidia/version");
  std::string word;
  while (in >> word) {
    if (word.find('.') == std::string::npos) continue;
    if (std::all_of(word.begin(), word.end(),
                    [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)); }))
      return word;
  }
  return "unknown";
}

std::string version_string(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

class GpuDevice : public Device {
 public:
  GpuDevice(GpuContext& ctx, std::vector<int> host_cpus)
      : ctx_(ctx), host_cpus_(std::move(host_cpus)) {}
  std::unique_ptr<Kernel> build(const Model& model, int layer, std::uint64_t seed) override {
    return make_gpu_kernel(ctx_, model, layer, seed);
  }
  std::unique_ptr<Buffer> allocate(const Shape& shape) override {
    check(cudaSetDevice(ctx_.device), "cudaSetDevice");
    return std::make_unique<DeviceBuffer>(shape);
  }
  void bind_thread() override {
    reference::pin_thread(host_cpus_);
    check(cudaSetDevice(ctx_.device), "cudaSetDevice");
  }
  const std::vector<int>& host_cpus() const { return host_cpus_; }

 private:
  GpuContext& ctx_;
  std::vector<int> host_cpus_;
};

// A link between the GPU and another processor: its own stream, and an event the copying
// thread waits on. The executor copies over a pair from one worker; the mutex covers other
// callers (the profiler, tests).
struct GpuLink {
  cudaStream_t stream = nullptr;
  cudaEvent_t done = nullptr;
  std::mutex mutex;
  explicit GpuLink(int device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate (link)");
    check(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate (link)");
  }
  ~GpuLink() {
    cudaEventDestroy(done);
    cudaStreamDestroy(stream);
  }
  GpuLink(const GpuLink&) = delete;
  GpuLink& operator=(const GpuLink&) = delete;
};

const float* host_data(const Buffer& b) {
  if (const auto* h = dynamic_cast<const reference::HostBuffer*>(&b)) return h->data();
  if (const auto* d = dynamic_cast<const DeviceBuffer*>(&b)) return d->data();
  throw BackendError("cuda backend: a buffer of another backend");
}

float* mutable_data(Buffer& b) { return const_cast<float*>(host_data(b)); }

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& o) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
      throw BackendError(fmt::format("cuda backend: no CUDA device ({})",
                                     e != cudaSuccess ? cudaGetErrorString(e)
                                                      : "cudaGetDeviceCount found none"));
    if (o.gpu < 0 || o.gpu >= count)
      throw BackendError(fmt::format("cuda backend: GPU {} asked for, but the machine has {} "
                                     "(0..{})", o.gpu, count, count - 1));
    // Before the context exists; a process that already made one keeps its setting.
    if (cudaSetDeviceFlags(cudaDeviceScheduleSpin) != cudaSuccess) (void)cudaGetLastError();
    ctx_ = std::make_unique<GpuContext>(o.gpu);

    const std::vector<int> cpus = reference::usable_cpus();
    const int n = static_cast<int>(cpus.size());
    if (n < 2)
      throw BackendError("cuda backend: needs at least 2 usable CPUs (one for a CPU cluster, one "
                         "for the GPU's host side), found " + std::to_string(n));
    const int host_cores = o.gpu_host_cores > 0 ? o.gpu_host_cores : std::clamp(n / 4, 1, 4);
    if (host_cores >= n)
      throw BackendError(fmt::format("cuda backend: {} GPU host cores asked for, but only {} CPUs "
                                     "are usable", host_cores, n));
    const std::vector<int> cluster_cpus(cpus.begin(), cpus.end() - host_cores);
    const std::vector<int> gpu_cpus(cpus.end() - host_cores, cpus.end());
    const int clusters = o.clusters > 0 ? o.clusters : std::min(2, n - host_cores);

    platform_.name = "x86-" + card_slug(ctx_->props.name);
    platform_.host = 0;
    const int gpu_index = o.gpu;
    for (std::vector<int>& mine : reference::split_cpus(cluster_cpus, clusters)) {
      Processor p;
      p.name = fmt::format("cpu{}", platform_.processors.size());
      p.kind = ProcKind::cpu;
      p.cores = static_cast<int>(mine.size());
      platform_.processors.push_back(p);
      cpus_.push_back(std::make_unique<reference::CpuDevice>(
          std::move(mine), [gpu_index](const Shape& s) {
            // Page-locked, so the GPU's copy engines read and write it directly.
            check(cudaSetDevice(gpu_index), "cudaSetDevice");
            void* p = nullptr;
            const std::size_t bytes = std::max<std::size_t>(static_cast<std::size_t>(s.bytes()), 4);
            check(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc");
            return std::make_unique<reference::HostBuffer>(s, static_cast<float*>(p),
                                                           [](float* q) { cudaFreeHost(q); });
          }));
    }
    Processor g;
    g.name = "gpu";
    g.kind = ProcKind::gpu;
    g.cores = 1;
    gpu_ = static_cast<int>(platform_.processors.size());
    platform_.processors.push_back(g);
    gpu_device_ = std::make_unique<GpuDevice>(*ctx_, gpu_cpus);
    for (int p = 0; p < gpu_; ++p) links_.emplace(p, std::make_unique<GpuLink>(ctx_->device));
  }

  std::string name() const override { return "cuda"; }
  const Platform& platform() const override { return platform_; }
  Device& device(int processor) override {
    if (processor == gpu_) return *gpu_device_;
    return *cpus_.at(static_cast<std::size_t>(processor));
  }

  void copy(const Buffer& src, int from, Buffer& dst, int to) override {
    const std::size_t bytes = std::min(src.bytes(), dst.bytes());
    if (from != gpu_ && to != gpu_) {
      std::memcpy(mutable_data(dst), host_data(src), bytes);
      return;
    }
    GpuLink& link = *links_.at(from == gpu_ ? to : from);
    const cudaMemcpyKind kind = from == gpu_ && to == gpu_ ? cudaMemcpyDeviceToDevice
                                : from == gpu_             ? cudaMemcpyDeviceToHost
                                                           : cudaMemcpyHostToDevice;
    std::lock_guard<std::mutex> lock(link.mutex);
    check(cudaSetDevice(ctx_->device), "cudaSetDevice");
    check(cudaMemcpyAsync(mutable_data(dst), host_data(src), bytes, kind, link.stream),
          "cudaMemcpyAsync (copy)");
    check(cudaEventRecord(link.done, link.stream), "cudaEventRecord (copy)");
    check(cudaEventSynchronize(link.done), "copy");
  }

  void upload(const float* data, Buffer& dst, int processor) override {
    if (processor != gpu_) {
      std::memcpy(mutable_data(dst), data, dst.bytes());
      return;
    }
    check(cudaSetDevice(ctx_->device), "cudaSetDevice");
    check(cudaMemcpy(mutable_data(dst), data, dst.bytes(), cudaMemcpyHostToDevice), "upload");
  }

  void download(const Buffer& src, int processor, float* data) override {
    if (processor != gpu_) {
      std::memcpy(data, host_data(src), src.bytes());
      return;
    }
    check(cudaSetDevice(ctx_->device), "cudaSetDevice");
    check(cudaMemcpy(data, host_data(src), src.bytes(), cudaMemcpyDeviceToHost), "download");
  }

  PowerMeters power_meters() override {
    PowerMeters m = Backend::power_meters();  // RAPL for the CPU clusters, where readable
    // NVML by PCI bus id: CUDA's and NVML's device indices need not agree.
    char bus[32] = {};
    std::string why;
    std::unique_ptr<PowerMeter> nvml;
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), ctx_->device) == cudaSuccess)
      nvml = make_nvml_meter_by_pci(bus, {gpu_}, why);
    else
      nvml = make_nvml_meter(static_cast<unsigned>(ctx_->device), {gpu_}, why);
    if (nvml) m.add(std::move(nvml));
    else m.unmeasured({gpu_}, why);
    return m;
  }

  // The CPU clusters keep the default (their cpufreq policy). The GPU's clocks are not devfreq's
  // on a desktop card: they belong to the NVIDIA driver, and hetmap leaves them alone.
  std::unique_ptr<FreqDomain> freq_domain(int processor, const DvfsOptions& options) override {
    if (processor != gpu_) return Backend::freq_domain(processor, options);
    throw BackendError(fmt::format(
        "processor {} (gpu): the CUDA backend's GPU clocks belong to the NVIDIA driver "
        "(nvidia-smi --lock-gpu-clocks); hetmap does not set them",
        platform_.processors[static_cast<std::size_t>(gpu_)].name));
  }

  std::string describe() const override {
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    const std::size_t cudnn = cudnnGetVersion();
    int cublas = 0;
    cublasGetVersion(ctx_->cublas, &cublas);
    std::string clusters;
    for (std::size_t k = 0; k < cpus_.size(); ++k)
      clusters += fmt::format("{}=cores {}, ", platform_.processors[k].name,
                              fmt::join(cpus_[k]->cpus(), "+"));
    const cudaDeviceProp& p = ctx_->props;
    return fmt::format(
        "cuda backend on {} ({}): GPU {} (sm_{}{}, {} SMs, {} MiB), NVIDIA driver {}, CUDA runtime "
        "{} (driver API {}), cuDNN {}.{}.{}, cuBLAS {}.{}.{}; {}gpu host side=cores {}; CPU "
        "clusters run the reference kernels (Eigen, single-threaded)",
        reference::host_name(), reference::cpu_model(), p.name, p.major, p.minor,
        p.multiProcessorCount, p.totalGlobalMem >> 20, nvidia_driver_version(),
        version_string(runtime), version_string(driver), cudnn / 10000, (cudnn % 10000) / 100,
        cudnn % 100, cublas / 10000, (cublas % 10000) / 100, cublas % 100, clusters,
        fmt::join(gpu_device_->host_cpus(), "+"));
  }

 private:
  std::unique_ptr<GpuContext> ctx_;
  Platform platform_;
  std::vector<std::unique_ptr<reference::CpuDevice>> cpus_;
  std::unique_ptr<GpuDevice> gpu_device_;
  int gpu_ = -1;
  std::map<int, std::unique_ptr<GpuLink>> links_;  // by the other processor's index
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace hetmap::backend::cuda
