#include "hetmap/synthetic.hpp"

#include <fmt/format.h>

#include <cmath>

namespace hetmap {

SyntheticText synthetic_text(const SyntheticSpec& s) {
  std::mt19937_64 rng(s.seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  auto uniform = [&](double a, double b) { return a + (b - a) * u01(rng); };
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  SyntheticText t;

  // Platform: a host CPU and others of mixed kinds, a link from each to the next.
  std::vector<std::vector<double>> freqs(s.processors);
  std::vector<int> cores(s.processors);
  std::string procs;
  for (int p = 0; p < s.processors; ++p) {
    cores[p] = p % 3 == 2 ? 1 : 1 + pick(4);
    const int levels = s.dvfs ? 2 + pick(3) : 0;
    std::string f, w;
    for (int l = 0; l < levels; ++l) {
      freqs[p].push_back(400.0 + 400.0 * l);
      f += fmt::format("{}{}", l ? ", " : "", freqs[p].back());
      w += fmt::format("{}{:.3f}", l ? ", " : "", 0.3 + 0.5 * l);
    }
    const char* kind = p % 3 == 2 ? "gpu" : "cpu";
    procs += fmt::format("  - {{name: p{}, kind: {}, cores: {}", p, kind, cores[p]);
    if (levels) procs += fmt::format(", freqs_mhz: [{}], active_w: [{}]", f, w);
    else procs += fmt::format(", active_w: {:.3f}", uniform(0.5, 3.0));
    procs += fmt::format(", idle_w: {:.3f}}}\n", uniform(0.01, 0.2));
  }
  std::string links;
  for (int p = 0; p + 1 < s.processors; ++p)
    links += fmt::format("  - {{between: [p{}, p{}], latency_ms: {:.3f}, gbytes_per_s: {:.3f}}}\n",
                         p, p + 1, uniform(0.0, 0.3), uniform(0.5, 4.0));
  if (s.processors > 2 && u01(rng) < 0.5)
    links += fmt::format("  - {{between: [p0, p{}], latency_ms: 0.1, gbytes_per_s: 1.0}}\n",
                         s.processors - 1);
  t.platform_yaml = fmt::format(
      "name: synth\nhost: p0\nprocessors:\n{}links:\n{}contention: {}\nsource: synthetic\n",
      procs, links.empty() ? "  []\n" : links, s.contention);
  if (links.empty()) t.platform_yaml.replace(t.platform_yaml.find("links:\n  []"), 11, "links: []");

  // Model: opaque layers (any inputs, shapes given), some skip connections, exits along it.
  std::vector<std::string> names;
  std::string layers;
  for (int i = 0; i < s.backbone; ++i) {
    names.push_back(fmt::format("b{}", i));
    std::string inputs;
    if (i >= 2 && u01(rng) < s.skip_prob)
      inputs = fmt::format(", inputs: [b{}, b{}]", i - 1, pick(i - 1));
    layers += fmt::format("  - {{name: b{}, op: opaque, out: [{}]{}}}\n", i,
                          64 + pick(200000), inputs);
  }
  std::string exits;
  double left = 0.9;
  for (int k = 0; k < s.exits && s.backbone > 1; ++k) {
    const int after = (k + 1) * (s.backbone - 1) / (s.exits + 1);
    std::string el;
    for (int j = 0; j < s.exit_layers; ++j) {
      names.push_back(fmt::format("x{}_{}", k, j));
      el += fmt::format("{}{{name: x{}_{}, op: opaque, out: [{}]}}", j ? ", " : "", k, j,
                        16 + pick(5000));
    }
    const double taken = uniform(0.0, left / 2);
    left -= taken;
    exits += fmt::format("  - {{name: e{}, after: b{}, layers: [{}], taken: {:.4f}, accuracy: {:.3f}}}\n",
                         k, after, el, taken, uniform(0.5, 0.8));
  }
  t.model_yaml = fmt::format("name: synth\ninput: [{}]\nlayers:\n{}{}final_accuracy: 0.9\n",
                             64 + pick(100000), layers, exits.empty() ? "" : "exits:\n" + exits);

  // Profile: rows at the highest level and all cores; sometimes an extra lower-level row.
  t.profile_csv = "# source: synthetic (random numbers for tests and benchmarks)\n"
                  "layer,processor,freq_mhz,threads,mean_ms,std_ms\n";
  for (const std::string& n : names) {
    for (int p = 0; p < s.processors; ++p) {
      if (p != 0 && u01(rng) < s.missing_prob) continue;
      const double ms = uniform(0.05, 5.0);
      t.profile_csv += fmt::format("{},p{},,,{:.4f},{:.4f}\n", n, p, ms, 0.05 * ms);
      if (freqs[p].size() > 1 && u01(rng) < 0.3)
        t.profile_csv += fmt::format("{},p{},{},,{:.4f},{:.4f}\n", n, p, freqs[p][0],
                                     ms * uniform(1.5, 3.0), 0.1 * ms);
      if (cores[p] > 1)
        t.profile_csv += fmt::format("{},p{},,1,{:.4f},{:.4f}\n", n, p, ms * uniform(1.2, 2.0),
                                     0.05 * ms);
    }
  }
  return t;
}

Problem synthetic_problem(const SyntheticSpec& spec) {
  const SyntheticText t = synthetic_text(spec);
  Model m = parse_model(t.model_yaml, "synthetic-model.yaml");
  Platform p = parse_platform(t.platform_yaml, "synthetic-platform.yaml");
  Profile prof = parse_profile(t.profile_csv, "synthetic-profile.csv", m, p);
  return Problem(std::move(m), std::move(p), std::move(prof));
}

Config random_config(const Problem& pb, std::mt19937_64& rng) {
  Config c = pb.default_config();
  c.policy = rng() % 2 ? Policy::parallel : Policy::sequential;
  for (int p = 0; p < pb.processors(); ++p) {
    c.freq_level[p] = static_cast<std::uint8_t>(rng() % pb.levels(p));
    c.threads[p] = static_cast<std::uint8_t>(1 + rng() % pb.max_threads(p));
  }
  for (int k = 0; k < pb.exits(); ++k)
    if (rng() % 4 == 0) c.exits_enabled &= ~(1ULL << k);
  for (int l = 0; l < pb.layers(); ++l) {
    std::vector<int> ok;
    for (int p = 0; p < pb.processors(); ++p)
      if (!std::isnan(pb.duration(l, p, c.freq_level[p], c.threads[p]))) ok.push_back(p);
    c.proc[l] = static_cast<std::uint8_t>(ok.empty() ? pb.host() : ok[rng() % ok.size()]);
  }
  // A thread count without rows for some placed layer falls back to all cores.
  if (!pb.infeasibility(c).empty())
    for (int p = 0; p < pb.processors(); ++p) c.threads[p] = static_cast<std::uint8_t>(pb.max_threads(p));
  return c;
}

}  // namespace hetmap
