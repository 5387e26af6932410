#include "hetmap/detail/graph.hpp"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>

#include <algorithm>
#include <functional>
#include <queue>

namespace hetmap::detail {
namespace {

// vecS vertices are their indices; vecS edge lists keep insertion order, so a vertex's
// out-edges lead to its consumers in increasing order (build() adds them consumer by consumer).
// bidirectionalS: upstream() walks the edges backwards.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = Graph::vertex_descriptor;
using Edge = Graph::edge_descriptor;

Graph build(const Producers& producers) {
  Graph g(producers.size());
  std::vector<int> from;
  for (std::size_t v = 0; v < producers.size(); ++v) {
    from = producers[v];
    std::sort(from.begin(), from.end());
    from.erase(std::unique(from.begin(), from.end()), from.end());
    for (int p : from)
      if (p >= 0) boost::add_edge(static_cast<Vertex>(p), static_cast<Vertex>(v), g);
  }
  return g;
}

auto index_map(std::vector<boost::default_color_type>& color, const Graph& g) {
  return boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
}

// Depth-first search records each vertex's tree parent; the first back edge u -> v (v is a
// vertex on the current path, u itself for a self-loop) closes the cycle v -> ... -> u -> v.
// Boost copies visitors: the state lives outside.
struct CycleRecorder : boost::default_dfs_visitor {
  std::vector<Vertex>* parent;
  std::vector<int>* cycle;
  void tree_edge(Edge e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(Edge e, const Graph& g) const {
    if (!cycle->empty()) return;
    const Vertex head = boost::target(e, g);
    for (Vertex v = boost::source(e, g);; v = (*parent)[v]) {
      cycle->push_back(static_cast<int>(v));
      if (v == head) break;
    }
    std::reverse(cycle->begin(), cycle->end());
  }
};

}  // namespace

std::vector<int> find_cycle(const Producers& producers) {
  const Graph g = build(producers);
  std::vector<Vertex> parent(boost::num_vertices(g));
  std::vector<int> cycle;
  std::vector<boost::default_color_type> color(boost::num_vertices(g));
  boost::depth_first_search(g, CycleRecorder{{}, &parent, &cycle}, index_map(color, g));
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  return cycle;
}

std::vector<int> topological_order(const Producers& producers, Ties ties) {
  // Boost's topological_sort is a depth-first postorder: a valid order, but neither tie rule,
  // and the order is visible (shape errors are reported in it; an import writes its layers in
  // it). Kahn's algorithm over the Boost graph keeps the rule explicit.
  const Graph g = build(producers);
  const std::size_t n = boost::num_vertices(g);
  std::vector<int> waiting(n);
  for (Vertex v = 0; v < n; ++v) waiting[v] = static_cast<int>(boost::in_degree(v, g));
  std::vector<int> order;  // with first_ready, also the queue of ready vertices
  order.reserve(n);
  std::priority_queue<int, std::vector<int>, std::greater<int>> lowest;
  auto ready = [&](int v) {
    if (ties == Ties::first_ready) order.push_back(v);
    else lowest.push(v);
  };
  auto place = [&](int v) {
    for (auto [e, end] = boost::out_edges(static_cast<Vertex>(v), g); e != end; ++e) {
      const Vertex t = boost::target(*e, g);
      if (--waiting[t] == 0) ready(static_cast<int>(t));
    }
  };
  for (Vertex v = 0; v < n; ++v)
    if (waiting[v] == 0) ready(static_cast<int>(v));
  if (ties == Ties::first_ready) {
    for (std::size_t h = 0; h < order.size(); ++h) place(order[h]);
  } else {
    while (!lowest.empty()) {
      const int v = lowest.top();
      lowest.pop();
      order.push_back(v);
      place(v);
    }
  }
  return order;
}

std::vector<char> upstream(const Producers& producers, int vertex) {
  const Graph g = build(producers);
  std::vector<boost::default_color_type> color(boost::num_vertices(g));
  boost::breadth_first_search(boost::make_reverse_graph(g), static_cast<Vertex>(vertex),
                              boost::color_map(index_map(color, g)));
  std::vector<char> reached(color.size());
  for (std::size_t v = 0; v < color.size(); ++v)
    reached[v] = color[v] != boost::white_color ? 1 : 0;
  return reached;
}

}  // namespace hetmap::detail
