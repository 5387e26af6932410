#include "hetmap/dse/space.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace hetmap::dse {

DesignSpace::DesignSpace(const Problem& problem, SpaceOptions options)
    : problem_(problem), options_(std::move(options)), default_(problem.default_config()) {
  const Config& def = default_;
  uses_.assign(problem_.processors(), options_.processors.empty());
  for (int p : options_.processors) uses_.at(p) = true;
  for (int l = 0; l < problem_.layers(); ++l) {
    std::vector<std::uint8_t> ok;
    for (int p = 0; p < problem_.processors(); ++p)
      if (uses_[p] && !std::isnan(problem_.duration(l, p, def.freq_level[p], def.threads[p])))
        ok.push_back(static_cast<std::uint8_t>(p));
    if (ok.empty())
      throw InputError(problem_.profile().file, 0,
                       "layer '" + problem_.model().layers[l].name + "' has no row at " +
                           (options_.processors.empty() ? "any processor's" : "any allowed processor's") +
                           " default frequency and threads");
    allowed_.push_back(std::move(ok));
  }
  thresholds_ = options_.thresholds.empty() ? std::vector<double>{kDefaultThreshold}
                                            : options_.thresholds;
}

Config DesignSpace::random(std::mt19937_64& rng) const {
  Config c = problem_.default_config();
  for (int l = 0; l < problem_.layers(); ++l) c.proc[l] = allowed_[l][rng() % allowed_[l].size()];
  if (options_.search_exits)
    for (int k = 0; k < problem_.exits(); ++k)
      if (rng() & 1) c.exits_enabled &= ~(1ULL << k);
  c.policy = options_.search_policy ? (rng() & 1 ? Policy::parallel : Policy::sequential)
                                    : options_.policy;
  for (int p = 0; p < problem_.processors(); ++p) {
    if (options_.search_dvfs) c.freq_level[p] = static_cast<std::uint8_t>(rng() % problem_.levels(p));
    if (options_.search_threads && problem_.platform().processors[p].kind == ProcKind::cpu)
      c.threads[p] = static_cast<std::uint8_t>(1 + rng() % problem_.max_threads(p));
  }
  if (searches_thresholds())
    for (int k = 0; k < problem_.exits(); ++k) c.thresholds[k] = thresholds_[rng() % thresholds_.size()];
  repair(c);
  return c;
}

void DesignSpace::repair(Config& c) const {
  const Config& def = default_;
  if (!options_.search_policy) c.policy = options_.policy;
  if (!options_.search_exits) c.exits_enabled = def.exits_enabled;
  for (int p = 0; p < problem_.processors(); ++p) {
    if (!options_.search_dvfs) c.freq_level[p] = def.freq_level[p];
    if (!options_.search_threads || problem_.platform().processors[p].kind != ProcKind::cpu)
      c.threads[p] = def.threads[p];
  }
  if (!searches_thresholds()) c.thresholds = def.thresholds;
  for (int l = 0; l < problem_.layers(); ++l) {
    const auto& ok = allowed_[l];
    bool allowed = false;
    for (std::uint8_t p : ok) allowed = allowed || p == c.proc[l];
    if (!allowed) c.proc[l] = ok[0];
    // Rows exist at the default threads; another thread count may lack them.
    const int p = c.proc[l];
    if (std::isnan(problem_.duration(l, p, c.freq_level[p], c.threads[p])))
      c.threads[p] = def.threads[p];
    if (std::isnan(problem_.duration(l, p, c.freq_level[p], c.threads[p])))
      c.freq_level[p] = def.freq_level[p];
  }
}

std::string DesignSpace::check(const Config& c) const {
  const Problem& pb = problem_;
  const auto& procs = pb.platform().processors;
  const std::size_t L = static_cast<std::size_t>(pb.layers()), P = procs.size(),
                    E = static_cast<std::size_t>(pb.exits());
  auto count = [](const char* field, std::size_t got, std::size_t expected, const char* per) {
    return fmt::format("{}: {} values, expected {} (one per {})", field, got, expected, per);
  };
  if (c.proc.size() != L) return count("proc", c.proc.size(), L, "layer");
  if (c.freq_level.size() != P) return count("freq_level", c.freq_level.size(), P, "processor");
  if (c.threads.size() != P) return count("threads", c.threads.size(), P, "processor");
  if (c.thresholds.size() != E) return count("thresholds", c.thresholds.size(), E, "exit");

  for (std::size_t l = 0; l < L; ++l) {
    const int p = c.proc[l];
    if (static_cast<std::size_t>(p) >= P)
      return fmt::format("proc[{}]: processor index {} out of range 0..{}", l, p, P - 1);
    const auto& ok = allowed_[l];
    if (std::find(ok.begin(), ok.end(), c.proc[l]) != ok.end()) continue;
    if (!uses_[p])
      return fmt::format("proc[{}]: processor '{}' is not one the space searches", l, procs[p].name);
    return fmt::format("proc[{}]: layer '{}' has no profile row on '{}' at its default frequency "
                       "and threads", l, pb.model().layers[l].name, procs[p].name);
  }
  if (E < 64 && (c.exits_enabled >> E) != 0)
    return fmt::format("exits: {} has bits set beyond the model's {} exits", c.exits_enabled, E);
  if (!options_.search_exits && c.exits_enabled != default_.exits_enabled)
    return fmt::format("exits: {}, expected {} (every exit on: the space does not search exits)",
                       c.exits_enabled, default_.exits_enabled);
  if (!options_.search_policy && c.policy != options_.policy)
    return fmt::format("policy: {}, expected {} (the space fixes the policy)", to_string(c.policy),
                       to_string(options_.policy));
  for (std::size_t p = 0; p < P; ++p) {
    const int level = c.freq_level[p], levels = pb.levels(static_cast<int>(p));
    if (level >= levels)
      return fmt::format("freq_level[{}]: level {} out of range 0..{} of '{}'", p, level, levels - 1,
                         procs[p].name);
    if (!options_.search_dvfs && level != default_.freq_level[p])
      return fmt::format("freq_level[{}]: level {}, expected {} (the highest: the space does not "
                         "search DVFS)", p, level, default_.freq_level[p]);
    const int threads = c.threads[p], cores = procs[p].cores;
    if (threads < 1 || threads > cores)
      return fmt::format("threads[{}]: {} threads out of range 1..{} of '{}'", p, threads, cores,
                         procs[p].name);
    const bool searched = options_.search_threads && procs[p].kind == ProcKind::cpu;
    if (!searched && threads != default_.threads[p])
      return fmt::format("threads[{}]: {} threads, expected {} (all cores: the space does not "
                         "search the threads of '{}')", p, threads, default_.threads[p], procs[p].name);
  }
  for (std::size_t k = 0; k < E; ++k) {
    const double t = c.thresholds[k];
    if (searches_thresholds()) {
      if (std::find(thresholds_.begin(), thresholds_.end(), t) == thresholds_.end())
        return fmt::format("thresholds[{}]: {} is not one of the searched thresholds ({})", k, t,
                           fmt::join(thresholds_, ", "));
    } else if (t != default_.thresholds[k]) {
      return fmt::format("thresholds[{}]: {}, expected {} (without an exit trace thresholds are "
                         "not searched)", k, t, default_.thresholds[k]);
    }
  }
  return "";
}

double DesignSpace::size() const {
  double n = 1.0;
  for (const auto& ok : allowed_) n *= static_cast<double>(ok.size());
  if (options_.search_exits) n *= std::ldexp(1.0, problem_.exits());
  if (options_.search_policy) n *= 2.0;
  for (int p = 0; p < problem_.processors(); ++p) {
    if (options_.search_dvfs) n *= problem_.levels(p);
    if (options_.search_threads && problem_.platform().processors[p].kind == ProcKind::cpu)
      n *= problem_.max_threads(p);
  }
  if (searches_thresholds()) n *= std::pow(static_cast<double>(thresholds_.size()), problem_.exits());
  return n;
}

Config DesignSpace::point(std::uint64_t i) const {
  Config c = problem_.default_config();
  auto digit = [&i](std::uint64_t radix) {
    const std::uint64_t d = i % radix;
    i /= radix;
    return d;
  };
  for (int l = 0; l < problem_.layers(); ++l) c.proc[l] = allowed_[l][digit(allowed_[l].size())];
  if (options_.search_exits)
    for (int k = 0; k < problem_.exits(); ++k)
      if (digit(2)) c.exits_enabled &= ~(1ULL << k);
  c.policy = options_.search_policy ? (digit(2) ? Policy::parallel : Policy::sequential)
                                    : options_.policy;
  for (int p = 0; p < problem_.processors(); ++p) {
    if (options_.search_dvfs) c.freq_level[p] = static_cast<std::uint8_t>(digit(problem_.levels(p)));
    if (options_.search_threads && problem_.platform().processors[p].kind == ProcKind::cpu)
      c.threads[p] = static_cast<std::uint8_t>(1 + digit(problem_.max_threads(p)));
  }
  if (searches_thresholds())
    for (int k = 0; k < problem_.exits(); ++k) c.thresholds[k] = thresholds_[digit(thresholds_.size())];
  return c;
}

}  // namespace hetmap::dse
