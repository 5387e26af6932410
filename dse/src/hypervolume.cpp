// Exact hypervolume (see the header for the choice of algorithm per dimension).
//
// Every entry point first validates its input in full and keeps only the points strictly
// better than the reference point: those are exactly the points whose box [p, ref] has
// positive volume, so the algorithms below may assume ref - p > 0 in every objective. A kept
// point with an infinite box side makes the answer +inf; that case is settled up front so no
// inf - inf can reach the arithmetic. The algorithms then work on flat copies (std::array rows
// or rows of one buffer) rather than on vectors of vectors, for locality.
#include "hetmap/dse/hypervolume.hpp"
#include "hetmap/detail/number.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory_resource>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>

namespace hetmap::dse {
namespace {

using hetmap::detail::kInf;

[[noreturn]] void fail(const char* fn, const std::string& what) {
  throw std::invalid_argument(std::string(fn) + ": " + what);
}

void check_values(const char* fn, const Point& p, const std::string& name) {
  for (std::size_t j = 0; j < p.size(); ++j)
    if (std::isnan(p[j])) fail(fn, name + ", objective " + std::to_string(j) + " is NaN");
}

// Validates `ref` (and its size when `want` > 0) and every point, then calls emit(p) for each
// point strictly better than `ref` in every objective. Returns true when such a point has an
// infinite box side (p_j = -inf or ref_j = +inf), i.e. the hypervolume is +inf.
template <class Emit>
bool collect(const char* fn, const std::vector<Point>& points, const Point& ref, std::size_t want,
             Emit emit) {
  if (ref.empty()) fail(fn, "the reference point has no objectives");
  if (want > 0 && ref.size() != want)
    fail(fn, "needs " + std::to_string(want) + " objectives, the reference point has " +
                 std::to_string(ref.size()));
  check_values(fn, ref, "reference point");
  const std::size_t d = ref.size();
  bool infinite = false;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    if (p.size() != d)
      fail(fn, "point " + std::to_string(i) + " has " + std::to_string(p.size()) +
                   " objectives, the reference point has " + std::to_string(d));
    check_values(fn, p, "point " + std::to_string(i));
    bool inside = true;
    bool unbounded = false;
    for (std::size_t j = 0; j < d; ++j) {
      inside = inside && p[j] < ref[j];
      unbounded = unbounded || p[j] == -kInf || ref[j] == kInf;
    }
    if (!inside) continue;
    infinite = infinite || unbounded;
    emit(p);
  }
  return infinite;
}

// Volume of the box [p, ref] in the first d objectives.
double box(const double* p, const double* ref, std::size_t d) {
  double v = 1.0;
  for (std::size_t j = 0; j < d; ++j) v *= ref[j] - p[j];
  return v;
}

// a <= b in each of the first d objectives (a weakly dominates b).
bool weakly_dominates(const double* a, const double* b, std::size_t d) {
  for (std::size_t j = 0; j < d; ++j)
    if (a[j] > b[j]) return false;
  return true;
}

// ---- 2 objectives --------------------------------------------------------------------------

// Sweep in increasing x: a point below every earlier one adds the rectangle between its y and
// the lowest earlier y, from its x to ref_x. Every term is positive, so no cancellation.
// `p` may hold dominated points and duplicates.
double sweep2d(std::vector<std::array<double, 2>>& p, double rx, double ry) {
  std::sort(p.begin(), p.end());  // by x, ties by y
  double area = 0.0;
  double low = ry;
  for (const auto& q : p) {
    if (q[1] >= low) continue;  // weakly dominated by an earlier point
    area += (rx - q[0]) * (low - q[1]);
    low = q[1];
  }
  return area;
}

// ---- 3 objectives: HV3D ----------------------------------------------------------------------

struct Step {
  double x, y;
};
struct ByX {
  bool operator()(const Step& a, const Step& b) const { return a.x < b.x; }
};

// Sweep in increasing z. `front` is the staircase of the points seen so far projected on
// (x, y): x increasing, y strictly decreasing, each point non-dominated in 2-D. `area` is the
// 2-D hypervolume of that staircase, so the slab between a point's z and the next one's adds
// area * dz. Inserting a point adds the area it newly covers, found by walking the steps it
// removes (amortised O(log n) per point: each point is inserted and erased at most once).
// Two sentinels, (-inf, ref_y) and (ref_x, -inf), bound the staircase so neighbours always
// exist; only their finite coordinates ever enter arithmetic. `p` may hold dominated points.
double sweep3d(std::vector<std::array<double, 3>>& p, const double* ref) {
  std::sort(p.begin(), p.end(),
            [](const std::array<double, 3>& a, const std::array<double, 3>& b) {
              return a[2] < b[2];
            });
  // Tree nodes come from one arena freed at return: at most n + 2 nodes are ever created.
  std::pmr::monotonic_buffer_resource arena((p.size() + 2) * 64);
  std::pmr::set<Step, ByX> front(&arena);
  front.insert(Step{-kInf, ref[1]});
  front.insert(Step{ref[0], -kInf});
  double area = 0.0;
  double volume = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double x = p[i][0];
    const double y = p[i][1];
    auto s = front.lower_bound(Step{x, 0.0});  // first step with x_s >= x
    auto before = std::prev(s);                 // x_before < x (the left sentinel at worst)
    // The step with the largest x_s <= x has the lowest y among those; it alone decides
    // whether (x, y) is weakly dominated in 2-D.
    const Step& left = s->x == x ? *s : *before;
    if (left.y > y) {
      double from = x;           // start of the strip whose covered height grows
      double height = before->y;  // lowest y covering that strip before this point
      while (s->y >= y) {         // steps dominated by (x, y); the right sentinel stops it
        area += (s->x - from) * (height - y);
        from = s->x;
        height = s->y;
        s = front.erase(s);
      }
      area += (s->x - from) * (height - y);
      front.emplace_hint(s, Step{x, y});
    }
    const double next_z = i + 1 < p.size() ? p[i + 1][2] : ref[2];
    volume += area * (next_z - p[i][2]);
  }
  return volume;
}

// ---- WFG ---------------------------------------------------------------------------------------

// Adds `l` to the mutually non-dominated `kept` unless one of them weakly dominates it, and
// drops those it dominates. If some kept row weakly dominates `l`, `l` dominates none (that row
// would then dominate it too), so returning at the first such row leaves `kept` intact.
void add_non_dominated(std::vector<const double*>& kept, const double* l, std::size_t k) {
  std::size_t w = 0;
  for (std::size_t r = 0; r < kept.size(); ++r) {
    if (weakly_dominates(kept[r], l, k)) return;
    if (!weakly_dominates(l, kept[r], k)) kept[w++] = kept[r];
  }
  kept.resize(w);
  kept.push_back(l);
}

// WFG on rows of one buffer. volume(rows, d) sorts the rows worst-first in objective d-1; then
// a point x of the (d-1)-projection is covered along objective d-1 from the best (last) row
// whose box holds it up to ref, so
//   HV_d = sum_i (ref_{d-1} - p_i[d-1]) * exclusive HV_{d-1} of p_i against rows i+1.. ,
// and the exclusive part is box(p_i) - HV_{d-1}(limit set), the limit set being the rows after
// i clipped to p_i (component-wise max), minus the dominated ones. Recursion depth is at most
// d - 2, and each depth reuses its own buffers (at most n * d doubles) for the whole call.
class Wfg {
 public:
  Wfg(const double* ref, std::size_t d, bool hv3d_base)
      : ref_(ref), hv3d_base_(hv3d_base), levels_(d) {}

  double volume(std::vector<const double*>& rows, std::size_t d, std::size_t depth) {
    const std::size_t n = rows.size();
    if (n == 0) return 0.0;
    if (n == 1) return box(rows[0], ref_, d);
    if (d == 1) {
      double low = rows[0][0];
      for (const double* r : rows) low = std::min(low, r[0]);
      return ref_[0] - low;
    }
    if (d == 2) {
      pairs_.clear();
      for (const double* r : rows) pairs_.push_back({r[0], r[1]});
      return sweep2d(pairs_, ref_[0], ref_[1]);
    }
    if (d == 3 && hv3d_base_) {
      triples_.clear();
      for (const double* r : rows) triples_.push_back({r[0], r[1], r[2]});
      return sweep3d(triples_, ref_);
    }
    const std::size_t last = d - 1;
    std::sort(rows.begin(), rows.end(),
              [last](const double* a, const double* b) { return a[last] > b[last]; });
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      double exclusive = box(rows[i], ref_, last);
      if (i + 1 < n) {
        Level& lv = levels_[depth];
        if (!limit_set(rows, i, last, lv)) continue;  // fully covered: contributes nothing
        exclusive -= volume(lv.rows, last, depth + 1);
      }
      total += (ref_[last] - rows[i][last]) * exclusive;
    }
    return total;
  }

 private:
  struct Level {
    std::vector<double> buf;
    std::vector<const double*> rows;
  };

  // Fills `lv` with the non-dominated limit set of rows[i] against rows[i+1..] in the first k
  // objectives. Returns false, early, if a limit point equals rows[i] itself: then a later row
  // covers rows[i]'s whole box in these objectives and its exclusive contribution is 0.
  bool limit_set(const std::vector<const double*>& rows, std::size_t i, std::size_t k,
                 Level& lv) {
    const double* p = rows[i];
    const std::size_t m = rows.size() - i - 1;
    if (lv.buf.size() < m * k) lv.buf.resize(m * k);  // before taking pointers into it
    lv.rows.clear();
    for (std::size_t j = 0; j < m; ++j) {
      const double* q = rows[i + 1 + j];
      double* l = lv.buf.data() + j * k;
      bool same = true;
      for (std::size_t c = 0; c < k; ++c) {
        l[c] = std::max(p[c], q[c]);
        same = same && l[c] == p[c];
      }
      if (same) return false;
      add_non_dominated(lv.rows, l, k);
    }
    return true;
  }

  std::vector<std::array<double, 2>> pairs_;
  std::vector<std::array<double, 3>> triples_;
  const double* ref_;
  bool hv3d_base_;
  std::vector<Level> levels_;  // sized once: references into it stay valid while recursing
};

double wfg(const std::vector<Point>& points, const Point& ref, bool hv3d_base, const char* fn) {
  const std::size_t d = ref.size();
  std::vector<double> buf;
  const bool infinite = collect(fn, points, ref, 0, [&](const Point& p) {
    buf.insert(buf.end(), p.begin(), p.end());
  });
  if (infinite) return kInf;
  std::vector<const double*> rows;
  for (std::size_t r = 0; r * d < buf.size(); ++r)
    add_non_dominated(rows, buf.data() + r * d, d);
  return Wfg(ref.data(), d, hv3d_base).volume(rows, d, 0);
}

double hv2d(const std::vector<Point>& points, const Point& ref, const char* fn) {
  std::vector<std::array<double, 2>> p;
  p.reserve(points.size());
  if (collect(fn, points, ref, 2, [&](const Point& q) { p.push_back({q[0], q[1]}); }))
    return kInf;
  return sweep2d(p, ref[0], ref[1]);
}

double hv3d(const std::vector<Point>& points, const Point& ref, const char* fn) {
  std::vector<std::array<double, 3>> p;
  p.reserve(points.size());
  if (collect(fn, points, ref, 3, [&](const Point& q) { p.push_back({q[0], q[1], q[2]}); }))
    return kInf;
  return sweep3d(p, ref.data());
}

// ---- non-dominated filtering -----------------------------------------------------------------

// Lexicographic order, ties by index. If a weakly dominates b and a != b then a precedes b, and
// equal points keep their index order; so scanning in this order, a point is dropped exactly
// when an earlier (kept) one weakly dominates it. Checking kept points suffices: a dropped
// point's dominator is itself weakly dominated by a kept one.
std::vector<std::size_t> lex_order(const std::vector<Point>& points) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Point& pa = points[a];
    const Point& pb = points[b];
    for (std::size_t j = 0; j < pa.size(); ++j)
      if (pa[j] != pb[j]) return pa[j] < pb[j];
    return a < b;
  });
  return order;
}

// Staircase of the kept points' (y, z) in lexicographic scan order; every earlier point has a
// smaller or equal x, so a candidate is weakly dominated iff some step has y_s <= y, z_s <= z,
// and only the step with the largest y_s <= y needs checking. No sentinels: points may be
// infinite here.
std::vector<std::size_t> non_dominated_3d(const std::vector<Point>& points,
                                          const std::vector<std::size_t>& order) {
  std::vector<std::size_t> kept;
  std::set<Step, ByX> stairs;  // Step{y, z}
  for (std::size_t i : order) {
    const Step c{points[i][1], points[i][2]};
    auto s = stairs.upper_bound(c);  // first step with y_s > y
    if (s != stairs.begin() && std::prev(s)->y <= c.y) continue;
    kept.push_back(i);
    s = stairs.lower_bound(c);
    while (s != stairs.end() && s->y >= c.y) s = stairs.erase(s);
    stairs.emplace_hint(s, c);
  }
  return kept;
}

}  // namespace

double hypervolume(const std::vector<Point>& points, const Point& ref) {
  switch (ref.size()) {
    case 2: return hv2d(points, ref, "hypervolume");
    case 3: return hv3d(points, ref, "hypervolume");
    default: return wfg(points, ref, /*hv3d_base=*/true, "hypervolume");
  }
}

double hypervolume_2d(std::vector<Point> points, const Point& ref) {
  return hv2d(points, ref, "hypervolume_2d");
}

double hypervolume_3d(std::vector<Point> points, const Point& ref) {
  return hv3d(points, ref, "hypervolume_3d");
}

double hypervolume_wfg(std::vector<Point> points, const Point& ref) {
  return wfg(points, ref, /*hv3d_base=*/false, "hypervolume_wfg");
}

std::vector<std::size_t> non_dominated(const std::vector<Point>& points) {
  if (points.empty()) return {};
  const std::size_t d = points[0].size();
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].size() != d)
      fail("non_dominated", "point " + std::to_string(i) + " has " +
                                std::to_string(points[i].size()) + " objectives, point 0 has " +
                                std::to_string(d));
    check_values("non_dominated", points[i], "point " + std::to_string(i));
  }
  const std::vector<std::size_t> order = lex_order(points);
  std::vector<std::size_t> kept;
  if (d == 2) {
    // In scan order a point survives iff its y is below every earlier kept y.
    for (std::size_t i : order)
      if (kept.empty() || points[i][1] < points[kept.back()][1]) kept.push_back(i);
  } else if (d == 3) {
    kept = non_dominated_3d(points, order);
  } else {
    std::vector<const double*> rows;
    for (std::size_t i : order) {
      const double* p = points[i].data();
      const bool dominated = std::any_of(rows.begin(), rows.end(), [&](const double* r) {
        return weakly_dominates(r, p, d);
      });
      if (dominated) continue;
      rows.push_back(p);
      kept.push_back(i);
    }
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

Point reference_point(const std::vector<std::vector<Point>>& fronts) {
  const char* fn = "reference_point";
  const Point* first = nullptr;
  for (const auto& front : fronts)
    if (!front.empty()) {
      first = &front[0];
      break;
    }
  if (first == nullptr) fail(fn, "no points to derive a reference point from");
  const std::size_t d = first->size();
  if (d == 0) fail(fn, "the points have no objectives");
  Point lo(d, kInf);
  Point hi(d, -kInf);
  for (std::size_t f = 0; f < fronts.size(); ++f)
    for (std::size_t i = 0; i < fronts[f].size(); ++i) {
      const Point& p = fronts[f][i];
      const std::string name = "front " + std::to_string(f) + ", point " + std::to_string(i);
      if (p.size() != d)
        fail(fn, name + " has " + std::to_string(p.size()) + " objectives, expected " +
                     std::to_string(d));
      for (std::size_t j = 0; j < d; ++j) {
        if (!std::isfinite(p[j]))
          fail(fn, name + ", objective " + std::to_string(j) + " is not finite");
        lo[j] = std::min(lo[j], p[j]);
        hi[j] = std::max(hi[j], p[j]);
      }
    }
  Point ref(d);
  for (std::size_t j = 0; j < d; ++j) {
    const double range = hi[j] - lo[j];
    ref[j] = hi[j] + (range > 0.0 ? 0.1 * range : 1.0);
    // Margin lost to rounding, or range overflowed: the closest strictly worse value.
    if (!(ref[j] > hi[j]) || std::isinf(ref[j])) ref[j] = std::nextafter(hi[j], kInf);
  }
  return ref;
}

}  // namespace hetmap::dse
