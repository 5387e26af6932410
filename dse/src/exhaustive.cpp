#include "hetmap/dse/exhaustive.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "hetmap/detail/parallel.hpp"
#include "hetmap/dse/driver.hpp"
#include "hetmap/error.hpp"

namespace hetmap::dse {

bool valid_exhaustive_limit(double limit) { return limit >= 1.0 && limit <= kMaxExhaustiveLimit; }

double checked_exhaustive_limit(double limit, const std::string& what) {
  if (!valid_exhaustive_limit(limit))
    throw InputError(what, 0, fmt::format("exhaustive limit: expected a number of points in 1..{:g}, "
                                          "got {}", kMaxExhaustiveLimit, limit));
  return limit;
}

Exhaustive::Exhaustive(const DesignSpace& space, double limit, const std::string& what)
    : Algorithm(space), points_(0) {
  checked_exhaustive_limit(limit, what);
  const double size = space.size();
  if (size > limit)
    throw InputError(what, 0, fmt::format("the design space has {:.3g} points, more than the "
                                          "exhaustive limit of {:.3g}; use the search instead",
                                          size, limit));
  points_ = static_cast<std::uint64_t>(size);
  const auto layers = static_cast<std::uint64_t>(std::max(1, space.problem().layers()));
  block_ = std::clamp<std::uint64_t>(kBlockBytes / layers, 1, kBlock);
}

void Exhaustive::initialize(const std::vector<Config>&, std::vector<Individual>& batch) {
  batch.clear();
}

bool Exhaustive::done(const Population& population) const {
  return static_cast<std::uint64_t>(population.generation) * block_ >= points_;
}

void Exhaustive::ask(const Population& population, std::vector<Individual>& batch) {
  const std::uint64_t first = static_cast<std::uint64_t>(population.generation) * block_;
  const std::uint64_t last = std::min(points_, first + block_);
  batch.resize(static_cast<std::size_t>(last - first));
  // DesignSpace::point is pure: building the block in parallel changes nothing but the time.
  detail::parallel_for(0, batch.size(), 256, [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t i = begin; i < end; ++i) batch[i].config = space().point(first + i);
  });
}

std::string Exhaustive::check(const Population& population) const {
  const std::uint64_t last = (points_ + kBlock - 1) / kBlock;  // the generation done() stops at
  const std::uint64_t g = static_cast<std::uint64_t>(population.generation);
  if (g > last)
    return fmt::format("generation: {}, past this run's last generation, {} ({} points in blocks "
                       "of {})", g, last, points_, kBlock);
  const std::uint64_t expected = std::min(points_, g * kBlock);
  if (population.evaluations != static_cast<std::int64_t>(expected))
    return fmt::format("evaluations: {}, expected {} (the points before generation {}'s end)",
                       population.evaluations, expected, g);
  if (!population.individuals.empty())
    return fmt::format("population: {} individuals, expected none (the exhaustive front keeps none)",
                       population.individuals.size());
  return "";
}

ExhaustiveResult exhaustive_front(const DesignSpace& space, BatchEvaluator& evaluator,
                                  double limit, const std::string& what) {
  Exhaustive algorithm(space, limit, what);
  Driver driver(evaluator, algorithm);
  driver.initialize();
  driver.run();
  ExhaustiveResult out;
  out.front = driver.archive().points();
  out.evaluated = static_cast<std::uint64_t>(driver.evaluations());
  return out;
}

}  // namespace hetmap::dse
