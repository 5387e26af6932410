// The reference backend's kernels (backends/reference/kernels.cpp): every op of docs/formats.md
// section 2 checked against plain nested loops written here, on small random shapes; blocks
// against the same loops chained by hand; weights reproducible from (seed, name) only.
// The loops read the kernels' weights through reference::kernel_parameters, accumulate in
// double and share no code with the kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../backends/reference/reference.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/model.hpp"

namespace hetmap::backend {
namespace {

using reference::HostBuffer;
using Params = std::map<std::string, std::vector<std::vector<float>>>;
using Vec = std::vector<float>;

// ---------------------------------------------------------------------------------------------
// Helpers

Model model(const std::string& layers, const std::string& input = "[3, 8, 8]") {
  return parse_model("name: t\ninput: " + input + "\nlayers:\n" + layers, "test.yaml");
}

const Layer& layer(const Model& m, const std::string& name) {
  const int i = m.find_layer(name);
  if (i < 0) throw std::runtime_error("no layer " + name);
  return m.layers[static_cast<std::size_t>(i)];
}

Vec random_vec(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  Vec v(n);
  for (float& x : v) x = u(g);
  return v;
}

// Random tensors for `name`'s inputs, of the shapes its inputs have.
std::vector<Vec> random_inputs(const Model& m, const std::string& name, std::uint32_t seed = 1,
                               float scale = 1.0f) {
  std::vector<Vec> in;
  for (int src : layer(m, name).inputs) {
    const Shape& s = src < 0 ? m.input : m.layers[static_cast<std::size_t>(src)].out;
    in.push_back(random_vec(static_cast<std::size_t>(s.elements()), seed++, scale));
  }
  return in;
}

struct Ran {
  Vec out;
  Params params;
};

// Builds `name` with `seed` and runs it on `inputs`.
Ran run_layer(const Model& m, const std::string& name, const std::vector<Vec>& inputs,
              std::uint64_t seed = 42) {
  const Layer& l = layer(m, name);
  auto kernel = reference::make_kernel(m, m.find_layer(name), seed);
  std::vector<HostBuffer> bufs;
  for (std::size_t i = 0; i < l.inputs.size(); ++i) {
    bufs.emplace_back(l.inputs[i] < 0 ? m.input : m.layers[l.inputs[i]].out);
    EXPECT_EQ(inputs.at(i).size(), bufs.back().shape().elements());
    std::copy(inputs[i].begin(), inputs[i].end(), bufs.back().data());
  }
  std::vector<const Buffer*> ptrs;
  for (const auto& b : bufs) ptrs.push_back(&b);
  HostBuffer out(l.out);
  std::fill_n(out.data(), l.out.elements(), std::nanf(""));  // every value must be written
  kernel->run(ptrs, out);
  return {Vec(out.data(), out.data() + l.out.elements()), reference::kernel_parameters(*kernel)};
}

::testing::AssertionResult near(const Vec& got, const Vec& want, double rel = 1e-4) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure()
           << "size " << got.size() << ", expected " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tol = rel * std::max(1.0, std::abs(static_cast<double>(want[i])));
    if (!(std::abs(static_cast<double>(got[i]) - want[i]) <= tol))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << ", expected " << want[i];
  }
  return ::testing::AssertionSuccess();
}

bool bit_identical(const Vec& a, const Vec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---------------------------------------------------------------------------------------------
// Reference loops. Images are [C][H][W] row-major.

struct Img {
  int c, h, w;
};

// conv / dwconv: weights [f][c/groups][kh][kw]; output size (H + 2p - k) / s + 1.
Vec conv_ref(const Vec& x, Img in, const Vec& wt, const Vec& bias, int f, int kh, int kw, int sh,
             int sw, int ph, int pw, int groups) {
  const int oh = (in.h + 2 * ph - kh) / sh + 1, ow = (in.w + 2 * pw - kw) / sw + 1;
  const int cg = in.c / groups, fg = f / groups;
  Vec y(static_cast<std::size_t>(f) * oh * ow);
  for (int o = 0; o < f; ++o)
    for (int r = 0; r < oh; ++r)
      for (int s = 0; s < ow; ++s) {
        double acc = bias[o];
        for (int ci = 0; ci < cg; ++ci) {
          const int c = (o / fg) * cg + ci;
          for (int i = 0; i < kh; ++i)
            for (int j = 0; j < kw; ++j) {
              const int yy = r * sh - ph + i, xx = s * sw - pw + j;
              if (yy < 0 || yy >= in.h || xx < 0 || xx >= in.w) continue;
              acc += static_cast<double>(wt[((o * cg + ci) * kh + i) * kw + j]) *
                     x[(c * in.h + yy) * in.w + xx];
            }
        }
        y[(o * oh + r) * ow + s] = static_cast<float>(acc);
      }
  return y;
}

Vec fc_ref(const Vec& x, const Vec& wt, const Vec& bias) {
  const std::size_t units = bias.size(), n = x.size();
  Vec y(units);
  for (std::size_t u = 0; u < units; ++u) {
    double acc = bias[u];
    for (std::size_t i = 0; i < n; ++i) acc += static_cast<double>(wt[u * n + i]) * x[i];
    y[u] = static_cast<float>(acc);
  }
  return y;
}

// Pooling over an output of oh x ow windows. Average: the divisor counts every window position
// inside the padded input [-p, H + p) (Caffe / count_include_pad=true); max ignores padding.
Vec pool_ref(bool is_max, const Vec& x, Img in, int oh, int ow, int kh, int kw, int sh, int sw,
             int ph, int pw) {
  Vec y(static_cast<std::size_t>(in.c) * oh * ow);
  for (int c = 0; c < in.c; ++c)
    for (int r = 0; r < oh; ++r)
      for (int s = 0; s < ow; ++s) {
        double sum = 0, best = -1e300;
        int positions = 0;
        for (int i = 0; i < kh; ++i)
          for (int j = 0; j < kw; ++j) {
            const int yy = r * sh - ph + i, xx = s * sw - pw + j;
            if (yy >= in.h + ph || xx >= in.w + pw) continue;  // beyond the padded input
            ++positions;
            if (yy < 0 || yy >= in.h || xx < 0 || xx >= in.w) continue;  // padding
            const double v = x[(c * in.h + yy) * in.w + xx];
            sum += v;
            best = std::max(best, v);
          }
        y[(c * oh + r) * ow + s] = static_cast<float>(is_max ? best : sum / positions);
      }
  return y;
}

Vec lrn_ref(const Vec& x, int channels, int size, double alpha, double beta, double k) {
  const std::size_t plane = x.size() / channels;
  Vec y(x.size());
  for (int c = 0; c < channels; ++c)
    for (std::size_t p = 0; p < plane; ++p) {
      double sq = 0;
      // Caffe's window: size channels starting (size - 1) / 2 before c.
      for (int d = c - (size - 1) / 2; d < c - (size - 1) / 2 + size; ++d)
        if (d >= 0 && d < channels) sq += static_cast<double>(x[d * plane + p]) * x[d * plane + p];
      y[c * plane + p] = static_cast<float>(x[c * plane + p] / std::pow(k + alpha / size * sq, beta));
    }
  return y;
}

Vec batchnorm_ref(const Vec& x, const std::vector<Vec>& p) {
  const Vec &gamma = p.at(0), &beta = p.at(1), &mean = p.at(2), &var = p.at(3);
  const std::size_t plane = x.size() / gamma.size();
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i / plane;
    y[i] = static_cast<float>(gamma[c] * (x[i] - mean[c]) /
                                  std::sqrt(static_cast<double>(var[c]) + reference::kBatchNormEps) +
                              beta[c]);
  }
  return y;
}

Vec relu_ref(Vec x) {
  for (float& v : x) v = v > 0 ? v : 0;
  return x;
}

Vec leaky_relu_ref(Vec x, double alpha) {
  for (float& v : x) v = v < 0 ? static_cast<float>(alpha * v) : v;
  return x;
}

// Nearest neighbour: out[c][r][s] = x[c][r / scale][s / scale].
Vec upsample_ref(const Vec& x, Img in, int scale) {
  const int oh = in.h * scale, ow = in.w * scale;
  Vec y(static_cast<std::size_t>(in.c) * oh * ow);
  for (int c = 0; c < in.c; ++c)
    for (int r = 0; r < oh; ++r)
      for (int s = 0; s < ow; ++s)
        y[(static_cast<std::size_t>(c) * oh + r) * ow + s] =
            x[(static_cast<std::size_t>(c) * in.h + r / scale) * in.w + s / scale];
  return y;
}

Vec add_ref(const std::vector<Vec>& in) {
  Vec y(in.at(0).size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    double s = 0;
    for (const Vec& v : in) s += v[i];
    y[i] = static_cast<float>(s);
  }
  return y;
}

// Concat of [a][b][c] tensors along one of the three axes, by coordinates.
Vec concat_ref(const std::vector<Vec>& in, const std::vector<std::vector<int>>& dims, int axis) {
  std::vector<int> out = dims[0];
  for (std::size_t k = 1; k < dims.size(); ++k) out[axis] += dims[k][axis];
  Vec y(static_cast<std::size_t>(out[0]) * out[1] * out[2]);
  int offset = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto& d = dims[k];
    for (int a = 0; a < d[0]; ++a)
      for (int b = 0; b < d[1]; ++b)
        for (int c = 0; c < d[2]; ++c) {
          int at[3] = {a, b, c};
          at[axis] += offset;
          y[(static_cast<std::size_t>(at[0]) * out[1] + at[1]) * out[2] + at[2]] =
              in[k][(static_cast<std::size_t>(a) * d[1] + b) * d[2] + c];
        }
    offset += d[axis];
  }
  return y;
}

Vec softmax_ref(const Vec& x) {
  double m = -1e300, sum = 0;
  for (float v : x) m = std::max(m, static_cast<double>(v));
  for (float v : x) sum += std::exp(v - m);
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(std::exp(x[i] - m) / sum);
  return y;
}

// ---------------------------------------------------------------------------------------------
// conv and dwconv

struct ConvCase {
  const char* what;
  Img in;
  int filters, kh, kw, sh, sw, ph, pw, groups;
  bool dw;
};

TEST(ReferenceOps, ConvMatchesLoops) {
  const ConvCase cases[] = {
      {"3x3 pad 1", {3, 7, 7}, 4, 3, 3, 1, 1, 1, 1, 1, false},
      {"non-square kernel, stride and pad, 2 groups", {4, 9, 8}, 6, 3, 2, 2, 1, 1, 0, 2, false},
      {"pointwise (1x1, stride 1)", {6, 5, 7}, 5, 1, 1, 1, 1, 0, 0, 1, false},
      {"1x1 stride 2", {8, 6, 6}, 3, 1, 1, 2, 2, 0, 0, 1, false},
      {"groups = channels, 2 filters each", {4, 8, 8}, 8, 3, 3, 2, 2, 1, 1, 4, false},
      {"one input channel", {1, 10, 10}, 5, 5, 5, 1, 1, 2, 2, 1, false},
      {"1x3 kernel, stride [1, 2], pad [0, 2]", {4, 5, 9}, 4, 1, 3, 1, 2, 0, 2, 1, false},
      {"kernel = input, no pad", {3, 4, 5}, 7, 4, 5, 1, 1, 0, 0, 1, false},
      {"wide layer (GEMM blocking)", {32, 12, 12}, 48, 3, 3, 1, 1, 1, 1, 1, false},
      {"dwconv 3x3 stride 2", {3, 9, 9}, 3, 3, 3, 2, 2, 1, 1, 3, true},
      {"dwconv multiplier 2, non-square", {3, 7, 8}, 6, 3, 5, 1, 2, 1, 2, 3, true},
      {"dwconv 5x5 pad 2", {5, 6, 6}, 5, 5, 5, 1, 1, 2, 2, 5, true},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.what);
    std::string yaml = "  - {name: l, op: " + std::string(c.dw ? "dwconv" : "conv") +
                       ", filters: " + std::to_string(c.filters) + ", kernel: [" +
                       std::to_string(c.kh) + ", " + std::to_string(c.kw) + "], stride: [" +
                       std::to_string(c.sh) + ", " + std::to_string(c.sw) + "], pad: [" +
                       std::to_string(c.ph) + ", " + std::to_string(c.pw) + "]" +
                       (c.dw ? "" : ", groups: " + std::to_string(c.groups)) + "}\n";
    const Model m = model(yaml, "[" + std::to_string(c.in.c) + ", " + std::to_string(c.in.h) +
                                    ", " + std::to_string(c.in.w) + "]");
    const auto in = random_inputs(m, "l");
    const Ran r = run_layer(m, "l", in);
    const auto& p = r.params.at("l");
    ASSERT_EQ(p.size(), 2u);
    ASSERT_EQ(p[0].size(), static_cast<std::size_t>(c.filters * c.in.c / c.groups * c.kh * c.kw));
    ASSERT_EQ(p[1].size(), static_cast<std::size_t>(c.filters));
    EXPECT_TRUE(near(r.out, conv_ref(in[0], c.in, p[0], p[1], c.filters, c.kh, c.kw, c.sh, c.sw,
                                     c.ph, c.pw, c.groups)));
  }
}

TEST(ReferenceOps, DwconvDefaultsToOneFilterPerChannel) {
  const Model m = model("  - {name: l, op: dwconv, kernel: 3, pad: 1}\n", "[4, 5, 5]");
  const auto in = random_inputs(m, "l");
  const Ran r = run_layer(m, "l", in);
  const auto& p = r.params.at("l");
  ASSERT_EQ(p[0].size(), 4u * 9u);
  EXPECT_TRUE(near(r.out, conv_ref(in[0], {4, 5, 5}, p[0], p[1], 4, 3, 3, 1, 1, 1, 1, 4)));
}

TEST(ReferenceOps, WeightsAreHeUniformAndBiasesSmall) {
  const Model m = model("  - {name: l, op: conv, filters: 16, kernel: 3}\n", "[8, 5, 5]");
  const Ran r = run_layer(m, "l", random_inputs(m, "l"));
  const float bound = std::sqrt(6.0f / (8 * 9));
  const auto& p = r.params.at("l");
  float wmax = 0, bmax = 0;
  for (float v : p[0]) wmax = std::max(wmax, std::abs(v));
  for (float v : p[1]) bmax = std::max(bmax, std::abs(v));
  EXPECT_LE(wmax, bound);
  EXPECT_GT(wmax, 0.8f * bound);
  EXPECT_LE(bmax, 0.1f);
}

// ---------------------------------------------------------------------------------------------
// fc

TEST(ReferenceOps, FcFlattensItsInput) {
  const Model m = model(
      "  - {name: f1, op: fc, units: 7}\n"
      "  - {name: f2, op: fc, units: 3}\n",
      "[3, 4, 5]");
  for (const char* name : {"f1", "f2"}) {
    SCOPED_TRACE(name);
    const auto in = random_inputs(m, name);
    const Ran r = run_layer(m, name, in);
    const auto& p = r.params.at(name);
    ASSERT_EQ(p[0].size(), p[1].size() * in[0].size());
    EXPECT_TRUE(near(r.out, fc_ref(in[0], p[0], p[1])));
  }
}

// ---------------------------------------------------------------------------------------------
// pooling

struct PoolCase {
  const char* what;
  Img in;
  int kh, kw, sh, sw, ph, pw;
  bool ceil;
  int oh, ow;  // as shape inference gives them (checked)
};

TEST(ReferenceOps, PoolingMatchesLoops) {
  const PoolCase cases[] = {
      {"2x2 stride 2", {3, 8, 8}, 2, 2, 2, 2, 0, 0, false, 4, 4},
      {"3x3 stride 2 pad 1", {2, 7, 7}, 3, 3, 2, 2, 1, 1, false, 4, 4},
      {"non-square window, stride and pad", {2, 7, 6}, 3, 2, 2, 1, 1, 0, false, 4, 5},
      {"3x3 stride 1 pad 1", {2, 5, 5}, 3, 3, 1, 1, 1, 1, false, 5, 5},
      {"ceil, no pad (window overhangs)", {2, 6, 7}, 3, 3, 2, 2, 0, 0, true, 3, 3},
      {"ceil with pad", {2, 6, 6}, 3, 3, 2, 2, 1, 1, true, 4, 4},
      {"ceil with pad, last window dropped", {1, 5, 5}, 2, 2, 2, 2, 1, 1, true, 3, 3},
      {"floor for comparison", {2, 6, 7}, 3, 3, 2, 2, 0, 0, false, 2, 3},
  };
  for (const PoolCase& c : cases) {
    for (const bool is_max : {true, false}) {
      SCOPED_TRACE(std::string(c.what) + (is_max ? " (max)" : " (avg)"));
      const std::string yaml = std::string("  - {name: l, op: ") + (is_max ? "maxpool" : "avgpool") +
                               ", kernel: [" + std::to_string(c.kh) + ", " + std::to_string(c.kw) +
                               "], stride: [" + std::to_string(c.sh) + ", " +
                               std::to_string(c.sw) + "], pad: [" + std::to_string(c.ph) + ", " +
                               std::to_string(c.pw) + "], ceil: " + (c.ceil ? "true" : "false") +
                               "}\n";
      const Model m = model(yaml, "[" + std::to_string(c.in.c) + ", " + std::to_string(c.in.h) +
                                      ", " + std::to_string(c.in.w) + "]");
      ASSERT_EQ(layer(m, "l").out, (Shape{{c.in.c, c.oh, c.ow}}));
      const auto in = random_inputs(m, "l");
      const Ran r = run_layer(m, "l", in);
      EXPECT_TRUE(r.params.empty());
      EXPECT_TRUE(near(r.out, pool_ref(is_max, in[0], c.in, c.oh, c.ow, c.kh, c.kw, c.sh, c.sw,
                                       c.ph, c.pw)));
    }
  }
}

TEST(ReferenceOps, GlobalPoolingCoversThePlane) {
  const Model m = model(
      "  - {name: gmax, op: maxpool, global: true}\n"
      "  - {name: gavg, op: avgpool, global: true, inputs: [input]}\n",
      "[4, 5, 3]");
  for (const bool is_max : {true, false}) {
    const std::string name = is_max ? "gmax" : "gavg";
    const auto in = random_inputs(m, name);
    const Ran r = run_layer(m, name, in);
    ASSERT_EQ(r.out.size(), 4u);
    EXPECT_TRUE(near(r.out, pool_ref(is_max, in[0], {4, 5, 3}, 1, 1, 5, 3, 1, 1, 0, 0)));
  }
}

// The avgpool padding convention by hand, on all-ones inputs: divisor = the window clipped to
// the padded input, so padded positions count and a ceil-mode overhang beyond them does not.
TEST(ReferenceOps, AvgPoolPaddingConvention) {
  {
    // 3x3 input, 2x2 windows, stride 2, pad 1 -> 2x2; each window holds one padded row and one
    // padded column: 1 value / 4 positions.
    const Model m = model("  - {name: l, op: avgpool, kernel: 2, stride: 2, pad: 1}\n", "[1, 3, 3]");
    const Ran r = run_layer(m, "l", {Vec(9, 1.0f)});
    EXPECT_TRUE(near(r.out, {0.25f, 0.5f, 0.5f, 1.0f}));
  }
  {
    // 4x4 input, 3x3 windows, stride 2, pad 1, ceil -> 3x3. Rows/cols of window 0: [-1, 2)
    // (2 real of 3); window 1: [1, 4) (3 of 3); window 2: [3, 5) clipped to the padded input
    // [-1, 5) (1 real of 2).
    const Model m =
        model("  - {name: l, op: avgpool, kernel: 3, stride: 2, pad: 1, ceil: true}\n", "[1, 4, 4]");
    const Ran r = run_layer(m, "l", {Vec(16, 1.0f)});
    const float a = 2.0f / 3, b = 1.0f, c = 0.5f;
    EXPECT_TRUE(near(r.out, {a * a, a * b, a * c, b * a, b * b, b * c, c * a, c * b, c * c}));
  }
  {
    // No padding, ceil: the overhanging last window averages only what it covers.
    const Model m = model("  - {name: l, op: avgpool, kernel: 3, stride: 2, ceil: true}\n", "[1, 4, 4]");
    Vec x(16);
    for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i);
    const Ran r = run_layer(m, "l", {x});
    // Windows rows/cols [0,3) and [2,4).
    EXPECT_TRUE(near(r.out, {5.0f, 6.5f, 11.0f, 12.5f}));
  }
  {
    // Max pooling ignores padding, even when every real value is negative.
    const Model m = model("  - {name: l, op: maxpool, kernel: 2, stride: 2, pad: 1}\n", "[1, 2, 2]");
    const Ran r = run_layer(m, "l", {{-1.0f, -2.0f, -3.0f, -4.0f}});
    EXPECT_TRUE(near(r.out, {-1.0f, -2.0f, -3.0f, -4.0f}));
  }
}

// ---------------------------------------------------------------------------------------------
// element-wise ops

TEST(ReferenceOps, ReluFlattenAdd) {
  const Model m = model(
      "  - {name: a, op: relu}\n"
      "  - {name: f, op: flatten}\n"
      "  - {name: b, op: relu, inputs: [input]}\n"
      "  - {name: s, op: add, inputs: [a, b, input]}\n",
      "[3, 4, 5]");
  {
    const auto in = random_inputs(m, "a");
    EXPECT_TRUE(near(run_layer(m, "a", in).out, relu_ref(in[0])));
  }
  {
    const auto in = random_inputs(m, "f");
    EXPECT_TRUE(bit_identical(run_layer(m, "f", in).out, in[0]));
    EXPECT_EQ(layer(m, "f").out, (Shape{{60}}));
  }
  {
    const auto in = random_inputs(m, "s");
    ASSERT_EQ(in.size(), 3u);
    EXPECT_TRUE(near(run_layer(m, "s", in).out, add_ref(in)));
  }
}

TEST(ReferenceOps, BatchNormInference) {
  const Model m = model(
      "  - {name: bn, op: batchnorm}\n"
      "  - {name: f, op: fc, units: 6}\n"
      "  - {name: bn1d, op: batchnorm}\n",
      "[5, 4, 3]");
  for (const char* name : {"bn", "bn1d"}) {
    SCOPED_TRACE(name);
    const auto in = random_inputs(m, name);
    const Ran r = run_layer(m, name, in);
    const auto& p = r.params.at(name);
    ASSERT_EQ(p.size(), 4u);
    const std::size_t channels = static_cast<std::size_t>(layer(m, name).out.dims[0]);
    for (const Vec& v : p) ASSERT_EQ(v.size(), channels);
    for (float v : p[3]) EXPECT_GT(v, 0.0f);  // variances
    EXPECT_TRUE(near(r.out, batchnorm_ref(in[0], p)));
  }
}

TEST(ReferenceOps, ConcatAlongAnAxis) {
  const Model m = model(
      "  - {name: a, op: conv, filters: 3, kernel: 1}\n"
      "  - {name: b, op: conv, filters: 5, kernel: 1, inputs: [input]}\n"
      "  - {name: ch, op: concat, inputs: [a, input, b]}\n"
      "  - {name: p, op: maxpool, kernel: [1, 2], stride: [1, 2], inputs: [input]}\n"
      "  - {name: cols, op: concat, axis: 2, inputs: [p, input]}\n"
      "  - {name: fa, op: flatten, inputs: [a]}\n"
      "  - {name: fb, op: flatten, inputs: [b]}\n"
      "  - {name: vec, op: concat, inputs: [fa, fb]}\n",
      "[2, 3, 4]");
  {
    const auto in = random_inputs(m, "ch");
    EXPECT_TRUE(near(run_layer(m, "ch", in).out, concat_ref(in, {{3, 3, 4}, {2, 3, 4}, {5, 3, 4}}, 0)));
    EXPECT_EQ(layer(m, "ch").out, (Shape{{10, 3, 4}}));
  }
  {
    const auto in = random_inputs(m, "cols");
    EXPECT_TRUE(near(run_layer(m, "cols", in).out, concat_ref(in, {{2, 3, 2}, {2, 3, 4}}, 2)));
  }
  {
    const auto in = random_inputs(m, "vec");
    Vec want = in[0];
    want.insert(want.end(), in[1].begin(), in[1].end());
    EXPECT_TRUE(bit_identical(run_layer(m, "vec", in).out, want));
  }
}

TEST(ReferenceOps, ConcatAlongRows) {
  const Model m = model(
      "  - {name: p, op: maxpool, kernel: [2, 1], stride: [2, 1]}\n"
      "  - {name: rows, op: concat, axis: 1, inputs: [input, p, input]}\n",
      "[2, 4, 3]");
  const auto in = random_inputs(m, "rows");
  EXPECT_EQ(layer(m, "rows").out, (Shape{{2, 10, 3}}));
  EXPECT_TRUE(near(run_layer(m, "rows", in).out,
                   concat_ref(in, {{2, 4, 3}, {2, 2, 3}, {2, 4, 3}}, 1)));
}

TEST(ReferenceOps, SoftmaxIsStableOverAllElements) {
  const Model m = model("  - {name: s, op: softmax}\n", "[3, 2, 4]");
  for (const float scale : {1.0f, 1000.0f}) {  // exp(1000) overflows without the shift
    SCOPED_TRACE(scale);
    const auto in = random_inputs(m, "s", 3, scale);
    const Ran r = run_layer(m, "s", in);
    EXPECT_TRUE(near(r.out, softmax_ref(in[0]), 1e-5));
    double sum = 0;
    for (float v : r.out) {
      EXPECT_TRUE(std::isfinite(v));
      sum += v;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(ReferenceOps, LrnAcrossChannels) {
  struct Case {
    std::string yaml;
    int size;
    double alpha, beta, k;
  };
  const Case cases[] = {
      {"{name: l, op: lrn}", 5, 1e-4, 0.75, 1.0},  // AlexNet defaults
      {"{name: l, op: lrn, size: 3, alpha: 0.5, beta: 0.75, k: 2}", 3, 0.5, 0.75, 2.0},
      {"{name: l, op: lrn, size: 4, alpha: 1.0, beta: 0.5, k: 1}", 4, 1.0, 0.5, 1.0},  // even
      {"{name: l, op: lrn, size: 9, alpha: 2.0, beta: 1.0, k: 1}", 9, 2.0, 1.0, 1.0},  // > C
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    const Model m = model("  - " + c.yaml + "\n", "[7, 3, 4]");
    const auto in = random_inputs(m, "l", 5, 2.0f);
    EXPECT_TRUE(near(run_layer(m, "l", in).out, lrn_ref(in[0], 7, c.size, c.alpha, c.beta, c.k)));
  }
}

TEST(ReferenceOps, LeakyReluScalesNegativesOnly) {
  const Model m = model(
      "  - {name: d, op: leaky_relu}\n"                           // Darknet's 0.1
      "  - {name: a, op: leaky_relu, alpha: 0.25, inputs: [input]}\n",
      "[3, 4, 5]");
  EXPECT_DOUBLE_EQ(layer(m, "d").leaky_alpha, 0.1);
  for (const auto& [name, alpha] : {std::pair<const char*, double>{"d", 0.1}, {"a", 0.25}}) {
    SCOPED_TRACE(name);
    const auto in = random_inputs(m, name);
    EXPECT_TRUE(near(run_layer(m, name, in).out, leaky_relu_ref(in[0], alpha)));
  }
}

TEST(ReferenceOps, UpsampleNearestNeighbour) {
  for (const int scale : {1, 2, 3}) {
    SCOPED_TRACE(scale);
    const Model m = model("  - {name: u, op: upsample, scale: " + std::to_string(scale) + "}\n",
                          "[3, 4, 5]");
    EXPECT_EQ(layer(m, "u").out, (Shape{{3, 4 * scale, 5 * scale}}));
    const auto in = random_inputs(m, "u");
    EXPECT_TRUE(bit_identical(run_layer(m, "u", in).out, upsample_ref(in[0], {3, 4, 5}, scale)));
  }
}

// ---------------------------------------------------------------------------------------------
// blocks

TEST(ReferenceOps, ResidualBlock) {
  const Model m = model(
      "  - {name: pre, op: relu}\n"
      "  - name: res\n"
      "    op: block\n"
      "    body:\n"
      "      - {name: c1, op: conv, filters: 4, kernel: 3, pad: 1}\n"
      "      - {name: r1, op: relu}\n"
      "      - {name: c2, op: conv, filters: 4, kernel: 3, pad: 1}\n"
      "      - {name: sum, op: add, inputs: [c2, pre]}\n"
      "      - {name: out, op: relu}\n",
      "[4, 6, 5]");
  const auto in = random_inputs(m, "res");
  const Ran r = run_layer(m, "res", in);
  ASSERT_EQ(r.params.size(), 2u);
  const auto& p1 = r.params.at("res/c1");
  const auto& p2 = r.params.at("res/c2");
  const Img img{4, 6, 5};
  const Vec c1 = conv_ref(in[0], img, p1[0], p1[1], 4, 3, 3, 1, 1, 1, 1, 1);
  const Vec c2 = conv_ref(relu_ref(c1), img, p2[0], p2[1], 4, 3, 3, 1, 1, 1, 1, 1);
  EXPECT_TRUE(near(r.out, relu_ref(add_ref({c2, in[0]}))));

  // Runs again on other inputs: the intermediate buffers are reused correctly.
  const auto in2 = random_inputs(m, "res", 99);
  const Vec d1 = conv_ref(in2[0], img, p1[0], p1[1], 4, 3, 3, 1, 1, 1, 1, 1);
  const Vec d2 = conv_ref(relu_ref(d1), img, p2[0], p2[1], 4, 3, 3, 1, 1, 1, 1, 1);
  EXPECT_TRUE(near(run_layer(m, "res", in2).out, relu_ref(add_ref({d2, in2[0]}))));
}

TEST(ReferenceOps, InceptionBlockWithConcat) {
  const Model m = model(
      "  - name: inc\n"
      "    op: block\n"
      "    body:\n"
      "      - {name: b1, op: conv, filters: 2, kernel: 1}\n"
      "      - {name: b2a, op: conv, filters: 3, kernel: 1, inputs: [input]}\n"
      "      - {name: b2, op: conv, filters: 4, kernel: 3, pad: 1}\n"
      "      - {name: b3a, op: maxpool, kernel: 3, stride: 1, pad: 1, inputs: [input]}\n"
      "      - {name: b3, op: conv, filters: 2, kernel: 1}\n"
      "      - {name: b4, op: dwconv, kernel: [1, 3], pad: [0, 1], inputs: [input]}\n"
      "      - {name: cat, op: concat, inputs: [b1, b2, b3, b4]}\n",
      "[3, 5, 6]");
  EXPECT_EQ(layer(m, "inc").out, (Shape{{11, 5, 6}}));
  const auto in = random_inputs(m, "inc");
  const Ran r = run_layer(m, "inc", in);
  ASSERT_EQ(r.params.size(), 5u);
  auto p = [&](const char* n) -> const std::vector<Vec>& { return r.params.at(std::string("inc/") + n); };
  const Img img{3, 5, 6};
  const Vec b1 = conv_ref(in[0], img, p("b1")[0], p("b1")[1], 2, 1, 1, 1, 1, 0, 0, 1);
  const Vec b2a = conv_ref(in[0], img, p("b2a")[0], p("b2a")[1], 3, 1, 1, 1, 1, 0, 0, 1);
  const Vec b2 = conv_ref(b2a, {3, 5, 6}, p("b2")[0], p("b2")[1], 4, 3, 3, 1, 1, 1, 1, 1);
  const Vec b3a = pool_ref(true, in[0], img, 5, 6, 3, 3, 1, 1, 1, 1);
  const Vec b3 = conv_ref(b3a, img, p("b3")[0], p("b3")[1], 2, 1, 1, 1, 1, 0, 0, 1);
  const Vec b4 = conv_ref(in[0], img, p("b4")[0], p("b4")[1], 3, 1, 3, 1, 1, 0, 1, 3);
  EXPECT_TRUE(near(r.out, concat_ref({b1, b2, b3, b4},
                                     {{2, 5, 6}, {4, 5, 6}, {2, 5, 6}, {3, 5, 6}}, 0)));
}

TEST(ReferenceOps, BlockWithTwoInputsAndANestedBlock) {
  const Model m = model(
      "  - {name: a, op: conv, filters: 2, kernel: 1}\n"
      "  - {name: b, op: relu, inputs: [input]}\n"
      "  - name: blk\n"
      "    op: block\n"
      "    inputs: [b, a]\n"
      "    body:\n"
      "      - {name: s, op: add, inputs: [a, b]}\n"
      "      - name: inner\n"
      "        op: block\n"
      "        inputs: [s, a]\n"
      "        body:\n"
      "          - {name: bn, op: batchnorm, inputs: [a]}\n"
      "          - {name: t, op: concat, inputs: [s, bn]}\n"
      "      - {name: f, op: fc, units: 3}\n",
      "[2, 3, 3]");
  const auto in = random_inputs(m, "blk");  // [b, a]
  const Ran r = run_layer(m, "blk", in);
  ASSERT_EQ(r.params.size(), 2u);
  const Vec s = add_ref({in[1], in[0]});
  const Vec bn = batchnorm_ref(in[1], r.params.at("blk/inner/bn"));
  const Vec t = concat_ref({s, bn}, {{2, 3, 3}, {2, 3, 3}}, 0);
  const auto& pf = r.params.at("blk/f");
  EXPECT_TRUE(near(r.out, fc_ref(t, pf[0], pf[1])));
}

// ---------------------------------------------------------------------------------------------
// opaque, errors, seeds, the Backend interface

TEST(ReferenceOps, OpaqueIsRefused) {
  const Model m = model(
      "  - {name: npu_only, op: opaque, out: [10]}\n"
      "  - name: blk\n"
      "    op: block\n"
      "    inputs: [input]\n"
      "    body:\n"
      "      - {name: r, op: relu}\n"
      "      - {name: secret, op: opaque, out: [3, 8, 8]}\n");
  try {
    reference::make_kernel(m, m.find_layer("npu_only"), 1);
    FAIL() << "expected BackendError";
  } catch (const BackendError& e) {
    EXPECT_EQ(std::string(e.what()),
              "layer 'npu_only' is opaque (known only by its profile): the reference backend "
              "cannot run it");
    EXPECT_EQ(e.exit_code(), kBadInput);
  }
  EXPECT_THROW(reference::make_kernel(m, m.find_layer("blk"), 1), BackendError);
  auto backend = make_backend("reference");
  EXPECT_THROW(backend->device(0).build(m, m.find_layer("npu_only"), 1), BackendError);
}

TEST(ReferenceOps, RunChecksShapes) {
  const Model m = model("  - {name: l, op: conv, filters: 2, kernel: 3}\n");
  auto k = reference::make_kernel(m, 0, 1);
  HostBuffer good_in(m.input), bad_in(Shape{{3, 8, 7}}), out(m.layers[0].out), bad_out(m.input);
  EXPECT_THROW(k->run({&bad_in}, out), BackendError);
  EXPECT_THROW(k->run({&good_in}, bad_out), BackendError);
  EXPECT_THROW(k->run({&good_in, &good_in}, out), BackendError);
  EXPECT_NO_THROW(k->run({&good_in}, out));
}

TEST(ReferenceOps, WeightsDependOnSeedAndNameOnly) {
  const std::string layers =
      "  - {name: c, op: conv, filters: 4, kernel: 3, groups: 1}\n"
      "  - {name: d, op: dwconv, kernel: 3}\n"
      "  - {name: bn, op: batchnorm}\n"
      "  - {name: f, op: fc, units: 5}\n"
      "  - name: blk\n"
      "    op: block\n"
      "    inputs: [input]\n"
      "    body:\n"
      "      - {name: c, op: conv, filters: 3, kernel: 1}\n"
      "      - {name: r, op: relu}\n";
  const Model m = model(layers);
  for (const char* name : {"c", "d", "bn", "f", "blk"}) {
    SCOPED_TRACE(name);
    const auto in = random_inputs(m, name);
    const Ran a = run_layer(m, name, in, 7), b = run_layer(m, name, in, 7);
    const Ran other = run_layer(m, name, in, 8);
    EXPECT_TRUE(bit_identical(a.out, b.out));
    EXPECT_EQ(a.params, b.params);
    EXPECT_FALSE(bit_identical(a.out, other.out));
    EXPECT_NE(a.params, other.params);
  }
  // The block's body op "c" is seeded from "blk/c", not "c".
  const auto in = random_inputs(m, "c");
  EXPECT_NE(run_layer(m, "c", in).params.at("c")[1],
            run_layer(m, "blk", in).params.at("blk/c")[1]);

  // The same layer in another model (other position, other neighbours) has the same weights.
  const Model m2 = model("  - {name: x, op: relu}\n" + layers);
  EXPECT_EQ(run_layer(m, "f", random_inputs(m, "f")).params,
            run_layer(m2, "f", random_inputs(m2, "f")).params);
}

TEST(ReferenceOps, SameNumbersOnEveryDeviceThroughTheBackend) {
  const Model m = model(
      "  - {name: c, op: conv, filters: 8, kernel: 3, pad: 1}\n"
      "  - {name: p, op: maxpool, kernel: 2, stride: 2}\n"
      "  - {name: f, op: fc, units: 10}\n"
      "  - {name: s, op: softmax}\n");
  auto backend = make_backend("reference");
  const int devices = static_cast<int>(backend->platform().processors.size());
  ASSERT_GE(devices, 1);
  std::vector<Vec> outputs;
  for (int d = 0; d < devices; ++d) {
    Device& dev = backend->device(d);
    dev.bind_thread();
    Vec x = random_vec(static_cast<std::size_t>(m.input.elements()), 11);
    auto in = dev.allocate(m.input);
    backend->upload(x.data(), *in, d);
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
      auto kernel = dev.build(m, static_cast<int>(l), 2024);
      auto out = dev.allocate(m.layers[l].out);
      kernel->run({in.get()}, *out);
      in = std::move(out);
    }
    Vec y(static_cast<std::size_t>(in->shape().elements()));
    backend->download(*in, d, y.data());
    outputs.push_back(y);
  }
  for (int d = 1; d < devices; ++d) EXPECT_TRUE(bit_identical(outputs[d], outputs[0]));
  double sum = 0;
  for (float v : outputs[0]) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(ReferenceOps, KernelParametersRejectsForeignKernels) {
  struct Foreign : Kernel {
    void run(const std::vector<const Buffer*>&, Buffer&) override {}
  } foreign;
  EXPECT_THROW(reference::kernel_parameters(foreign), BackendError);
}

}  // namespace
}  // namespace hetmap::backend
