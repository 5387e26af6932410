#include "hetmap/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hetmap {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint32_t kCopyBit = 1u << 31;
}  // namespace

Evaluator::Evaluator(const Problem& problem)
    : problem_(problem),
      L_(problem.layers()),
      P_(problem.processors()),
      E_(problem.exits()),
      words_((problem.layers() + 63) / 64) {
  const int max_events = L_ + (L_ + 1) * P_ + 1;
  heap_.resize(max_events);
  start_.resize(L_);
  finish_.resize(L_);
  base_.resize(L_);
  waiting_.resize(L_);
  ready_.resize(static_cast<std::size_t>(P_) * words_);
  running_.resize(P_);
  link_free_.resize(problem.link_resources());
  result_time_.resize(E_ + 1);
  copies_.reserve(max_events);
  starting_.resize(P_);
  weight_.resize(E_ + 1);
  shares_.resize(E_ + 1);
  busy_.resize(P_);
  link_busy_.resize(problem.link_resources());
  proc_.resize(L_);
  eval_.exit_latency_ms.resize(E_ + 1);
  eval_.exit_share.resize(E_ + 1);
  eval_.utilization.resize(P_);
}

void Evaluator::push(double time, std::uint32_t key) {
  int i = heap_size_++;
  while (i > 0) {
    const int parent = (i - 1) / 2;
    const Event& p = heap_[parent];
    if (p.time < time || (p.time == time && p.key < key)) break;
    heap_[i] = p;
    i = parent;
  }
  heap_[i] = Event{time, key};
}

Evaluator::Event Evaluator::pop() {
  const Event top = heap_[0];
  const Event last = heap_[--heap_size_];
  int i = 0;
  for (;;) {
    int child = 2 * i + 1;
    if (child >= heap_size_) break;
    if (child + 1 < heap_size_) {
      const Event& a = heap_[child];
      const Event& b = heap_[child + 1];
      if (b.time < a.time || (b.time == a.time && b.key < a.key)) ++child;
    }
    const Event& c = heap_[child];
    if (last.time < c.time || (last.time == c.time && last.key < c.key)) break;
    heap_[i] = c;
    i = child;
  }
  heap_[i] = last;
  return top;
}

void Evaluator::make_ready(int layer, int proc) {
  ready_[proc * words_ + (layer >> 6)] |= 1ULL << (layer & 63);
  candidates_ |= 1ULL << proc;
}

// `producer`'s output (-1: the model input) is now present on `proc`.
void Evaluator::arrive(int producer, int proc, const Config& c) {
  const int* consumers = producer < 0 ? problem_.input_consumers().data() : problem_.succs(producer);
  const int n = producer < 0 ? static_cast<int>(problem_.input_consumers().size())
                             : problem_.n_succs(producer);
  for (int i = 0; i < n; ++i) {
    const int s = consumers[i];
    if (proc_[s] != proc || waiting_[s] < 0) continue;  // elsewhere, or a disabled exit's
    if (--waiting_[s] == 0) make_ready(s, proc);
  }
  if (producer >= 0 && proc == problem_.host()) {
    const int r = problem_.result_of(producer);
    if (r >= 0) result_time_[r] = now_;
  }
}

// Requests one copy of `producer`'s output per destination, in processor order.
void Evaluator::send(int producer, int from, std::uint64_t dest_mask, const Config& c) {
  while (dest_mask) {
    const int q = __builtin_ctzll(dest_mask);
    dest_mask &= dest_mask - 1;
    const int res = problem_.link_resource(from, q);
    if (res < 0) {  // no link: free and instantaneous
      arrive(producer, q, c);
      continue;
    }
    const double start = std::max(now_, link_free_[res]);
    const double end = start + problem_.copy_ms(producer, from, q);
    link_free_[res] = end;
    copies_.push_back(CopySpan{0, producer, from, q, res, start, end});
    push(end, kCopyBit | static_cast<std::uint32_t>((producer + 1) * P_ + q));
  }
}

void Evaluator::finish_task(int l, const Config& c) {
  const int p = c.proc[l];
  running_[p] = -1;
  candidates_ |= 1ULL << p;
  arrive(l, p, c);
  std::uint64_t dest = 0;
  const int* succ = problem_.succs(l);
  for (int i = 0, n = problem_.n_succs(l); i < n; ++i) {
    const int s = succ[i];
    if (waiting_[s] >= 0 && proc_[s] != p) dest |= 1ULL << proc_[s];
  }
  const int r = problem_.result_of(l);
  if (r >= 0) {
    if (p != problem_.host()) dest |= 1ULL << problem_.host();
    // Under `sequential` the next backbone layer waits for this exit's decision.
    if (r < E_ && c.policy == Policy::sequential) {
      const int g = problem_.gated_layer(r);
      if (g >= 0 && --waiting_[g] == 0) make_ready(g, c.proc[g]);
    }
  }
  send(l, p, dest, c);
}

// Every idle processor starts its first ready layer; durations are decided after all starts
// of this instant are known, so that contention is symmetric.
void Evaluator::dispatch(const Config& c) {
  int n_start = 0;
  // Only processors that became idle or got a ready layer since the last dispatch can start.
  for (std::uint64_t cand = candidates_; cand; cand &= cand - 1) {
    const int p = __builtin_ctzll(cand);
    if (running_[p] >= 0) continue;
    std::uint64_t* bits = &ready_[p * words_];
    for (int w = 0; w < words_; ++w) {
      if (!bits[w]) continue;
      const int l = (w << 6) | __builtin_ctzll(bits[w]);
      bits[w] &= bits[w] - 1;
      running_[p] = l;
      start_[l] = now_;
      starting_[n_start++] = p;
      break;
    }
  }
  candidates_ = 0;
  if (n_start == 0) return;
  const double contention = problem_.contention();
  for (int i = 0; i < n_start; ++i) {
    const int p = starting_[i];
    const int l = running_[p];
    bool other_busy = false;
    for (int q = 0; q < P_ && !other_busy; ++q) {
      if (q == p || running_[q] < 0) continue;
      const int o = running_[q];
      // A task started at this instant executes iff its profiled time is positive; an
      // earlier one iff it has not finished yet.
      other_busy = start_[o] == now_ ? base_[o] > 0.0 : finish_[o] > now_;
    }
    finish_[l] = now_ + base_[l] * (other_busy ? contention : 1.0);
  }
  for (int i = 0; i < n_start; ++i) {
    const int l = running_[starting_[i]];
    push(finish_[l], static_cast<std::uint32_t>(l));
  }
}

bool Evaluator::simulate(const Config& c) {
  // Feasibility and dependency counts.
  for (int l = 0; l < L_; ++l) {
    const int k = problem_.exit_of(l);
    start_[l] = finish_[l] = kNaN;
    if (k >= 0 && !c.exit_enabled(k)) {
      waiting_[l] = -1;
      continue;
    }
    const int p = c.proc[l];
    base_[l] = problem_.duration(l, p, c.freq_level[p], c.threads[p]);
    if (std::isnan(base_[l])) return false;
    int w = problem_.n_preds(l);
    if (c.policy == Policy::sequential)
      for (int g : problem_.gate_exits(l)) w += c.exit_enabled(g) ? 1 : 0;
    waiting_[l] = w;
  }
  std::fill(ready_.begin(), ready_.end(), 0);
  std::fill(running_.begin(), running_.end(), -1);
  candidates_ = 0;
  std::fill(link_free_.begin(), link_free_.end(), 0.0);
  std::fill(result_time_.begin(), result_time_.end(), kNaN);
  copies_.clear();
  heap_size_ = 0;
  now_ = 0.0;

  // The input is on the host at t = 0.
  const int host = problem_.host();
  arrive(-1, host, c);
  std::uint64_t dest = 0;
  for (int s : problem_.input_consumers())
    if (c.proc[s] != host) dest |= 1ULL << c.proc[s];
  send(-1, host, dest, c);

  for (;;) {
    dispatch(c);
    if (heap_size_ == 0) break;
    now_ = heap_[0].time;
    while (heap_size_ > 0 && heap_[0].time == now_) {
      const Event e = pop();
      if (e.key & kCopyBit) {
        const std::uint32_t v = e.key & ~kCopyBit;
        arrive(static_cast<int>(v / P_) - 1, static_cast<int>(v % P_), c);
      } else {
        finish_task(static_cast<int>(e.key), c);
      }
    }
  }
  return true;
}

void Evaluator::derive(const Config& c) {
  Evaluation& ev = eval_;
  const auto& model = problem_.model();
  const auto& trace = problem_.trace();
  for (int r = 0; r <= E_; ++r)
    ev.exit_latency_ms[r] = (r == E_ || c.exit_enabled(r)) ? result_time_[r] : kNaN;

  // weight_[j]: share of inputs whose result is the one from j (the earliest to reach the
  // host among the results that may answer for them).
  std::fill(weight_.begin(), weight_.end(), 0.0);
  bool accuracy_known = true;
  double accuracy = 0.0;
  if (!trace) {
    problem_.shares(c, shares_.data());
    int best = E_;
    double worst = result_time_[E_];
    for (int k = E_; k >= 0; --k) {
      if (k < E_) {
        if (!c.exit_enabled(k)) continue;
        if (result_time_[k] <= result_time_[best]) best = k;
      }
      worst = std::max(worst, result_time_[best]);
      weight_[best] += shares_[k];
    }
    ev.worst_latency_ms = worst;
    for (int j = 0; j <= E_; ++j) {
      if (weight_[j] <= 0.0) continue;
      const auto& acc = j < E_ ? model.exits[j].accuracy : model.final_accuracy;
      if (!acc) accuracy_known = false;
      else accuracy += weight_[j] * *acc;
    }
  } else {
    std::fill(shares_.begin(), shares_.end(), 0.0);
    const int n = trace->samples;
    const double unit = 1.0 / n;
    double worst = 0.0;
    for (int s = 0; s < n; ++s) {
      int first = E_;
      int best = E_;
      for (int k = 0; k < E_; ++k) {
        if (!c.exit_enabled(k) || trace->conf[k][s] < c.thresholds[k]) continue;
        if (first == E_) first = k;
        if (result_time_[k] < result_time_[best] ||
            (result_time_[k] == result_time_[best] && k < best))
          best = k;
      }
      shares_[first] += unit;
      weight_[best] += unit;
      worst = std::max(worst, result_time_[best]);
      accuracy += unit * (best < E_ ? trace->ok[best][s] : trace->final_ok[s]);
    }
    ev.worst_latency_ms = worst;
  }
  for (int r = 0; r <= E_; ++r) ev.exit_share[r] = shares_[r];
  ev.accuracy = accuracy_known ? accuracy : kNaN;

  // Latency, energy, busy time: each result time t_j counts with weight_[j].
  const bool power = problem_.has_power();
  double active_w[64], idle_w[64], window_busy[64];
  for (int p = 0; p < P_; ++p) {
    active_w[p] = power ? problem_.active_w(p, c.freq_level[p]) : 0.0;
    idle_w[p] = power ? problem_.idle_w(p) : 0.0;
    busy_[p] = 0.0;  // expected whole-task busy time per input
    ev.utilization[p] = 0.0;
  }
  double mean = 0.0, energy = 0.0;
  for (int j = 0; j <= E_; ++j) {
    const double w = weight_[j];
    if (w <= 0.0) continue;
    const double t = result_time_[j];
    mean += w * t;
    double active = 0.0;
    for (int p = 0; p < P_; ++p) window_busy[p] = 0.0;
    for (int l = 0; l < L_; ++l) {
      if (!(start_[l] < t)) continue;  // also skips disabled layers (NaN start)
      const int p = c.proc[l];
      const double d = finish_[l] - start_[l];
      active += d * active_w[p];
      window_busy[p] += std::min(finish_[l], t) - start_[l];
      busy_[p] += w * d;
    }
    double idle = 0.0;
    for (int p = 0; p < P_; ++p) {
      idle += idle_w[p] * (t - window_busy[p]);
      ev.utilization[p] += w * window_busy[p];
    }
    energy += w * (active + idle);
  }
  double max_busy = 0.0;
  for (int p = 0; p < P_; ++p) max_busy = std::max(max_busy, busy_[p]);
  // Links: expected copy time per input, one pass over the copies.
  const int R = problem_.link_resources();
  std::vector<double>& link_busy = link_busy_;
  std::fill(link_busy.begin(), link_busy.end(), 0.0);
  for (const CopySpan& cp : copies_)
    for (int j = 0; j <= E_; ++j)
      if (weight_[j] > 0.0 && cp.start < result_time_[j])
        link_busy[cp.resource] += weight_[j] * (cp.finish - cp.start);
  for (int r = 0; r < R; ++r) max_busy = std::max(max_busy, link_busy[r]);
  ev.mean_latency_ms = mean;
  ev.energy_mj = power ? energy : kNaN;
  ev.throughput_ips = max_busy > 0.0 ? 1000.0 / max_busy : kInf;
  for (int p = 0; p < P_; ++p) ev.utilization[p] = mean > 0.0 ? ev.utilization[p] / mean : 0.0;
}

const Evaluation& Evaluator::evaluate(const Config& config) {
  std::copy(config.proc.begin(), config.proc.end(), proc_.begin());
  eval_.feasible = simulate(config);
  if (eval_.feasible) derive(config);
  return eval_;
}

Schedule Evaluator::schedule() const {
  Schedule s;
  if (!eval_.feasible) return s;
  for (int l = 0; l < L_; ++l)
    if (waiting_[l] >= 0)
      s.tasks.push_back(TaskSpan{0, l, proc_[l], start_[l], finish_[l]});
  for (const CopySpan& cp : copies_) s.copies.push_back(cp);
  for (int r = 0; r <= E_; ++r)
    if (!std::isnan(result_time_[r])) s.results.push_back(ResultMark{0, r, result_time_[r]});
  std::sort(s.tasks.begin(), s.tasks.end(),
            [](const TaskSpan& a, const TaskSpan& b) { return a.start < b.start; });
  return s;
}

}  // namespace hetmap
