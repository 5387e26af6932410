#pragma once
// The graph algorithms the loaders need, on Boost.Graph (sim/src/graph.cpp): a cycle named
// vertex by vertex, a topological order with a stated tie rule, and what a vertex depends on.
// A graph is given as each vertex's producers, the way Layer::inputs lists them (edges
// producer -> vertex): negative producers (the model input) are no vertices and are skipped,
// and a producer listed twice is one edge. No Boost type appears here. Internal to hetmap.
#include <vector>

namespace hetmap::detail {

/// producers[v]: the vertices v reads.
using Producers = std::vector<std::vector<int>>;

/// A cycle as its vertices in edge order (v0 -> v1 -> ... -> v0; v0 is not repeated), starting
/// at the lowest vertex on it, so that a message names it the same way every time; empty when
/// the graph is acyclic. A vertex reading itself is a cycle of one.
std::vector<int> find_cycle(const Producers& producers);

/// How a topological order picks among vertices that are ready (all their producers placed).
enum class Ties {
  first_ready,   // first ready, first placed; those ready from the start in vertex order
  lowest_index,  // the lowest vertex: the vertices' own order wherever it is a topological one
};

/// Every vertex once, producers before consumers (Kahn's algorithm over the graph's edges).
/// On a graph with a cycle, the vertices on a cycle or downstream of one are left out: an order
/// shorter than the graph says there is a cycle, which find_cycle() then names.
std::vector<int> topological_order(const Producers& producers, Ties ties);

/// Per vertex: 1 where `vertex` depends on it (reaches it through producers), `vertex` itself
/// included; else 0.
std::vector<char> upstream(const Producers& producers, int vertex);

}  // namespace hetmap::detail
