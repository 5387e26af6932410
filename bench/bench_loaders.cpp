// Speed of the loaders at 10k, 100k and 1M layers (docs/formats.md, "Model size"): a chain of
// relu layers read from YAML text (yaml-cpp's parse included), the same model built from its
// spec (hetmap's own resolution, checks and shape inference alone), its profile CSV of two rows
// per layer, and the Problem compiled from them. Every step is linear: ten times the layers
// should take about ten times as long.
#include <benchmark/benchmark.h>

#include <string>

#include "hetmap/detail/model_spec.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/profile.hpp"

namespace {

using namespace hetmap;

std::string name_of(int i) { return "l" + std::to_string(i); }

detail::ModelSpec chain_spec(int layers) {
  detail::ModelSpec s;
  s.name = "chain";
  s.input.dims = {4};
  s.layers.resize(static_cast<std::size_t>(layers));
  for (int i = 0; i < layers; ++i) {
    s.layers[i].name = name_of(i);
    s.layers[i].kind = OpKind::relu;
    s.layers[i].line = i + 4;
  }
  return s;
}

std::string chain_yaml(int layers) {
  std::string y = "name: chain\ninput: [4]\nlayers:\n";
  for (int i = 0; i < layers; ++i) y += "  - {name: " + name_of(i) + ", op: relu}\n";
  return y;
}

std::string chain_profile(int layers) {
  std::string csv = "layer,processor,mean_ms\n";
  for (int i = 0; i < layers; ++i) {
    csv += name_of(i) + ",cpu,0.25\n";
    csv += name_of(i) + ",gpu,0.125\n";
  }
  return csv;
}

const char* const kPlatform = R"(
name: plat
host: cpu
processors:
  - {name: cpu, kind: cpu, cores: 4, freqs_mhz: [1000, 2000]}
  - {name: gpu, kind: gpu}
links:
  - {between: [cpu, gpu], gbytes_per_s: 8}
)";

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations() * state.range(0));  // layers per second
  state.SetLabel(std::to_string(state.range(0)) + " layers");
}

// yaml-cpp's parse and hetmap's loader together: what `hetmap` pays for a model file.
void BM_ParseModelYaml(benchmark::State& state) {
  const std::string yaml = chain_yaml(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(parse_model(yaml, "chain.yaml"));
  set_counters(state);
}
BENCHMARK(BM_ParseModelYaml)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
// A million layers: one iteration, yaml-cpp alone takes seconds (docs/formats.md).
BENCHMARK(BM_ParseModelYaml)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

// The loader after the YAML parse: names, the DAG, shapes.
void BM_BuildModel(benchmark::State& state) {
  const detail::ModelSpec spec = chain_spec(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(detail::build_model(spec, "chain.yaml"));
  set_counters(state);
}
BENCHMARK(BM_BuildModel)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_ParseProfile(benchmark::State& state) {
  const int layers = static_cast<int>(state.range(0));
  const Model m = detail::build_model(chain_spec(layers), "chain.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  const std::string csv = chain_profile(layers);
  for (auto _ : state) benchmark::DoNotOptimize(parse_profile(csv, "chain.csv", m, pf));
  set_counters(state);
}
BENCHMARK(BM_ParseProfile)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_CompileProblem(benchmark::State& state) {
  const int layers = static_cast<int>(state.range(0));
  const Model m = detail::build_model(chain_spec(layers), "chain.yaml");
  const Platform pf = parse_platform(kPlatform, "plat.yaml");
  const Profile profile = parse_profile(chain_profile(layers), "chain.csv", m, pf);
  for (auto _ : state) benchmark::DoNotOptimize(Problem(m, pf, profile));
  set_counters(state);
}
BENCHMARK(BM_CompileProblem)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
