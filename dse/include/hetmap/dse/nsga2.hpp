#pragma once
// NSGA-II (Deb et al. 2002) over mappings, as an Algorithm (algorithm.hpp) run by the Driver
// (driver.hpp), with operators that know the domain: good mappings are blocky (every processor
// switch costs a copy), so crossover exchanges contiguous segments of the layer order and
// mutation moves contiguous runs of layers; exits toggle, DVFS levels step. Binary tournaments
// on (rank, crowding distance), elitist (mu + lambda) survival over parents and offspring,
// duplicates removed before ranking (docs/search.md). Every random choice is made in
// initialize() and ask(), so a seed gives the same run on any number of threads.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hetmap/dse/algorithm.hpp"
#include "hetmap/dse/sorting.hpp"

namespace hetmap::dse {

/// The largest population a user may set (`--population`, `search.population`): with a million
/// generations, still far from overflowing the evaluation counter.
inline constexpr int kMaxPopulation = 100000;

/// Whether `population` is one NSGA-II runs with: even (offspring come in pairs) and in
/// 4..kMaxPopulation. The one rule for the command line, experiment files and Nsga2.
bool valid_population(long long population);
/// What a user is told for a population that is not valid_population().
std::string population_rule();

struct Nsga2Options {
  int population = 64;     // valid_population()
  int generations = 100;
  std::uint64_t seed = 1;
  double crossover = 0.9;  // probability that two parents exchange segments
};

class Nsga2 final : public Algorithm {
 public:
  /// Throws InputError (naming `what`, where the settings came from) for a population that is
  /// not valid_population(), or negative generations.
  Nsga2(const DesignSpace& space, Nsga2Options options, const std::string& what = "");
  Nsga2(const DesignSpace&& space, Nsga2Options options, const std::string& what = "") = delete;  // would dangle (Algorithm)
  const Nsga2Options& options() const { return options_; }

  const char* name() const override { return "nsga2"; }
  /// Generation 0: `seeds` (repaired; at most `population` of them) and then random points.
  void initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) override;
  bool done(const Population& population) const override {
    return population.generation >= options_.generations;
  }
  /// Offspring: binary tournaments, crossover, mutation, repair.
  void ask(const Population& population, std::vector<Individual>& batch) override;
  /// Generation 0 becomes the population (ranked); later, survival of parents + offspring.
  void tell(Population& population, std::vector<Individual>& batch) override;
  std::string fingerprint() const override;  // seed and population
  void save(nlohmann::json& checkpoint) const override;
  void restore(const JsonField& checkpoint) override;
  /// Generations 0..generations of `population` points each, `population` individuals ranked
  /// below 2 * population.
  std::string check(const Population& population) const override;

 private:
  Individual make(Config c) const;
  const Individual& tournament(const std::vector<Individual>& parents);
  void crossover(Config& a, Config& b);
  void mutate(Config& c);
  void survive(std::vector<Individual>& population);

  Nsga2Options options_;
  std::mt19937_64 rng_;
  // Buffers reused from one generation to the next.
  Sorter sorter_;
  std::vector<Individual> merged_, next_;
  std::vector<char> dup_;
  std::vector<int> order_, keep_;
};

}  // namespace hetmap::dse
