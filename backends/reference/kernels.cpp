// The reference backend's kernels: every op of docs/formats.md on float32 host tensors.
//
// Conventions (tests/test_reference_ops.cpp checks each against plain loops):
//  * Tensors are row-major in their Shape's order: [C, H, W] images, [N] vectors.
//  * conv: im2col + one Eigen GEMM per group, W_g [F/g x C/g*kh*kw] * col [C/g*kh*kw x OH*OW];
//    a 1x1, stride-1, unpadded conv multiplies the input directly. Grouped convs with one input
//    channel per group (dwconv, and conv with groups = C) use a direct loop instead.
//  * maxpool ignores padding (as -infinity); a window holding no input value (only possible
//    when pad >= kernel) gives 0.
//  * avgpool follows Caffe, i.e. PyTorch's count_include_pad=true: the divisor is the window
//    clipped to the padded input, [start, min(start + k, in + pad)), so padding inside the
//    padded area counts but a ceil-mode window's overhang beyond it does not. Global pooling
//    covers the whole plane (divisor H * W).
//  * lrn across channels as Caffe (and AlexNet): b_c = a_c / (k + alpha/size * sum a_c'^2)^beta,
//    c' from c - (size-1)/2 to c + size/2, clipped to the channels that exist.
//  * batchnorm (inference): y = gamma * (x - mean) / sqrt(var + kBatchNormEps) + beta, folded
//    at build time into y = x * scale + shift; channel = the input's first dimension.
//  * leaky_relu: y = x for x >= 0, alpha * x otherwise (Darknet/ACL LEAKY_RELU).
//  * upsample: nearest neighbour, out[c][h][w] = in[c][h / scale][w / scale] (Darknet/ACL).
//  * softmax over every element of the input, max-subtracted, the sum accumulated in double.
//  * concat along `axis` (0 = channels) of inputs of any rank; add sums its inputs in order.
//  * Weights: std::mt19937_64(layer_seed(seed, NAME)) (NAME: see make_kernel), each value
//    from the top 24 bits of one draw, so the numbers do not depend on the C++ library.
//    conv/fc weights ~ U[-b, b], b = sqrt(6 / fan_in) (He-uniform), then biases ~ U[-0.1, 0.1];
//    batchnorm: gamma ~ U[0.5, 1.5], beta ~ U[-0.1, 0.1], mean ~ U[-0.1, 0.1], var ~ U[0.5, 1.5].
//  * Everything (weights, im2col scratch, block intermediates, Eigen's GEMM packing buffers) is
//    allocated at build time; run() allocates nothing. Single-threaded and with a fixed
//    summation order, so the output is bit-identical wherever and whenever a layer runs.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <unordered_map>

#include "reference/reference.hpp"

namespace hetmap::backend::reference {
namespace {

using Params = std::map<std::string, std::vector<std::vector<float>>>;
using Index = Eigen::Index;

// --------------------------------------------------------------------------------------------
// Helpers

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  float uniform(float lo, float hi) {
    const float u = static_cast<float>(gen_() >> 40) * 0x1p-24f;  // [0, 1), 24 bits
    return lo + (hi - lo) * u;
  }
  std::vector<float> uniform(std::size_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (float& x : v) x = uniform(lo, hi);
    return v;
  }

 private:
  std::mt19937_64 gen_;
};

std::size_t count(const Shape& s) { return static_cast<std::size_t>(s.elements()); }
int dim(const Shape& s, std::size_t d) { return static_cast<int>(s.dims.at(d)); }

// Output positions o in [lo, hi) whose input coordinate o * stride - pad + tap lies in [0, n).
void valid_range(int n, int out, int stride, int pad, int tap, int& lo, int& hi) {
  const int first = pad - tap;  // o * stride >= first
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int last = n - 1 + pad - tap;  // o * stride <= last
  hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  lo = std::min(lo, hi);
}

// C[m x n] += A[m x k] * B[k x n], all row-major and contiguous. The packing buffers Eigen's
// GEMM needs are allocated here, once: Eigen's public product API would allocate them on
// every call (on the heap past EIGEN_STACK_ALLOCATION_LIMIT), so this goes through the
// product kernel Eigen 3.4's public API itself calls.
class Gemm {
 public:
  Gemm() = default;
  Gemm(Index m, Index n, Index k) : m_(m), n_(n), k_(k) {
#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
    blocking_ = std::make_unique<Blocking>(m, n, k, 1, true);
    blocking_->allocateAll();
#endif
  }
  void run(const float* a, const float* b, float* c) const {
#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
    Eigen::internal::general_matrix_matrix_product<Index, float, Eigen::RowMajor, false, float,
                                                   Eigen::RowMajor, false, Eigen::RowMajor, 1>::
        run(m_, n_, k_, a, k_, b, n_, c, 1, n_, 1.0f, *blocking_);
#else
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<Mat>(c, m_, n_).noalias() +=
        Eigen::Map<const Mat>(a, m_, k_) * Eigen::Map<const Mat>(b, k_, n_);
#endif
  }

 private:
#if EIGEN_VERSION_AT_LEAST(3, 4, 0)
  using Blocking = Eigen::internal::gemm_blocking_space<Eigen::RowMajor, float, float,
                                                        Eigen::Dynamic, Eigen::Dynamic,
                                                        Eigen::Dynamic>;
  std::unique_ptr<Blocking> blocking_;
#endif
  Index m_ = 0, n_ = 0, k_ = 0;
};

// --------------------------------------------------------------------------------------------
// The kernel base: shapes checked once per run(), then compute() on raw pointers (which is
// what a block calls for its body ops).

class OpKernel : public Kernel {
 public:
  OpKernel(std::string name, std::vector<Shape> in, Shape out)
      : name_(std::move(name)), in_(std::move(in)), out_(std::move(out)), ptrs_(in_.size()) {}

  void run(const std::vector<const Buffer*>& inputs, Buffer& output) final {
    if (inputs.size() != in_.size())
      throw BackendError("layer '" + name_ + "': expected " + std::to_string(in_.size()) +
                         " inputs, got " + std::to_string(inputs.size()));
    for (std::size_t i = 0; i < in_.size(); ++i) {
      if (!inputs[i] || !(inputs[i]->shape() == in_[i]))
        throw BackendError("layer '" + name_ + "': input " + std::to_string(i) + " is " +
                           (inputs[i] ? inputs[i]->shape().str() : "null") + ", expected " +
                           in_[i].str());
      ptrs_[i] = static_cast<const HostBuffer*>(inputs[i])->data();
    }
    if (!(output.shape() == out_))
      throw BackendError("layer '" + name_ + "': output is " + output.shape().str() +
                         ", expected " + out_.str());
    compute(ptrs_.data(), static_cast<HostBuffer&>(output).data());
  }

  virtual void compute(const float* const* in, float* out) = 0;
  virtual void parameters(Params&) const {}
  const Shape& out_shape() const { return out_; }

 protected:
  std::string name_;  // the weights-seed NAME
  std::vector<Shape> in_;
  Shape out_;

 private:
  std::vector<const float*> ptrs_;
};

// --------------------------------------------------------------------------------------------
// conv / dwconv

class ConvKernel : public OpKernel {
 public:
  ConvKernel(const Op& op, std::string name, std::vector<Shape> in, std::uint64_t seed)
      : OpKernel(std::move(name), std::move(in), op.out) {
    const Shape& x = in_.at(0);
    c_ = dim(x, 0), h_ = dim(x, 1), w_ = dim(x, 2);
    f_ = dim(out_, 0), oh_ = dim(out_, 1), ow_ = dim(out_, 2);
    kh_ = op.kernel_h, kw_ = op.kernel_w, sh_ = op.stride_h, sw_ = op.stride_w;
    ph_ = op.pad_h, pw_ = op.pad_w;
    groups_ = op.kind == OpKind::dwconv ? c_ : op.groups;
    cg_ = c_ / groups_, fg_ = f_ / groups_;
    k_ = cg_ * kh_ * kw_;
    n_ = oh_ * ow_;

    Rng rng(seed);
    const float bound = std::sqrt(6.0f / static_cast<float>(k_));
    weights_ = rng.uniform(static_cast<std::size_t>(f_) * k_, -bound, bound);
    bias_ = rng.uniform(static_cast<std::size_t>(f_), -0.1f, 0.1f);

    direct_ = groups_ > 1 && cg_ == 1;
    pointwise_ = kh_ == 1 && kw_ == 1 && sh_ == 1 && sw_ == 1 && ph_ == 0 && pw_ == 0;
    if (!direct_) {
      if (!pointwise_) col_.resize(static_cast<std::size_t>(k_) * n_);
      gemm_ = Gemm(fg_, n_, k_);
    }
  }

  void compute(const float* const* in, float* out) override {
    const float* x = in[0];
    for (int f = 0; f < f_; ++f) std::fill_n(out + static_cast<std::size_t>(f) * n_, n_, bias_[f]);
    if (direct_) return depthwise(x, out);
    const std::size_t plane = static_cast<std::size_t>(h_) * w_;
    for (int g = 0; g < groups_; ++g) {
      const float* xg = x + g * cg_ * plane;
      const float* b = xg;
      if (!pointwise_) {
        im2col(xg);
        b = col_.data();
      }
      gemm_.run(weights_.data() + static_cast<std::size_t>(g) * fg_ * k_, b,
                out + static_cast<std::size_t>(g) * fg_ * n_);
    }
  }

  void parameters(Params& p) const override { p[name_] = {weights_, bias_}; }

 private:
  // col [cg * kh * kw][oh * ow]: row (c, i, j) holds x[c][oh * sh - ph + i][ow * sw - pw + j].
  void im2col(const float* x) {
    float* row = col_.data();
    for (int c = 0; c < cg_; ++c) {
      const float* xc = x + static_cast<std::size_t>(c) * h_ * w_;
      for (int i = 0; i < kh_; ++i) {
        for (int j = 0; j < kw_; ++j, row += n_) {
          int lo, hi;
          valid_range(w_, ow_, sw_, pw_, j, lo, hi);
          for (int oh = 0; oh < oh_; ++oh) {
            float* dst = row + static_cast<std::size_t>(oh) * ow_;
            const int ih = oh * sh_ - ph_ + i;
            if (ih < 0 || ih >= h_) {
              std::fill_n(dst, ow_, 0.0f);
              continue;
            }
            const float* src = xc + static_cast<std::size_t>(ih) * w_ - pw_ + j;
            std::fill_n(dst, lo, 0.0f);
            if (sw_ == 1) {
              std::copy(src + lo, src + hi, dst + lo);
            } else {
              for (int o = lo; o < hi; ++o) dst[o] = src[o * sw_];
            }
            std::fill(dst + hi, dst + ow_, 0.0f);
          }
        }
      }
    }
  }

  // One input channel per group: filter f reads channel f / fg, tap by tap.
  void depthwise(const float* x, float* out) const {
    for (int f = 0; f < f_; ++f) {
      const float* xc = x + static_cast<std::size_t>(f / fg_) * h_ * w_;
      const float* wf = weights_.data() + static_cast<std::size_t>(f) * k_;
      float* of = out + static_cast<std::size_t>(f) * n_;
      for (int i = 0; i < kh_; ++i) {
        int ohlo, ohhi;
        valid_range(h_, oh_, sh_, ph_, i, ohlo, ohhi);
        for (int j = 0; j < kw_; ++j) {
          const float wv = wf[i * kw_ + j];
          int lo, hi;
          valid_range(w_, ow_, sw_, pw_, j, lo, hi);
          for (int oh = ohlo; oh < ohhi; ++oh) {
            const float* src = xc + static_cast<std::size_t>(oh * sh_ - ph_ + i) * w_ - pw_ + j;
            float* dst = of + static_cast<std::size_t>(oh) * ow_;
            if (sw_ == 1) {
              for (int o = lo; o < hi; ++o) dst[o] += wv * src[o];
            } else {
              for (int o = lo; o < hi; ++o) dst[o] += wv * src[o * sw_];
            }
          }
        }
      }
    }
  }

  int c_, h_, w_, f_, oh_, ow_, kh_, kw_, sh_, sw_, ph_, pw_, groups_, cg_, fg_, k_, n_;
  bool direct_ = false, pointwise_ = false;
  std::vector<float> weights_, bias_, col_;
  Gemm gemm_;
};

// --------------------------------------------------------------------------------------------
// fc: y = W x + b on the flattened input.

class FcKernel : public OpKernel {
 public:
  FcKernel(const Op& op, std::string name, std::vector<Shape> in, std::uint64_t seed)
      : OpKernel(std::move(name), std::move(in), op.out) {
    units_ = op.units;
    inputs_ = static_cast<Index>(count(in_.at(0)));
    Rng rng(seed);
    const float bound = std::sqrt(6.0f / static_cast<float>(inputs_));
    weights_ = rng.uniform(static_cast<std::size_t>(units_ * inputs_), -bound, bound);
    bias_ = rng.uniform(static_cast<std::size_t>(units_), -0.1f, 0.1f);
  }

  void compute(const float* const* in, float* out) override {
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<Eigen::VectorXf> y(out, units_);
    y = Eigen::Map<const Eigen::VectorXf>(bias_.data(), units_);
    // Row-major GEMV on contiguous operands: Eigen needs no temporary.
    y.noalias() += Eigen::Map<const Mat>(weights_.data(), units_, inputs_) *
                   Eigen::Map<const Eigen::VectorXf>(in[0], inputs_);
  }

  void parameters(Params& p) const override { p[name_] = {weights_, bias_}; }

 private:
  Index units_ = 0, inputs_ = 0;
  std::vector<float> weights_, bias_;
};

// --------------------------------------------------------------------------------------------
// maxpool / avgpool (see the conventions at the top)

class PoolKernel : public OpKernel {
 public:
  PoolKernel(const Op& op, std::string name, std::vector<Shape> in)
      : OpKernel(std::move(name), std::move(in), op.out) {
    const Shape& x = in_.at(0);
    c_ = dim(x, 0), h_ = dim(x, 1), w_ = dim(x, 2), oh_ = dim(out_, 1), ow_ = dim(out_, 2);
    max_ = op.kind == OpKind::maxpool;
    if (op.global) {
      kh_ = h_, kw_ = w_;  // stride 1, no padding: one window
    } else {
      kh_ = op.kernel_h, kw_ = op.kernel_w, sh_ = op.stride_h, sw_ = op.stride_w;
      ph_ = op.pad_h, pw_ = op.pad_w;
    }
  }

  void compute(const float* const* in, float* out) override {
    for (int c = 0; c < c_; ++c) {
      const float* xc = in[0] + static_cast<std::size_t>(c) * h_ * w_;
      for (int oh = 0; oh < oh_; ++oh) {
        const int hs = oh * sh_ - ph_, he = std::min(hs + kh_, h_ + ph_);
        const int h0 = std::max(hs, 0), h1 = std::min(he, h_);
        for (int ow = 0; ow < ow_; ++ow, ++out) {
          const int ws = ow * sw_ - pw_, we = std::min(ws + kw_, w_ + pw_);
          const int w0 = std::max(ws, 0), w1 = std::min(we, w_);
          if (max_) {
            float m = -std::numeric_limits<float>::infinity();
            for (int ih = h0; ih < h1; ++ih)
              for (int iw = w0; iw < w1; ++iw) m = std::max(m, xc[ih * w_ + iw]);
            *out = (h0 < h1 && w0 < w1) ? m : 0.0f;
          } else {
            float s = 0.0f;
            for (int ih = h0; ih < h1; ++ih)
              for (int iw = w0; iw < w1; ++iw) s += xc[ih * w_ + iw];
            *out = s / static_cast<float>((he - hs) * (we - ws));
          }
        }
      }
    }
  }

 private:
  int c_, h_, w_, oh_, ow_, kh_ = 1, kw_ = 1, sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0;
  bool max_ = true;
};

// --------------------------------------------------------------------------------------------
// Element-wise and data-movement ops

class ReluKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void compute(const float* const* in, float* out) override {
    const std::size_t n = count(out_);
    for (std::size_t i = 0; i < n; ++i) out[i] = std::max(in[0][i], 0.0f);
  }
};

class LeakyReluKernel : public OpKernel {
 public:
  LeakyReluKernel(const Op& op, std::string name, std::vector<Shape> in)
      : OpKernel(std::move(name), std::move(in), op.out),
        alpha_(static_cast<float>(op.leaky_alpha)) {}
  void compute(const float* const* in, float* out) override {
    const std::size_t n = count(out_);
    for (std::size_t i = 0; i < n; ++i) out[i] = in[0][i] >= 0.0f ? in[0][i] : alpha_ * in[0][i];
  }

 private:
  float alpha_;
};

class UpsampleKernel : public OpKernel {
 public:
  UpsampleKernel(const Op& op, std::string name, std::vector<Shape> in)
      : OpKernel(std::move(name), std::move(in), op.out), scale_(op.scale) {}
  void compute(const float* const* in, float* out) override {
    const Shape& x = in_.at(0);
    const int c = dim(x, 0), h = dim(x, 1), w = dim(x, 2);
    for (int ch = 0; ch < c; ++ch) {
      const float* xc = in[0] + static_cast<std::size_t>(ch) * h * w;
      for (int ih = 0; ih < h; ++ih) {
        // Build one output row, then repeat it `scale` times.
        float* row = out;
        const float* src = xc + static_cast<std::size_t>(ih) * w;
        for (int iw = 0; iw < w; ++iw) out = std::fill_n(out, scale_, src[iw]);
        for (int r = 1; r < scale_; ++r) out = std::copy(row, row + w * scale_, out);
      }
    }
  }

 private:
  int scale_;
};

class BatchNormKernel : public OpKernel {
 public:
  BatchNormKernel(const Op& op, std::string name, std::vector<Shape> in, std::uint64_t seed)
      : OpKernel(std::move(name), std::move(in), op.out) {
    const std::size_t c = static_cast<std::size_t>(out_.dims.at(0));
    plane_ = count(out_) / c;
    Rng rng(seed);
    gamma_ = rng.uniform(c, 0.5f, 1.5f);
    beta_ = rng.uniform(c, -0.1f, 0.1f);
    mean_ = rng.uniform(c, -0.1f, 0.1f);
    var_ = rng.uniform(c, 0.5f, 1.5f);
    scale_.resize(c);
    shift_.resize(c);
    for (std::size_t i = 0; i < c; ++i) {
      scale_[i] = gamma_[i] / std::sqrt(var_[i] + kBatchNormEps);
      shift_[i] = beta_[i] - mean_[i] * scale_[i];
    }
  }
  void compute(const float* const* in, float* out) override {
    const float* x = in[0];
    for (std::size_t c = 0; c < scale_.size(); ++c) {
      const float a = scale_[c], b = shift_[c];
      for (std::size_t i = 0; i < plane_; ++i) *out++ = *x++ * a + b;
    }
  }
  void parameters(Params& p) const override { p[name_] = {gamma_, beta_, mean_, var_}; }

 private:
  std::size_t plane_ = 1;
  std::vector<float> gamma_, beta_, mean_, var_, scale_, shift_;
};

class AddKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void compute(const float* const* in, float* out) override {
    const std::size_t n = count(out_);
    std::copy(in[0], in[0] + n, out);
    for (std::size_t k = 1; k < in_.size(); ++k)
      for (std::size_t i = 0; i < n; ++i) out[i] += in[k][i];
  }
};

class ConcatKernel : public OpKernel {
 public:
  ConcatKernel(const Op& op, std::string name, std::vector<Shape> in)
      : OpKernel(std::move(name), std::move(in), op.out) {
    // Each input is `outer` runs of dims[axis] * (elements after the axis) values.
    const std::size_t axis = static_cast<std::size_t>(op.axis);
    for (std::size_t d = 0; d < axis; ++d) outer_ *= static_cast<std::size_t>(out_.dims[d]);
    for (const Shape& s : in_) run_.push_back(count(s) / outer_);
  }
  void compute(const float* const* in, float* out) override {
    for (std::size_t o = 0; o < outer_; ++o)
      for (std::size_t k = 0; k < in_.size(); ++k) {
        const float* src = in[k] + o * run_[k];
        out = std::copy(src, src + run_[k], out);
      }
  }

 private:
  std::size_t outer_ = 1;
  std::vector<std::size_t> run_;
};

class FlattenKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void compute(const float* const* in, float* out) override {
    std::memcpy(out, in[0], count(out_) * sizeof(float));
  }
};

class SoftmaxKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void compute(const float* const* in, float* out) override {
    const std::size_t n = count(out_);
    const float m = *std::max_element(in[0], in[0] + n);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += out[i] = std::exp(in[0][i] - m);
    const float inv = static_cast<float>(1.0 / sum);
    for (std::size_t i = 0; i < n; ++i) out[i] *= inv;
  }
};

class LrnKernel : public OpKernel {
 public:
  LrnKernel(const Op& op, std::string name, std::vector<Shape> in)
      : OpKernel(std::move(name), std::move(in), op.out) {
    c_ = dim(out_, 0);
    plane_ = count(out_) / static_cast<std::size_t>(c_);
    size_ = op.lrn_size;
    alpha_over_size_ = static_cast<float>(op.lrn_alpha / op.lrn_size);
    beta_ = static_cast<float>(op.lrn_beta);
    k_ = static_cast<float>(op.lrn_k);
    sum_.resize(plane_);
  }
  void compute(const float* const* in, float* out) override {
    const float* x = in[0];
    for (int c = 0; c < c_; ++c) {
      const int lo = std::max(0, c - (size_ - 1) / 2), hi = std::min(c_ - 1, c + size_ / 2);
      std::fill(sum_.begin(), sum_.end(), 0.0f);
      for (int d = lo; d <= hi; ++d) {
        const float* xd = x + static_cast<std::size_t>(d) * plane_;
        for (std::size_t i = 0; i < plane_; ++i) sum_[i] += xd[i] * xd[i];
      }
      const float* xc = x + static_cast<std::size_t>(c) * plane_;
      float* oc = out + static_cast<std::size_t>(c) * plane_;
      for (std::size_t i = 0; i < plane_; ++i)
        oc[i] = xc[i] / std::pow(k_ + alpha_over_size_ * sum_[i], beta_);
    }
  }

 private:
  int c_ = 0, size_ = 5;
  std::size_t plane_ = 1;
  float alpha_over_size_ = 0, beta_ = 0, k_ = 0;
  std::vector<float> sum_;
};

// --------------------------------------------------------------------------------------------
// block: the body in order, each body op's output in a buffer allocated at build time (the
// last one writes straight into the block's output).

std::unique_ptr<OpKernel> make_op_kernel(const Op& op, const std::string& name,
                                         std::vector<Shape> in, std::uint64_t seed);

class BlockKernel : public OpKernel {
 public:
  BlockKernel(const Op& op, std::string name, std::vector<Shape> in, std::uint64_t seed)
      : OpKernel(std::move(name), std::move(in), op.out) {
    const std::vector<std::vector<int>> sources = block_sources(op, name_);
    for (std::size_t b = 0; b < op.body.size(); ++b) {
      const Op& body = op.body[b];
      Step step;
      std::vector<Shape> shapes;
      for (int src : sources[b]) {
        step.sources.push_back(src);
        shapes.push_back(src >= 0 ? in_[src] : op.body[-src - 1].out);
      }
      step.ptrs.resize(step.sources.size());
      step.kernel = make_op_kernel(body, name_ + "/" + body.name, std::move(shapes), seed);
      if (b + 1 < op.body.size()) step.buffer.resize(count(body.out));
      steps_.push_back(std::move(step));
    }
  }

  void compute(const float* const* in, float* out) override {
    for (std::size_t b = 0; b < steps_.size(); ++b) {
      Step& s = steps_[b];
      for (std::size_t i = 0; i < s.sources.size(); ++i) {
        const int src = s.sources[i];
        s.ptrs[i] = src >= 0 ? in[src] : steps_[-src - 1].buffer.data();
      }
      s.kernel->compute(s.ptrs.data(), b + 1 < steps_.size() ? s.buffer.data() : out);
    }
  }

  void parameters(Params& p) const override {
    for (const Step& s : steps_) s.kernel->parameters(p);
  }

 private:
  struct Step {
    std::unique_ptr<OpKernel> kernel;
    std::vector<int> sources;  // >= 0: block input; -1 - e: body op e
    std::vector<const float*> ptrs;
    std::vector<float> buffer;  // this op's output (empty for the last)
  };
  std::vector<Step> steps_;
};

// `name`: the NAME the weights are seeded from; `seed`: the model-wide seed.
std::unique_ptr<OpKernel> make_op_kernel(const Op& op, const std::string& name,
                                         std::vector<Shape> in, std::uint64_t seed) {
  const std::uint64_t s = layer_seed(seed, name);
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::dwconv:
      return std::make_unique<ConvKernel>(op, name, std::move(in), s);
    case OpKind::fc:
      return std::make_unique<FcKernel>(op, name, std::move(in), s);
    case OpKind::maxpool:
    case OpKind::avgpool:
      return std::make_unique<PoolKernel>(op, name, std::move(in));
    case OpKind::relu:
      return std::make_unique<ReluKernel>(name, std::move(in), op.out);
    case OpKind::leaky_relu:
      return std::make_unique<LeakyReluKernel>(op, name, std::move(in));
    case OpKind::upsample:
      return std::make_unique<UpsampleKernel>(op, name, std::move(in));
    case OpKind::batchnorm:
      return std::make_unique<BatchNormKernel>(op, name, std::move(in), s);
    case OpKind::add:
      return std::make_unique<AddKernel>(name, std::move(in), op.out);
    case OpKind::concat:
      return std::make_unique<ConcatKernel>(op, name, std::move(in));
    case OpKind::flatten:
      return std::make_unique<FlattenKernel>(name, std::move(in), op.out);
    case OpKind::softmax:
      return std::make_unique<SoftmaxKernel>(name, std::move(in), op.out);
    case OpKind::lrn:
      return std::make_unique<LrnKernel>(op, name, std::move(in));
    case OpKind::block:
      return std::make_unique<BlockKernel>(op, name, std::move(in), seed);
    case OpKind::opaque:
      break;
  }
  throw BackendError("layer '" + name +
                     "' is opaque (known only by its profile): the reference backend cannot "
                     "run it");
}

}  // namespace

std::vector<std::vector<int>> block_sources(const Op& block, const std::string& name) {
  std::vector<std::vector<int>> sources(block.body.size());
  // Names to sources, looked up rather than scanned (a body may be long): earlier body ops as
  // -1 - index, the block's inputs as their first position.
  std::unordered_map<std::string, int> body_op, block_input;
  for (std::size_t i = 0; i < block.input_names.size(); ++i)
    block_input.emplace(block.input_names[i], static_cast<int>(i));
  for (std::size_t b = 0; b < block.body.size(); ++b) {
    for (const std::string& n : block.body[b].input_names) {
      // An earlier body op of that name, else the block input (as shape inference resolves).
      if (auto it = body_op.find(n); it != body_op.end()) {
        sources[b].push_back(it->second);
        continue;
      }
      auto it = block_input.find(n);
      if (it == block_input.end())
        throw BackendError("block '" + name + "': body op '" + block.body[b].name +
                           "' reads unknown input '" + n + "'");
      sources[b].push_back(it->second);
    }
    body_op[block.body[b].name] = -static_cast<int>(b) - 1;
  }
  return sources;
}

std::unique_ptr<Kernel> make_kernel(const Model& model, int layer, std::uint64_t seed) {
  if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
    throw BackendError("make_kernel: no layer " + std::to_string(layer) + " in model '" +
                       model.name + "'");
  const Layer& l = model.layers[static_cast<std::size_t>(layer)];
  std::vector<Shape> in;
  for (int src : l.inputs)
    in.push_back(src < 0 ? model.input : model.layers[static_cast<std::size_t>(src)].out);
  return make_op_kernel(l, l.name, std::move(in), seed);
}

Params kernel_parameters(const Kernel& kernel) {
  const auto* k = dynamic_cast<const OpKernel*>(&kernel);
  if (!k) throw BackendError("kernel_parameters: not a reference backend kernel");
  Params p;
  k->parameters(p);
  return p;
}

}  // namespace hetmap::backend::reference
