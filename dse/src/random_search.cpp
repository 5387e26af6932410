#include "hetmap/dse/random_search.hpp"

#include <fmt/format.h>

#include "hetmap/error.hpp"

namespace hetmap::dse {

RandomSearch::RandomSearch(const DesignSpace& space, RandomSearchOptions options)
    : Algorithm(space), options_(options), rng_(options_.seed) {
  if (options_.batch < 1)
    throw InputError("", 0, "batch: expected >= 1, got " + std::to_string(options_.batch));
  if (options_.generations < 0) throw InputError("", 0, "generations: expected >= 0");
}

void RandomSearch::initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) {
  batch.resize(static_cast<std::size_t>(options_.batch));
  std::size_t i = 0;
  for (; i < batch.size() && i < seeds.size(); ++i) {
    batch[i].config = seeds[i];
    space().repair(batch[i].config);
  }
  for (; i < batch.size(); ++i) {
    batch[i].config = space().random(rng_);
    space().repair(batch[i].config);
  }
}

void RandomSearch::ask(const Population&, std::vector<Individual>& batch) {
  batch.resize(static_cast<std::size_t>(options_.batch));
  for (Individual& ind : batch) {
    ind.config = space().random(rng_);
    space().repair(ind.config);
  }
}

std::string RandomSearch::fingerprint() const {
  return "seed=" + std::to_string(options_.seed) + "|batch=" + std::to_string(options_.batch);
}

void RandomSearch::save(nlohmann::json& checkpoint) const { save_rng(checkpoint, rng_); }

void RandomSearch::restore(const JsonField& checkpoint) { restore_rng(checkpoint, rng_); }

std::string RandomSearch::check(const Population& population) const {
  if (std::string why = check_counters(population, options_.batch, options_.generations); !why.empty())
    return why;
  if (!population.individuals.empty())
    return fmt::format("population: {} individuals, expected none (random search keeps none)",
                       population.individuals.size());
  return "";
}

}  // namespace hetmap::dse
