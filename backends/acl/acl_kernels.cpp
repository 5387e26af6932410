// The ACL backend's layer kernels (docs/acl.md): every op of docs/formats.md as Arm Compute
// Library 20.08 functions, NEON on the CPU clusters and OpenCL on the Mali GPU, written once
// over the two (the function sets have the same shapes; Neon and Cl below name them).
//
//  * conv: NEConvolutionLayer / CLConvolutionLayer (ACL picks GEMM, Winograd or direct);
//    grouped convs run one convolution per group on channel slices (sub-tensors) of the input
//    and output; one input channel per group (dwconv, conv with groups = channels) is
//    NE/CLDepthwiseConvolutionLayer with depth multiplier filters / channels.
//  * fc: NE/CLFullyConnectedLayer (weights [units][inputs], flattened C-H-W as ACL flattens).
//  * maxpool, avgpool: NE/CLPoolingLayer, padding counted in the average (exclude_padding
//    false: the reference's Caffe divisor), CEIL rounding for `ceil`; global pooling.
//  * relu, leaky_relu: NE/CLActivationLayer; batchnorm: NE/CLBatchNormalizationLayer (eps =
//    reference::kBatchNormEps); softmax: NE/CLSoftmaxLayer over every element (a 1-D view);
//    lrn: NE/CLNormalizationLayer CROSS_MAP, alpha / size (odd sizes: ACL's window is
//    symmetric, Caffe's equals it only then); upsample: NE/CLUpsampleLayer nearest (scale 2);
//    add: NE/CLArithmeticAddition, inputs summed in order; concat: NE/CLConcatenateLayer;
//    flatten: NE/CLReshapeLayer.
//  * block: the body's functions in order, intermediates in tensors of the kernel.
// What ACL cannot compute exactly as docs/formats.md defines it is refused with the reason
// (unsupported_reason): the CPU device then runs the reference kernel and says so.
//
// Tensors: a kernel configures its own ACL tensors, so each function can ask for the padding
// it needs. After configuring, an input or output tensor that needs no padding takes the
// caller's buffer as its memory at run time (import_memory: no copy); one that does is
// allocated, and the buffer is copied into (out of) it, row by row, on every run.
#include <arm_compute/core/Types.h>
#include <arm_compute/runtime/CL/CLFunctions.h>
#include <arm_compute/runtime/CL/CLScheduler.h>
#include <arm_compute/runtime/CL/CLSubTensor.h>
#include <arm_compute/runtime/CL/CLTensor.h>
#include <arm_compute/runtime/NEON/NEFunctions.h>
#include <arm_compute/runtime/SubTensor.h>
#include <arm_compute/runtime/Tensor.h>
#include <fmt/format.h>

#include <cstring>
#include <map>

#include "acl/acl.hpp"
#include "reference/reference.hpp"

namespace hetmap::backend::acl {

namespace ac = arm_compute;
using Params = std::map<std::string, std::vector<std::vector<float>>>;

namespace {

// The two function sets. map()/unmap() give host access to a tensor's memory.
struct Neon {
  using Tensor = ac::Tensor;
  using ITensor = ac::ITensor;
  using SubTensor = ac::SubTensor;
  using Conv = ac::NEConvolutionLayer;
  using DwConv = ac::NEDepthwiseConvolutionLayer;
  using Fc = ac::NEFullyConnectedLayer;
  using Pool = ac::NEPoolingLayer;
  using Act = ac::NEActivationLayer;
  using BatchNorm = ac::NEBatchNormalizationLayer;
  using Softmax = ac::NESoftmaxLayer;
  using Upsample = ac::NEUpsampleLayer;
  using Lrn = ac::NENormalizationLayer;
  using Add = ac::NEArithmeticAddition;
  using Concat = ac::NEConcatenateLayer;
  using Reshape = ac::NEReshapeLayer;
  static constexpr const char* kName = "NEON";
  static std::uint8_t* map(Tensor& t) { return t.buffer(); }
  static void unmap(Tensor&) {}
  static void finish() {}
};

struct Cl {
  using Tensor = ac::CLTensor;
  using ITensor = ac::ICLTensor;
  using SubTensor = ac::CLSubTensor;
  using Conv = ac::CLConvolutionLayer;
  using DwConv = ac::CLDepthwiseConvolutionLayer;
  using Fc = ac::CLFullyConnectedLayer;
  using Pool = ac::CLPoolingLayer;
  using Act = ac::CLActivationLayer;
  using BatchNorm = ac::CLBatchNormalizationLayer;
  using Softmax = ac::CLSoftmaxLayer;
  using Upsample = ac::CLUpsampleLayer;
  using Lrn = ac::CLNormalizationLayer;
  using Add = ac::CLArithmeticAddition;
  using Concat = ac::CLConcatenateLayer;
  using Reshape = ac::CLReshapeLayer;
  static constexpr const char* kName = "OpenCL";
  static std::uint8_t* map(Tensor& t) {
    t.map(true);
    return t.buffer();
  }
  static void unmap(Tensor& t) { t.unmap(); }
  static void finish() { ac::CLScheduler::get().sync(); }
};

ac::TensorInfo f32(const ac::TensorShape& shape) { return ac::TensorInfo(shape, 1, ac::DataType::F32); }

// A tensor's rows as memory: `slices` x `rows` rows of `row_bytes`, the first at
// `origin` bytes, rows `row_pitch` apart, slices `slice_pitch` apart (ACL pads X and Y only).
struct Rows {
  std::size_t row_bytes = 0, rows = 1, slices = 1, row_pitch = 0, slice_pitch = 0, origin = 0;
};

Rows rows_of(const ac::ITensorInfo& info) {
  const ac::TensorShape& s = info.tensor_shape();
  const ac::Strides& st = info.strides_in_bytes();
  Rows r;
  r.row_bytes = s[0] * sizeof(float);
  r.rows = s.num_dimensions() >= 2 ? s[1] : 1;
  for (std::size_t d = 2; d < s.num_dimensions(); ++d) r.slices *= s[d];
  r.row_pitch = s.num_dimensions() >= 2 ? st[1] : info.total_size();
  r.slice_pitch = s.num_dimensions() >= 3 ? st[2] : r.row_pitch * r.rows;
  r.origin = info.offset_first_element_in_bytes();
  return r;
}

// Contiguous floats <-> a (possibly padded) tensor in host memory.
void write_rows(const Rows& r, std::uint8_t* base, const float* src) {
  const std::size_t n = r.row_bytes / sizeof(float);
  for (std::size_t z = 0; z < r.slices; ++z)
    for (std::size_t y = 0; y < r.rows; ++y, src += n)
      std::memcpy(base + r.origin + z * r.slice_pitch + y * r.row_pitch, src, r.row_bytes);
}
void read_rows(const Rows& r, const std::uint8_t* base, float* dst) {
  const std::size_t n = r.row_bytes / sizeof(float);
  for (std::size_t z = 0; z < r.slices; ++z)
    for (std::size_t y = 0; y < r.rows; ++y, dst += n)
      std::memcpy(dst, base + r.origin + z * r.slice_pitch + y * r.row_pitch, r.row_bytes);
}

const std::vector<std::vector<float>>& params_of(const Params& p, const std::string& name,
                                                 std::size_t count) {
  return reference::parameters_of(p, name, count, "acl");
}

void check(const ac::Status& status, const std::string& name, const char* what) {
  if (status.error_code() != ac::ErrorCode::OK)
    throw BackendError(fmt::format("layer '{}': ACL cannot run this {} ({})", name, what,
                                   status.error_description()));
}

ac::PadStrideInfo pad_stride(const Op& op, bool ceil = false) {
  return ac::PadStrideInfo(static_cast<unsigned>(op.stride_w), static_cast<unsigned>(op.stride_h),
                           static_cast<unsigned>(op.pad_w), static_cast<unsigned>(op.pad_h),
                           ceil ? ac::DimensionRoundingType::CEIL : ac::DimensionRoundingType::FLOOR);
}

// One top-level layer as ACL functions over tensors the kernel owns.
template <class T>
class AclKernel : public Kernel {
 public:
  using Tensor = typename T::Tensor;

  AclKernel(const Op& op, const std::string& name, const std::vector<Shape>& in, const Params& p,
            ClusterPool* pool)
      : name_(name), pool_(pool) {
    std::vector<Tensor*> inputs;
    for (const Shape& s : in) {
      in_.push_back(Port{make(acl_shape(s)), false, s});
      inputs.push_back(in_.back().tensor);
    }
    out_ = Port{make(acl_shape(op.out)), false, op.out};
    build(op, name, inputs, out_.tensor, p);
    // Only now is every tensor's padding known.
    for (Port& port : in_) port.import = port.tensor->info()->padding().empty();
    out_.import = out_.tensor->info()->padding().empty();
    for (auto& t : owned_)
      if (!is_imported(t.get())) t->allocator()->allocate();
    for (auto& [tensor, values] : fill_) {
      std::uint8_t* base = T::map(*tensor);
      write_rows(rows_of(*tensor->info()), base, values.data());
      T::unmap(*tensor);
    }
    fill_.clear();
  }

  void run(const std::vector<const Buffer*>& inputs, Buffer& output) override {
    UsePool use(pool_);
    if (inputs.size() != in_.size())
      throw BackendError(fmt::format("layer '{}': expected {} inputs, got {}", name_, in_.size(),
                                     inputs.size()));
    for (std::size_t i = 0; i < in_.size(); ++i) bind_in(in_[i], *inputs[i], i);
    bind_out(output);
    for (auto& f : functions_) f->run();
    if (!out_.import) copy_out(output);
    T::finish();
  }

 private:
  struct Port {
    Tensor* tensor = nullptr;
    bool import = false;  // the caller's buffer is the tensor's memory
    Shape shape;
  };

  Tensor* make(const ac::TensorShape& shape) {
    owned_.push_back(std::make_unique<Tensor>());
    owned_.back()->allocator()->init(f32(shape));
    return owned_.back().get();
  }
  Tensor* weights(const ac::TensorShape& shape, const float* values, std::size_t count) {
    Tensor* t = make(shape);
    if (count != t->info()->tensor_shape().total_size())
      throw BackendError(fmt::format("layer '{}': {} weights for a tensor of {}", name_, count,
                                     t->info()->tensor_shape().total_size()));
    fill_.emplace_back(t, std::vector<float>(values, values + count));
    return t;
  }
  bool is_imported(const Tensor* t) const {
    for (const Port& p : in_)
      if (p.tensor == t && p.import) return true;
    return out_.tensor == t && out_.import;
  }
  template <class F>
  F& add() {
    auto f = std::make_unique<F>();
    F& ref = *f;
    functions_.push_back(std::move(f));
    return ref;
  }
  // `t` viewed as `shape` (a reshape into a new tensor when the shapes differ).
  Tensor* as(Tensor* t, const ac::TensorShape& shape) {
    if (t->info()->tensor_shape() == shape) return t;
    Tensor* v = make(shape);
    check(T::Reshape::validate(t->info(), v->info()), name_, "reshape");
    add<typename T::Reshape>().configure(t, v);
    return v;
  }
  // `from`'s values into `out`, a tensor of the same element count in another shape.
  void reshape_into(Tensor* from, Tensor* out) {
    check(T::Reshape::validate(from->info(), out->info()), name_, "reshape");
    add<typename T::Reshape>().configure(from, out);
  }

  void build(const Op& op, const std::string& name, const std::vector<Tensor*>& in, Tensor* out,
             const Params& p);
  void conv(const Op& op, const std::string& name, Tensor* in, Tensor* out, const Params& p);
  void block(const Op& op, const std::string& name, const std::vector<Tensor*>& in, Tensor* out,
             const Params& p);

  void bind_in(Port& port, const Buffer& buffer, std::size_t i);
  void bind_out(Buffer& buffer);
  void copy_out(Buffer& buffer);

  std::string name_;
  ClusterPool* pool_;
  std::vector<std::unique_ptr<Tensor>> owned_;
  std::vector<std::unique_ptr<typename T::SubTensor>> subs_;
  std::vector<std::unique_ptr<ac::IFunction>> functions_;
  std::vector<std::pair<Tensor*, std::vector<float>>> fill_;  // weights, written once allocated
  std::vector<Port> in_;
  Port out_;
};

template <class T>
void AclKernel<T>::build(const Op& op, const std::string& name, const std::vector<Tensor*>& in,
                         Tensor* out, const Params& p) {
  const ac::TensorInfo* oi = static_cast<const ac::TensorInfo*>(out->info());
  switch (op.kind) {
    case OpKind::conv:
    case OpKind::dwconv:
      return conv(op, name, in[0], out, p);
    case OpKind::fc: {
      const auto& w = params_of(p, name, 2);
      Tensor* x = as(in[0], ac::TensorShape(in[0]->info()->tensor_shape().total_size()));
      Tensor* wt = weights(ac::TensorShape(x->info()->tensor_shape()[0],
                                           static_cast<std::size_t>(op.units)),
                           w[0].data(), w[0].size());
      Tensor* b = weights(ac::TensorShape(static_cast<std::size_t>(op.units)), w[1].data(), w[1].size());
      check(T::Fc::validate(x->info(), wt->info(), b->info(), oi), name, "fc");
      add<typename T::Fc>().configure(x, wt, b, out);
      return;
    }
    case OpKind::maxpool:
    case OpKind::avgpool: {
      const ac::PoolingType type = op.kind == OpKind::maxpool ? ac::PoolingType::MAX : ac::PoolingType::AVG;
      const ac::PoolingLayerInfo info =
          op.global ? ac::PoolingLayerInfo(type, ac::DataLayout::NCHW)
                    : ac::PoolingLayerInfo(type,
                                           ac::Size2D(static_cast<std::size_t>(op.kernel_w),
                                                      static_cast<std::size_t>(op.kernel_h)),
                                           ac::DataLayout::NCHW, pad_stride(op, op.ceil),
                                           /*exclude_padding=*/false);
      check(T::Pool::validate(in[0]->info(), oi, info), name, "pooling");
      add<typename T::Pool>().configure(in[0], out, info);
      return;
    }
    case OpKind::relu:
    case OpKind::leaky_relu: {
      const ac::ActivationLayerInfo info =
          op.kind == OpKind::relu
              ? ac::ActivationLayerInfo(ac::ActivationLayerInfo::ActivationFunction::RELU)
              : ac::ActivationLayerInfo(ac::ActivationLayerInfo::ActivationFunction::LEAKY_RELU,
                                        static_cast<float>(op.leaky_alpha));
      check(T::Act::validate(in[0]->info(), oi, info), name, "activation");
      add<typename T::Act>().configure(in[0], out, info);
      return;
    }
    case OpKind::batchnorm: {
      const auto& w = params_of(p, name, 4);  // gamma, beta, mean, var
      const ac::TensorShape s = in[0]->info()->tensor_shape();
      const std::size_t c = s[s.num_dimensions() - 1];
      // ACL's channel is dimension 2 (NCHW): view other ranks as (rest, 1, C).
      const ac::TensorShape view(s.total_size() / c, 1, c);
      Tensor* x = s.num_dimensions() == 3 ? in[0] : as(in[0], view);
      Tensor* y = s.num_dimensions() == 3 ? out : make(view);
      const ac::TensorShape cs(c);
      Tensor* gamma = weights(cs, w[0].data(), w[0].size());
      Tensor* beta = weights(cs, w[1].data(), w[1].size());
      Tensor* mean = weights(cs, w[2].data(), w[2].size());
      Tensor* var = weights(cs, w[3].data(), w[3].size());
      check(T::BatchNorm::validate(x->info(), y->info(), mean->info(), var->info(), beta->info(),
                                   gamma->info(), reference::kBatchNormEps),
            name, "batchnorm");
      add<typename T::BatchNorm>().configure(x, y, mean, var, beta, gamma, reference::kBatchNormEps);
      if (y != out) reshape_into(y, out);
      return;
    }
    case OpKind::softmax: {
      const ac::TensorShape flat(in[0]->info()->tensor_shape().total_size());
      Tensor* x = as(in[0], flat);
      Tensor* y = out->info()->tensor_shape() == flat ? out : make(flat);
      check(T::Softmax::validate(x->info(), y->info(), 1.0f, 0), name, "softmax");
      add<typename T::Softmax>().configure(x, y, 1.0f, 0);
      if (y != out) reshape_into(y, out);
      return;
    }
    case OpKind::lrn: {
      const ac::NormalizationLayerInfo info(ac::NormType::CROSS_MAP,
                                            static_cast<std::uint32_t>(op.lrn_size),
                                            static_cast<float>(op.lrn_alpha),
                                            static_cast<float>(op.lrn_beta),
                                            static_cast<float>(op.lrn_k), /*is_scaled=*/true);
      check(T::Lrn::validate(in[0]->info(), oi, info), name, "lrn");
      add<typename T::Lrn>().configure(in[0], out, info);
      return;
    }
    case OpKind::upsample: {
      if (op.scale == 1) return reshape_into(in[0], out);
      const ac::Size2D scale(static_cast<std::size_t>(op.scale), static_cast<std::size_t>(op.scale));
      check(T::Upsample::validate(in[0]->info(), oi, scale, ac::InterpolationPolicy::NEAREST_NEIGHBOR),
            name, "upsample");
      add<typename T::Upsample>().configure(in[0], out, scale, ac::InterpolationPolicy::NEAREST_NEIGHBOR);
      return;
    }
    case OpKind::add: {
      Tensor* sum = in[0];
      for (std::size_t i = 1; i < in.size(); ++i) {
        Tensor* to = i + 1 == in.size() ? out : make(out->info()->tensor_shape());
        check(T::Add::validate(sum->info(), in[i]->info(), to->info(), ac::ConvertPolicy::WRAP),
              name, "add");
        add<typename T::Add>().configure(sum, in[i], to, ac::ConvertPolicy::WRAP);
        sum = to;
      }
      if (in.size() == 1) reshape_into(in[0], out);
      return;
    }
    case OpKind::concat: {
      const std::size_t rank = out->info()->tensor_shape().num_dimensions();
      const std::size_t axis = rank - 1 - static_cast<std::size_t>(op.axis);
      std::vector<const typename T::ITensor*> parts(in.begin(), in.end());
      std::vector<const ac::ITensorInfo*> infos;
      for (Tensor* t : in) infos.push_back(t->info());
      check(T::Concat::validate(infos, oi, axis), name, "concat");
      add<typename T::Concat>().configure(parts, out, axis);
      return;
    }
    case OpKind::flatten:
      return reshape_into(in[0], out);
    case OpKind::block:
      return block(op, name, in, out, p);
    case OpKind::opaque:
      break;
  }
  throw BackendError("layer '" + name + "' is opaque (known only by its profile): the acl backend cannot run it");
}

template <class T>
void AclKernel<T>::conv(const Op& op, const std::string& name, Tensor* in, Tensor* out,
                        const Params& p) {
  const auto& w = params_of(p, name, 2);
  const ac::TensorShape is = in->info()->tensor_shape();
  const std::size_t c = is[2], f = static_cast<std::size_t>(op.filters);
  const std::size_t groups = op.kind == OpKind::dwconv ? c : static_cast<std::size_t>(op.groups);
  const std::size_t kw = static_cast<std::size_t>(op.kernel_w), kh = static_cast<std::size_t>(op.kernel_h);
  const ac::TensorInfo* oi = static_cast<const ac::TensorInfo*>(out->info());
  if (groups == c && groups > 1) {  // one input channel per group: depthwise
    Tensor* wt = weights(ac::TensorShape(kw, kh, f), w[0].data(), w[0].size());
    Tensor* b = weights(ac::TensorShape(f), w[1].data(), w[1].size());
    const unsigned multiplier = static_cast<unsigned>(f / c);
    check(T::DwConv::validate(in->info(), wt->info(), b->info(), oi, pad_stride(op), multiplier),
          name, "depthwise convolution");
    add<typename T::DwConv>().configure(in, wt, b, out, pad_stride(op), multiplier);
    return;
  }
  const std::size_t cg = c / groups, fg = f / groups, per_group = fg * cg * kh * kw;
  const ac::TensorShape os = out->info()->tensor_shape();
  for (std::size_t g = 0; g < groups; ++g) {
    Tensor* wt = weights(ac::TensorShape(kw, kh, cg, fg), w[0].data() + g * per_group, per_group);
    Tensor* b = weights(ac::TensorShape(fg), w[1].data() + g * fg, fg);
    typename T::ITensor* x = in;
    typename T::ITensor* y = out;
    if (groups > 1) {  // channel slices of the input and output
      subs_.push_back(std::make_unique<typename T::SubTensor>(
          in, ac::TensorShape(is[0], is[1], cg), ac::Coordinates(0, 0, static_cast<int>(g * cg))));
      x = subs_.back().get();
      subs_.push_back(std::make_unique<typename T::SubTensor>(
          out, ac::TensorShape(os[0], os[1], fg), ac::Coordinates(0, 0, static_cast<int>(g * fg))));
      y = subs_.back().get();
    }
    check(T::Conv::validate(x->info(), wt->info(), b->info(), y->info(), pad_stride(op)), name,
          "convolution");
    add<typename T::Conv>().configure(x, wt, b, y, pad_stride(op));
  }
}

template <class T>
void AclKernel<T>::block(const Op& op, const std::string& name, const std::vector<Tensor*>& in,
                         Tensor* out, const Params& p) {
  const std::vector<std::vector<int>> sources = reference::block_sources(op, name);
  std::vector<Tensor*> results;
  for (std::size_t b = 0; b < op.body.size(); ++b) {
    const Op& body = op.body[b];
    std::vector<Tensor*> args;
    for (int src : sources[b])
      args.push_back(src >= 0 ? in[static_cast<std::size_t>(src)]
                              : results[static_cast<std::size_t>(-src - 1)]);
    Tensor* to = b + 1 == op.body.size() ? out : make(acl_shape(body.out));
    build(body, name + "/" + body.name, args, to, p);
    results.push_back(to);
  }
}

// Host buffers (CPU clusters) and GPU buffers, into and out of the kernel's tensors.
template <>
void AclKernel<Neon>::bind_in(Port& port, const Buffer& buffer, std::size_t i) {
  const auto* host = dynamic_cast<const reference::HostBuffer*>(&buffer);
  if (!host || !(host->shape() == port.shape))
    throw BackendError(fmt::format("layer '{}': input {} is {}, expected a host tensor {}", name_,
                                   i, buffer.shape().str(), port.shape.str()));
  float* data = const_cast<float*>(host->data());  // ACL's tensors are not const; it only reads
  if (port.import) port.tensor->allocator()->import_memory(data);
  else write_rows(rows_of(*port.tensor->info()), port.tensor->buffer(), data);
}
template <>
void AclKernel<Neon>::bind_out(Buffer& buffer) {
  auto* host = dynamic_cast<reference::HostBuffer*>(&buffer);
  if (!host || !(host->shape() == out_.shape))
    throw BackendError(fmt::format("layer '{}': output is {}, expected a host tensor {}", name_,
                                   buffer.shape().str(), out_.shape.str()));
  if (out_.import) out_.tensor->allocator()->import_memory(host->data());
}
template <>
void AclKernel<Neon>::copy_out(Buffer& buffer) {
  read_rows(rows_of(*out_.tensor->info()), out_.tensor->buffer(),
            static_cast<reference::HostBuffer&>(buffer).data());
}

// GPU: an unpadded buffer into a padded tensor and back, row by row through map/unmap (ACL
// exposes no OpenCL buffer-to-buffer copy; a Mali GPU shares the CPU's memory, so mapping
// moves no data).
void copy_mapped(const ac::CLTensor& from, const ac::CLTensor& to) {
  auto& src = const_cast<ac::CLTensor&>(from);
  auto& dst = const_cast<ac::CLTensor&>(to);
  src.map(true);
  dst.map(true);
  const Rows s = rows_of(*src.info()), d = rows_of(*dst.info());
  for (std::size_t z = 0; z < s.slices; ++z)
    for (std::size_t y = 0; y < s.rows; ++y)
      std::memcpy(dst.buffer() + d.origin + z * d.slice_pitch + y * d.row_pitch,
                  src.buffer() + s.origin + z * s.slice_pitch + y * s.row_pitch, s.row_bytes);
  dst.unmap();
  src.unmap();
}

template <>
void AclKernel<Cl>::bind_in(Port& port, const Buffer& buffer, std::size_t i) {
  const auto* gpu = dynamic_cast<const ClBuffer*>(&buffer);
  if (!gpu || !(gpu->shape() == port.shape))
    throw BackendError(fmt::format("layer '{}': input {} is {}, expected a GPU tensor {}", name_,
                                   i, buffer.shape().str(), port.shape.str()));
  if (port.import) port.tensor->allocator()->import_memory(gpu->tensor().cl_buffer());
  else copy_mapped(gpu->tensor(), *port.tensor);
}
template <>
void AclKernel<Cl>::bind_out(Buffer& buffer) {
  auto* gpu = dynamic_cast<ClBuffer*>(&buffer);
  if (!gpu || !(gpu->shape() == out_.shape))
    throw BackendError(fmt::format("layer '{}': output is {}, expected a GPU tensor {}", name_,
                                   buffer.shape().str(), out_.shape.str()));
  if (out_.import) out_.tensor->allocator()->import_memory(gpu->tensor().cl_buffer());
}
template <>
void AclKernel<Cl>::copy_out(Buffer& buffer) {
  copy_mapped(*out_.tensor, static_cast<ClBuffer&>(buffer).tensor());
}

// Shapes of a top-level layer's inputs.
std::vector<Shape> input_shapes(const Model& model, const Layer& l) {
  std::vector<Shape> in;
  for (int src : l.inputs)
    in.push_back(src < 0 ? model.input : model.layers[static_cast<std::size_t>(src)].out);
  return in;
}

const Layer& layer_of(const Model& model, int layer) {
  if (layer < 0 || layer >= static_cast<int>(model.layers.size()))
    throw BackendError(fmt::format("acl: no layer {} in model '{}'", layer, model.name));
  const Layer& l = model.layers[static_cast<std::size_t>(layer)];
  if (l.kind == OpKind::opaque)
    throw BackendError("layer '" + l.name +
                       "' is opaque (known only by its profile): the acl backend cannot run it");
  return l;
}

template <class T>
std::unique_ptr<Kernel> make_kernel(ClusterPool* pool, const Model& model, int layer,
                                    std::uint64_t seed) {
  const Layer& l = layer_of(model, layer);
  const std::vector<Shape> in = input_shapes(model, l);
  const std::string why = unsupported_reason(l);
  if (!why.empty())
    throw BackendError(fmt::format("layer '{}': ACL ({}) cannot run it: {}", l.name, T::kName, why));
  const Params params = reference::kernel_parameters(*reference::make_kernel(model, layer, seed));
  UsePool use(pool);  // functions size their work for the cluster's threads at configure time
  auto kernel = std::make_unique<AclKernel<T>>(l, l.name, in, params, pool);
  return kernel;
}

}  // namespace

std::string unsupported_reason(const Op& op) {
  switch (op.kind) {
    case OpKind::lrn:
      if (op.lrn_size % 2 == 0)
        return fmt::format("lrn size {} is even: ACL's cross-map window is symmetric, Caffe's "
                           "(docs/formats.md) is not for even sizes",
                           op.lrn_size);
      break;
    case OpKind::upsample:
      if (op.scale > 2)
        return fmt::format("upsample scale {}: ACL 20.08's upsample layer takes scale 2 only",
                           op.scale);
      break;
    case OpKind::maxpool:
    case OpKind::avgpool:
      if (!op.global && (op.pad_h >= op.kernel_h || op.pad_w >= op.kernel_w))
        return "pooling padding as large as the kernel (windows of padding only)";
      break;
    case OpKind::block:
      for (const Op& b : op.body) {
        const std::string why = unsupported_reason(b);
        if (!why.empty()) return b.name + ": " + why;
      }
      break;
    default:
      break;
  }
  return "";
}


std::unique_ptr<Kernel> make_neon_kernel(ClusterPool& pool, const Model& model, int layer,
                                         std::uint64_t seed) {
  return make_kernel<Neon>(&pool, model, layer, seed);
}

std::unique_ptr<Kernel> make_cl_kernel(const Model& model, int layer, std::uint64_t seed) {
  return make_kernel<Cl>(nullptr, model, layer, seed);
}

}  // namespace hetmap::backend::acl
