#include "hetmap/platform.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "hetmap/detail/io.hpp"
#include "hetmap/detail/number.hpp"
#include "hetmap/detail/yaml.hpp"

namespace hetmap {

using detail::fail;
using detail::MapReader;

const char* to_string(ProcKind kind) {
  switch (kind) {
    case ProcKind::cpu: return "cpu";
    case ProcKind::gpu: return "gpu";
    case ProcKind::npu: return "npu";
  }
  return "?";
}

int Processor::freq_level(double mhz) const {
  if (freqs_mhz.empty()) return mhz == 0.0 ? 0 : -1;
  for (std::size_t i = 0; i < freqs_mhz.size(); ++i)
    if (freqs_mhz[i] == mhz) return static_cast<int>(i);
  return -1;
}

int Platform::find(const std::string& processor) const {
  for (std::size_t i = 0; i < processors.size(); ++i)
    if (processors[i].name == processor) return static_cast<int>(i);
  return -1;
}

int Platform::link_index(int p, int q) const {
  const int a = std::min(p, q), b = std::max(p, q);
  for (std::size_t i = 0; i < links.size(); ++i)
    if (links[i].a == a && links[i].b == b) return static_cast<int>(i);
  return -1;
}

bool Platform::has_power() const {
  return std::all_of(processors.begin(), processors.end(),
                     [](const Processor& p) { return p.has_power; });
}

namespace {

Processor parse_processor(const std::string& file, const YAML::Node& node) {
  MapReader r(file, node, "processor");
  Processor p;
  p.line = r.line();
  p.name = r.str("name");
  const std::string what = "processor '" + p.name + "'";
  const YAML::Node kind = r.required("kind");
  const std::string k = detail::as_string(file, kind, what + ".kind");
  if (k == "cpu") p.kind = ProcKind::cpu;
  else if (k == "gpu") p.kind = ProcKind::gpu;
  else if (k == "npu") p.kind = ProcKind::npu;
  else fail(file, kind, what + ".kind: expected cpu, gpu or npu, got '" + k + "'");
  if (auto cores = r.opt_int("cores")) {
    if (*cores < 1 || *cores > 255) fail(file, r.get("cores"), what + ".cores: expected 1..255");
    p.cores = static_cast<int>(*cores);
  }
  if (YAML::Node f = r.get("freqs_mhz"); f && !f.IsNull()) {
    p.freqs_mhz = detail::as_double_list(file, f, what + ".freqs_mhz");
    if (p.freqs_mhz.empty() || p.freqs_mhz.size() > 255)
      fail(file, f, what + ".freqs_mhz: expected 1 to 255 frequencies");
    for (std::size_t i = 0; i < p.freqs_mhz.size(); ++i) {
      if (p.freqs_mhz[i] <= 0) fail(file, f, what + ".freqs_mhz: frequencies must be > 0");
      if (auto e = detail::out_of_range(p.freqs_mhz[i], detail::kMegahertz); !e.empty())
        fail(file, f, what + ".freqs_mhz: " + e);
      if (i && p.freqs_mhz[i] <= p.freqs_mhz[i - 1])
        fail(file, f, what + ".freqs_mhz: expected strictly ascending frequencies");
    }
  }
  const std::size_t levels = p.freqs_mhz.empty() ? 1 : p.freqs_mhz.size();
  if (YAML::Node a = r.get("active_w"); a && !a.IsNull()) {
    p.has_power = true;
    if (a.IsSequence()) {
      p.active_w = detail::as_double_list(file, a, what + ".active_w");
      if (p.active_w.size() != levels)
        fail(file, a, what + ".active_w: expected one value per frequency (" +
                          std::to_string(levels) + "), got " + std::to_string(p.active_w.size()));
    } else {
      p.active_w.assign(levels, detail::as_double(file, a, what + ".active_w"));
    }
    for (double w : p.active_w) {
      if (w < 0) fail(file, a, what + ".active_w: expected watts >= 0");
      if (auto e = detail::out_of_range(w, detail::kWatts); !e.empty()) fail(file, a, what + ".active_w: " + e);
    }
  } else {
    p.active_w.assign(levels, 0.0);
  }
  if (auto idle = r.opt_num("idle_w")) {
    if (*idle < 0) fail(file, r.get("idle_w"), what + ".idle_w: expected watts >= 0");
    if (auto e = detail::out_of_range(*idle, detail::kWatts); !e.empty())
      fail(file, r.get("idle_w"), what + ".idle_w: " + e);
    p.idle_w = *idle;
  }
  r.finish();
  return p;
}

}  // namespace

Platform parse_platform(const std::string& yaml_text, const std::string& file) {
  MapReader r(file, detail::parse_yaml(yaml_text, file), "platform");
  Platform pf;
  pf.file = file;
  pf.name = r.str("name");
  const YAML::Node procs = r.required("processors");
  if (!procs.IsSequence() || procs.size() == 0)
    fail(file, procs, "platform.processors: expected a non-empty list of processors");
  if (procs.size() > static_cast<std::size_t>(kMaxProcessors))
    fail(file, procs, "platform.processors: at most " + std::to_string(kMaxProcessors) + " processors");
  std::set<std::string> names;
  for (const auto& n : procs) {
    Processor p = parse_processor(file, n);
    if (!names.insert(p.name).second) fail(file, n, "duplicate processor '" + p.name + "'");
    pf.processors.push_back(std::move(p));
  }
  const YAML::Node host = r.required("host");
  pf.host = pf.find(detail::as_string(file, host, "platform.host"));
  if (pf.host < 0) fail(file, host, "platform.host: '" + host.Scalar() + "' is not a processor");

  if (YAML::Node links = r.get("links"); links && !links.IsNull()) {
    if (!links.IsSequence()) fail(file, links, "platform.links: expected a list of links");
    for (const auto& n : links) {
      MapReader lr(file, n, "link");
      Link l;
      l.line = lr.line();
      const YAML::Node between = lr.required("between");
      const auto ends = detail::as_string_list(file, between, "link.between");
      if (ends.size() != 2) fail(file, between, "link.between: expected two processor names");
      const int a = pf.find(ends[0]), b = pf.find(ends[1]);
      if (a < 0) fail(file, between, "link.between: unknown processor '" + ends[0] + "'");
      if (b < 0) fail(file, between, "link.between: unknown processor '" + ends[1] + "'");
      if (a == b) fail(file, between, "link.between: a link joins two different processors");
      l.a = std::min(a, b);
      l.b = std::max(a, b);
      l.latency_ms = lr.opt_num("latency_ms").value_or(0.0);
      if (l.latency_ms < 0) fail(file, lr.get("latency_ms"), "link.latency_ms: expected >= 0");
      if (auto e = detail::out_of_range(l.latency_ms, detail::kMilliseconds); !e.empty())
        fail(file, lr.get("latency_ms"), "link.latency_ms: " + e);
      l.gbytes_per_s = lr.num("gbytes_per_s");
      if (l.gbytes_per_s <= 0) fail(file, lr.get("gbytes_per_s"), "link.gbytes_per_s: expected > 0");
      if (auto e = detail::out_of_range(l.gbytes_per_s, detail::kGigabytesPerSecond); !e.empty())
        fail(file, lr.get("gbytes_per_s"), "link.gbytes_per_s: " + e);
      lr.finish();
      if (pf.link_index(a, b) >= 0)
        fail(file, n, "duplicate link between '" + ends[0] + "' and '" + ends[1] + "'");
      pf.links.push_back(l);
    }
  }
  if (auto c = r.opt_num("contention")) {
    if (*c <= 0) fail(file, r.get("contention"), "platform.contention: expected a factor > 0");
    if (auto e = detail::out_of_range(*c, detail::kFactor); !e.empty())
      fail(file, r.get("contention"), "platform.contention: " + e);
    pf.contention = *c;
  }
  pf.source = r.opt_str("source").value_or("");
  r.finish();
  return pf;
}

Platform load_platform(const std::string& path) {
  return parse_platform(detail::read_file(path), path);
}

std::string to_yaml(const Platform& pf, const std::vector<std::string>& comments) {
  using detail::number_text;
  std::string head;
  for (std::string c : comments) {
    std::replace(c.begin(), c.end(), '\n', ' ');
    head += "# " + c + "\n";
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << pf.name;
  out << YAML::Key << "host" << YAML::Value << YAML::DoubleQuoted
      << pf.processors.at(static_cast<std::size_t>(pf.host)).name;
  out << YAML::Key << "processors" << YAML::Value << YAML::BeginSeq;
  for (const Processor& p : pf.processors) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << p.name;
    out << YAML::Key << "kind" << YAML::Value << to_string(p.kind);
    out << YAML::Key << "cores" << YAML::Value << p.cores;
    if (!p.freqs_mhz.empty()) {
      out << YAML::Key << "freqs_mhz" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (double f : p.freqs_mhz) out << number_text(f);
      out << YAML::EndSeq;
    }
    if (p.has_power) {
      out << YAML::Key << "active_w" << YAML::Value;
      if (std::adjacent_find(p.active_w.begin(), p.active_w.end(), std::not_equal_to<>()) ==
          p.active_w.end()) {
        out << number_text(p.active_w.at(0));
      } else {
        out << YAML::Flow << YAML::BeginSeq;
        for (double w : p.active_w) out << number_text(w);
        out << YAML::EndSeq;
      }
    }
    if (p.has_power || p.idle_w != 0.0) out << YAML::Key << "idle_w" << YAML::Value << number_text(p.idle_w);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  if (!pf.links.empty()) {
    out << YAML::Key << "links" << YAML::Value << YAML::BeginSeq;
    for (const Link& l : pf.links) {
      out << YAML::Flow << YAML::BeginMap;
      out << YAML::Key << "between" << YAML::Value << YAML::Flow << YAML::BeginSeq
          << YAML::DoubleQuoted << pf.processors.at(static_cast<std::size_t>(l.a)).name
          << YAML::DoubleQuoted << pf.processors.at(static_cast<std::size_t>(l.b)).name
          << YAML::EndSeq;
      out << YAML::Key << "latency_ms" << YAML::Value << number_text(l.latency_ms);
      out << YAML::Key << "gbytes_per_s" << YAML::Value << number_text(l.gbytes_per_s);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "contention" << YAML::Value << number_text(pf.contention);
  if (!pf.source.empty()) out << YAML::Key << "source" << YAML::Value << YAML::DoubleQuoted << pf.source;
  out << YAML::EndMap;
  return head + out.c_str() + "\n";
}

}  // namespace hetmap
