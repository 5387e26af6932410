#pragma once
// The one loop every algorithm (algorithm.hpp) runs in (docs/search.md, "The driver, the
// algorithms and the archive"):
//
//   initialize:  batch = algorithm.initialize(seeds); evaluate(batch); algorithm.tell(batch);
//                archive.offer(batch)
//   each step:   batch = algorithm.ask(population); the same; ++generation
//
// until algorithm.done(population), saving a checkpoint and reporting progress after each
// step. Evaluation is parallel (BatchEvaluator, results by index) and the archive is offered
// each batch in order, so a run's result never depends on the number of threads.
//
// A checkpoint holds the whole state: the algorithm's (its random generator), the population
// (with what selection wrote on it: NSGA-II's ranks and crowding distances), the archive and
// the counters. Resuming it ends with exactly the result of an uninterrupted run; a checkpoint
// of another problem, objective set, constraint set, design space or algorithm setting is an
// InputError.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hetmap/dse/algorithm.hpp"
#include "hetmap/dse/archive.hpp"
#include "hetmap/dse/evaluate.hpp"

namespace hetmap::dse {

struct DriverOptions {
  std::string checkpoint;         // file the state is saved to (empty: none) after every
                                  // `checkpoint_every` steps, once `checkpoint_seconds` passed
                                  // since the last save, and after the last step
  int checkpoint_every = 1;       // >= 1 (else InputError)
  double checkpoint_seconds = 0;  // 0: by steps only
};

class Driver {
 public:
  /// `evaluator` must evaluate the problem of `algorithm.space()`; both must outlive the driver.
  Driver(BatchEvaluator& evaluator, Algorithm& algorithm, DriverOptions options = {});

  /// Generation 0 (see above); clears the population, the archive and the counters.
  void initialize(const std::vector<Config>& seeds = {});
  /// Restores a checkpoint written by this configuration; false if `path` does not exist.
  bool resume(const std::string& path);
  /// One generation.
  void step();
  using Progress = std::function<void(const Driver&)>;
  /// Steps until the algorithm is done, checkpointing and reporting after each step.
  void run(const Progress& progress = {});
  void save(const std::string& path) const;

  bool done() const { return algorithm_.done(population_); }
  const Algorithm& algorithm() const { return algorithm_; }
  const DriverOptions& options() const { return options_; }
  const Population& population() const { return population_; }
  /// Every non-dominated point satisfying the constraints among all evaluated so far.
  const Archive& archive() const { return archive_; }
  int generation() const { return population_.generation; }
  std::int64_t evaluations() const { return population_.evaluations; }

 private:
  void evaluate_batch();
  std::string fingerprint() const;

  BatchEvaluator& evaluator_;
  Algorithm& algorithm_;
  DriverOptions options_;
  Population population_;
  Archive archive_;
  std::vector<Individual> batch_;  // reused from one step to the next
};

}  // namespace hetmap::dse
