// The CUDA backend's layer kernels (docs/cuda.md): every op of docs/formats.md on the GPU.
//
//  * conv, dwconv: cudnnConvolutionForward (grouped through the convolution's group count),
//    the algorithm chosen at build time by cudnnFindConvolutionForwardAlgorithm (the fastest
//    that succeeds within kMaxWorkspace), then the bias by cudnnAddTensor. cuDNN's default math
//    lets it use TF32 tensor cores for float32 convolutions, as the frameworks do by default;
//    docs/cuda.md states the tolerance this gives against the reference backend.
//  * fc: cublasSgemv on the flattened input (a batch of one is a matrix-vector product), the
//    bias copied into the output first.
//  * maxpool, avgpool: cudnnPoolingForward where cuDNN's symmetric floor-mode pooling computes
//    the reference convention (every window inside the padded input: always in floor mode,
//    so COUNT_INCLUDE_PADDING divides by the same window); otherwise (ceil mode, a window that
//    can hold only padding) the kernel of cuda_ops.cu.
//  * relu: cudnnActivationForward; batchnorm: cudnnBatchNormalizationForwardInference
//    (spatial, eps = reference::kBatchNormEps); softmax: cudnnSoftmaxForward over every
//    element; lrn: cudnnLRNCrossChannelForward for odd sizes up to 16 (cuDNN's window equals
//    Caffe's there), else cuda_ops.cu.
//  * add, leaky_relu, upsample: cuda_ops.cu; concat: one cudaMemcpy2DAsync per input; flatten:
//    a device-to-device copy.
//  * block: the body enqueued in order, intermediates in buffers allocated at build time.
// Weights come from the reference backend's kernel of the same layer and seed, so the two
// backends compute the same function wherever a layer is placed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "cuda/cuda.hpp"
#include "reference/reference.hpp"

namespace hetmap::backend::cuda {
namespace {

using Params = std::map<std::string, std::vector<std::vector<float>>>;

// Largest workspace a convolution algorithm may take: fast algorithms need tens of MB at most
// for batch-one layers; this keeps one pathological layer from taking the card's memory.
constexpr std::size_t kMaxWorkspace = std::size_t{256} << 20;

int dim(const Shape& s, std::size_t d) { return static_cast<int>(s.dims.at(d)); }
long long count(const Shape& s) { return static_cast<long long>(s.elements()); }

// A float array on the GPU, filled from the host once.
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(const std::vector<float>& host) : n_(host.size()) {
    check(cudaMalloc(&data_, std::max<std::size_t>(n_, 1) * sizeof(float)), "cudaMalloc (weights)");
    check(cudaMemcpy(data_, host.data(), n_ * sizeof(float), cudaMemcpyHostToDevice),
          "cudaMemcpy (weights)");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : data_(o.data_), n_(o.n_) { o.data_ = nullptr; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~DeviceArray() {
    if (data_) cudaFree(data_);
  }
  float* get() const { return data_; }

 private:
  float* data_ = nullptr;
  std::size_t n_ = 0;
};

// RAII for cuDNN descriptors: one owner type per descriptor kind.
template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
struct Descriptor {
  T d = nullptr;
  Descriptor() { check(Create(&d), "cudnnCreate...Descriptor"); }
  ~Descriptor() { Destroy(d); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
};
using FilterDesc = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                              cudnnDestroyFilterDescriptor>;
using ConvDesc = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                            cudnnDestroyConvolutionDescriptor>;
using PoolDesc = Descriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor,
                            cudnnDestroyPoolingDescriptor>;
using ActDesc = Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                           cudnnDestroyActivationDescriptor>;
using LrnDesc = Descriptor<cudnnLRNDescriptor_t, cudnnCreateLRNDescriptor, cudnnDestroyLRNDescriptor>;

struct TensorDesc
    : Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
  void set(int n, int c, int h, int w) {
    check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w),
          "cudnnSetTensor4dDescriptor");
  }
  // [C, H, W] as NCHW; any other rank as [1, first dim, rest, 1] (channel = first dimension,
  // as the reference backend's batchnorm and lrn read it).
  void set(const Shape& s) {
    if (s.dims.size() == 3) return set(1, dim(s, 0), dim(s, 1), dim(s, 2));
    const long long c = s.dims.at(0), rest = count(s) / std::max<long long>(c, 1);
    set(1, static_cast<int>(c), static_cast<int>(rest), 1);
  }
  // Every element along the channel axis (softmax, relu).
  void set_flat(const Shape& s) { set(1, static_cast<int>(count(s)), 1, 1); }
};

const float kOne = 1.0f, kZero = 0.0f;

// One op enqueued on the context's stream from device pointers.
class GpuOp {
 public:
  GpuOp(GpuContext& ctx, std::vector<Shape> in, Shape out)
      : ctx_(ctx), in_(std::move(in)), out_(std::move(out)) {}
  virtual ~GpuOp() = default;
  virtual void enqueue(const float* const* in, float* out) = 0;
  const std::vector<Shape>& in_shapes() const { return in_; }
  const Shape& out_shape() const { return out_; }

 protected:
  GpuContext& ctx_;
  std::vector<Shape> in_;
  Shape out_;
};

const std::vector<std::vector<float>>& params_of(const Params& p, const std::string& name,
                                                  std::size_t expected) {
  return reference::parameters_of(p, name, expected, "cuda");
}

class ConvOp : public GpuOp {
 public:
  ConvOp(GpuContext& ctx, const Op& op, std::vector<Shape> in, const Params& p,
         const std::string& name)
      : GpuOp(ctx, std::move(in), op.out) {
    const Shape& x = in_.at(0);
    const int c = dim(x, 0), f = dim(out_, 0);
    const int groups = op.kind == OpKind::dwconv ? c : op.groups;
    const auto& w = params_of(p, name, 2);
    weights_ = DeviceArray(w[0]);
    bias_ = DeviceArray(w[1]);
    x_.set(x);
    y_.set(out_);
    b_.set(1, f, 1, 1);
    check(cudnnSetFilter4dDescriptor(w_.d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, f, c / groups,
                                     op.kernel_h, op.kernel_w),
          "cudnnSetFilter4dDescriptor");
    check(cudnnSetConvolution2dDescriptor(conv_.d, op.pad_h, op.pad_w, op.stride_h, op.stride_w,
                                          1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "cudnnSetConvolution2dDescriptor");
    check(cudnnSetConvolutionGroupCount(conv_.d, groups), "cudnnSetConvolutionGroupCount");
    int n = 0, oc = 0, oh = 0, ow = 0;
    check(cudnnGetConvolution2dForwardOutputDim(conv_.d, x_.d, w_.d, &n, &oc, &oh, &ow),
          "cudnnGetConvolution2dForwardOutputDim");
    if (oc != f || oh != dim(out_, 1) || ow != dim(out_, 2))
      throw BackendError(fmt::format("cuda backend: layer '{}': cuDNN's output [{}, {}, {}] is "
                                     "not the model's {}", name, oc, oh, ow, out_.str()));
    // Algorithm selection: cuDNN times every algorithm on this shape and sorts by time; the
    // fastest that succeeds within kMaxWorkspace, remembered per shape.
    const std::string key = fmt::format("{}x{}x{} f{} k{}x{} s{}x{} p{}x{} g{}", c, dim(x, 1),
                                        dim(x, 2), f, op.kernel_h, op.kernel_w, op.stride_h,
                                        op.stride_w, op.pad_h, op.pad_w, groups);
    auto known = ctx_.conv_choices.find(key);
    if (known == ctx_.conv_choices.end()) {
      constexpr int kAlgos = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
      cudnnConvolutionFwdAlgoPerf_t perf[kAlgos];
      int found = 0;
      check(cudnnFindConvolutionForwardAlgorithm(ctx_.cudnn, x_.d, w_.d, conv_.d, y_.d, kAlgos,
                                                 &found, perf),
            "cudnnFindConvolutionForwardAlgorithm");
      for (int i = 0; i < found && known == ctx_.conv_choices.end(); ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspace) continue;
        known = ctx_.conv_choices.emplace(key, GpuContext::ConvChoice{perf[i].algo, perf[i].memory,
                                                                      perf[i].mathType}).first;
      }
      if (known == ctx_.conv_choices.end())
        throw BackendError("cuda backend: layer '" + name + "': no cuDNN convolution algorithm");
    }
    algo_ = known->second.algo;
    workspace_ = known->second.workspace;
    check(cudnnSetConvolutionMathType(conv_.d, known->second.math), "cudnnSetConvolutionMathType");
    ctx_.reserve_workspace(workspace_);
  }

  void enqueue(const float* const* in, float* out) override {
    check(cudnnConvolutionForward(ctx_.cudnn, &kOne, x_.d, in[0], w_.d, weights_.get(), conv_.d,
                                  algo_, ctx_.workspace, workspace_, &kZero, y_.d, out),
          "cudnnConvolutionForward");
    check(cudnnAddTensor(ctx_.cudnn, &kOne, b_.d, bias_.get(), &kOne, y_.d, out), "cudnnAddTensor");
  }

 private:
  TensorDesc x_, y_, b_;
  FilterDesc w_;
  ConvDesc conv_;
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  std::size_t workspace_ = 0;
  DeviceArray weights_, bias_;
};

class FcOp : public GpuOp {
 public:
  FcOp(GpuContext& ctx, const Op& op, std::vector<Shape> in, const Params& p, const std::string& name)
      : GpuOp(ctx, std::move(in), op.out) {
    units_ = op.units;
    inputs_ = static_cast<int>(count(in_.at(0)));
    const auto& w = params_of(p, name, 2);
    weights_ = DeviceArray(w[0]);
    bias_ = DeviceArray(w[1]);
  }
  void enqueue(const float* const* in, float* out) override {
    check(cudaMemcpyAsync(out, bias_.get(), sizeof(float) * static_cast<std::size_t>(units_),
                          cudaMemcpyDeviceToDevice, ctx_.stream),
          "cudaMemcpyAsync (fc bias)");
    // Row-major W [units][inputs] is column-major [inputs][units]: y += W^T(col) x.
    check(cublasSgemv(ctx_.cublas, CUBLAS_OP_T, inputs_, units_, &kOne, weights_.get(), inputs_,
                      in[0], 1, &kOne, out, 1),
          "cublasSgemv");
  }

 private:
  int units_ = 0, inputs_ = 0;
  DeviceArray weights_, bias_;
};

class PoolOp : public GpuOp {
 public:
  PoolOp(GpuContext& ctx, const Op& op, std::vector<Shape> in) : GpuOp(ctx, std::move(in), op.out) {
    const Shape& x = in_.at(0);
    c_ = dim(x, 0), h_ = dim(x, 1), w_ = dim(x, 2), oh_ = dim(out_, 1), ow_ = dim(out_, 2);
    max_ = op.kind == OpKind::maxpool;
    if (op.global) {
      kh_ = h_, kw_ = w_;
    } else {
      kh_ = op.kernel_h, kw_ = op.kernel_w, sh_ = op.stride_h, sw_ = op.stride_w;
      ph_ = op.pad_h, pw_ = op.pad_w;
    }
    x_.set(x);
    y_.set(out_);
    check(cudnnSetPooling2dDescriptor(pool_.d,
                                      max_ ? CUDNN_POOLING_MAX
                                           : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                      CUDNN_PROPAGATE_NAN, kh_, kw_, ph_, pw_, sh_, sw_),
          "cudnnSetPooling2dDescriptor");
    int n = 0, c = 0, oh = 0, ow = 0;
    check(cudnnGetPooling2dForwardOutputDim(pool_.d, x_.d, &n, &c, &oh, &ow),
          "cudnnGetPooling2dForwardOutputDim");
    use_cudnn_ = oh == oh_ && ow == ow_ && ph_ < kh_ && pw_ < kw_;
  }
  void enqueue(const float* const* in, float* out) override {
    if (use_cudnn_) {
      check(cudnnPoolingForward(ctx_.cudnn, pool_.d, &kOne, x_.d, in[0], &kZero, y_.d, out),
            "cudnnPoolingForward");
    } else {
      launch_pool(in[0], out, c_, h_, w_, oh_, ow_, kh_, kw_, sh_, sw_, ph_, pw_, max_, ctx_.stream);
    }
  }

 private:
  int c_, h_, w_, oh_, ow_, kh_ = 1, kw_ = 1, sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0;
  bool max_ = true, use_cudnn_ = true;
  TensorDesc x_, y_;
  PoolDesc pool_;
};

class ReluOp : public GpuOp {
 public:
  ReluOp(GpuContext& ctx, const Op& op, std::vector<Shape> in) : GpuOp(ctx, std::move(in), op.out) {
    t_.set_flat(out_);
    check(cudnnSetActivationDescriptor(act_.d, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0),
          "cudnnSetActivationDescriptor");
  }
  void enqueue(const float* const* in, float* out) override {
    check(cudnnActivationForward(ctx_.cudnn, act_.d, &kOne, t_.d, in[0], &kZero, t_.d, out),
          "cudnnActivationForward");
  }

 private:
  TensorDesc t_;
  ActDesc act_;
};

class LeakyReluOp : public GpuOp {
 public:
  LeakyReluOp(GpuContext& ctx, const Op& op, std::vector<Shape> in)
      : GpuOp(ctx, std::move(in), op.out), alpha_(static_cast<float>(op.leaky_alpha)) {}
  void enqueue(const float* const* in, float* out) override {
    launch_leaky_relu(in[0], out, count(out_), alpha_, ctx_.stream);
  }

 private:
  float alpha_;
};

class UpsampleOp : public GpuOp {
 public:
  UpsampleOp(GpuContext& ctx, const Op& op, std::vector<Shape> in)
      : GpuOp(ctx, std::move(in), op.out), scale_(op.scale) {}
  void enqueue(const float* const* in, float* out) override {
    const Shape& x = in_.at(0);
    launch_upsample(in[0], out, dim(x, 0), dim(x, 1), dim(x, 2), scale_, ctx_.stream);
  }

 private:
  int scale_;
};

class BatchNormOp : public GpuOp {
 public:
  BatchNormOp(GpuContext& ctx, const Op& op, std::vector<Shape> in, const Params& p,
              const std::string& name)
      : GpuOp(ctx, std::move(in), op.out) {
    const auto& w = params_of(p, name, 4);
    gamma_ = DeviceArray(w[0]);
    beta_ = DeviceArray(w[1]);
    mean_ = DeviceArray(w[2]);
    var_ = DeviceArray(w[3]);
    t_.set(out_);
    bn_.set(1, static_cast<int>(out_.dims.at(0)), 1, 1);
  }
  void enqueue(const float* const* in, float* out) override {
    check(cudnnBatchNormalizationForwardInference(
              ctx_.cudnn, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, t_.d, in[0], t_.d, out, bn_.d,
              gamma_.get(), beta_.get(), mean_.get(), var_.get(),
              static_cast<double>(reference::kBatchNormEps)),
          "cudnnBatchNormalizationForwardInference");
  }

 private:
  TensorDesc t_, bn_;
  DeviceArray gamma_, beta_, mean_, var_;
};

class AddOp : public GpuOp {
 public:
  using GpuOp::GpuOp;
  void enqueue(const float* const* in, float* out) override {
    const long long n = count(out_);
    if (in_.size() == 1) {
      check(cudaMemcpyAsync(out, in[0], sizeof(float) * static_cast<std::size_t>(n),
                            cudaMemcpyDeviceToDevice, ctx_.stream),
            "cudaMemcpyAsync (add)");
      return;
    }
    launch_add(in[0], in[1], out, n, ctx_.stream);
    for (std::size_t k = 2; k < in_.size(); ++k) launch_add(out, in[k], out, n, ctx_.stream);
  }
};

class ConcatOp : public GpuOp {
 public:
  ConcatOp(GpuContext& ctx, const Op& op, std::vector<Shape> in) : GpuOp(ctx, std::move(in), op.out) {
    for (std::size_t d = 0; d < static_cast<std::size_t>(op.axis); ++d)
      outer_ *= static_cast<std::size_t>(out_.dims[d]);
    for (const Shape& s : in_) {
      run_.push_back(static_cast<std::size_t>(count(s)) / outer_ * sizeof(float));
      total_ += run_.back();
    }
  }
  void enqueue(const float* const* in, float* out) override {
    std::size_t offset = 0;
    for (std::size_t k = 0; k < in_.size(); ++k) {
      check(cudaMemcpy2DAsync(reinterpret_cast<char*>(out) + offset, total_, in[k], run_[k],
                              run_[k], outer_, cudaMemcpyDeviceToDevice, ctx_.stream),
            "cudaMemcpy2DAsync (concat)");
      offset += run_[k];
    }
  }

 private:
  std::size_t outer_ = 1, total_ = 0;
  std::vector<std::size_t> run_;  // bytes of one input per outer index
};

class FlattenOp : public GpuOp {
 public:
  using GpuOp::GpuOp;
  void enqueue(const float* const* in, float* out) override {
    check(cudaMemcpyAsync(out, in[0], static_cast<std::size_t>(out_.bytes()),
                          cudaMemcpyDeviceToDevice, ctx_.stream),
          "cudaMemcpyAsync (flatten)");
  }
};

class SoftmaxOp : public GpuOp {
 public:
  SoftmaxOp(GpuContext& ctx, const Op& op, std::vector<Shape> in) : GpuOp(ctx, std::move(in), op.out) {
    t_.set_flat(out_);
  }
  void enqueue(const float* const* in, float* out) override {
    check(cudnnSoftmaxForward(ctx_.cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_CHANNEL, &kOne,
                              t_.d, in[0], &kZero, t_.d, out),
          "cudnnSoftmaxForward");
  }

 private:
  TensorDesc t_;
};

class LrnOp : public GpuOp {
 public:
  LrnOp(GpuContext& ctx, const Op& op, std::vector<Shape> in) : GpuOp(ctx, std::move(in), op.out) {
    c_ = dim(out_, 0);
    plane_ = count(out_) / c_;
    size_ = op.lrn_size;
    alpha_ = op.lrn_alpha, beta_ = op.lrn_beta, k_ = op.lrn_k;
    use_cudnn_ = size_ % 2 == 1 && size_ >= CUDNN_LRN_MIN_N && size_ <= CUDNN_LRN_MAX_N &&
                 k_ >= CUDNN_LRN_MIN_K && beta_ >= CUDNN_LRN_MIN_BETA;
    if (use_cudnn_) {
      t_.set(out_);
      check(cudnnSetLRNDescriptor(lrn_.d, static_cast<unsigned>(size_), alpha_, beta_, k_),
            "cudnnSetLRNDescriptor");
    }
  }
  void enqueue(const float* const* in, float* out) override {
    if (use_cudnn_) {
      check(cudnnLRNCrossChannelForward(ctx_.cudnn, lrn_.d, CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne,
                                        t_.d, in[0], &kZero, t_.d, out),
            "cudnnLRNCrossChannelForward");
    } else {
      launch_lrn(in[0], out, c_, plane_, size_, static_cast<float>(alpha_ / size_),
                 static_cast<float>(beta_), static_cast<float>(k_), ctx_.stream);
    }
  }

 private:
  int c_ = 0, size_ = 5;
  long long plane_ = 1;
  double alpha_ = 0, beta_ = 0, k_ = 0;
  bool use_cudnn_ = true;
  TensorDesc t_;
  LrnDesc lrn_;
};

std::unique_ptr<GpuOp> make_op(GpuContext& ctx, const Op& op, const std::string& name,
                               std::vector<Shape> in, const Params& p);

class BlockOp : public GpuOp {
 public:
  BlockOp(GpuContext& ctx, const Op& op, std::vector<Shape> in, const Params& p,
          const std::string& name)
      : GpuOp(ctx, std::move(in), op.out) {
    const std::vector<std::vector<int>> sources = reference::block_sources(op, name);
    for (std::size_t b = 0; b < op.body.size(); ++b) {
      const Op& body = op.body[b];
      Step step;
      std::vector<Shape> shapes;
      for (int src : sources[b]) {
        step.sources.push_back(src);
        shapes.push_back(src >= 0 ? in_[static_cast<std::size_t>(src)]
                                  : op.body[static_cast<std::size_t>(-src - 1)].out);
      }
      step.ptrs.resize(step.sources.size());
      step.op = make_op(ctx, body, name + "/" + body.name, std::move(shapes), p);
      if (b + 1 < op.body.size()) step.buffer = std::make_unique<DeviceBuffer>(body.out);
      steps_.push_back(std::move(step));
    }
  }
  void enqueue(const float* const* in, float* out) override {
    for (std::size_t b = 0; b < steps_.size(); ++b) {
      Step& s = steps_[b];
      for (std::size_t i = 0; i < s.sources.size(); ++i) {
        const int src = s.sources[i];
        s.ptrs[i] = src >= 0 ? in[src] : steps_[static_cast<std::size_t>(-src - 1)].buffer->data();
      }
      s.op->enqueue(s.ptrs.data(), b + 1 < steps_.size() ? s.buffer->data() : out);
    }
  }

 private:
  struct Step {
    std::unique_ptr<GpuOp> op;
    std::vector<int> sources;  // >= 0: block input; -1 - e: body op e
    std::vector<const float*> ptrs;
    std::unique_ptr<DeviceBuffer> buffer;  // this op's output (none for the last)
  };
  std::vector<Step> steps_;
};

std::unique_ptr<GpuOp> make_op(GpuContext& ctx, const Op& op, const std::string& name,
                               std::vector<Shape> in, const Params& p) {
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::dwconv:
      return std::make_unique<ConvOp>(ctx, op, std::move(in), p, name);
    case OpKind::fc:
      return std::make_unique<FcOp>(ctx, op, std::move(in), p, name);
    case OpKind::maxpool:
    case OpKind::avgpool:
      return std::make_unique<PoolOp>(ctx, op, std::move(in));
    case OpKind::relu:
      return std::make_unique<ReluOp>(ctx, op, std::move(in));
    case OpKind::leaky_relu:
      return std::make_unique<LeakyReluOp>(ctx, op, std::move(in));
    case OpKind::upsample:
      return std::make_unique<UpsampleOp>(ctx, op, std::move(in));
    case OpKind::batchnorm:
      return std::make_unique<BatchNormOp>(ctx, op, std::move(in), p, name);
    case OpKind::add:
      return std::make_unique<AddOp>(ctx, std::move(in), op.out);
    case OpKind::concat:
      return std::make_unique<ConcatOp>(ctx, op, std::move(in));
    case OpKind::flatten:
      return std::make_unique<FlattenOp>(ctx, std::move(in), op.out);
    case OpKind::softmax:
      return std::make_unique<SoftmaxOp>(ctx, op, std::move(in));
    case OpKind::lrn:
      return std::make_unique<LrnOp>(ctx, op, std::move(in));
    case OpKind::block:
      return std::make_unique<BlockOp>(ctx, op, std::move(in), p, name);
    case OpKind::opaque:
      break;
  }
  throw BackendError("layer '" + name +
                     "' is opaque (known only by its profile): the cuda backend cannot run it");
}

// A top-level layer: shapes checked, the op enqueued between two events, the second waited on.
class GpuKernel : public Kernel {
 public:
  GpuKernel(GpuContext& ctx, std::unique_ptr<GpuOp> op, std::string name)
      : ctx_(ctx), op_(std::move(op)), name_(std::move(name)), ptrs_(op_->in_shapes().size()) {
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~GpuKernel() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  GpuKernel(const GpuKernel&) = delete;
  GpuKernel& operator=(const GpuKernel&) = delete;

  void run(const std::vector<const Buffer*>& inputs, Buffer& output) override {
    const auto& in = op_->in_shapes();
    if (inputs.size() != in.size())
      throw BackendError(fmt::format("layer '{}': expected {} inputs, got {}", name_, in.size(),
                                     inputs.size()));
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto* b = dynamic_cast<const DeviceBuffer*>(inputs[i]);
      if (!b || !(b->shape() == in[i]))
        throw BackendError(fmt::format("layer '{}': input {} is {}, expected a GPU tensor {}",
                                       name_, i, inputs[i] ? inputs[i]->shape().str() : "null",
                                       in[i].str()));
      ptrs_[i] = b->data();
    }
    auto* out = dynamic_cast<DeviceBuffer*>(&output);
    if (!out || !(out->shape() == op_->out_shape()))
      throw BackendError(fmt::format("layer '{}': output is {}, expected a GPU tensor {}", name_,
                                     output.shape().str(), op_->out_shape().str()));
    check(cudaEventRecord(start_, ctx_.stream), "cudaEventRecord");
    op_->enqueue(ptrs_.data(), out->data());
    check(cudaEventRecord(stop_, ctx_.stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop_), ("layer '" + name_ + "'").c_str());
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    device_ms_ = ms;
  }

  double device_ms() const override { return device_ms_; }

  /// One run on scratch tensors at build time. CUDA loads a kernel's module at its first launch
  /// (lazy loading, the default since CUDA 12.2), and cuDNN and cuBLAS set up some engines on
  /// first use: milliseconds that would otherwise land in whichever measured input first runs
  /// the layer (seen on the H100 machine as a 17 ms outlier in a 1 ms network).
  void warm_up() {
    std::vector<std::unique_ptr<DeviceBuffer>> in;
    std::vector<const Buffer*> ptrs;
    for (const Shape& s : op_->in_shapes()) {
      in.push_back(std::make_unique<DeviceBuffer>(s));
      check(cudaMemsetAsync(in.back()->data(), 0, in.back()->bytes(), ctx_.stream), "cudaMemset");
      ptrs.push_back(in.back().get());
    }
    DeviceBuffer out(op_->out_shape());
    run(ptrs, out);
    device_ms_ = std::numeric_limits<double>::quiet_NaN();
  }

 private:
  GpuContext& ctx_;
  std::unique_ptr<GpuOp> op_;
  std::string name_;
  std::vector<const float*> ptrs_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  double device_ms_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace

std::unique_ptr<Kernel> make_gpu_kernel(GpuContext& ctx, const Model& model, int layer,
                                        std::uint64_t seed) {
  if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
    throw BackendError(fmt::format("make_gpu_kernel: no layer {} in model '{}'", layer, model.name));
  const Layer& l = model.layers[static_cast<std::size_t>(layer)];
  // The reference kernel draws the weights (and refuses `opaque` with the reference's words:
  // check first so the message names this backend).
  if (l.kind == OpKind::opaque)
    throw BackendError("layer '" + l.name +
                       "' is opaque (known only by its profile): the cuda backend cannot run it");
  const Params params = reference::kernel_parameters(*reference::make_kernel(model, layer, seed));
  std::vector<Shape> in;
  for (int src : l.inputs)
    in.push_back(src < 0 ? model.input : model.layers[static_cast<std::size_t>(src)].out);
  check(cudaSetDevice(ctx.device), "cudaSetDevice");
  auto kernel =
      std::make_unique<GpuKernel>(ctx, make_op(ctx, l, l.name, std::move(in), params), l.name);
  kernel->warm_up();
  return kernel;
}

}  // namespace hetmap::backend::cuda
