#pragma once
// The exact Pareto front by enumerating every point of a (small) design space, as an Algorithm
// (algorithm.hpp): generation g is the block of points [g * block, (g + 1) * block) in index
// order (DesignSpace::point), built and evaluated in parallel; the driver's archive is the
// front, and of equal objective vectors it keeps the point of lowest index (archive.hpp).
// Used to measure the search (docs/design.md, "Quality bars": >= 99% of the exhaustive
// hypervolume) and by `hetmap explore --exhaustive`.
#include <cstdint>
#include <string>
#include <vector>

#include "hetmap/dse/algorithm.hpp"

namespace hetmap::dse {

/// Spaces above this many points are refused (about a second per million points and core).
inline constexpr double kExhaustiveLimit = 4e6;
/// The largest limit a user may set: about three hours of evaluation per core. A larger, infinite
/// or NaN limit would let a mistyped setting enumerate a huge space for ever.
inline constexpr double kMaxExhaustiveLimit = 1e10;

/// Whether `limit` is a limit a user may set: a number of points in 1..kMaxExhaustiveLimit.
bool valid_exhaustive_limit(double limit);
/// `limit` if valid_exhaustive_limit, else InputError naming `what`.
double checked_exhaustive_limit(double limit, const std::string& what);

class Exhaustive final : public Algorithm {
 public:
  /// Points evaluated per generation: enough to keep every core busy and make the start of
  /// each parallel loop negligible, few enough that a batch takes a few megabytes.
  static constexpr std::uint64_t kBlock = 16384;
  /// Fewer on a large model, so that a batch (a byte per layer and point) stays within this
  /// (docs/formats.md, "Model size"): the front does not depend on the block size.
  static constexpr std::uint64_t kBlockBytes = std::uint64_t{64} << 20;

  /// Throws InputError (naming `what`) when the space has more than `limit` points.
  explicit Exhaustive(const DesignSpace& space, double limit = kExhaustiveLimit,
                      const std::string& what = "--exhaustive");
  explicit Exhaustive(const DesignSpace&& space, double limit = kExhaustiveLimit,
                      const std::string& what = "--exhaustive") = delete;  // would dangle
  std::uint64_t points() const { return points_; }
  std::uint64_t block() const { return block_; }  // points per generation

  const char* name() const override { return "exhaustive"; }
  /// Nothing: the seeds are points of the space, which the generations cover anyway.
  void initialize(const std::vector<Config>& seeds, std::vector<Individual>& batch) override;
  bool done(const Population& population) const override;
  void ask(const Population& population, std::vector<Individual>& batch) override;
  void tell(Population&, std::vector<Individual>&) override {}
  std::string fingerprint() const override { return ""; }  // the space says it all
  void save(nlohmann::json&) const override {}
  void restore(const JsonField&) override {}
  /// Generation g has evaluated the first min(points, g * kBlock) points; none kept.
  std::string check(const Population& population) const override;

 private:
  std::uint64_t points_;
  std::uint64_t block_ = kBlock;
};

struct ExhaustiveResult {
  std::vector<Individual> front;  // non-dominated points satisfying the constraints, sorted by f
  std::uint64_t evaluated = 0;
};

/// The exact front in one call: Exhaustive run by a Driver (no checkpoint). Throws InputError
/// (naming `what`) when the space has more than `limit` points.
ExhaustiveResult exhaustive_front(const DesignSpace& space, BatchEvaluator& evaluator,
                                  double limit = kExhaustiveLimit,
                                  const std::string& what = "--exhaustive");

}  // namespace hetmap::dse
