#include "backend_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace hetmap::test {

const OpCase& conv_ops() {
  static const OpCase c{
      "  - {name: c3, op: conv, filters: 16, kernel: 3, pad: 1}\n"
      "  - {name: c3s2, op: conv, inputs: [input], filters: 12, kernel: 3, stride: 2, pad: 1}\n"
      "  - {name: c1, op: conv, inputs: [input], filters: 24, kernel: 1}\n"
      "  - {name: c5, op: conv, inputs: [input], filters: 6, kernel: [5, 3], stride: [2, 1], pad: [2, 0]}\n"
      "  - {name: grouped, op: conv, inputs: [input], filters: 16, kernel: 3, pad: 1, groups: 4}\n"
      "  - {name: dw, op: dwconv, inputs: [input], kernel: 3, pad: 1}\n"
      "  - {name: dw2, op: dwconv, inputs: [input], kernel: 3, stride: 2, filters: 16}\n",
      "[8, 12, 12]",
      {"c3", "c3s2", "c1", "c5", "grouped", "dw", "dw2"}};
  return c;
}

const OpCase& fc_ops() {
  static const OpCase c{"  - {name: fc, op: fc, units: 37}\n  - {name: fc2, op: fc, units: 5}\n",
                        "[8, 12, 12]", {"fc", "fc2"}};
  return c;
}

const OpCase& pool_ops() {
  static const OpCase c{
      "  - {name: max, op: maxpool, kernel: 3, stride: 2, pad: 1}\n"
      "  - {name: maxceil, op: maxpool, inputs: [input], kernel: 3, stride: 2, ceil: true}\n"
      "  - {name: avg, op: avgpool, inputs: [input], kernel: 3, stride: 1, pad: 1}\n"
      "  - {name: avgceil, op: avgpool, inputs: [input], kernel: 3, stride: 2, pad: 1, ceil: true}\n"
      "  - {name: maxpad, op: maxpool, inputs: [input], kernel: 2, stride: 2, pad: 2}\n"
      "  - {name: gmax, op: maxpool, inputs: [input], global: true}\n"
      "  - {name: gavg, op: avgpool, inputs: [input], global: true}\n",
      "[8, 11, 11]",
      {"max", "maxceil", "avg", "avgceil", "maxpad", "gmax", "gavg"}};
  return c;
}

const OpCase& elementwise_ops() {
  static const OpCase c{
      "  - {name: relu, op: relu}\n"
      "  - {name: leaky, op: leaky_relu, inputs: [input], alpha: 0.2}\n"
      "  - {name: bn, op: batchnorm, inputs: [input]}\n"
      "  - {name: lrn, op: lrn, inputs: [input], size: 5, alpha: 0.001, beta: 0.75, k: 2}\n"
      "  - {name: lrn4, op: lrn, inputs: [input], size: 4}\n"
      "  - {name: lrn19, op: lrn, inputs: [input], size: 19, alpha: 0.01}\n"
      "  - {name: add, op: add, inputs: [input, relu]}\n"
      "  - {name: add3, op: add, inputs: [input, relu, leaky]}\n"
      "  - {name: cat, op: concat, inputs: [input, relu, bn]}\n"
      "  - {name: cat1, op: concat, inputs: [input, relu], axis: 1}\n"
      "  - {name: cat2, op: concat, inputs: [input, leaky], axis: 2}\n"
      "  - {name: up, op: upsample, inputs: [input], scale: 3}\n"
      "  - {name: up2, op: upsample, inputs: [input], scale: 2}\n"
      "  - {name: flat, op: flatten, inputs: [input]}\n"
      "  - {name: bn1, op: batchnorm, inputs: [flat]}\n"
      "  - {name: soft, op: softmax, inputs: [flat]}\n"
      "  - {name: soft3, op: softmax, inputs: [input]}\n",
      "[8, 12, 12]",
      {"relu", "leaky", "bn", "lrn", "lrn4", "lrn19", "add", "add3", "cat", "cat1", "cat2", "up",
       "up2", "flat", "bn1", "soft", "soft3"}};
  return c;
}

const OpCase& block_ops() {
  static const OpCase c{
      "  - name: res\n"
      "    op: block\n"
      "    body:\n"
      "      - {name: a, op: conv, filters: 8, kernel: 3, pad: 1}\n"
      "      - {name: an, op: batchnorm}\n"
      "      - {name: ar, op: relu}\n"
      "      - {name: b, op: conv, filters: 8, kernel: 3, pad: 1}\n"
      "      - {name: sum, op: add, inputs: [b, input]}\n"
      "      - {name: out, op: relu}\n",
      "[8, 12, 12]",
      {"res"}};
  return c;
}

Model op_model(const OpCase& c) {
  return parse_model(std::string("name: t\ninput: ") + c.input + "\nlayers:\n" + c.layers,
                     "test.yaml");
}

Vec random_vec(std::size_t n, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Vec v(n);
  for (float& x : v) x = u(g);
  return v;
}

Vec run_on(backend::Backend& b, int proc, const Model& m, const std::string& name,
           const std::vector<Vec>& inputs, std::uint64_t seed) {
  const int li = m.find_layer(name);
  const Layer& l = m.layers[static_cast<std::size_t>(li)];
  backend::Device& dev = b.device(proc);
  dev.bind_thread();
  auto kernel = dev.build(m, li, seed);
  std::vector<std::unique_ptr<backend::Buffer>> in;
  std::vector<const backend::Buffer*> ptrs;
  for (std::size_t i = 0; i < l.inputs.size(); ++i) {
    const int src = l.inputs[i];
    in.push_back(dev.allocate(src < 0 ? m.input : m.layers[static_cast<std::size_t>(src)].out));
    b.upload(inputs.at(i).data(), *in.back(), proc);
    ptrs.push_back(in.back().get());
  }
  auto out = dev.allocate(l.out);
  Vec poison(static_cast<std::size_t>(l.out.elements()), std::nanf(""));
  b.upload(poison.data(), *out, proc);
  kernel->run(ptrs, *out);
  Vec result(poison.size());
  b.download(*out, proc, result.data());
  return result;
}

double rel_l2(const Vec& got, const Vec& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

void expect_same(backend::Backend& b, int proc, backend::Backend& ref, int ref_proc,
                 const Model& m, const std::string& name, double tolerance) {
  const Layer& l = m.layers[static_cast<std::size_t>(m.find_layer(name))];
  std::vector<Vec> in;
  std::uint32_t seed = 11;
  for (int src : l.inputs) {
    const Shape& s = src < 0 ? m.input : m.layers[static_cast<std::size_t>(src)].out;
    in.push_back(random_vec(static_cast<std::size_t>(s.elements()), seed++));
  }
  const Vec want = run_on(ref, ref_proc, m, name, in);
  const Vec got = run_on(b, proc, m, name, in);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_TRUE(std::isfinite(got[i])) << name << ": element " << i << " is " << got[i];
  EXPECT_LE(rel_l2(got, want), tolerance) << name << " (" << to_string(l.kind) << ")";
}

void expect_exact_copies(backend::Backend& b) {
  const int n = static_cast<int>(b.platform().processors.size());
  const Shape s{{5, 7, 9}};
  const Vec x = random_vec(static_cast<std::size_t>(s.elements()), 5);
  for (int from = 0; from < n; ++from)
    for (int to = 0; to < n; ++to) {
      if (from == to) continue;
      auto src = b.device(from).allocate(s);
      auto dst = b.device(to).allocate(s);
      b.upload(x.data(), *src, from);
      b.copy(*src, from, *dst, to);
      Vec y(x.size());
      b.download(*dst, to, y.data());
      EXPECT_EQ(y, x) << from << " -> " << to;
    }
}

int processor_of_kind(const backend::Backend& b, ProcKind kind) {
  const auto& ps = b.platform().processors;
  for (std::size_t p = 0; p < ps.size(); ++p)
    if (ps[p].kind == kind) return static_cast<int>(p);
  return -1;
}

}  // namespace hetmap::test
