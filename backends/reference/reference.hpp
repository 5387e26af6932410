#pragma once
// The reference backend: Eigen kernels on the host CPU, split into "clusters" of cores that
// act as the processors of a heterogeneous platform (platform `host-cpu`). Every op of
// DESIGN.md; deterministic (single-threaded kernels, fixed summation order), so numbers do not
// depend on placement. Internal to hetmap_backends.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"

namespace hetmap::backend::reference {

/// A tensor in host memory.
class HostBuffer : public Buffer {
 public:
  explicit HostBuffer(Shape shape)
      : shape_(std::move(shape)), data_(static_cast<std::size_t>(shape_.elements())) {}
  const Shape& shape() const override { return shape_; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }

 private:
  Shape shape_;
  std::vector<float> data_;
};

/// Builds the kernel of top-level layer `layer` (reference/kernels.cpp). Weights come from
/// layer_seed(seed, NAME), NAME being the layer's name, or "LAYER/OP" for a block's body op
/// ("LAYER/INNER/OP" in a nested block). Throws BackendError for `opaque`. A kernel allocates
/// everything at build time; its run() calls must not overlap (it owns scratch memory).
std::unique_ptr<Kernel> make_kernel(const Model& model, int layer, std::uint64_t seed);

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

/// The weights seed of a layer: `seed` mixed with a hash of its name (placement-independent).
std::uint64_t layer_seed(std::uint64_t seed, const std::string& layer_name);

std::unique_ptr<Backend> make_reference_backend(const BackendOptions& options);

}  // namespace hetmap::backend::reference
