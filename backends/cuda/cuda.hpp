#pragma once
// The CUDA backend's internals (docs/cuda.md): device buffers, error checks, the GPU layer
// kernels (cuDNN, cuBLAS and the few kernels of cuda_ops.cu) and the GPU's per-thread handles.
// Internal to hetmap_backends; built with HETMAP_CUDA.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_ops.hpp"
#include "hetmap/backend/backend.hpp"

namespace hetmap::backend::cuda {

/// Throws BackendError naming `what` and the cuDNN or cuBLAS error (cuda_ops.hpp: CUDA's).
void check(cudnnStatus_t status, const char* what);
void check(cublasStatus_t status, const char* what);

/// A float32 tensor in the GPU's memory (cudaMalloc).
class DeviceBuffer : public Buffer {
 public:
  explicit DeviceBuffer(Shape shape);
  ~DeviceBuffer() override;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  const Shape& shape() const override { return shape_; }
  float* data() { return data_; }
  const float* data() const { return data_; }

 private:
  Shape shape_;
  float* data_ = nullptr;
};

/// What every GPU kernel of one device shares: the stream its layers run on, cuDNN and cuBLAS
/// handles bound to that stream, and one convolution workspace (layers on one stream never
/// overlap). Created once per Backend; its kernels run on one host thread at a time (the
/// executor's worker for the GPU, or the profiler's).
struct GpuContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  cudaDeviceProp props{};
  void* workspace = nullptr;
  std::size_t workspace_bytes = 0;
  /// Convolution algorithms chosen so far, by shape (cudnnFind times every algorithm: once per
  /// shape and backend, not once per build; validation builds every mapping's layers anew).
  struct ConvChoice {
    cudnnConvolutionFwdAlgo_t algo;
    std::size_t workspace;
    cudnnMathType_t math;
  };
  std::map<std::string, ConvChoice> conv_choices;

  explicit GpuContext(int device_index);
  ~GpuContext();
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;
  /// Grows the workspace to at least `bytes` (at build time, never while a layer runs).
  void reserve_workspace(std::size_t bytes);
};

/// The backend: CPU clusters (reference kernels, page-locked buffers) plus the GPU (docs/cuda.md).
/// Throws BackendError when there is no usable CUDA device, saying why.
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

/// Builds top-level layer `layer` of `model` for the GPU. Weights are the reference backend's
/// (reference::kernel_parameters of the same layer and seed), so both compute the same
/// function. run() enqueues the layer on ctx.stream between two CUDA events and waits for the
/// second (cudaEventSynchronize: the calling thread, not the device, waits); Kernel::device_ms()
/// then gives the GPU time between the events.
std::unique_ptr<Kernel> make_gpu_kernel(GpuContext& ctx, const Model& model, int layer,
                                        std::uint64_t seed);

}  // namespace hetmap::backend::cuda
