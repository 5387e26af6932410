#pragma once
// The mappings hetmap's search must beat, as in the papers it reproduces:
//  - single:P        every layer on processor P (all exits on, sequential);
//  - best-single     the single processor with the lowest mean latency;
//  - layer-switched  each layer on the processor that runs it fastest, paying the copies
//                    (the layer-switched CPU-GPU paper);
//  - ee-coop:B/X     backbone on B, exit branches on X, parallel policy (the early-exit
//                    cooperative CPU-GPU paper); one per ordered pair of processors.
// All at default frequencies and thread counts.
#include <string>
#include <vector>

#include "hetmap/dse/evaluate.hpp"
#include "hetmap/dse/space.hpp"

namespace hetmap::dse {

struct Baseline {
  std::string name;
  Individual individual;  // evaluated with the run's objectives and constraints
  Metrics metrics;  // every number, for reports (front.json)
};

/// Every baseline the problem allows (a processor that cannot run every layer has no single
/// baseline, and so on), evaluated.
std::vector<Baseline> baselines(const DesignSpace& space, BatchEvaluator& evaluator);

}  // namespace hetmap::dse
