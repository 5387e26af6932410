#pragma once
// The design space (docs/search.md): a processor per layer (only those whose profile lets it run
// there), each exit on or off, the policy, and optionally a DVFS level per processor, a thread
// count per CPU cluster and a confidence threshold per exit (with a trace). Points are
// hetmap::Config values, so the search hands its results straight to the simulators.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "hetmap/problem.hpp"

namespace hetmap::dse {

struct SpaceOptions {
  bool search_policy = true;      // else every point uses `policy`
  Policy policy = Policy::parallel;
  bool search_exits = true;       // else every exit stays enabled
  bool search_dvfs = false;       // a frequency level per processor (else the highest)
  bool search_threads = false;    // a thread count per CPU processor (else all cores)
  /// Processors layers may be placed on (indices; empty: all), e.g. big+GPU only to
  /// reproduce a CPU-GPU paper on a platform with more processors.
  std::vector<int> processors;
  /// Candidate thresholds per exit when the problem has a trace (empty: 0.5 only).
  std::vector<double> thresholds = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
};

class DesignSpace {
 public:
  DesignSpace(const Problem& problem, SpaceOptions options = {});
  /// The space keeps a reference to the problem: a temporary one would dangle.
  DesignSpace(const Problem&& problem, SpaceOptions options = {}) = delete;
  const Problem& problem() const { return problem_; }
  const SpaceOptions& options() const { return options_; }

  /// Processors layer `l` may be placed on: those among `processors` with a profile row at
  /// their default level and thread count. Never empty (construction fails with InputError
  /// otherwise).
  const std::vector<std::uint8_t>& allowed(int layer) const { return allowed_[layer]; }
  bool uses(int processor) const { return uses_[processor]; }
  bool searches_thresholds() const { return problem_.trace().has_value(); }
  const std::vector<double>& threshold_values() const { return thresholds_; }

  /// A uniformly random point.
  Config random(std::mt19937_64& rng) const;
  /// Makes `c` a valid, feasible point: fixed dimensions reset, processors allowed, and a
  /// thread count that leaves a placed layer without a profile row back at all cores.
  void repair(Config& c) const;
  /// Why `c` is not a point of this space, or "" if it is one: the one description of the
  /// space's points that a reader of stored points (checkpoints, docs/search.md) checks them
  /// against. A point has a processor per layer among allowed(layer), no exit bit beyond the
  /// model's exits, a level per processor among its levels, 1..cores threads per processor, a
  /// threshold per exit among threshold_values(), and every dimension the space does not search
  /// at its fixed value. It need not be feasible (the exhaustive front enumerates every point).
  /// The text names the field first as the checkpoint stores it, e.g.
  /// `proc[17]: processor index 9 out of range 0..2`.
  std::string check(const Config& c) const;

  /// Number of points, as a double (it can exceed 2^64).
  double size() const;
  /// The point with index `i` in 0..size()-1 (mixed radix over every searched dimension).
  Config point(std::uint64_t i) const;

 private:
  const Problem& problem_;
  SpaceOptions options_;
  Config default_;  // problem_.default_config(), built once (repair runs per offspring)
  std::vector<std::vector<std::uint8_t>> allowed_;
  std::vector<bool> uses_;  // per processor: in options_.processors
  std::vector<double> thresholds_;
};

}  // namespace hetmap::dse
