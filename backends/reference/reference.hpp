#pragma once
// The reference backend: Eigen kernels on the host CPU, split into "clusters" of cores that
// act as the processors of a heterogeneous platform (platform `host-cpu`). Every op of
// docs/formats.md; deterministic (single-threaded kernels, fixed summation order), so numbers do not
// depend on placement. Internal to hetmap_backends.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"

namespace hetmap::backend::reference {

/// A tensor in host memory: pageable by default, or memory from another allocator (the CUDA
/// backend gives its CPU processors page-locked buffers, so host<->GPU copies need no staging).
class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(Shape shape)
      : shape_(std::move(shape)),
        data_(new float[static_cast<std::size_t>(shape_.elements())](), Release{}) {}
  /// Takes `data` (at least shape.elements() floats); `release` frees it.
  HostBuffer(Shape shape, float* data, std::function<void(float*)> release)
      : shape_(std::move(shape)), data_(data, Release{std::move(release)}) {}
  const Shape& shape() const override { return shape_; }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }

 private:
  struct Release {
    std::function<void(float*)> free;  // empty: allocated with new[]
    void operator()(float* p) const {
      if (free) free(p);
      else delete[] p;
    }
  };
  Shape shape_;
  std::unique_ptr<float[], Release> data_;
};

/// A cluster of host cores acting as one processor: reference kernels, threads pinned to the
/// cluster's cores. `allocate` (optional) supplies the buffers; default: pageable HostBuffers.
class CpuDevice : public Device {
 public:
  using Allocator = std::function<std::unique_ptr<HostBuffer>(const Shape&)>;
  explicit CpuDevice(std::vector<int> cpus, Allocator allocate = nullptr)
      : cpus_(std::move(cpus)), allocate_(std::move(allocate)) {}
  std::unique_ptr<Kernel> build(const Model& model, int layer, std::uint64_t seed) override;
  std::unique_ptr<Buffer> allocate(const Shape& shape) override;
  void bind_thread() override;
  /// The cluster's cores: Backend::freq_domain() finds their cpufreq policy by them.
  std::vector<int> cores() const override { return cpus_; }
  const std::vector<int>& cpus() const { return cpus_; }

 private:
  std::vector<int> cpus_;
  Allocator allocate_;
};

/// The CPUs this process may use, in order, as the first call found them (sched_getaffinity;
/// all CPUs if that fails).
std::vector<int> usable_cpus();
/// `cpus` split into `clusters` contiguous groups as evenly as possible, the first groups taking
/// the remainder. Throws BackendError if there are fewer CPUs than clusters.
std::vector<std::vector<int>> split_cpus(const std::vector<int>& cpus, int clusters);
/// /proc/cpuinfo's model name, and the host name, for Backend::describe().
std::string cpu_model();
std::string host_name();
/// Pins the calling thread to `cpus` (best effort: containers may refuse).
void pin_thread(const std::vector<int>& cpus);

/// Builds the kernel of top-level layer `layer` (reference/kernels.cpp). Weights come from
/// layer_seed(seed, NAME), NAME being the layer's name, or "LAYER/OP" for a block's body op
/// ("LAYER/INNER/OP" in a nested block). Throws BackendError for `opaque`. A kernel allocates
/// everything at build time; its run() calls must not overlap (it owns scratch memory).
std::unique_ptr<Kernel> make_kernel(const Model& model, int layer, std::uint64_t seed);

/// Where each body op of a block reads: per body op, per input, the block input's index (>= 0)
/// or -1 - e for body op e (an earlier body op of that name first, as shape inference resolves).
/// Shared by every backend that runs blocks. Throws BackendError naming block `name`.
std::vector<std::vector<int>> block_sources(const Op& block, const std::string& name);

/// Batch normalisation epsilon: y = gamma * (x - mean) / sqrt(var + eps) + beta.
inline constexpr float kBatchNormEps = 1e-5f;

/// For tests: the parameters of a kernel made by make_kernel, keyed by the NAME its weights
/// are seeded from (see make_kernel); ops without parameters are absent. Row-major layouts:
///   conv, dwconv: {weights [filters][in_channels / groups][kernel_h][kernel_w], bias [filters]}
///                 (dwconv: groups = in_channels, filter f reads channel f / multiplier)
///   fc:           {weights [units][input elements, flattened C-H-W], bias [units]}
///   batchnorm:    {gamma [C], beta [C], mean [C], var [C]} (C = the input's first dimension)
/// Throws BackendError for a kernel of another backend.
std::map<std::string, std::vector<std::vector<float>>> kernel_parameters(const Kernel& kernel);

/// The `count` parameter arrays of NAME in `params` (kernel_parameters' result), for a backend
/// that computes the reference's function with the reference's weights. Throws BackendError
/// naming `backend` and NAME when they are missing.
const std::vector<std::vector<float>>& parameters_of(
    const std::map<std::string, std::vector<std::vector<float>>>& params, const std::string& name,
    std::size_t count, const std::string& backend);

/// The weights seed of a layer: `seed` mixed with a hash of its name (placement-independent).
std::uint64_t layer_seed(std::uint64_t seed, const std::string& layer_name);

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options);

}  // namespace hetmap::backend::reference
