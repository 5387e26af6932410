#pragma once
// What ran where and when: the record behind Gantt charts and Chrome traces.
#include <string>
#include <vector>

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
