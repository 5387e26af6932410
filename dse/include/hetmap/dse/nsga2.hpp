#pragma once
// NSGA-II (Deb et al. 2002) over mappings, with operators that know the domain: good mappings
// are blocky (every processor switch costs a copy), so crossover exchanges contiguous segments
// of the layer order and mutation moves contiguous runs of layers; exits toggle, DVFS levels
// step. Offspring are evaluated in parallel (oneTBB) but every random choice is made on one
// thread, so a seed gives the same result on any number of threads. The whole state can be
// checkpointed and resumed to the same result.
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/sorting.hpp"
#include "hetmap/dse/space.hpp"

namespace hetmap::dse {

struct Nsga2Options {
  int population = 64;     // even, >= 4
  int generations = 100;
  std::uint64_t seed = 1;
  double crossover = 0.9;  // probability that two parents exchange segments
  std::string checkpoint;  // file to save the state to after every `checkpoint_every` generations,
  int checkpoint_every = 1;        // or once `checkpoint_seconds` passed since the last save
  double checkpoint_seconds = 0;   // 0: by generations only; the last generation always saves
};

class Nsga2 {
 public:
  Nsga2(const DesignSpace& space, BatchEvaluator& evaluator, Nsga2Options options);

  /// Generation 0: `seeds` (e.g. the baselines, repaired) and then random points.
  void initialize(const std::vector<Config>& seeds);
  /// Restores a checkpoint written by this configuration; false if `path` does not exist.
  /// A checkpoint of another problem, objective set, seed or population is an InputError.
  bool resume(const std::string& path);
  /// One generation: variation, parallel evaluation, elitist survival, archive update.
  void step();
  using Progress = std::function<void(const Nsga2&)>;
  /// Steps until `options.generations`, checkpointing and reporting after each generation.
  void run(const Progress& progress = {});
  void save(const std::string& path) const;

  int generation() const { return generation_; }
  const Nsga2Options& options() const { return options_; }
  const std::vector<Individual>& population() const { return population_; }
  /// Every non-dominated point that satisfies the constraints among all evaluated so far,
  /// unique by objective values, sorted by the first objective.
  const std::vector<Individual>& archive() const { return archive_; }
  std::int64_t evaluations() const { return evaluations_; }

 private:
  Individual make(Config c) const;
  const Individual& tournament();
  void crossover(Config& a, Config& b);
  void mutate(Config& c);
  void survive();
  void update_archive(const std::vector<Individual>& candidates);
  std::string fingerprint() const;

  const DesignSpace& space_;
  BatchEvaluator& evaluator_;
  Nsga2Options options_;
  std::mt19937_64 rng_;
  int generation_ = 0;
  std::int64_t evaluations_ = 0;
  std::vector<Individual> population_;
  std::vector<Individual> archive_;
  // Buffers reused from one generation to the next.
  Sorter sorter_;
  std::vector<Individual> offspring_, merged_, next_;
  std::vector<char> dup_;
  std::vector<int> order_, keep_;
};


}  // namespace hetmap::dse
