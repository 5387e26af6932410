#pragma once
// The hypervolume indicator: the one number `hetmap explore` uses to compare the fronts of
// different searches, generations or settings. It is the only known unary indicator that is
// strictly monotone in Pareto dominance (with a reference point every point beats, a front that
// dominates another scores strictly higher), which is why it is preferred over spread or
// distance measures.
//
// Every objective is MINIMISED. All values are exact (no Monte Carlo estimate), and the
// algorithm is picked by the number of objectives d:
//   d = 1, 2  sort and sweep, O(n log n);
//   d = 3     HV3D (Beume, Fonseca, Lopez-Ibanez, Paquete, Vahrenhold 2009): sweep along the
//             third objective, keeping the 2-D staircase of the points seen so far in a balanced
//             tree (std::set) and updating its area incrementally, O(n log n);
//   d >= 4    WFG (While, Bradstreet, Barone 2012): a sum of exclusive contributions, each the
//             point's box minus the hypervolume of its "limit set", sliced along the last
//             objective. Exponential in the worst case (exact hypervolume is #P-hard in d),
//             but among the fastest exact methods in practice for fronts of up to a few
//             hundred points.
//
// Every function is pure (no shared state) and so safe to call from several threads at once.
#include <cstddef>
#include <vector>

namespace hetmap::dse {

/// One objective vector; all points and the reference point of a call have the same size.
using Point = std::vector<double>;

/// Hypervolume dominated by `points` and bounded by the reference point `ref`: the volume of
/// the union of the boxes [p, ref]. A point not strictly better than `ref` in every objective
/// spans no volume and is ignored, so a poorly chosen `ref` silently drops points (see
/// reference_point()). Dominated and duplicate points are allowed and change nothing; the empty
/// set has hypervolume 0. Dispatches on ref.size(): 1 and 2 objectives sweep, 3 uses HV3D, 4 or
/// more use WFG with HV3D as the base case of its recursion (a few percent faster than plain
/// WFG, and a different code path from hypervolume_wfg(), so each checks the other in tests).
/// An infinite result is returned when a counted point has a -inf objective or `ref` a +inf one.
/// Throws std::invalid_argument if `ref` is empty, a point's size differs from ref.size(), or
/// any coordinate (of `ref` or of any point, counted or not) is NaN.
double hypervolume(const std::vector<Point>& points, const Point& ref);

/// The d = 2 sweep (also throws if ref.size() != 2). Takes the points by value because it
/// sorts them; hypervolume() avoids that copy, so prefer it unless you need a specific method.
double hypervolume_2d(std::vector<Point> points, const Point& ref);

/// The d = 3 HV3D sweep (also throws if ref.size() != 3).
double hypervolume_3d(std::vector<Point> points, const Point& ref);

/// Plain WFG for any d >= 1, recursing down to the 2-D sweep (never to HV3D), so it is an
/// independent check of the specialised algorithms; slower than hypervolume() for d >= 4.
double hypervolume_wfg(std::vector<Point> points, const Point& ref);

/// Indices, in increasing order, of the points no other point dominates (a dominates b when a
/// is <= b in every objective and < in at least one). Of several equal points only the first
/// is kept, so the result is a set of distinct, mutually non-dominated points: the rule of
/// dse::Archive (archive.hpp), which keeps searches' results incrementally; this is the
/// stateless filter over plain objective vectors.
/// O(n log n) for up to 3 objectives, O(n * k * d) for more (k: size of the result).
/// Throws std::invalid_argument if the points differ in size or any coordinate is NaN.
std::vector<std::size_t> non_dominated(const std::vector<Point>& points);

/// A common reference point for comparing `fronts`: per objective, the worst (largest) value
/// over all points of all fronts plus 10% of that objective's range (max - min), or plus 1
/// when the range is 0. The margin makes every given point strictly better than the result,
/// so each one counts (including the extremes of a front, which a reference at the worst values
/// would ignore), and using one reference for all fronts makes their hypervolumes comparable.
/// When the margin is lost to rounding (huge values), the next double above the worst is used,
/// so the strictness always holds. Throws std::invalid_argument if there are no points at all,
/// the points differ in size, or any coordinate is not finite.
Point reference_point(const std::vector<std::vector<Point>>& fronts);

}  // namespace hetmap::dse
