// Hypervolume and non-dominated filtering (dse/include/hetmap/dse/hypervolume.hpp).
// Hand-computed cases first, each worked out in its comment; then property tests that check
// hypervolume(), the 2-D and 3-D sweeps and plain WFG against two brute-force references
// (inclusion-exclusion over all subsets, and summing the dominated cells of the grid spanned by
// the distinct coordinates) on random sets with many ties, duplicates and points beyond ref.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetmap/dse/hypervolume.hpp"

namespace hetmap::dse {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRel = 1e-9;

using Points = std::vector<Point>;

using Algorithm = std::function<double(const Points&, const Point&)>;

// Every algorithm that applies to ref.size().
std::vector<std::pair<std::string, Algorithm>> algorithms(std::size_t d) {
  std::vector<std::pair<std::string, Algorithm>> out;
  out.emplace_back("hv", [](const Points& p, const Point& r) { return hypervolume(p, r); });
  out.emplace_back("wfg", [](const Points& p, const Point& r) { return hypervolume_wfg(p, r); });
  if (d == 2)
    out.emplace_back("2d", [](const Points& p, const Point& r) { return hypervolume_2d(p, r); });
  if (d == 3)
    out.emplace_back("3d", [](const Points& p, const Point& r) { return hypervolume_3d(p, r); });
  return out;
}

::testing::AssertionResult Close(double actual, double expected) {
  const double tol = kRel * std::max(std::abs(actual), std::abs(expected));
  if (actual == expected || std::abs(actual - expected) <= tol)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << actual << " vs expected " << expected << " (rel. error "
         << std::abs(actual - expected) / std::abs(expected) << ")";
}

// Checks every applicable algorithm against `expected`.
void ExpectAll(const Points& pts, const Point& ref, double expected, const std::string& what) {
  for (const auto& [name, hv] : algorithms(ref.size()))
    EXPECT_TRUE(Close(hv(pts, ref), expected)) << name << ": " << what;
}

// ---- brute-force references ------------------------------------------------------------------

Points inside(const Points& pts, const Point& ref) {
  Points out;
  for (const Point& p : pts) {
    bool in = true;
    for (std::size_t j = 0; j < ref.size(); ++j) in = in && p[j] < ref[j];
    if (in) out.push_back(p);
  }
  return out;
}

// Inclusion-exclusion: the sum over non-empty subsets S of (-1)^(|S|+1) * box(max of S), in
// long double; the intersection of boxes [p, ref] is the box of their component-wise max.
long double inclusion_exclusion(const Points& all, const Point& ref) {
  const Points pts = inside(all, ref);
  long double total = 0;
  std::function<void(std::size_t, const Point&, int)> visit = [&](std::size_t from,
                                                                   const Point& corner, int sign) {
    for (std::size_t i = from; i < pts.size(); ++i) {
      Point m = corner;
      long double vol = 1;
      for (std::size_t j = 0; j < ref.size(); ++j) {
        m[j] = std::max(m[j], pts[i][j]);
        vol *= static_cast<long double>(ref[j]) - m[j];
      }
      total += sign * vol;
      visit(i + 1, m, -sign);
    }
  };
  visit(0, Point(ref.size(), -kInf), 1);
  return total;
}

// Grid decomposition: the distinct coordinates of the points and ref cut space into cells; a
// cell is dominated iff some point is <= its lower corner. O((n+1)^d * n * d).
long double grid(const Points& all, const Point& ref) {
  const Points pts = inside(all, ref);
  const std::size_t d = ref.size();
  std::vector<std::vector<double>> cuts(d);
  for (std::size_t j = 0; j < d; ++j) {
    for (const Point& p : pts) cuts[j].push_back(p[j]);
    cuts[j].push_back(ref[j]);
    std::sort(cuts[j].begin(), cuts[j].end());
    cuts[j].erase(std::unique(cuts[j].begin(), cuts[j].end()), cuts[j].end());
  }
  long double total = 0;
  std::vector<std::size_t> cell(d, 0);
  Point lower(d);
  while (true) {
    bool valid = true;
    long double vol = 1;
    for (std::size_t j = 0; j < d; ++j) {
      if (cell[j] + 1 >= cuts[j].size()) valid = false;
      if (!valid) break;
      lower[j] = cuts[j][cell[j]];
      vol *= static_cast<long double>(cuts[j][cell[j] + 1]) - lower[j];
    }
    if (valid) {
      const bool covered = std::any_of(pts.begin(), pts.end(), [&](const Point& p) {
        for (std::size_t j = 0; j < d; ++j)
          if (p[j] > lower[j]) return false;
        return true;
      });
      if (covered) total += vol;
    }
    std::size_t j = 0;  // next cell, odometer style
    while (j < d && ++cell[j] + 1 >= cuts[j].size()) cell[j++] = 0;
    if (j == d) break;
  }
  return total;
}

bool dominates(const Point& a, const Point& b) {
  bool strict = false;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] > b[j]) return false;
    strict = strict || a[j] < b[j];
  }
  return strict;
}

std::vector<std::size_t> non_dominated_brute(const Points& pts) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    bool keep = true;
    for (std::size_t j = 0; j < pts.size() && keep; ++j)
      keep = !dominates(pts[j], pts[i]) && !(j < i && pts[j] == pts[i]);
    if (keep) out.push_back(i);
  }
  return out;
}

// ---- random sets -----------------------------------------------------------------------------

enum class Shape { kUniform, kSphere, kIntegers, kBeyondRef };

// A random set and its reference point. kIntegers draws from {0..4} (ties and duplicates; ref
// sometimes 4, putting points on its boundary); kSphere puts every point on the positive unit
// sphere (all non-dominated); kBeyondRef scatters points up to 30% past ref in some objectives.
std::pair<Points, Point> random_set(std::mt19937_64& rng, Shape shape, std::size_t n,
                                    std::size_t d) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 1.0);
  std::uniform_int_distribution<int> k(0, 4);
  Points pts(n, Point(d));
  Point ref(d, 1.0);
  for (Point& p : pts) {
    double norm = 0;
    for (double& x : p) {
      switch (shape) {
        case Shape::kUniform: x = u(rng); break;
        case Shape::kSphere: x = std::abs(g(rng)); norm += x * x; break;
        case Shape::kIntegers: x = k(rng); break;
        case Shape::kBeyondRef: x = 1.3 * u(rng); break;
      }
    }
    if (shape == Shape::kSphere)
      for (double& x : p) x /= std::sqrt(norm);
  }
  if (shape == Shape::kSphere) ref.assign(d, 1.1);
  if (shape == Shape::kIntegers) ref.assign(d, u(rng) < 0.5 ? 4.0 : 5.0);
  return {pts, ref};
}

const Shape kShapes[] = {Shape::kUniform, Shape::kSphere, Shape::kIntegers, Shape::kBeyondRef};

// ---- hand-computed cases ---------------------------------------------------------------------

TEST(Hypervolume, EmptySetIsZero) {
  for (std::size_t d = 1; d <= 5; ++d) ExpectAll({}, Point(d, 1.0), 0.0, "d=" + std::to_string(d));
}

TEST(Hypervolume, OneObjectiveIsDistanceFromBestToRef) {
  // max(0, ref - min): 5 - 2 = 3; points at or beyond ref count for nothing.
  ExpectAll({{4.0}, {2.0}, {7.0}, {5.0}}, {5.0}, 3.0, "1d");
  ExpectAll({{5.0}, {6.0}}, {5.0}, 0.0, "1d beyond ref");
}

TEST(Hypervolume, OnePointIsItsBox) {
  // Box [p, ref] with sides 1, 2, 3, 4, 5 (first d of them).
  const Point p = {4, 3, 2, 1, 0};
  for (std::size_t d = 1; d <= 5; ++d) {
    double vol = 1;
    for (std::size_t j = 0; j < d; ++j) vol *= static_cast<double>(j + 1);
    ExpectAll({Point(p.begin(), p.begin() + d)}, Point(d, 5.0), vol, "d=" + std::to_string(d));
  }
}

TEST(Hypervolume, TwoDStaircase) {
  // Ref (4, 4). Sweeping in x: (1,3) adds 3 * 1, (2,2) adds 2 * 1, (3,1) adds 1 * 1 -> 6.
  const Points stairs = {{3, 1}, {1, 3}, {2, 2}};
  ExpectAll(stairs, {4, 4}, 6.0, "staircase");
  // Uneven steps: (0,5) -> 10 * 5 = 50; (4,2) -> 6 * 3 = 18; (7,0) -> 3 * 2 = 6 -> 74.
  ExpectAll({{7, 0}, {0, 5}, {4, 2}}, {10, 10}, 74.0, "uneven");
}

TEST(Hypervolume, DominatedAndDuplicatePointsChangeNothing) {
  // Same staircase as above (6) plus duplicates, a dominated (2.5, 2.5), a point sharing x
  // with a step but worse in y, (2, 3), and one weakly dominated on a step's edge, (3, 2).
  ExpectAll({{3, 1}, {1, 3}, {2, 2}, {2, 2}, {2.5, 2.5}, {2, 3}, {3, 2}, {1, 3}}, {4, 4}, 6.0,
            "2d extras");
  // 3-D: (1,1,1) weakly dominates all the others (ties included); its box to (3,3,3) is 2^3.
  ExpectAll({{2, 1, 1}, {1, 1, 1}, {1, 2, 1}, {1, 1, 2}, {1, 1, 1}, {2, 2, 2}}, {3, 3, 3}, 8.0,
            "3d extras");
}

TEST(Hypervolume, PointsNotStrictlyBetterThanRefContributeNothing) {
  // Only (1, 1) counts: (3, 0) is beyond ref in x, (0, 2) on its boundary in y. Box 1 * 1.
  ExpectAll({{3, 0}, {0, 2}, {1, 1}, {2, 2}}, {2, 2}, 1.0, "2d");
  ExpectAll({{2, 0, 0}, {0, 2, 0}, {0, 0, 2}, {1, 1, 1}}, {2, 2, 2}, 1.0, "3d");
  ExpectAll({{2, 0, 0, 0}, {0, 0, 0, 2}, {1, 1, 1, 1}}, {2, 2, 2, 2}, 1.0, "4d");
  ExpectAll({{5, 5, 5}}, {2, 2, 2}, 0.0, "all beyond");
}

TEST(Hypervolume, ThreeDUnionOfBoxes) {
  // Ref (2,2,2). Each of (0,1,1), (1,0,1), (1,1,0) spans 2*1*1 = 2; any two or all three meet
  // in the unit cube [1,2]^3. Inclusion-exclusion: 3*2 - 3*1 + 1 = 4.
  ExpectAll({{0, 1, 1}, {1, 0, 1}, {1, 1, 0}}, {2, 2, 2}, 4.0, "three slabs");
  // Adding (0,0,1) (box 2*2*1 = 4) covers the first two: union = (0,0,1) with (1,1,0):
  // 4 + 2 - [1,2]^3 (1) = 5.
  ExpectAll({{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {0, 0, 1}}, {2, 2, 2}, 5.0, "slab and column");
  // Equal z for all points: a 2-D staircase of area 6 (see TwoDStaircase) times depth 4 - 1.
  ExpectAll({{3, 1, 1}, {1, 3, 1}, {2, 2, 1}}, {4, 4, 4}, 18.0, "one z layer");
  // Two layers, ref (4,4,4): (0,0,2) spans 4*4*2 = 32, (3,3,0) spans 1*1*4 = 4, and they
  // overlap in [3,4]^2 x [2,4] (2): 32 + 4 - 2 = 34.
  ExpectAll({{0, 0, 2}, {3, 3, 0}}, {4, 4, 4}, 34.0, "two layers");
}

TEST(Hypervolume, FourAndFiveDUnitCorners) {
  // Ref 2^d. The d permutations of (0,1,...,1) each span 2 * 1^(d-1); any intersection is
  // [1,2]^d (1). Union = [1,2]^d plus d disjoint unit cells = 1 + d.
  for (std::size_t d = 2; d <= 5; ++d) {
    Points pts;
    for (std::size_t i = 0; i < d; ++i) {
      Point p(d, 1.0);
      p[i] = 0.0;
      pts.push_back(p);
    }
    ExpectAll(pts, Point(d, 2.0), 1.0 + static_cast<double>(d), "d=" + std::to_string(d));
  }
}

TEST(Hypervolume, FourDHandComputed) {
  // Ref (3,3,3,3): (0,0,0,2) spans 3*3*3*1 = 27, (2,2,2,0) spans 1*1*1*3 = 3; they meet in
  // [2,3]^4 (1): 27 + 3 - 1 = 29. (1,1,1,2) is dominated by the first.
  ExpectAll({{0, 0, 0, 2}, {2, 2, 2, 0}, {1, 1, 1, 2}}, {3, 3, 3, 3}, 29.0, "4d");
}

TEST(Hypervolume, InfiniteCoordinates) {
  // A counted point with a -inf objective, or a +inf reference, spans infinite volume; a +inf
  // objective puts the point beyond any finite ref.
  for (std::size_t d = 1; d <= 4; ++d) {
    Point p(d, 0.0);
    p[0] = -kInf;
    for (const auto& [name, hv] : algorithms(d)) {
      EXPECT_EQ(hv({p, Point(d, 0.5)}, Point(d, 1.0)), kInf) << name << " d=" << d;
      Point other(d, 0.75);
      other[0] = 0.25;  // trades off against (0.5, ..., 0.5) when d > 1
      for (std::size_t j = 0; j < d; ++j) {
        Point ref(d, 1.0);
        ref[j] = kInf;
        EXPECT_EQ(hv({Point(d, 0.5), other, Point(d, 0.6)}, ref), kInf) << name << " j=" << j;
        EXPECT_EQ(hv({}, ref), 0.0) << name << " d=" << d;
      }
      Point far(d, 0.5);
      far[d - 1] = kInf;
      EXPECT_EQ(hv({far}, Point(d, 1.0)), 0.0) << name << " d=" << d;
      // On the boundary of ref in one objective, -inf in another: still no volume.
      if (d > 1) {
        Point edge(d, 1.0);
        edge[0] = -kInf;
        EXPECT_EQ(hv({edge}, Point(d, 1.0)), 0.0) << name << " d=" << d;
      }
    }
  }
}

TEST(Hypervolume, RejectsBadInput) {
  for (std::size_t d = 1; d <= 4; ++d)
    for (const auto& [name, hv] : algorithms(d)) {
      EXPECT_THROW(hv({Point(d + 1, 0.0)}, Point(d, 1.0)), std::invalid_argument) << name;
      EXPECT_THROW(hv({Point(d, 0.0), Point(d - 1, 0.0)}, Point(d, 1.0)), std::invalid_argument)
          << name;
      Point nan(d, 0.0);
      nan[d - 1] = kNaN;
      EXPECT_THROW(hv({nan}, Point(d, 1.0)), std::invalid_argument) << name;
      EXPECT_THROW(hv({Point(d, 0.0)}, nan), std::invalid_argument) << name;
      // A NaN is an error even in a point that would not count.
      Point far(d, 5.0);
      far[0] = kNaN;
      EXPECT_THROW(hv({far}, Point(d, 1.0)), std::invalid_argument) << name;
    }
  EXPECT_THROW(hypervolume({}, {}), std::invalid_argument);
  EXPECT_THROW(hypervolume_wfg({}, {}), std::invalid_argument);
  EXPECT_THROW(hypervolume_2d({}, {1, 1, 1}), std::invalid_argument);
  EXPECT_THROW(hypervolume_3d({}, {1, 1}), std::invalid_argument);
}

// ---- properties against brute force ----------------------------------------------------------

TEST(Hypervolume, AgreesWithInclusionExclusion) {
  // 4 shapes x 4 dimensions x 25 sets of 1..10 points = 400 sets.
  std::mt19937_64 rng(20240611);
  for (std::size_t d = 2; d <= 5; ++d)
    for (Shape shape : kShapes)
      for (int rep = 0; rep < 25; ++rep) {
        const std::size_t n = 1 + static_cast<std::size_t>(rep % 10);
        const auto [pts, ref] = random_set(rng, shape, n, d);
        const double expected = static_cast<double>(inclusion_exclusion(pts, ref));
        ExpectAll(pts, ref, expected,
                  "d=" + std::to_string(d) + " shape=" + std::to_string(static_cast<int>(shape)) +
                      " rep=" + std::to_string(rep));
      }
}

TEST(Hypervolume, AgreesWithGridDecomposition) {
  // Larger sets than inclusion-exclusion can afford: 4 shapes x 12 sets per dimension.
  std::mt19937_64 rng(7);
  const std::pair<std::size_t, std::size_t> sizes[] = {{2, 60}, {3, 25}, {4, 12}, {5, 7}};
  for (const auto& [d, n] : sizes)
    for (Shape shape : kShapes)
      for (int rep = 0; rep < 12; ++rep) {
        const auto [pts, ref] = random_set(rng, shape, n, d);
        ExpectAll(pts, ref, static_cast<double>(grid(pts, ref)),
                  "d=" + std::to_string(d) + " shape=" + std::to_string(static_cast<int>(shape)) +
                      " rep=" + std::to_string(rep));
      }
}

TEST(Hypervolume, SpecialisedAlgorithmsAgreeWithWfgOnLargerSets) {
  std::mt19937_64 rng(99);
  for (Shape shape : kShapes)
    for (int rep = 0; rep < 5; ++rep) {
      {
        const auto [pts, ref] = random_set(rng, shape, 500, 2);
        const double w = hypervolume_wfg(pts, ref);
        EXPECT_TRUE(Close(hypervolume_2d(pts, ref), w));
        EXPECT_TRUE(Close(hypervolume(pts, ref), w));
      }
      {
        const auto [pts, ref] = random_set(rng, shape, 150, 3);
        const double w = hypervolume_wfg(pts, ref);
        EXPECT_TRUE(Close(hypervolume_3d(pts, ref), w));
        EXPECT_TRUE(Close(hypervolume(pts, ref), w));
      }
      {
        const auto [pts, ref] = random_set(rng, shape, 40, 4);
        EXPECT_TRUE(Close(hypervolume(pts, ref), hypervolume_wfg(pts, ref)));
      }
    }
}

TEST(Hypervolume, InvariantUnderPermutingObjectives) {
  // Every algorithm singles out some objective (sweep or slicing order); relabelling the
  // objectives must not change the volume.
  std::mt19937_64 rng(3);
  for (std::size_t d = 2; d <= 5; ++d)
    for (Shape shape : kShapes)
      for (int rep = 0; rep < 5; ++rep) {
        const auto [pts, ref] = random_set(rng, shape, 30, d);
        const double base = hypervolume(pts, ref);
        std::vector<std::size_t> perm(d);
        for (std::size_t j = 0; j < d; ++j) perm[j] = j;
        std::shuffle(perm.begin(), perm.end(), rng);
        Points q = pts;
        Point r(d);
        for (std::size_t i = 0; i < pts.size(); ++i)
          for (std::size_t j = 0; j < d; ++j) q[i][j] = pts[i][perm[j]];
        for (std::size_t j = 0; j < d; ++j) r[j] = ref[perm[j]];
        ExpectAll(q, r, base, "d=" + std::to_string(d));
      }
}

TEST(Hypervolume, OnlyNonDominatedPointsMatter) {
  std::mt19937_64 rng(5);
  for (std::size_t d = 2; d <= 5; ++d)
    for (int rep = 0; rep < 20; ++rep) {
      const auto [pts, ref] = random_set(rng, rep % 2 ? Shape::kUniform : Shape::kIntegers, 40, d);
      Points front;
      for (std::size_t i : non_dominated(pts)) front.push_back(pts[i]);
      EXPECT_TRUE(Close(hypervolume(front, ref), hypervolume(pts, ref))) << "d=" << d;
    }
}

// ---- non_dominated -----------------------------------------------------------------------------

TEST(NonDominated, HandCases) {
  EXPECT_TRUE(non_dominated({}).empty());
  // (2,2) dominated by (1,2); (3,0) and (0,3) and (1,2) mutually non-dominated.
  EXPECT_EQ(non_dominated({{2, 2}, {3, 0}, {1, 2}, {0, 3}}), (std::vector<std::size_t>{1, 2, 3}));
  // 1-D: the first of the minima.
  EXPECT_EQ(non_dominated({{3}, {1}, {2}, {1}}), (std::vector<std::size_t>{1}));
  // 3-D: (1,1,1) dominates (1,1,2) and (2,2,2); (0,5,5) and (5,5,0) trade off.
  EXPECT_EQ(non_dominated({{1, 1, 2}, {0, 5, 5}, {1, 1, 1}, {2, 2, 2}, {5, 5, 0}}),
            (std::vector<std::size_t>{1, 2, 4}));
  // 4-D: equal in three objectives, better in one.
  EXPECT_EQ(non_dominated({{1, 1, 1, 2}, {1, 1, 1, 1}, {0, 9, 9, 9}}),
            (std::vector<std::size_t>{1, 2}));
}

TEST(NonDominated, DuplicatesKeepTheFirst) {
  for (std::size_t d = 1; d <= 5; ++d) {
    const Point a(d, 1.0);
    Point b(d, 1.0);
    b[0] = 0.0;               // for d = 1, b = (0) dominates a
    if (d > 1) b[d - 1] = 2.0;  // otherwise b trades off against a
    const auto got = non_dominated({a, a, b, a, b});
    if (d == 1)
      EXPECT_EQ(got, (std::vector<std::size_t>{2}));
    else
      EXPECT_EQ(got, (std::vector<std::size_t>{0, 2})) << "d=" << d;
  }
}

TEST(NonDominated, InfiniteValuesAreOrdinary) {
  EXPECT_EQ(non_dominated({{0, kInf}, {kInf, 0}, {kInf, kInf}}), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(non_dominated({{0, kInf, 0}, {kInf, 0, 0}, {kInf, kInf, kInf}}),
            (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(non_dominated({{-kInf, 5}, {0, 0}}), (std::vector<std::size_t>{0, 1}));
}

TEST(NonDominated, RejectsBadInput) {
  EXPECT_THROW(non_dominated({{1, 2}, {1, 2, 3}}), std::invalid_argument);
  EXPECT_THROW(non_dominated({{1, 2}, {kNaN, 0}}), std::invalid_argument);
}

TEST(NonDominated, AgreesWithBruteForce) {
  // 4 shapes x 5 dimensions x 20 sets = 400 sets of up to 120 points.
  std::mt19937_64 rng(11);
  for (std::size_t d = 1; d <= 5; ++d)
    for (Shape shape : kShapes)
      for (int rep = 0; rep < 20; ++rep) {
        const auto [pts, ref] = random_set(rng, shape, 1 + static_cast<std::size_t>(rep) * 6, d);
        EXPECT_EQ(non_dominated(pts), non_dominated_brute(pts))
            << "d=" << d << " shape=" << static_cast<int>(shape) << " rep=" << rep;
      }
}

// ---- reference_point ---------------------------------------------------------------------------

TEST(ReferencePoint, WorstPlusTenPercentOfRange) {
  // Objective 0 spans 1..5 over both fronts -> 5 + 0.4; objective 1 spans 10..30 -> 30 + 2.
  const Point ref = reference_point({{{1, 30}, {3, 20}}, {{5, 10}}});
  ASSERT_EQ(ref.size(), 2u);
  EXPECT_DOUBLE_EQ(ref[0], 5.4);
  EXPECT_DOUBLE_EQ(ref[1], 32.0);
}

TEST(ReferencePoint, ZeroRangeAddsOne) {
  // Objective 1 is constant (-2), objective 0 a single value: both get +1. Empty fronts skip.
  EXPECT_EQ(reference_point({{}, {{7, -2}}, {{7, -2}}}), (Point{8, -1}));
}

TEST(ReferencePoint, EveryPointCounts) {
  // The margin makes every point strictly better than ref, so each front has positive volume
  // and no front's extreme points are lost.
  std::mt19937_64 rng(13);
  for (std::size_t d = 2; d <= 4; ++d) {
    std::vector<Points> fronts;
    for (int f = 0; f < 3; ++f) fronts.push_back(random_set(rng, Shape::kUniform, 20, d).first);
    const Point ref = reference_point(fronts);
    for (const Points& front : fronts) {
      EXPECT_EQ(inside(front, ref).size(), front.size());
      EXPECT_GT(hypervolume(front, ref), 0.0);
    }
  }
}

TEST(ReferencePoint, StrictEvenWhenTheMarginRoundsAway) {
  // 1e17 + 1 == 1e17 in double: the next double above is used instead.
  const Point ref = reference_point({{{1e17}}});
  EXPECT_GT(ref[0], 1e17);
  EXPECT_GT(hypervolume({{1e17}}, ref), 0.0);
}

TEST(ReferencePoint, RejectsBadInput) {
  EXPECT_THROW(reference_point({}), std::invalid_argument);
  EXPECT_THROW(reference_point({{}, {}}), std::invalid_argument);
  EXPECT_THROW(reference_point({{{1, 2}}, {{1, 2, 3}}}), std::invalid_argument);
  EXPECT_THROW(reference_point({{{1, kNaN}}}), std::invalid_argument);
  EXPECT_THROW(reference_point({{{1, kInf}}}), std::invalid_argument);
  EXPECT_THROW(reference_point({{{}}}), std::invalid_argument);
}

}  // namespace
}  // namespace hetmap::dse
