#include "hetmap/dse/baselines.hpp"

#include <cmath>
#include <limits>

namespace hetmap::dse {

namespace {

bool runs_everything(const DesignSpace& space, int p) {
  if (!space.uses(p)) return false;
  for (int l = 0; l < space.problem().layers(); ++l)
    if (!space.problem().can_run(l, p)) return false;
  return true;
}

}  // namespace

std::vector<Baseline> baselines(const DesignSpace& space, BatchEvaluator& evaluator) {
  const Problem& pb = space.problem();
  const Config def = pb.default_config();
  std::vector<std::pair<std::string, Config>> configs;
  auto add = [&](std::string name, Config c) {
    if (!pb.infeasibility(c).empty()) return;
    configs.emplace_back(std::move(name), std::move(c));
  };
  const auto& procs = pb.platform().processors;

  for (int p = 0; p < pb.processors(); ++p) {
    if (!runs_everything(space, p)) continue;
    Config c = def;
    std::fill(c.proc.begin(), c.proc.end(), static_cast<std::uint8_t>(p));
    add("single:" + procs[p].name, c);
  }

  Config switched = def;
  for (int l = 0; l < pb.layers(); ++l) {
    double best = std::numeric_limits<double>::infinity();
    for (int p : space.allowed(l)) {
      const double d = pb.duration(l, p, def.freq_level[p], def.threads[p]);
      if (d < best) {
        best = d;
        switched.proc[l] = static_cast<std::uint8_t>(p);
      }
    }
  }
  add("layer-switched", switched);

  if (pb.exits() > 0) {
    for (int b = 0; b < pb.processors(); ++b) {
      for (int x = 0; x < pb.processors(); ++x) {
        if (b == x || !space.uses(b) || !space.uses(x)) continue;
        Config c = def;
        c.policy = Policy::parallel;
        for (int l = 0; l < pb.layers(); ++l)
          c.proc[l] = static_cast<std::uint8_t>(pb.exit_of(l) < 0 ? b : x);
        add("ee-coop:" + procs[b].name + "/" + procs[x].name, c);
      }
    }
  }

  std::vector<Baseline> out;
  Evaluator ev(pb);  // sized once for every baseline
  for (auto& [name, c] : configs) {
    Baseline base;
    base.name = name;
    base.individual.config = c;
    evaluator.evaluate_one(base.individual);
    base.metrics = ev.evaluate(c);
    out.push_back(std::move(base));
  }
  // best-single: the single-processor baseline with the lowest mean latency.
  int best = -1;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].name.rfind("single:", 0) == 0 &&
        (best < 0 || out[i].metrics.mean_latency_ms < out[best].metrics.mean_latency_ms))
      best = static_cast<int>(i);
  if (best >= 0) {
    Baseline b = out[best];
    b.name = "best-single";
    std::size_t after_singles = 0;
    while (after_singles < out.size() && out[after_singles].name.rfind("single:", 0) == 0)
      ++after_singles;
    out.insert(out.begin() + static_cast<long>(after_singles), std::move(b));
  }
  return out;
}

}  // namespace hetmap::dse
