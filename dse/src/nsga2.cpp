#include "hetmap/dse/nsga2.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>
#include <sstream>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/random.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using detail::uniform01;
std::size_t below(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

nlohmann::json config_json(const Config& c) {
  return {{"policy", c.policy == Policy::parallel ? "parallel" : "sequential"},
          {"proc", c.proc},
          {"exits", std::to_string(c.exits_enabled)},
          {"freq_level", c.freq_level},
          {"threads", c.threads},
          {"thresholds", c.thresholds}};
}

Config config_from_json(const nlohmann::json& j) {
  Config c;
  c.policy = j.at("policy") == "parallel" ? Policy::parallel : Policy::sequential;
  c.proc = j.at("proc").get<std::vector<std::uint8_t>>();
  c.exits_enabled = std::stoull(j.at("exits").get<std::string>());
  c.freq_level = j.at("freq_level").get<std::vector<std::uint8_t>>();
  c.threads = j.at("threads").get<std::vector<std::uint8_t>>();
  c.thresholds = j.at("thresholds").get<std::vector<double>>();
  return c;
}

nlohmann::json individual_json(const Individual& ind) {
  // Infinite values (infeasible points) are stored as null.
  nlohmann::json f = nlohmann::json::array();
  for (double v : ind.f) f.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
  return {{"config", config_json(ind.config)},
          {"f", f},
          {"violation", std::isfinite(ind.violation) ? nlohmann::json(ind.violation) : nlohmann::json()},
          {"feasible", ind.feasible},
          {"rank", ind.rank},
          {"crowding", std::isfinite(ind.crowding) ? nlohmann::json(ind.crowding) : nlohmann::json()}};
}

Individual individual_from_json(const nlohmann::json& j) {
  Individual ind;
  ind.config = config_from_json(j.at("config"));
  for (const auto& v : j.at("f")) ind.f.push_back(v.is_null() ? kInf : v.get<double>());
  ind.violation = j.at("violation").is_null() ? kInf : j.at("violation").get<double>();
  ind.feasible = j.at("feasible").get<bool>();
  // Rank and crowding as survival left them: recomputing them on the population alone would
  // give other crowding distances on its last front, and so other tournaments.
  ind.rank = j.at("rank").get<int>();
  ind.crowding = j.at("crowding").is_null() ? kInf : j.at("crowding").get<double>();
  return ind;
}

}  // namespace

Nsga2::Nsga2(const DesignSpace& space, BatchEvaluator& evaluator, Nsga2Options options)
    : space_(space), evaluator_(evaluator), options_(std::move(options)), rng_(options_.seed) {
  if (options_.population < 4 || options_.population % 2)
    throw InputError("", 0, "population: expected an even number >= 4, got " +
                                std::to_string(options_.population));
  if (options_.generations < 0) throw InputError("", 0, "generations: expected >= 0");
  if (options_.checkpoint_every < 1) throw InputError("", 0, "checkpoint_every: expected >= 1");
}

Individual Nsga2::make(Config c) const {
  space_.repair(c);
  Individual ind;
  ind.config = std::move(c);
  return ind;
}

void Nsga2::initialize(const std::vector<Config>& seeds) {
  population_.clear();
  for (const Config& s : seeds) {
    if (static_cast<int>(population_.size()) == options_.population) break;
    population_.push_back(make(s));
  }
  while (static_cast<int>(population_.size()) < options_.population)
    population_.push_back(make(space_.random(rng_)));
  evaluator_.evaluate(population_);
  evaluations_ += static_cast<std::int64_t>(population_.size());
  sorter_.sort(population_);
  archive_.clear();
  update_archive(population_);
  generation_ = 0;
}

const Individual& Nsga2::tournament() {
  const Individual& a = population_[below(rng_, population_.size())];
  const Individual& b = population_[below(rng_, population_.size())];
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
  const Problem& pb = space_.problem();
  const int L = pb.layers();
  // Move a contiguous run of layers to one processor. Kept rare: on long models a large jump
  // mostly breaks good mappings (measured: 0.5 here slowed convergence on 50 layers a lot).
  if (uniform01(rng_) < 0.2) {
    const int first = static_cast<int>(below(rng_, L));
    const int len = 1 + static_cast<int>(below(rng_, std::max(1, L / 4)));
    const auto& ok = space_.allowed(first);
    const std::uint8_t to = ok[below(rng_, ok.size())];
    for (int l = first; l < std::min(L, first + len); ++l)
      for (std::uint8_t p : space_.allowed(l))
        if (p == to) c.proc[l] = to;
  }
  // Move a whole exit branch to one processor, flipping the policy with it half the time:
  // running a branch beside the backbone only pays off under `parallel`, so the two changes
  // are worth little apart.
  if (pb.exits() > 0 && uniform01(rng_) < 0.1) {
    const Exit& e = pb.model().exits[below(rng_, pb.exits())];
    const std::uint8_t to = static_cast<std::uint8_t>(below(rng_, pb.processors()));
    for (int l : e.layers)
      for (std::uint8_t p : space_.allowed(l))
        if (p == to) c.proc[l] = to;
    if (space_.options().search_policy && (rng_() & 1))
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
      c.proc[l] = space_.allowed(l)[below(rng_, space_.allowed(l).size())];
    } while (uniform01(rng_) < 0.4);
  }
  const SpaceOptions& o = space_.options();
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
  if (space_.searches_thresholds() && pb.exits() > 0 && uniform01(rng_) < 0.3) {
    const auto& values = space_.threshold_values();
    c.thresholds[below(rng_, pb.exits())] = values[below(rng_, values.size())];
  }
}

// Fills population_ from merged_ (parents then offspring). Buffers are reused: survivors are
// copy-assigned into next_, whose vectors already have the right sizes, so a generation
// allocates nothing once the first one has run.
void Nsga2::survive() {
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
  std::swap(population_, next_);
}

void Nsga2::update_archive(const std::vector<Individual>& candidates) {
  for (const Individual& c : candidates) {
    if (!c.feasible || c.violation != 0.0) continue;
    bool dominated_or_same = false;
    for (const Individual& a : archive_)
      if (a.f == c.f || dominates(a, c)) {
        dominated_or_same = true;
        break;
      }
    if (dominated_or_same) continue;
    archive_.erase(std::remove_if(archive_.begin(), archive_.end(),
                                  [&](const Individual& a) { return dominates(c, a); }),
                   archive_.end());
    archive_.push_back(c);
  }
  std::stable_sort(archive_.begin(), archive_.end(),
                   [](const Individual& a, const Individual& b) { return a.f < b.f; });
}

void Nsga2::step() {
  const std::size_t n = population_.size();
  offspring_.resize(n);
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    Config& a = offspring_[i].config;
    Config& b = offspring_[i + 1].config;
    a = tournament().config;  // copy-assignment reuses the buffers
    b = tournament().config;
    if (uniform01(rng_) < options_.crossover) crossover(a, b);
    mutate(a);
    mutate(b);
    space_.repair(a);
    space_.repair(b);
  }
  evaluator_.evaluate(offspring_);
  evaluations_ += static_cast<std::int64_t>(n);
  update_archive(offspring_);
  merged_.resize(2 * n);
  std::copy(population_.begin(), population_.end(), merged_.begin());
  std::copy(offspring_.begin(), offspring_.end(), merged_.begin() + static_cast<std::ptrdiff_t>(n));
  survive();
  ++generation_;
}

void Nsga2::run(const Progress& progress) {
  using Clock = std::chrono::steady_clock;
  auto last_save = Clock::now();
  while (generation_ < options_.generations) {
    step();
    const bool due =
        generation_ % options_.checkpoint_every == 0 || generation_ == options_.generations ||
        (options_.checkpoint_seconds > 0 &&
         std::chrono::duration<double>(Clock::now() - last_save).count() >= options_.checkpoint_seconds);
    if (!options_.checkpoint.empty() && due) {
      save(options_.checkpoint);
      last_save = Clock::now();
    }
    if (progress) progress(*this);
  }
}

std::string Nsga2::fingerprint() const {
  const Problem& pb = space_.problem();
  std::string objectives;
  for (Objective o : evaluator_.objectives().list()) objectives += std::string(to_string(o)) + ",";
  std::string constraints;
  for (const Constraint& c : evaluator_.constraints()) constraints += c.str() + ";";
  // The design space too: a population of another space would be resumed outside this one.
  const SpaceOptions& so = space_.options();
  std::string space = std::string("policy=") +
                      (so.search_policy ? "search" : to_string(so.policy)) +
                      ",exits=" + (so.search_exits ? "search" : "on") +
                      ",dvfs=" + (so.search_dvfs ? "search" : "off") +
                      ",threads=" + (so.search_threads ? "search" : "off");
  if (space_.searches_thresholds()) {
    space += ",thresholds=";
    for (double t : space_.threshold_values()) space += fmt::format("{};", t);
  }
  return pb.model().name + "|" + pb.platform().name + "|" + std::to_string(pb.layers()) + "|" +
         objectives + "|" + constraints + "|" + space + "|seed=" + std::to_string(options_.seed) +
         "|population=" + std::to_string(options_.population);
}

void Nsga2::save(const std::string& path) const {
  std::ostringstream rng;
  rng << rng_;
  nlohmann::json j;
  j["format"] = "hetmap-nsga2-checkpoint-2";
  j["fingerprint"] = fingerprint();
  j["generation"] = generation_;
  j["evaluations"] = evaluations_;
  j["rng"] = rng.str();
  j["population"] = nlohmann::json::array();
  for (const Individual& ind : population_) j["population"].push_back(individual_json(ind));
  j["archive"] = nlohmann::json::array();
  for (const Individual& ind : archive_) j["archive"].push_back(individual_json(ind));
  detail::write_file_atomic(path, j.dump() + "\n");
}

bool Nsga2::resume(const std::string& path) {
  if (!std::filesystem::exists(path)) return false;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(detail::read_file(path));
    if (j.at("format") != "hetmap-nsga2-checkpoint-2")
      throw InputError(path, 0, "not a hetmap NSGA-II checkpoint");
    if (j.at("fingerprint") != fingerprint())
      throw InputError(path, 0, "checkpoint of another run (" +
                                    j.at("fingerprint").get<std::string>() + "), expected " +
                                    fingerprint());
    generation_ = j.at("generation").get<int>();
    evaluations_ = j.at("evaluations").get<std::int64_t>();
    std::istringstream rng(j.at("rng").get<std::string>());
    rng >> rng_;
    population_.clear();
    for (const auto& ind : j.at("population")) population_.push_back(individual_from_json(ind));
    archive_.clear();
    for (const auto& ind : j.at("archive")) archive_.push_back(individual_from_json(ind));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, 0, std::string("corrupt checkpoint: ") + e.what());
  }
  return true;
}

}  // namespace hetmap::dse
