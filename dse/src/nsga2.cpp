#include "hetmap/dse/nsga2.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "hetmap/detail/random.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

using detail::uniform01;
std::size_t below(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

}  // namespace

bool valid_population(long long population) {
  return population >= 4 && population <= kMaxPopulation && population % 2 == 0;
}

std::string population_rule() { return fmt::format("an even integer in 4..{}", kMaxPopulation); }

Nsga2::Nsga2(const DesignSpace& space, Nsga2Options options, const std::string& what)
    : Algorithm(space), options_(std::move(options)), rng_(options_.seed) {
  if (!valid_population(options_.population))
    throw InputError(what, 0, fmt::format("population: expected {}, got {}", population_rule(),
                                          options_.population));
  if (options_.generations < 0) throw InputError(what, 0, "generations: expected >= 0");
  // Parents, offspring, their merge (two populations) and the survivors: five populations of
  // mappings of a byte per layer, bounded as the problem's tables are (docs/formats.md, "Model
  // size"), so that a large population of a large model is refused, not an allocation failure.
  const double bytes = 5.0 * options_.population * space.problem().layers();
  if (bytes > static_cast<double>(kMaxTableBytes))
    throw InputError(what, 0,
                     fmt::format("population: {} mappings of {} layers would take {:.1f} GiB "
                                 "(parents, offspring, their merge and the survivors), more than "
                                 "the {} GiB hetmap allows: lower the population",
                                 options_.population, space.problem().layers(),
                                 bytes / static_cast<double>(std::uint64_t{1} << 30),
                                 kMaxTableBytes >> 30));
}

Individual Nsga2::make(Config c) const {
  space().repair(c);
  Individual ind;
  ind.config = std::move(c);
  return ind;
}

void Nsga2::initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) {
  batch.clear();
  for (const Config& s : seeds) {
    if (static_cast<int>(batch.size()) == options_.population) break;
    batch.push_back(make(s));
  }
  while (static_cast<int>(batch.size()) < options_.population)
    batch.push_back(make(space().random(rng_)));
}

const Individual& Nsga2::tournament(const std::vector<Individual>& parents) {
  const Individual& a = parents[below(rng_, parents.size())];
  const Individual& b = parents[below(rng_, parents.size())];
  if (a.rank != b.rank) return a.rank < b.rank ? a : b;
  return a.crowding >= b.crowding ? a : b;
}

// Two-point crossover on the layer order (segments, hence blocks, survive), uniform on the
// other genes.
void Nsga2::crossover(Config& a, Config& b) {
  const std::size_t n = a.proc.size();
  std::size_t i = below(rng_, n + 1), j = below(rng_, n + 1);
  if (i > j) std::swap(i, j);
  for (std::size_t l = i; l < j; ++l) std::swap(a.proc[l], b.proc[l]);
  const std::uint64_t mask = rng_();
  const std::uint64_t ea = a.exits_enabled, eb = b.exits_enabled;
  a.exits_enabled = (ea & mask) | (eb & ~mask);
  b.exits_enabled = (eb & mask) | (ea & ~mask);
  if (rng_() & 1) std::swap(a.policy, b.policy);
  for (std::size_t p = 0; p < a.freq_level.size(); ++p) {
    if (rng_() & 1) std::swap(a.freq_level[p], b.freq_level[p]);
    if (rng_() & 1) std::swap(a.threads[p], b.threads[p]);
  }
  for (std::size_t k = 0; k < a.thresholds.size(); ++k)
    if (rng_() & 1) std::swap(a.thresholds[k], b.thresholds[k]);
}

void Nsga2::mutate(Config& c) {
  const Problem& pb = space().problem();
  const int L = pb.layers();
  // Move a contiguous run of layers to one processor. Kept rare: on long models a large jump
  // mostly breaks good mappings (measured: 0.5 here slowed convergence on 50 layers a lot).
  if (uniform01(rng_) < 0.2) {
    const int first = static_cast<int>(below(rng_, L));
    const int len = 1 + static_cast<int>(below(rng_, std::max(1, L / 4)));
    const auto& ok = space().allowed(first);
    const std::uint8_t to = ok[below(rng_, ok.size())];
    for (int l = first; l < std::min(L, first + len); ++l)
      for (std::uint8_t p : space().allowed(l))
        if (p == to) c.proc[l] = to;
  }
  // Move a whole exit branch to one processor, flipping the policy with it half the time:
  // running a branch beside the backbone only pays off under `parallel`, so the two changes
  // are worth little apart.
  if (pb.exits() > 0 && uniform01(rng_) < 0.1) {
    const Exit& e = pb.model().exits[below(rng_, pb.exits())];
    const std::uint8_t to = static_cast<std::uint8_t>(below(rng_, pb.processors()));
    for (int l : e.layers)
      for (std::uint8_t p : space().allowed(l))
        if (p == to) c.proc[l] = to;
    if (space().options().search_policy && (rng_() & 1))
      c.policy = c.policy == Policy::parallel ? Policy::sequential : Policy::parallel;
  }
  // Shift a block boundary by one layer.
  if (uniform01(rng_) < 0.3 && L > 1) {
    const int l = static_cast<int>(below(rng_, L - 1));
    if (c.proc[l] != c.proc[l + 1]) {
      if (rng_() & 1) c.proc[l + 1] = c.proc[l];
      else c.proc[l] = c.proc[l + 1];
    }
  }
  // Point mutations keep every placement reachable: about one layer per child on average
  // (none with probability 0.37, as with a 1/L rate per layer), without one draw per layer.
  if (uniform01(rng_) < 0.63) {
    do {
      const int l = static_cast<int>(below(rng_, L));
      c.proc[l] = space().allowed(l)[below(rng_, space().allowed(l).size())];
    } while (uniform01(rng_) < 0.4);
  }
  const SpaceOptions& o = space().options();
  if (o.search_exits)
    for (int k = 0; k < pb.exits(); ++k)
      if (uniform01(rng_) < 0.2 / pb.exits()) c.exits_enabled ^= 1ULL << k;
  if (o.search_policy && uniform01(rng_) < 0.1)
    c.policy = c.policy == Policy::parallel ? Policy::sequential : Policy::parallel;
  const int P = pb.processors();
  // DVFS: step one processor's level by one, or (half the time) jump to any level: the levels
  // between two good ones are often dominated, so steps alone cannot cross them.
  if (o.search_dvfs && uniform01(rng_) < 0.3) {
    const int p = static_cast<int>(below(rng_, P));
    if (rng_() & 1) {
      const int lv = c.freq_level[p] + ((rng_() & 1) ? 1 : -1);
      if (lv >= 0 && lv < pb.levels(p)) c.freq_level[p] = static_cast<std::uint8_t>(lv);
    } else {
      c.freq_level[p] = static_cast<std::uint8_t>(below(rng_, pb.levels(p)));
    }
  }
  if (o.search_threads && uniform01(rng_) < 0.2) {
    const int p = static_cast<int>(below(rng_, P));
    c.threads[p] = static_cast<std::uint8_t>(1 + below(rng_, pb.max_threads(p)));
  }
  if (space().searches_thresholds() && pb.exits() > 0 && uniform01(rng_) < 0.3) {
    const auto& values = space().threshold_values();
    c.thresholds[below(rng_, pb.exits())] = values[below(rng_, values.size())];
  }
}

// Fills `population` from merged_ (parents then offspring). Buffers are reused: survivors are
// copy-assigned into next_, whose vectors already have the right sizes, so a generation
// allocates nothing once the first one has run.
void Nsga2::survive(std::vector<Individual>& population) {
  std::vector<Individual>& merged = merged_;
  // Duplicates of one mapping would crowd out diversity: keep the first copy, unless the
  // population cannot be filled otherwise. Equal objective vectors are adjacent in the
  // sorter's lexicographic order, so only neighbours need their configs compared.
  sorter_.sort(merged);
  const std::vector<int>& lex = sorter_.lexicographic();
  dup_.assign(merged.size(), 0);
  int unique = static_cast<int>(merged.size());
  for (std::size_t i = 0; i < lex.size(); ++i) {
    for (std::size_t j = i; j-- > 0;) {
      const Individual &a = merged[lex[j]], &b = merged[lex[i]];
      if (a.f != b.f) break;
      if (!dup_[lex[j]] && a.config == b.config) {
        dup_[std::max(lex[i], lex[j])] = 1;  // the copy with the lower index (parents first) stays
        --unique;
        break;
      }
    }
  }
  if (unique >= options_.population && unique < static_cast<int>(merged.size())) {
    keep_.clear();
    for (int i : lex)
      if (!dup_[i]) keep_.push_back(i);
    sorter_.sort_ordered(merged, keep_);  // a filtered lexicographic order stays one
  }
  // Whole fronts while they fit, then the most isolated points of the next one.
  int n = 0;
  next_.resize(options_.population);
  for (int k = 0; k < sorter_.fronts() && n < options_.population; ++k) {
    const std::vector<int>& front = sorter_.front(k);
    if (n + static_cast<int>(front.size()) <= options_.population) {
      for (int i : front) next_[n++] = merged[i];
      continue;
    }
    order_.assign(front.begin(), front.end());
    std::stable_sort(order_.begin(), order_.end(),
                     [&](int a, int b) { return merged[a].crowding > merged[b].crowding; });
    for (int i : order_) {
      if (n == options_.population) break;
      next_[n++] = merged[i];
    }
  }
  std::swap(population, next_);
}

void Nsga2::ask(const Population& population, std::vector<Individual>& batch) {
  const std::vector<Individual>& parents = population.individuals;
  const std::size_t n = parents.size();
  batch.resize(n);
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    Config& a = batch[i].config;
    Config& b = batch[i + 1].config;
    a = tournament(parents).config;  // copy-assignment reuses the buffers
    b = tournament(parents).config;
    if (uniform01(rng_) < options_.crossover) crossover(a, b);
    mutate(a);
    mutate(b);
    space().repair(a);
    space().repair(b);
  }
  // The batch may still hold generation 0's ranks (tell() ranks it in place): offspring are
  // unranked until survival, and the archive and checkpoints store them so.
  for (Individual& child : batch) {
    child.rank = 0;
    child.crowding = 0.0;
  }
}

void Nsga2::tell(Population& population, std::vector<Individual>& batch) {
  std::vector<Individual>& parents = population.individuals;
  if (parents.empty()) {  // generation 0: ranked, so that the first tournaments can use it
    sorter_.sort(batch);
    parents = batch;
    return;
  }
  const std::size_t n = parents.size();
  merged_.resize(n + batch.size());
  std::copy(parents.begin(), parents.end(), merged_.begin());
  std::copy(batch.begin(), batch.end(), merged_.begin() + static_cast<std::ptrdiff_t>(n));
  survive(parents);
}

std::string Nsga2::fingerprint() const {
  return "seed=" + std::to_string(options_.seed) + "|population=" + std::to_string(options_.population);
}

void Nsga2::save(nlohmann::json& checkpoint) const { save_rng(checkpoint, rng_); }

void Nsga2::restore(const JsonField& checkpoint) { restore_rng(checkpoint, rng_); }

std::string Nsga2::check(const Population& population) const {
  if (std::string why = check_counters(population, options_.population, options_.generations); !why.empty())
    return why;
  const std::vector<Individual>& inds = population.individuals;
  if (inds.size() != static_cast<std::size_t>(options_.population))
    return fmt::format("population: {} individuals, expected {} (the population size)", inds.size(),
                       options_.population);
  // Ranks come from sorting parents and offspring together: 2 * population points at most.
  const int ranks = 2 * options_.population;
  for (std::size_t i = 0; i < inds.size(); ++i)
    if (inds[i].rank >= ranks)
      return fmt::format("population[{}].rank: {} out of range 0..{}", i, inds[i].rank, ranks - 1);
  return "";
}

}  // namespace hetmap::dse
