#pragma once
// What every backend suite checks the same way (tests/test_cuda_backend.cpp,
// tests/test_acl_backend.cpp): small layers of every op of docs/formats.md, run on one
// processor of a backend and compared with the reference kernels.
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"
#include "hetmap/model.hpp"

namespace hetmap::test {

using Vec = std::vector<float>;

/// The layers of one check: a model's `layers:` YAML, its input shape, the layers to compare.
struct OpCase {
  const char* layers;
  const char* input;
  std::vector<std::string> names;
};
/// conv (3x3, strided, 1x1, rectangular, grouped), dwconv (multiplier 1 and 2).
const OpCase& conv_ops();
/// fc on a [C, H, W] input and on a vector.
const OpCase& fc_ops();
/// max/avg pooling: padded, ceil mode, padding-only windows, global.
const OpCase& pool_ops();
/// relu, leaky_relu, batchnorm (image and vector), lrn (odd, even, wide), add (2 and 3
/// inputs), concat (every axis), upsample, flatten, softmax.
const OpCase& elementwise_ops();
/// A residual block: conv, batchnorm, relu, conv, add of the block input, relu.
const OpCase& block_ops();

Model op_model(const OpCase& c);
Vec random_vec(std::size_t n, std::uint32_t seed);

/// Runs layer `name` of `m` on processor `proc` of `b` (weights from `seed`) with `inputs`;
/// the output buffer is filled with NaN first, so an element left unwritten shows.
Vec run_on(backend::Backend& b, int proc, const Model& m, const std::string& name,
           const std::vector<Vec>& inputs, std::uint64_t seed = 7);

/// ||got - want|| / ||want||.
double rel_l2(const Vec& got, const Vec& want);

/// Layer `name` on processor `proc` of `b` against processor `ref_proc` of `ref` on the same
/// random inputs: every element finite, relative L2 error at most `tolerance` (gtest failures).
void expect_same(backend::Backend& b, int proc, backend::Backend& ref, int ref_proc,
                 const Model& m, const std::string& name, double tolerance);

/// A tensor uploaded to each processor, copied to every other and downloaded comes back
/// bit for bit (gtest failures name the pair).
void expect_exact_copies(backend::Backend& b);

/// The first processor of kind `kind`, or -1.
int processor_of_kind(const backend::Backend& b, ProcKind kind);

}  // namespace hetmap::test
