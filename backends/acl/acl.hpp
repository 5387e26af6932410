#pragma once
// The Arm Compute Library backend's internals (docs/acl.md): the per-cluster NEON thread pools
// behind ACL's scheduler, the OpenCL tensors of the Mali GPU, and the layer kernels of both.
// Internal to hetmap_backends; built with HETMAP_ACL (aarch64, ACL 20.08).
#include <arm_compute/runtime/CL/CLTensor.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hetmap/backend/backend.hpp"

namespace hetmap::backend::acl {

/// The threads of one CPU cluster: one per core, each pinned to its core. The thread that
/// calls run() (the cluster's executor or profiler thread, pinned to the cluster by
/// Device::bind_thread) takes part as thread 0; the pool holds the others.
class ClusterPool {
 public:
  explicit ClusterPool(std::vector<int> cores);
  ~ClusterPool();
  ClusterPool(const ClusterPool&) = delete;
  ClusterPool& operator=(const ClusterPool&) = delete;

  int threads() const { return static_cast<int>(cores_.size()); }
  const std::vector<int>& cores() const { return cores_; }
  /// Runs work[0] on the calling thread and work[i] on worker i (i < threads()); returns when
  /// all are done, rethrowing the first exception. Not reentrant: one caller at a time (each
  /// cluster has one executor thread).
  void run(const std::vector<std::function<void(int thread)>>& work);

 private:
  void worker(int index);

  std::vector<int> cores_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  const std::vector<std::function<void(int)>>* work_ = nullptr;
  std::uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

/// While alive, NEON functions configured or run on the calling thread use `pool`'s threads
/// (nullptr: the calling thread alone). ACL's scheduler is one process-wide object; hetmap
/// installs one (install_scheduler) that looks up the calling thread's pool, so that big and
/// LITTLE clusters run their layers at the same time, each on its own cores.
class UsePool {
 public:
  explicit UsePool(ClusterPool* pool);
  ~UsePool();
  UsePool(const UsePool&) = delete;
  UsePool& operator=(const UsePool&) = delete;

 private:
  ClusterPool* previous_;
};

/// Makes hetmap's per-cluster scheduler ACL's scheduler (once per process).
void install_scheduler();

/// Initialises ACL's OpenCL scheduler once; returns "" when an OpenCL GPU is usable, else why
/// not (no libOpenCL.so/libmali.so, no platform, no GPU device).
std::string init_opencl();

/// A float32 tensor in the GPU's memory: an unpadded CLTensor (its cl::Buffer is handed to
/// the kernels as is, or copied into their padded tensors).
class ClBuffer : public Buffer {
 public:
  explicit ClBuffer(Shape shape);
  const Shape& shape() const override { return shape_; }
  arm_compute::CLTensor& tensor() { return tensor_; }
  const arm_compute::CLTensor& tensor() const { return tensor_; }

 private:
  Shape shape_;
  arm_compute::CLTensor tensor_;
};

/// The shape of a hetmap tensor ([C, H, W], row-major) as ACL's (W, H, C): reversed.
arm_compute::TensorShape acl_shape(const Shape& shape);

/// Why ACL 20.08 cannot run `op` exactly as docs/formats.md defines it (the reference
/// backend's numbers), or "" when it can. Checked for every op of a layer, block bodies too.
std::string unsupported_reason(const Op& op);

/// Builds top-level layer `layer` of `model` with NEON functions, configured for `pool`'s
/// thread count. Weights are the reference backend's (reference::kernel_parameters), so both
/// compute the same function. Throws BackendError when ACL cannot run the layer
/// (unsupported_reason); the caller decides what then.
std::unique_ptr<Kernel> make_neon_kernel(ClusterPool& pool, const Model& model, int layer,
                                         std::uint64_t seed);
/// The same with OpenCL functions on the GPU (init_opencl() must have succeeded). run()
/// enqueues the layer and waits for the queue to finish.
std::unique_ptr<Kernel> make_cl_kernel(const Model& model, int layer, std::uint64_t seed);

std::unique_ptr<Backend> make_acl_backend(const BackendOptions& options);

}  // namespace hetmap::backend::acl
