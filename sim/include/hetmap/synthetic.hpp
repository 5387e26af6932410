#pragma once
// Synthetic problems: random DAG models with exits, platforms and profiles, seeded. They feed
// the property tests (DES vs evaluator) and the benchmarks; nothing here is a measurement.
#include <cstdint>
#include <random>
#include <string>

#include "hetmap/problem.hpp"

namespace hetmap {

struct SyntheticSpec {
  int backbone = 20;         // backbone layers
  int exits = 2;             // exits, spread along the backbone
  int exit_layers = 2;       // layers per exit
  int processors = 3;        // the first one is the host
  double skip_prob = 0.2;    // chance a backbone layer also reads an earlier one
  double missing_prob = 0.1; // chance a (layer, non-host processor) has no profile row
  double contention = 1.0;
  bool dvfs = true;          // processors get 2-4 frequency levels
  std::uint64_t seed = 1;
};

struct SyntheticText {
  std::string model_yaml, platform_yaml, profile_csv;
};

/// YAML/CSV text of a random problem (parse it with parse_model/parse_platform/parse_profile).
SyntheticText synthetic_text(const SyntheticSpec& spec);

/// The compiled problem of synthetic_text(spec).
Problem synthetic_problem(const SyntheticSpec& spec);

/// A random feasible config: each layer on a processor that can run it, random exits, policy,
/// frequency levels and thread counts.
Config random_config(const Problem& problem, std::mt19937_64& rng);

}  // namespace hetmap
