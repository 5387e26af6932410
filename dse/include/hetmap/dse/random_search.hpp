#pragma once
// Random search as an Algorithm (algorithm.hpp): every generation is `batch` points drawn
// uniformly from the design space (DesignSpace::random, then repaired), generation 0 starting
// with the seeds. It keeps no population: its result is the driver's archive. The yardstick of
// any search (a search that does not beat it at equal evaluations has learnt nothing), and the
// smallest algorithm the driver runs. The same seed gives the same points on any number of
// threads; checkpoints hold its random generator.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hetmap/dse/algorithm.hpp"

namespace hetmap::dse {

struct RandomSearchOptions {
  int batch = 64;         // points per generation, >= 1
  int generations = 100;  // after generation 0: batch * (generations + 1) evaluations in all
  std::uint64_t seed = 1;
};

class RandomSearch final : public Algorithm {
 public:
  /// Throws InputError for a batch below 1 or negative generations.
  RandomSearch(const DesignSpace& space, RandomSearchOptions options);
  RandomSearch(const DesignSpace&& space, RandomSearchOptions options) = delete;  // would dangle
  const RandomSearchOptions& options() const { return options_; }

  const char* name() const override { return "random"; }
  void initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) override;
  bool done(const Population& population) const override {
    return population.generation >= options_.generations;
  }
  void ask(const Population& population, std::vector<Individual>& batch) override;
  void tell(Population&, std::vector<Individual>&) override {}
  std::string fingerprint() const override;  // seed and batch
  void save(nlohmann::json& checkpoint) const override;
  void restore(const JsonField& checkpoint) override;
  /// Generations 0..generations of `batch` points each, no individuals kept.
  std::string check(const Population& population) const override;

 private:
  RandomSearchOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace hetmap::dse
