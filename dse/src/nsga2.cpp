#include "hetmap/dse/nsga2.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>
#include <sstream>

#include "hetmap/detail/io.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double uniform(std::mt19937_64& rng) { return (rng() >> 11) * 0x1.0p-53; }
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
          {"feasible", ind.feasible}};
}

Individual individual_from_json(const nlohmann::json& j) {
  Individual ind;
  ind.config = config_from_json(j.at("config"));
  for (const auto& v : j.at("f")) ind.f.push_back(v.is_null() ? kInf : v.get<double>());
  ind.violation = j.at("violation").is_null() ? kInf : j.at("violation").get<double>();
  ind.feasible = j.at("feasible").get<bool>();
  return ind;
}

}  // namespace

std::vector<std::vector<int>> rank_and_crowd(std::vector<Individual>& pop) {
  const int n = static_cast<int>(pop.size());
  std::vector<std::vector<int>> dominated(n);
  std::vector<int> count(n, 0);
  std::vector<std::vector<int>> fronts(1);
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (dominates(pop[i], pop[j])) {
        dominated[i].push_back(j);
        ++count[j];
      } else if (dominates(pop[j], pop[i])) {
        dominated[j].push_back(i);
        ++count[i];
      }
    }
  }
  for (int i = 0; i < n; ++i)
    if (count[i] == 0) fronts[0].push_back(i);
  for (std::size_t k = 0; k < fronts.size() && !fronts[k].empty(); ++k) {
    std::vector<int> next;
    for (int i : fronts[k]) {
      pop[i].rank = static_cast<int>(k);
      for (int j : dominated[i])
        if (--count[j] == 0) next.push_back(j);
    }
    std::sort(next.begin(), next.end());
    if (!next.empty()) fronts.push_back(std::move(next));
  }
  // Crowding distance per front (infinite at the extremes of every objective).
  for (const auto& front : fronts) {
    for (int i : front) pop[i].crowding = 0.0;
    if (front.empty()) continue;
    const std::size_t m = pop[front[0]].f.size();
    std::vector<int> order(front);
    for (std::size_t o = 0; o < m; ++o) {
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return pop[a].f[o] < pop[b].f[o]; });
      const double lo = pop[order.front()].f[o], hi = pop[order.back()].f[o];
      pop[order.front()].crowding = pop[order.back()].crowding = kInf;
      if (!(hi > lo) || !std::isfinite(hi - lo)) continue;
      for (std::size_t k = 1; k + 1 < order.size(); ++k)
        pop[order[k]].crowding += (pop[order[k + 1]].f[o] - pop[order[k - 1]].f[o]) / (hi - lo);
    }
  }
  return fronts;
}

Nsga2::Nsga2(const DesignSpace& space, BatchEvaluator& evaluator, Nsga2Options options)
    : space_(space), evaluator_(evaluator), options_(std::move(options)), rng_(options_.seed) {
  if (options_.population < 4 || options_.population % 2)
    throw InputError("", 0, "population: expected an even number >= 4, got " +
                                std::to_string(options_.population));
  if (options_.generations < 0) throw InputError("", 0, "generations: expected >= 0");
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
  rank_and_crowd(population_);
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
  // Move a contiguous run of layers to one processor.
  if (uniform(rng_) < 0.5) {
    const int first = static_cast<int>(below(rng_, L));
    const int len = 1 + static_cast<int>(below(rng_, std::max(1, L / 4)));
    const auto& ok = space_.allowed(first);
    const std::uint8_t to = ok[below(rng_, ok.size())];
    for (int l = first; l < std::min(L, first + len); ++l)
      for (std::uint8_t p : space_.allowed(l))
        if (p == to) c.proc[l] = to;
  }
  // Shift a block boundary by one layer.
  if (uniform(rng_) < 0.3 && L > 1) {
    const int l = static_cast<int>(below(rng_, L - 1));
    if (c.proc[l] != c.proc[l + 1]) {
      if (rng_() & 1) c.proc[l + 1] = c.proc[l];
      else c.proc[l] = c.proc[l + 1];
    }
  }
  // Point mutation keeps every placement reachable.
  for (int l = 0; l < L; ++l)
    if (uniform(rng_) < 1.0 / L) c.proc[l] = space_.allowed(l)[below(rng_, space_.allowed(l).size())];
  const SpaceOptions& o = space_.options();
  if (o.search_exits)
    for (int k = 0; k < pb.exits(); ++k)
      if (uniform(rng_) < 1.0 / (pb.exits() + 1)) c.exits_enabled ^= 1ULL << k;
  if (o.search_policy && uniform(rng_) < 0.1)
    c.policy = c.policy == Policy::parallel ? Policy::sequential : Policy::parallel;
  const int P = pb.processors();
  if (o.search_dvfs && uniform(rng_) < 0.3) {
    const int p = static_cast<int>(below(rng_, P));
    const int lv = c.freq_level[p] + ((rng_() & 1) ? 1 : -1);
    if (lv >= 0 && lv < pb.levels(p)) c.freq_level[p] = static_cast<std::uint8_t>(lv);
  }
  if (o.search_threads && uniform(rng_) < 0.2) {
    const int p = static_cast<int>(below(rng_, P));
    c.threads[p] = static_cast<std::uint8_t>(1 + below(rng_, pb.max_threads(p)));
  }
  if (space_.searches_thresholds() && pb.exits() > 0 && uniform(rng_) < 0.3) {
    const auto& values = space_.threshold_values();
    c.thresholds[below(rng_, pb.exits())] = values[below(rng_, values.size())];
  }
}

void Nsga2::survive(std::vector<Individual>& merged) {
  // Duplicates of one mapping would crowd out diversity: keep the first copy, unless the
  // population cannot be filled otherwise.
  std::vector<Individual> unique, dups;
  for (Individual& ind : merged) {
    bool seen = false;
    for (const Individual& u : unique)
      if (u.f == ind.f && u.config == ind.config) {
        seen = true;
        break;
      }
    (seen ? dups : unique).push_back(std::move(ind));
  }
  while (static_cast<int>(unique.size()) < options_.population && !dups.empty()) {
    unique.push_back(std::move(dups.back()));
    dups.pop_back();
  }
  const auto fronts = rank_and_crowd(unique);
  std::vector<Individual> next;
  for (const auto& front : fronts) {
    if (static_cast<int>(next.size() + front.size()) <= options_.population) {
      for (int i : front) next.push_back(unique[i]);
      continue;
    }
    std::vector<int> order(front);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return unique[a].crowding > unique[b].crowding; });
    for (int i : order) {
      if (static_cast<int>(next.size()) == options_.population) break;
      next.push_back(unique[i]);
    }
    break;
  }
  population_ = std::move(next);
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
  std::vector<Individual> offspring;
  offspring.reserve(options_.population);
  while (static_cast<int>(offspring.size()) < options_.population) {
    Config a = tournament().config, b = tournament().config;
    if (uniform(rng_) < options_.crossover) crossover(a, b);
    mutate(a);
    mutate(b);
    offspring.push_back(make(std::move(a)));
    offspring.push_back(make(std::move(b)));
  }
  evaluator_.evaluate(offspring);
  evaluations_ += static_cast<std::int64_t>(offspring.size());
  update_archive(offspring);
  std::vector<Individual> merged = population_;
  merged.insert(merged.end(), offspring.begin(), offspring.end());
  survive(merged);
  ++generation_;
}

void Nsga2::run(const Progress& progress) {
  while (generation_ < options_.generations) {
    step();
    if (!options_.checkpoint.empty() &&
        (generation_ % options_.checkpoint_every == 0 || generation_ == options_.generations))
      save(options_.checkpoint);
    if (progress) progress(*this);
  }
}

std::string Nsga2::fingerprint() const {
  const Problem& pb = space_.problem();
  std::string objectives;
  for (Objective o : evaluator_.objectives().list()) objectives += std::string(to_string(o)) + ",";
  std::string constraints;
  for (const Constraint& c : evaluator_.constraints()) constraints += c.str() + ";";
  return pb.model().name + "|" + pb.platform().name + "|" + std::to_string(pb.layers()) + "|" +
         objectives + "|" + constraints + "|seed=" + std::to_string(options_.seed) +
         "|population=" + std::to_string(options_.population);
}

void Nsga2::save(const std::string& path) const {
  std::ostringstream rng;
  rng << rng_;
  nlohmann::json j;
  j["format"] = "hetmap-nsga2-checkpoint-1";
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
    if (j.at("format") != "hetmap-nsga2-checkpoint-1")
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
  rank_and_crowd(population_);
  return true;
}

}  // namespace hetmap::dse
