#pragma once
// A search algorithm over a population, in the spirit of pagmo2's
// `algorithm::evolve(population)`, with the evolution split in its two halves around the
// evaluation (the ask-and-tell form): ask() proposes the points of the next generation, the
// driver (driver.hpp) evaluates them in parallel, and tell() selects from them. The driver
// owns everything the algorithms share: batch evaluation, the archive (archive.hpp), checkpoints
// and progress reports. The algorithms own their domain operators, their random generator and
// their settings:
//  - Nsga2 (nsga2.hpp)               NSGA-II with mapping-aware operators;
//  - RandomSearch (random_search.hpp) uniform sampling, the yardstick of any search;
//  - Exhaustive (exhaustive.hpp)     every point of the design space, in index order.
// An algorithm makes every random choice in ask(), on the calling thread, so a seed gives
// the same points whatever the number of threads evaluating them.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/json_field.hpp"
#include "hetmap/dse/space.hpp"

namespace hetmap::dse {

/// What an algorithm evolves: its current individuals (evaluated) and the run's counters.
/// A memoryless algorithm (random search, exhaustive) keeps no individuals.
struct Population {
  std::vector<Individual> individuals;
  int generation = 0;             // generations evolved after generation 0
  std::int64_t evaluations = 0;   // points evaluated so far, generation 0 included
};

class Algorithm {
 public:
  explicit Algorithm(const DesignSpace& space) : space_(space) {}
  /// An algorithm keeps a reference to its space: a temporary one would dangle.
  explicit Algorithm(const DesignSpace&& space) = delete;
  virtual ~Algorithm() = default;
  Algorithm(const Algorithm&) = delete;
  Algorithm& operator=(const Algorithm&) = delete;

  /// Short name: "nsga2", "random", "exhaustive" (front.json's `method`, checkpoint format).
  virtual const char* name() const = 0;
  const DesignSpace& space() const { return space_; }

  /// Generation 0: fills `batch` with the configs to evaluate first; `seeds` (e.g. the
  /// baselines) come first where the algorithm takes any.
  virtual void initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) = 0;
  /// Whether the run is over.
  virtual bool done(const Population& population) const = 0;
  /// Fills `batch` with the configs of the next generation (only `config` is read back: the
  /// driver evaluates them).
  virtual void ask(const Population& population, std::vector<Individual>& batch) = 0;
  /// Takes the evaluated `batch` (of initialize() or ask()) into `population`. The driver
  /// offers the batch to the archive afterwards, as tell() left it.
  virtual void tell(Population& population, std::vector<Individual>& batch) = 0;

  /// Checkpoints (driver.hpp, docs/search.md "Checkpoints"): the settings a resumed run must
  /// share ("seed=1|population=64"; may be empty), and the algorithm's own state (its random
  /// generator) saved into and restored from the checkpoint document. restore() checks what it
  /// reads (an InputError naming the field) and changes nothing when it throws.
  virtual std::string fingerprint() const = 0;
  virtual void save(nlohmann::json& checkpoint) const = 0;
  virtual void restore(const JsonField& checkpoint) = 0;
  /// Why `population`, as a checkpoint holds it, is not a state this algorithm reaches with its
  /// settings, or "" if it is one: its counters (generation, evaluations) and what the
  /// algorithm keeps of its individuals (how many; NSGA-II's ranks). The text names the field
  /// first ("population: 10 individuals, expected 64"). The driver checks the rest (each point
  /// against the space, the objective values against the evaluator, the archive).
  virtual std::string check(const Population& population) const = 0;

 protected:
  /// For save() and restore(): a random generator's state as the checkpoint's "rng" text.
  static void save_rng(nlohmann::json& checkpoint, const std::mt19937_64& rng);
  static void restore_rng(const JsonField& checkpoint, std::mt19937_64& rng);
  /// For check(): the counters of an algorithm that evaluates `per_generation` points in each
  /// of the generations 0..`generations`.
  static std::string check_counters(const Population& population, std::int64_t per_generation,
                                    int generations);

 private:
  const DesignSpace& space_;
};

}  // namespace hetmap::dse
