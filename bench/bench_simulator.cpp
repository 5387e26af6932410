// Speed of the two simulators on synthetic problems (docs/design.md, "Quality bars": analytical evaluation
// of a 50-layer mapping <= 1 us; DES >= 10 million events/s on one core).
#include <benchmark/benchmark.h>

#include <random>

#include "hetmap/des.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/synthetic.hpp"

namespace {

using namespace hetmap;

// `layers` in total: backbone + 3 exits of 2 layers each.
SyntheticSpec spec_with(int layers, int processors) {
  SyntheticSpec s;
  s.exits = 3;
  s.exit_layers = 2;
  s.backbone = layers - s.exits * s.exit_layers;
  s.processors = processors;
  s.contention = 1.2;
  s.seed = 42;
  return s;
}

std::vector<Config> configs(const Problem& pb, int n) {
  std::mt19937_64 rng(7);
  std::vector<Config> out;
  for (int i = 0; i < n; ++i) out.push_back(random_config(pb, rng));
  return out;
}

// One evaluation of a random mapping (64 different ones in turn, so the branch predictor
// cannot learn a single schedule).
void BM_Evaluate(benchmark::State& state) {
  const Problem pb = synthetic_problem(spec_with(static_cast<int>(state.range(0)),
                                                 static_cast<int>(state.range(1))));
  const std::vector<Config> cs = configs(pb, 64);
  Evaluator ev(pb);
  std::size_t i = 0;
  for (auto _ : state) {
    const Metrics& r = ev.evaluate(cs[i++ & 63]);
    benchmark::DoNotOptimize(r.mean_latency_ms);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(pb.layers()) + " layers, " + std::to_string(pb.processors()) +
                 " processors");
}
BENCHMARK(BM_Evaluate)->Args({10, 3})->Args({50, 3})->Args({50, 4})->Args({100, 4});

// Blocky mappings, the kind a search converges to: the backbone in 3 contiguous segments, each
// exit on one processor.
void BM_EvaluateBlocky(benchmark::State& state) {
  const Problem pb = synthetic_problem(spec_with(static_cast<int>(state.range(0)), 3));
  std::mt19937_64 rng(11);
  std::vector<Config> cs;
  for (int i = 0; i < 64; ++i) {
    Config c = pb.default_config();
    c.policy = i % 2 ? Policy::parallel : Policy::sequential;
    const int cut1 = static_cast<int>(rng() % pb.layers()), cut2 = static_cast<int>(rng() % pb.layers());
    for (int l = 0; l < pb.layers(); ++l) {
      const int want = l < std::min(cut1, cut2) ? 0 : l < std::max(cut1, cut2) ? 1 : 2;
      c.proc[l] = static_cast<std::uint8_t>(pb.can_run(l, want) ? want : pb.host());
    }
    if (pb.infeasibility(c).empty()) cs.push_back(c);
  }
  Evaluator ev(pb);
  std::size_t i = 0;
  for (auto _ : state) {
    const Metrics& r = ev.evaluate(cs[i++ % cs.size()]);
    benchmark::DoNotOptimize(r.mean_latency_ms);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateBlocky)->Arg(50);

// Many inputs through one mapping; reports simulated events per second of wall time.
void BM_Des(benchmark::State& state) {
  const Problem pb = synthetic_problem(spec_with(50, 3));
  const std::vector<Config> cs = configs(pb, 1);
  DesOptions o;
  o.inputs = static_cast<int>(state.range(0));
  o.arrival = state.range(1) ? Arrival{ArrivalKind::periodic, 400.0} : Arrival{};
  std::int64_t events = 0;
  for (auto _ : state) {
    const Metrics r = simulate_des(pb, cs[0], o);
    events += r.events;
    benchmark::DoNotOptimize(r.mean_latency_ms);
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.SetLabel(state.range(1) ? "periodic 400 Hz" : "closed");
}
BENCHMARK(BM_Des)->Args({10000, 0})->Args({10000, 1})->Args({100000, 1})->Unit(benchmark::kMillisecond);

}  // namespace
