#pragma once
// A heterogeneous platform: processors with DVFS levels and power, and the links between them
// (`profiles/PLATFORM/platform.yaml`, docs/formats.md).
#include <string>
#include <vector>

namespace hetmap {

enum class ProcKind { cpu, gpu, npu };
const char* to_string(ProcKind kind);

struct Processor {
  std::string name;
  ProcKind kind = ProcKind::cpu;
  int cores = 1;
  std::vector<double> freqs_mhz;   // ascending; empty = no DVFS
  std::vector<double> active_w;    // one per frequency level (one value when no DVFS)
  double idle_w = 0.0;
  bool has_power = false;          // active_w was given
  int line = 0;

  /// Default frequency: the highest level, 0 when the processor has no DVFS levels.
  double default_freq() const { return freqs_mhz.empty() ? 0.0 : freqs_mhz.back(); }
  int default_threads() const { return cores; }
  int freq_level(double mhz) const;  // index in freqs_mhz, -1 if not a level
  int levels() const { return freqs_mhz.empty() ? 1 : static_cast<int>(freqs_mhz.size()); }
};

struct Link {
  int a = -1, b = -1;  // processor indices, a < b
  double latency_ms = 0.0;
  double gbytes_per_s = 1.0;
  int line = 0;
  double copy_ms(double bytes) const { return latency_ms + bytes / (gbytes_per_s * 1e9) * 1e3; }
};

/// The most processors a platform may have (docs/formats.md): the simulators keep per-processor
/// state in fixed arrays and sets of processors in 64-bit masks.
inline constexpr int kMaxProcessors = 64;

struct Platform {
  std::string name;
  std::string file;
  int host = 0;
  std::vector<Processor> processors;
  std::vector<Link> links;
  double contention = 1.0;
  std::string source;

  int find(const std::string& processor) const;  // -1 if absent
  int link_index(int p, int q) const;            // -1 if the pair has no link
  bool has_power() const;                        // every processor has active power
};

Platform load_platform(const std::string& path);
Platform parse_platform(const std::string& yaml_text, const std::string& file);

/// The platform's YAML text, which parse_platform reads back into the same platform: a `#` line
/// per comment (line breaks become spaces), then name, host, processors (one flow mapping each:
/// active_w one number when every level draws the same, idle_w when it has power or is not 0),
/// links, contention and source, in the order of docs/formats.md. Names are double-quoted;
/// numbers are written exactly (the shortest text that reads back as the same double).
std::string to_yaml(const Platform& platform, const std::vector<std::string>& comments = {});

}  // namespace hetmap
