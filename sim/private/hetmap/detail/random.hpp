#pragma once
// Random numbers drawn the same way under every standard library (exit draws, arrivals,
// jitter, the search's operators, input tensors).
#include <random>

namespace hetmap::detail {

/// The largest seed a user may give, on the command line or in an experiment file: 2^62, so that
/// a seed survives JSON, YAML and signed 64-bit readers alike.
inline constexpr long long kMaxSeed = 1LL << 62;

/// A uniform double in [0, 1) from the top 53 bits of one draw: written out rather than taken
/// from <random>'s distributions, so that the stream is the same under every standard library.
inline double uniform01(std::mt19937_64& g) { return static_cast<double>(g() >> 11) * 0x1.0p-53; }

}  // namespace hetmap::detail
