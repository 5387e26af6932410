#pragma once
// Which result answers each input of a stream: the exit decisions the DES simulates and the
// executor obeys, in one place, so that the same seed gives the same exit sequence in both
// (docs/semantics.md, "Many inputs").
//
// For input i:
// - forced exits (tests, replays): first = forced[i % size], confident everywhere;
// - with a trace: sample i % samples; first = the first enabled exit whose confidence reaches
//   its threshold (0.5 without one), else the final output; confident = those exits;
// - else: the i-th draw u of std::mt19937_64(seed), mapped through the cumulative shares
//   (Problem::shares); confident everywhere (a later result is assumed at least as confident).
// A result j reaching the host ends the input iff j is the final output, or j >= first and the
// input is confident at j (ExitPlan::ends).
#include <cstdint>
#include <random>
#include <vector>

#include "hetmap/problem.hpp"

namespace hetmap {

struct ExitDecision {
  int first = 0;                    // first confident result (exit index; exits() = final)
  std::uint64_t confident = ~0ULL;  // bit j: the input is confident at exit j
  int sample = 0;                   // trace row that scores it (0 without a trace)
};

class ExitPlan {
 public:
  /// Throws InputError for a forced exit outside 0..exits() or a trace without samples.
  ExitPlan(const Problem& problem, const Config& config, std::uint64_t seed,
           std::vector<int> forced = {});

  /// The decision for input `input` (>= 0). Draws are made in input order: asking for the
  /// inputs in increasing order costs one draw each; going back replays the stream from the seed.
  ExitDecision operator()(std::int64_t input);

  /// Whether result `result` reaching the host ends an input decided as `d`.
  bool ends(const ExitDecision& d, int result) const {
    return result == exits_ || (result >= d.first && ((d.confident >> result) & 1ULL));
  }

  int exits() const { return exits_; }

 private:
  int draw();

  int exits_ = 0;
  std::uint64_t seed_ = 1;
  std::vector<int> forced_;
  int samples_ = 0;                        // trace samples; 0 without a trace
  std::vector<std::uint64_t> sample_conf_; // per trace sample
  std::vector<int> sample_first_;
  std::vector<double> cum_share_;          // cumulative shares without a trace
  std::mt19937_64 rng_;
  std::int64_t drawn_ = 0;                 // draws made so far
  int last_ = 0;                           // the result of the last draw
};

}  // namespace hetmap
