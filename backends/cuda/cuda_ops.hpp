#pragma once
// Launchers of the CUDA backend's own kernels (cuda_ops.cu), kept apart from cuda.hpp so that
// nvcc compiles no hetmap or Boost headers.
#include <cuda_runtime.h>

namespace hetmap::backend::cuda {

/// Throws BackendError naming `what` and the CUDA error (defined in cuda_backend.cpp).
void check(cudaError_t status, const char* what);

// cuda_ops.cu: element-wise and data-movement kernels cuDNN has no call for, and the exact
// reference semantics where cuDNN's differ (docs/cuda.md). All enqueue on `stream`.
/// out = a + b (out may alias a: a block's add of many inputs sums them in order).
void launch_add(const float* a, const float* b, float* out, long long n, cudaStream_t stream);
void launch_leaky_relu(const float* in, float* out, long long n, float alpha, cudaStream_t stream);
void launch_upsample(const float* in, float* out, int c, int h, int w, int scale,
                     cudaStream_t stream);
/// Pooling with the reference backend's conventions (max ignores padding, an empty window
/// gives 0; avg divides by the window clipped to the padded input), for the shapes cuDNN's
/// symmetric floor-mode pooling cannot express (ceil mode, pad >= kernel).
void launch_pool(const float* in, float* out, int c, int h, int w, int oh, int ow, int kh, int kw,
                 int sh, int sw, int ph, int pw, bool is_max, cudaStream_t stream);
/// Caffe cross-channel LRN, for sizes cuDNN does not take (even, or above 16).
void launch_lrn(const float* in, float* out, int c, long long plane, int size, float alpha_over_size,
                float beta, float k, cudaStream_t stream);

}  // namespace hetmap::backend::cuda
