#include "hetmap/report.hpp"

#include <fmt/format.h>

#include <cmath>

namespace hetmap {

namespace {

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json per_result(const Problem& pb, const std::vector<double>& v) {
  Json o = Json::object();
  for (int r = 0; r <= pb.exits(); ++r) o[result_name(pb, r)] = number(v[r]);
  return o;
}

Json per_processor(const Problem& pb, const std::vector<double>& v) {
  Json o = Json::object();
  for (int p = 0; p < pb.processors(); ++p) o[pb.platform().processors[p].name] = number(v[p]);
  return o;
}

std::string cell(const Json& v, const char* fmt_spec) {
  if (v.is_null()) return "n/a";
  if (v.is_number()) return fmt::format(fmt::runtime(fmt_spec), v.get<double>());
  return v.dump();
}

}  // namespace

std::string result_name(const Problem& problem, int result) {
  return result < problem.exits() ? problem.model().exits[result].name : "final";
}

Json to_json(const Problem& pb, const Metrics& m) {
  Json j;
  j["mean_latency_ms"] = number(m.mean_latency_ms);
  j["worst_latency_ms"] = number(m.worst_latency_ms);
  j["exit_latency_ms"] = per_result(pb, m.exit_latency_ms);
  j["exit_share"] = per_result(pb, m.exit_share);
  j["accuracy"] = number(m.accuracy);
  j["energy_mj"] = number(m.energy_mj);
  j["throughput_ips"] = number(m.throughput_ips);
  j["utilization"] = per_processor(pb, m.utilization);
  if (m.origin == Origin::analytical) return j;
  j["p50_latency_ms"] = number(m.p50_latency_ms);
  j["p95_latency_ms"] = number(m.p95_latency_ms);
  j["p99_latency_ms"] = number(m.p99_latency_ms);
  j["max_latency_ms"] = number(m.worst_latency_ms);
  j["inputs"] = m.inputs;
  j["makespan_ms"] = number(m.makespan_ms);
  j["events"] = m.events;
  j["cancelled_tasks"] = m.cancelled_tasks;
  j["cancelled_copies"] = m.cancelled_copies;
  j["cancelled_work_ms"] = number(m.cancelled_work_ms);
  return j;
}

std::string to_table(const Json& j) {
  std::string out;
  auto line = [&](const char* label, const Json& v, const char* spec, const char* unit) {
    out += fmt::format("  {:<16} {} {}\n", label, cell(v, spec), unit);
  };
  line("mean latency", j["mean_latency_ms"], "{:.4f}", "ms");
  line("worst latency", j["worst_latency_ms"], "{:.4f}", "ms");
  if (j.contains("p50_latency_ms")) {
    line("p50 latency", j["p50_latency_ms"], "{:.4f}", "ms");
    line("p95 latency", j["p95_latency_ms"], "{:.4f}", "ms");
    line("p99 latency", j["p99_latency_ms"], "{:.4f}", "ms");
  }
  line("accuracy", j["accuracy"], "{:.4f}", "");
  line("energy", j["energy_mj"], "{:.4f}", "mJ per input");
  line("throughput", j["throughput_ips"], "{:.2f}",
       j.contains("p50_latency_ms") ? "inputs/s" : "inputs/s (pipelined bound)");
  if (j.contains("cancelled_tasks"))
    out += fmt::format("  {:<16} {} tasks, {} copies, {} of work\n", "cancelled",
                       j["cancelled_tasks"].get<long long>(), j["cancelled_copies"].get<long long>(),
                       j["cancelled_work_ms"].is_null()
                           ? std::string("unknown amount")
                           : fmt::format("{:.4f} ms", j["cancelled_work_ms"].get<double>()));
  out += fmt::format("\n  {:<16} {:>12} {:>8}\n", "result", "latency_ms", "share");
  for (const auto& [name, lat] : j["exit_latency_ms"].items())
    out += fmt::format("  {:<16} {:>12} {:>8}\n", name, cell(lat, "{:.4f}"),
                       cell(j["exit_share"][name], "{:.4f}"));
  out += fmt::format("\n  {:<16} {:>12}\n", "processor", "utilization");
  for (const auto& [name, u] : j["utilization"].items())
    out += fmt::format("  {:<16} {:>12}\n", name, cell(u, "{:.3f}"));
  return out;
}

Json chrome_trace(const Problem& pb, const Schedule& s) {
  Json events = Json::array();
  const int P = pb.processors();
  auto meta = [&](int tid, const std::string& name) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid},
                      {"args", {{"name", name}}}});
    events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", tid},
                      {"args", {{"sort_index", tid}}}});
  };
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1},
                    {"args", {{"name", pb.model().name + " on " + pb.platform().name}}}});
  for (int p = 0; p < P; ++p) meta(p + 1, pb.platform().processors[p].name);
  for (int r = 0; r < pb.link_resources(); ++r) meta(P + 1 + r, "link " + pb.link_name(r));
  const auto us = [](double ms) { return ms * 1000.0; };
  for (const TaskSpan& t : s.tasks) {
    const Layer& l = pb.model().layers[t.layer];
    events.push_back({{"name", l.name}, {"cat", l.exit >= 0 ? "exit" : "backbone"}, {"ph", "X"},
                      {"pid", 1}, {"tid", t.proc + 1}, {"ts", us(t.start)},
                      {"dur", us(t.finish - t.start)},
                      {"args", {{"input", t.input}, {"op", to_string(l.kind)}}}});
  }
  for (const CopySpan& c : s.copies) {
    if (c.resource < 0) continue;
    const std::string what = c.producer < 0 ? "input" : pb.model().layers[c.producer].name;
    events.push_back({{"name", what + " -> " + pb.platform().processors[c.to].name},
                      {"cat", "copy"}, {"ph", "X"}, {"pid", 1}, {"tid", P + 1 + c.resource},
                      {"ts", us(c.start)}, {"dur", us(c.finish - c.start)},
                      {"args", {{"input", c.input}}}});
  }
  for (const ResultMark& m : s.results)
    events.push_back({{"name", result_name(pb, m.result) + " result"}, {"cat", "result"},
                      {"ph", "i"}, {"s", "t"}, {"pid", 1}, {"tid", pb.host() + 1},
                      {"ts", us(m.time)}, {"args", {{"input", m.input}}}});
  return Json{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace hetmap
