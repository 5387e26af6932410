// The CUDA backend's own kernels (cuda.hpp): what cuDNN has no call for, with the reference
// backend's conventions (backends/reference/kernels.cpp, docs/cuda.md). Grid-stride loops over
// the output, one thread per element; these ops move a few MB at most per layer, so launch
// overhead, not bandwidth, is what they cost.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "cuda/cuda_ops.hpp"

namespace hetmap::backend::cuda {
namespace {

constexpr int kThreads = 256;

int blocks_for(long long n) {
  const long long b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(std::min<long long>(std::max<long long>(b, 1), 65535LL * 16));
}

__global__ void add_kernel(const float* a, const float* b, float* out, long long n) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

__global__ void leaky_relu_kernel(const float* in, float* out, long long n, float alpha) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const float x = in[i];
    out[i] = x >= 0.0f ? x : alpha * x;
  }
}

// out[c][y][x] = in[c][y / scale][x / scale]
__global__ void upsample_kernel(const float* in, float* out, int c, int h, int w, int scale) {
  const int ow = w * scale, oh = h * scale;
  const long long n = static_cast<long long>(c) * oh * ow;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int x = static_cast<int>(i % ow);
    const int y = static_cast<int>((i / ow) % oh);
    const long long ch = i / (static_cast<long long>(ow) * oh);
    out[i] = in[(ch * h + y / scale) * w + x / scale];
  }
}

__global__ void pool_kernel(const float* in, float* out, int c, int h, int w, int oh, int ow,
                            int kh, int kw, int sh, int sw, int ph, int pw, bool is_max) {
  const long long n = static_cast<long long>(c) * oh * ow;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int ox = static_cast<int>(i % ow);
    const int oy = static_cast<int>((i / ow) % oh);
    const long long ch = i / (static_cast<long long>(ow) * oh);
    const float* xc = in + ch * h * w;
    const int hs = oy * sh - ph, he = min(hs + kh, h + ph);
    const int ws = ox * sw - pw, we = min(ws + kw, w + pw);
    const int h0 = max(hs, 0), h1 = min(he, h), w0 = max(ws, 0), w1 = min(we, w);
    if (is_max) {
      float m = -INFINITY;
      for (int y = h0; y < h1; ++y)
        for (int x = w0; x < w1; ++x) m = fmaxf(m, xc[y * w + x]);
      out[i] = (h0 < h1 && w0 < w1) ? m : 0.0f;
    } else {
      float s = 0.0f;
      for (int y = h0; y < h1; ++y)
        for (int x = w0; x < w1; ++x) s += xc[y * w + x];
      out[i] = s / static_cast<float>((he - hs) * (we - ws));
    }
  }
}

__global__ void lrn_kernel(const float* in, float* out, int c, long long plane, int size,
                           float alpha_over_size, float beta, float k) {
  const long long n = static_cast<long long>(c) * plane;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long p = i % plane;
    const int ch = static_cast<int>(i / plane);
    const int lo = max(0, ch - (size - 1) / 2), hi = min(c - 1, ch + size / 2);
    float sum = 0.0f;
    for (int d = lo; d <= hi; ++d) {
      const float v = in[d * plane + p];
      sum += v * v;
    }
    out[i] = in[i] / powf(k + alpha_over_size * sum, beta);
  }
}

}  // namespace

void launch_add(const float* a, const float* b, float* out, long long n, cudaStream_t stream) {
  add_kernel<<<blocks_for(n), kThreads, 0, stream>>>(a, b, out, n);
  check(cudaGetLastError(), "add kernel launch");
}

void launch_leaky_relu(const float* in, float* out, long long n, float alpha, cudaStream_t stream) {
  leaky_relu_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, n, alpha);
  check(cudaGetLastError(), "leaky_relu kernel launch");
}

void launch_upsample(const float* in, float* out, int c, int h, int w, int scale,
                     cudaStream_t stream) {
  const long long n = static_cast<long long>(c) * h * scale * w * scale;
  upsample_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, c, h, w, scale);
  check(cudaGetLastError(), "upsample kernel launch");
}

void launch_pool(const float* in, float* out, int c, int h, int w, int oh, int ow, int kh, int kw,
                 int sh, int sw, int ph, int pw, bool is_max, cudaStream_t stream) {
  const long long n = static_cast<long long>(c) * oh * ow;
  pool_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, c, h, w, oh, ow, kh, kw, sh, sw,
                                                      ph, pw, is_max);
  check(cudaGetLastError(), "pooling kernel launch");
}

void launch_lrn(const float* in, float* out, int c, long long plane, int size, float alpha_over_size,
                float beta, float k, cudaStream_t stream) {
  const long long n = static_cast<long long>(c) * plane;
  lrn_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, out, c, plane, size, alpha_over_size,
                                                     beta, k);
  check(cudaGetLastError(), "lrn kernel launch");
}

}  // namespace hetmap::backend::cuda
