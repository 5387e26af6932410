#include "hetmap/evaluator.hpp"
#include "hetmap/detail/number.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

namespace hetmap {

namespace {
using hetmap::detail::kNaN;
using hetmap::detail::kInf;

// A processor's pending layers in heap mode (Evaluator::simulate_p): in its L slots `front`,
// the layers ready by the current instant in a heap by index at the front, the others in a
// heap by ready time at the back (indexed from the end), and between them an inbox of
// `n_inbox` layers that became pending since the last pick.
auto by_index() { return std::greater<int>(); }
auto by_ready(const double* ready_at) {
  return [ready_at](int a, int b) { return ready_at[a] > ready_at[b]; };
}

// The list of `n_list` pending layers at `front` becomes the two heaps and an empty inbox.
__attribute__((noinline)) void to_heaps(int* front, int L, int& n_list, int& n_ready,
                                        int& n_later, const double* ready_at, double now) {
  int* mid = std::partition(front, front + n_list, [&](int l) { return ready_at[l] <= now; });
  n_ready = static_cast<int>(mid - front);
  n_later = n_list - n_ready;
  std::move_backward(mid, front + n_list, front + L);
  const auto back = std::make_reverse_iterator(front + L);
  std::make_heap(front, front + n_ready, by_index());
  std::make_heap(back, back + n_later, by_ready(ready_at));
  n_list = 0;
}

// The inbox and the layers ready by `now` go to the front heap, and the lowest of those is
// taken: the layer to start, or -1 with `next` the earliest ready time of the others (+inf:
// none left).
__attribute__((noinline)) int pick_from_heaps(int* front, int L, int& n_inbox, int& n_ready,
                                              int& n_later, const double* ready_at, double now,
                                              double& next) {
  const auto back = std::make_reverse_iterator(front + L);
  const int* inbox = front + n_ready;
  for (int i = 0; i < n_inbox; ++i) {
    const int l = inbox[i];  // read before the front heap grows over it
    if (ready_at[l] <= now) {
      front[n_ready++] = l;
      std::push_heap(front, front + n_ready, by_index());
    } else {
      back[n_later++] = l;
      std::push_heap(back, back + n_later, by_ready(ready_at));
    }
  }
  n_inbox = 0;
  while (n_later > 0 && ready_at[back[0]] <= now) {
    std::pop_heap(back, back + n_later--, by_ready(ready_at));
    front[n_ready++] = back[n_later];
    std::push_heap(front, front + n_ready, by_index());
  }
  if (n_ready == 0) {
    if (n_later > 0) next = ready_at[back[0]];
    return -1;
  }
  std::pop_heap(front, front + n_ready--, by_index());
  return front[n_ready];
}
}  // namespace

Evaluator::Evaluator(const Problem& problem)
    : problem_(problem),
      L_(problem.layers()),
      P_(problem.processors()),
      E_(problem.exits()) {
  // A producer's output goes at most once to each other processor that reads it, and a result
  // to the host: at most min(P - 1, readers + 1) copies each. Sized by the graph, not by
  // layers x processors (64 processors would make it 40 x 64 bytes per layer).
  std::size_t max_copies = 1;
  for (int l = -1; l < L_; ++l) {
    const int readers = l < 0 ? static_cast<int>(problem.input_consumers().size()) : problem.n_succs(l);
    max_copies += static_cast<std::size_t>(std::min(P_ - 1, readers + 1));
  }
  start_.resize(L_);
  finish_.resize(L_);
  base_.resize(L_);
  waiting_.resize(L_);
  ready_at_.resize(L_);
  pending_.resize(static_cast<std::size_t>(P_) * L_);
  running_.resize(P_);
  link_free_.resize(problem.link_resources());
  result_time_.resize(E_ + 1);
  copies_.resize(max_copies);
  weight_.resize(E_ + 1);
  shares_.resize(E_ + 1);
  link_busy_.resize(problem.link_resources());
  proc_.resize(L_);
  order_.resize(L_);
  eval_.origin = Origin::analytical;
  eval_.inputs = 1;
  eval_.exit_latency_ms.resize(E_ + 1);
  eval_.exit_share.resize(E_ + 1);
  eval_.utilization.resize(P_);
}

// One input through the mapping, every enabled layer run (docs/semantics.md). Copies need no
// events of their own: a link serves copies first come, first served, and copies are requested
// in time order (at their producer's finish), so each copy's arrival is known the moment it is
// requested. A layer whose producers have all finished is therefore "pending" on its processor
// with a known ready time, and the only events are layer finishes and pending layers becoming
// ready on idle processors. Written as one function over local pointers: this is the innermost
// loop of every search.
bool Evaluator::simulate(const Config& c) {
  // The loops over processors are the loop's overhead; with their width known they unroll.
  switch (P_) {
    case 2: return simulate_p<2>(c);
    case 3: return simulate_p<3>(c);
    case 4: return simulate_p<4>(c);
    default: return simulate_p<0>(c);
  }
}

template <int kP>
bool Evaluator::simulate_p(const Config& c) {
  const Problem& pb = problem_;
  const Problem::Tables t = pb.tables();
  const int L = L_, P = kP > 0 ? kP : P_, E = E_, R = pb.link_resources();
  const int host = pb.host();
  const bool sequential = c.policy == Policy::sequential;
  const double contention = pb.contention();
  const std::uint8_t* proc = c.proc.data();
  double* start = start_.data();
  double* finish = finish_.data();
  double* base = base_.data();
  double* ready_at = ready_at_.data();
  int* waiting = waiting_.data();
  int* pending = pending_.data();  // per processor, L slots
  int* running = running_.data();
  double* link_free = link_free_.data();
  double* result_time = result_time_.data();
  const int* input_cons = pb.input_consumers().data();
  const int n_input_cons = static_cast<int>(pb.input_consumers().size());
  CopySpan* copies = copies_.data();  // sized for every copy a schedule can make
  int n_copies = 0;
  int* order = order_.data();  // layers in the order they start (start times non-decreasing)
  int n_started = 0;
  int n_pending[kMaxProcessors];
  int* pend_of[kMaxProcessors];          // per processor: its pending layers (L slots)
  const double* dur_of[kMaxProcessors];  // per processor: its duration-table column at its level and threads
  const std::size_t stride = t.row;
  for (int p = 0; p < P; ++p) {
    pend_of[p] = pending + p * L;
    dur_of[p] = t.dur + pb.column(p, c.freq_level[p], c.threads[p]);
    n_pending[p] = 0;
    running[p] = -1;
  }

  // Durations at this config; dependency counts (-1 marks a disabled exit's layer). start and
  // finish are written when a layer starts; nothing reads them for a layer that never does.
  for (int l = 0; l < L; ++l) {
    ready_at[l] = 0.0;
    const int k = t.exit_of[l];
    if (k >= 0 && !c.exit_enabled(k)) {
      waiting[l] = -1;
      continue;
    }
    const int p = proc[l];
    base[l] = dur_of[p][l * stride];
    if (std::isnan(base[l])) return false;
    int w = t.pred_begin[l + 1] - t.pred_begin[l];
    if (sequential)
      for (int g : pb.gate_exits(l)) w += c.exit_enabled(g) ? 1 : 0;
    waiting[l] = w;
  }
  for (int r = 0; r < R; ++r) link_free[r] = 0.0;
  for (int r = 0; r <= E; ++r) result_time[r] = kNaN;
  double now = 0.0;

  // event[p]: p's next instant of interest: its running layer's finish, or when idle the
  // earliest ready time among its pending layers (+inf if none).
  double event[kMaxProcessors];
  for (int p = 0; p < P; ++p) event[p] = kInf;

  // Idle processors given a layer ready at `now` by the releases of this instant (a bit each,
  // up to kMaxProcessors): the one-processor path below must hand such an instant to the
  // general one.
  std::uint64_t woke = 0;

  // Pending layers are a list that pick() scans: a few at a time on models as they come. A
  // processor with more than kWide of them (a wide model: thousands of parallel branches)
  // switches to two heaps in its L slots, so that a pick costs a logarithm of them rather than
  // their number: the layers ready at `now` by index from the front, the others by ready time
  // from the back (they never meet: the slots hold every layer placed on the processor). The
  // list then becomes an inbox right after the front heap, filled by satisfy() as before and
  // emptied into the heaps by the next pick: the common path does not change.
  // The heap mode's code is out of line and sees none of this function's scalars, which then
  // stay in registers on the common path.
  // scan_limit[p]: kWide while p's pending layers are a list, -1 in heap mode, so that one
  // comparison sends a pick to the heaps.
  constexpr int kWide = 64;
  int scan_limit[kMaxProcessors], n_ready[kMaxProcessors], n_later[kMaxProcessors];
  for (int p = 0; p < P; ++p) scan_limit[p] = kWide;
  // A dependency of `s` is met from time `at` on. Mostly branch-free (which dependency is the
  // last is unpredictable): the pending slot is always written and kept only if counted. A
  // disabled layer (waiting < 0) only goes further below zero and never becomes pending.
  auto satisfy = [&](int s, double at) {
    const double ready = std::max(ready_at[s], at);
    ready_at[s] = ready;
    const bool now_ready = --waiting[s] == 0;
    const int q = proc[s];
    pend_of[q][n_pending[q]] = s;
    n_pending[q] += now_ready;
    if (now_ready && running[q] < 0) {
      event[q] = std::min(event[q], ready);
      woke |= static_cast<std::uint64_t>(ready == now) << q;
    }
  };
  // `producer` (-1: the model input) is done at `now` on processor p: copy its output to every
  // other processor that needs it (in processor order), then release its consumers.
  double arrival[kMaxProcessors];
  auto publish = [&](int producer, int p, const int* cons, int n, bool result) {
    std::uint64_t dest = static_cast<std::uint64_t>(result) << host;
    for (int i = 0; i < n; ++i) dest |= static_cast<std::uint64_t>(waiting[cons[i]] >= 0) << proc[cons[i]];
    dest &= ~(1ULL << p);
    arrival[p] = now;
    for (; dest; dest &= dest - 1) {
      const int q = __builtin_ctzll(dest);
      const int res = t.link_res[p * P + q];
      if (res < 0) {  // no link: free and instantaneous
        arrival[q] = now;
        continue;
      }
      const double begin = std::max(now, link_free[res]);
      const double end = begin + t.copy[((producer + 1) * P + p) * P + q];
      link_free[res] = end;
      copies[n_copies++] = CopySpan{0, producer, p, q, res, begin, end};
      arrival[q] = end;
    }
    for (int i = 0; i < n; ++i) satisfy(cons[i], arrival[proc[cons[i]]]);
  };

  // Processor p starts layer l at `now`.
  auto start_layer = [&](int p, int l) {
    running[p] = l;
    start[n_started] = now;
    order[n_started++] = l;
    return l;
  };
  // Idle processor p starts its first ready pending layer (declaration order) at `now`; with
  // none ready, its next instant of interest becomes the earliest ready time among the others.
  auto pick = [&](int p) {
    if (__builtin_expect(n_pending[p] > scan_limit[p], 0)) {
      int* front = pending + p * L;
      if (scan_limit[p] >= 0) {
        to_heaps(front, L, n_pending[p], n_ready[p], n_later[p], ready_at, now);
        scan_limit[p] = -1;
      }
      double next = kInf;
      const int l = pick_from_heaps(front, L, n_pending[p], n_ready[p], n_later[p], ready_at, now, next);
      pend_of[p] = front + n_ready[p];  // the inbox
      if (l >= 0) return start_layer(p, l);
      event[p] = next;
      if (n_later[p] == 0) scan_limit[p] = kWide;  // all empty: back to the list
      return -1;
    }
    int* pend = pend_of[p];
    int best = -1;
    double later = kInf;
    for (int i = 0; i < n_pending[p]; ++i) {
      if (ready_at[pend[i]] > now) later = std::min(later, ready_at[pend[i]]);
      else if (best < 0 || pend[i] < pend[best]) best = i;
    }
    if (best < 0) {
      event[p] = later;
      return -1;
    }
    const int l = pend[best];
    pend[best] = pend[--n_pending[p]];
    return start_layer(p, l);
  };
  // Layer l (on p) finishes at `now`: publish its output; under `sequential` an exit's result
  // also releases the backbone layer its decision gates.
  auto retire = [&](int l, int p) __attribute__((always_inline)) {
    running[p] = -1;
    event[p] = now;  // look at its pending layers at this instant
    const int r = t.result_of[l];
    publish(l, p, t.succ + t.succ_begin[l], t.succ_begin[l + 1] - t.succ_begin[l], r >= 0);
    if (r >= 0) {
      result_time[r] = arrival[host];
      if (r < E && sequential && t.gated[r] >= 0) satisfy(t.gated[r], now);
    }
  };

  publish(-1, host, input_cons, n_input_cons, false);  // the input is on the host at t = 0
  int n_running = 0;
  // Most instants concern one processor: one layer finishes (or one pending layer becomes
  // ready) and only that processor can start a layer. `who` is that processor; who < 0 means
  // the general case (several processors at this instant: t = 0, equal times, or a release
  // that made a layer on another idle processor ready at once).
  int who = -1;
  // The layer the one-processor path started last, and its processor (-1: none). When that
  // processor is the next to finish, as along a chain, its layer is known without reloading
  // running[]: the load would sit on the loop's critical path (4% on blocky mappings).
  int last_l = -1, last_p = -1;
  for (;;) {
    if (who >= 0) {
      const int l = pick(who);
      last_p = -1;
      if (l >= 0) {  // a lone start executes beside every running processor
        last_l = l;
        last_p = who;
        const double f = now + base[l] * (n_running > 0 ? contention : 1.0);
        finish[n_started - 1] = f;
        event[who] = f;
        ++n_running;
      }
    } else {
      // Idle processors start their first ready layer in declaration order. Durations are set
      // once every start of the instant is known, so that contention is symmetric.
      last_p = -1;
      int starting[kMaxProcessors];
      int n_start = 0, n_positive = 0;
      for (int p = 0; p < P; ++p) {
        if (event[p] > now || running[p] >= 0) continue;
        const int l = pick(p);
        if (l < 0) continue;
        starting[n_start++] = n_started - 1;
        n_positive += base[l] > 0.0;
      }
      // Every processor running since before this instant is executing (finishes at `now`
      // have been retired); one starting now executes iff its profiled time is positive.
      for (int i = 0; i < n_start; ++i) {
        const int n = starting[i], l = order[n];
        const int others = n_running + n_positive - (base[l] > 0.0);
        finish[n] = now + base[l] * (others > 0 ? contention : 1.0);
        event[proc[l]] = finish[n];
      }
      n_running += n_start;
    }

    // The next instant, the first processor at it, and how many processors share it.
    double next = event[0];
    int first = 0, at_next = 1;
    for (int p = 1; p < P; ++p) {
      const double e = event[p];
      at_next = e < next ? 1 : at_next + (e == next);
      first = e < next ? p : first;
      next = std::min(next, e);
    }
    if (next == kInf) break;
    now = next;
    if (at_next == 1) {
      who = first;
      int l;
      if (who == last_p) l = last_l;  // a branch, not a select: it spares the load's latency
      else l = running[who];
      if (l >= 0) {
        --n_running;
        woke = 0;
        retire(l, who);
        // A release that readied a layer on another idle processor at `now` (over a free
        // link, or a zero-time copy) makes the instant a general one.
        if (woke & ~(std::uint64_t{1} << who)) who = -1;
      }
      continue;
    }
    who = -1;
    // Finishes of this instant in declaration order: their copy requests queue in that order.
    int done[kMaxProcessors];
    int n_done = 0;
    for (int p = 0; p < P; ++p) {
      const int l = running[p];
      if (event[p] != now || l < 0) continue;
      int i = n_done++;
      for (; i > 0 && done[i - 1] > l; --i) done[i] = done[i - 1];
      done[i] = l;
    }
    n_running -= n_done;
    for (int i = 0; i < n_done; ++i) retire(done[i], proc[done[i]]);
  }
  n_copies_ = n_copies;
  n_started_ = n_started;
  return true;
}

void Evaluator::derive(const Config& c) {
  Metrics& ev = eval_;
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

  // Latency, energy, busy time. Result j (time t_j, weight w_j) counts every layer that started
  // before t_j. Layers start in time order (order_), so for the results taken in time order
  // those layers grow as a prefix of order_: one pass over the layers in all. Of the layers a
  // processor started before t_j, only the last can still run at t_j; its overhang is all that
  // the busy time inside [0, t_j] leaves out. Active energy is each processor's execution time
  // times its active power: summed per processor, it needs no running sum over all layers.
  const bool power = problem_.has_power();
  const int P = P_;
  double active_w[kMaxProcessors], idle_w[kMaxProcessors], full[kMaxProcessors],
      last_finish[kMaxProcessors], busy[kMaxProcessors], used_w[kMaxProcessors];
  for (int p = 0; p < P; ++p) {
    active_w[p] = power ? problem_.active_w(p, c.freq_level[p]) : 0.0;
    idle_w[p] = power ? problem_.idle_w(p) : 0.0;
    busy[p] = 0.0;  // expected whole-task busy time per input
    used_w[p] = 0.0;
    full[p] = 0.0;
    last_finish[p] = -kInf;
  }
  // Results with positive weight, by result time (stable), padded with +inf to a multiple of 4.
  int by_time[68];
  double times[68], after[69];  // after[k]: weight of the results after the first k
  int m = 0;
  for (int j = 0; j <= E_; ++j) {
    if (weight_[j] <= 0.0) continue;
    int i = m++;
    for (; i > 0 && result_time_[by_time[i - 1]] > result_time_[j]; --i) by_time[i] = by_time[i - 1];
    by_time[i] = j;
  }
  after[m] = 0.0;
  for (int i = m; i-- > 0;) {
    times[i] = result_time_[by_time[i]];
    after[i] = after[i + 1] + weight_[by_time[i]];
  }
  const int m4 = (m + 3) & ~3;
  for (int i = m; i < m4; ++i) times[i] = kInf;

  // Local copies of the workspace pointers: the stores below cannot then be taken to alias them.
  const double* start = start_.data();
  const double* finish = finish_.data();
  const int* order = order_.data();
  const std::uint8_t* proc = proc_.data();
  const int n_started = n_started_;
  double mean = 0.0, energy = 0.0;
  int next = 0;  // into the start order
  for (int i = 0; i < m; ++i) {
    const double w = weight_[by_time[i]], t = times[i];
    for (; next < n_started && start[next] < t; ++next) {
      const int p = proc[order[next]];
      full[p] += finish[next] - start[next];
      last_finish[p] = finish[next];
    }
    mean += w * t;
    double idle = 0.0, active = 0.0;
    for (int p = 0; p < P; ++p) {
      active += full[p] * active_w[p];
      const double used = full[p] - std::max(0.0, last_finish[p] - t);
      idle += idle_w[p] * (t - used);
      used_w[p] += w * used;
      busy[p] += w * full[p];
    }
    energy += w * (active + idle);
  }
  double max_busy = 0.0;
  for (int p = 0; p < P; ++p) max_busy = std::max(max_busy, busy[p]);
  // Links: expected copy time per input, one pass over the copies. A copy counts for the
  // results after its start: after[k], k = results at or before it.
  const int R = problem_.link_resources();
  double* link_busy = link_busy_.data();
  std::fill(link_busy, link_busy + R, 0.0);
  const CopySpan* copies = copies_.data();
  for (int i = 0; i < n_copies_; ++i) {
    const CopySpan& cp = copies[i];
    int k = 0;
    for (int r = 0; r < m4; r += 4)
      k += (times[r] <= cp.start) + (times[r + 1] <= cp.start) + (times[r + 2] <= cp.start) +
           (times[r + 3] <= cp.start);
    link_busy[cp.resource] += after[k] * (cp.finish - cp.start);
  }
  for (int r = 0; r < R; ++r) max_busy = std::max(max_busy, link_busy[r]);
  for (int p = 0; p < P; ++p) ev.utilization[p] = mean > 0.0 ? used_w[p] / mean : 0.0;
  ev.mean_latency_ms = mean;
  ev.energy_mj = power ? energy : kNaN;
  ev.throughput_ips = max_busy > 0.0 ? 1000.0 / max_busy : kInf;
}

const Metrics& Evaluator::evaluate(const Config& config) {
  std::copy(config.proc.begin(), config.proc.end(), proc_.begin());
  eval_.feasible = simulate(config);
  if (eval_.feasible) derive(config);
  else n_copies_ = 0;
  return eval_;
}

Schedule Evaluator::schedule() const {
  Schedule s;
  if (!eval_.feasible) return s;
  for (int n = 0; n < n_started_; ++n)
    s.tasks.push_back(TaskSpan{0, order_[n], proc_[order_[n]], start_[n], finish_[n]});
  s.copies.assign(copies_.begin(), copies_.begin() + n_copies_);
  for (int r = 0; r <= E_; ++r)
    if (!std::isnan(result_time_[r])) s.results.push_back(ResultMark{0, r, result_time_[r]});
  std::sort(s.tasks.begin(), s.tasks.end(), [](const TaskSpan& a, const TaskSpan& b) {
    return a.start < b.start || (a.start == b.start && a.layer < b.layer);
  });
  return s;
}

}  // namespace hetmap
