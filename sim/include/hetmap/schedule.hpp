#pragma once
// What ran where and when: the record behind Gantt charts and Chrome traces.
#include <cstdint>
#include <string>
#include <vector>

#include "hetmap/error.hpp"

namespace hetmap {

struct TaskSpan {
  int input = 0;
  int layer = -1;
  int proc = -1;
  double start = 0.0, finish = 0.0;  // ms
};

struct CopySpan {
  int input = 0;
  int producer = -1;  // -1: the model input
  int from = -1, to = -1;
  int resource = -1;  // link resource, -1 for an instantaneous copy
  double start = 0.0, finish = 0.0;
};

struct ResultMark {
  int input = 0;
  int result = 0;     // exit index, or exits() for the final output
  double time = 0.0;  // when it reached the host
};

/// The most spans a recorded schedule may hold (docs/formats.md, "Model size"): 2^26, about
/// 3 GiB of spans and a Chrome trace of some 10 GB. Every span of every input is kept until the
/// run ends, so a long run is refused before it starts rather than failing to allocate.
inline constexpr std::int64_t kMaxScheduleSpans = std::int64_t{1} << 26;

/// Throws InputError when recording `inputs` inputs of up to `spans_per_input` spans each (tasks,
/// copies and results) could pass kMaxScheduleSpans.
inline void check_schedule_size(std::int64_t inputs, std::int64_t spans_per_input) {
  if (spans_per_input > 0 && inputs > kMaxScheduleSpans / spans_per_input)
    throw InputError("", 0,
                     "a recorded schedule (--chrome-trace) of " + std::to_string(inputs) +
                         " inputs of up to " + std::to_string(spans_per_input) +
                         " spans each could pass the " + std::to_string(kMaxScheduleSpans) +
                         " spans hetmap records: record fewer inputs");
}

struct Schedule {
  std::vector<TaskSpan> tasks;
  std::vector<CopySpan> copies;
  std::vector<ResultMark> results;
  void clear() {
    tasks.clear();
    copies.clear();
    results.clear();
  }
};

}  // namespace hetmap
