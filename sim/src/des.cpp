// The discrete-event simulator (docs/semantics.md "Many inputs").
//
// Time advances instant by instant. At each instant the simulator repeats rounds until no
// event is left at that instant; one round
//   1. pops and applies every event of the instant (task finishes, copy finishes, arrivals),
//      which makes tasks ready, requests copies and brings results to the host; a copy between
//      processors without a link arrives at once, inside this step;
//   2. queues the round's link copy requests in (input, producer, destination) order;
//   3. retires the inputs that became done: their unstarted tasks and queued copies are
//      cancelled before anything starts;
//   4. starts a copy on every idle link; if one takes 0 ms it arrives at this very instant, so
//      a new round begins before any processor picks a task (as in the evaluator);
//   5. starts a task on every idle processor: all starts are chosen before any duration is
//      computed, so that contention is symmetric.
// A task of zero duration finishes at the same instant and causes another round.
//
// Choices the semantics leave open, fixed here:
// - Streams: exits are drawn from mt19937_64(seed) by the ExitPlan (exits.hpp, shared with the
//   executor), Poisson gaps and jitter from two other generators seeded from it, so turning
//   jitter on does not change which exits are drawn.
//   The draws are written out (not <random>'s distributions) to be identical everywhere.
// - Poisson arrivals start at t = 0 like the others.
// - exit_share / exit_latency_ms group inputs by their first confident result k.
// - forced_exits sets k and uses the no-trace rule (any enabled result j >= k answers) even
//   with a trace; the trace still scores accuracy.
// - Percentiles are nearest-rank: the ceil(p% x N)-th smallest latency.
//
// Hot-path data is flat and preallocated: the event heap holds at most one event per processor
// and link plus the next arrival; per-input state lives in recycled slots; ready queues are
// heaps of packed (input, layer) keys. Stale entries (an input already done) are dropped when
// they surface, which is why nothing but a per-input state byte is needed after retirement.
#include "hetmap/des.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>

#include "hetmap/detail/number.hpp"
#include "hetmap/detail/random.hpp"
#include "hetmap/error.hpp"
#include "hetmap/exits.hpp"

namespace hetmap {

Arrival parse_arrival(const std::string& text, const std::string& what) {
  auto fail = [&]() -> Arrival {
    throw InputError("", 0,
                     what + ": expected closed, periodic:RATE_HZ or poisson:RATE_HZ with "
                            "RATE_HZ > 0, got '" + text + "'");
  };
  if (text == "closed") return Arrival{ArrivalKind::closed, 0.0};
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) return fail();
  const std::string kind = text.substr(0, colon);
  const std::string rate = text.substr(colon + 1);
  Arrival a;
  if (kind == "periodic") a.kind = ArrivalKind::periodic;
  else if (kind == "poisson") a.kind = ArrivalKind::poisson;
  else return fail();
  const std::optional<double> hz = detail::parse_number(rate);
  if (!hz || !(*hz > 0.0)) return fail();
  a.rate_hz = *hz;
  if (auto e = detail::out_of_range(a.rate_hz, detail::kHertz); !e.empty())
    throw InputError("", 0, what + ": RATE_HZ " + e);
  return a;
}

ArrivalClock::ArrivalClock(const Arrival& arrival, std::uint64_t seed)
    : arrival_(arrival), rng_(seed ^ 0x9E3779B97F4A7C15ULL) {}

double ArrivalClock::next(int input, double at_ms) {
  if (arrival_.kind == ArrivalKind::periodic)
    return static_cast<double>(input + 1) * 1000.0 / arrival_.rate_hz;
  // Exponential gap with mean 1000 / rate ms, by inversion of one uniform draw.
  return at_ms - std::log1p(-detail::uniform01(rng_)) * 1000.0 / arrival_.rate_hz;
}

namespace {

using hetmap::detail::kNaN;
constexpr int kStarted = -1;  // wait count of a task that has started

// Event tags: the kind in the high word, then a processor, link or input index.
constexpr std::uint64_t kArrivalEv = 0, kTaskEv = 1, kCopyEv = 2;
constexpr int kTagShift = 40;

// Per-input lifecycle. `done_now` inputs became done during the current round and still own
// their slot (a later result of the same instant may win the tie); `retired` ones do not.
enum InputState : std::uint8_t { kPending = 0, kLive = 1, kDoneNow = 2, kRetired = 3 };

// Random draws written out rather than taken from <random>'s distributions: they are about
// twice as fast, and give the same streams under every standard library.
using detail::uniform01;

// Standard normal by Marsaglia's polar method; each accepted pair serves two draws.
class Normal {
 public:
  double operator()(std::mt19937_64& g) {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform01(g) - 1.0;
      v = 2.0 * uniform01(g) - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  bool has_spare_ = false;
  double spare_ = 0.0;
};

struct Event {
  double t;
  std::uint64_t tag;
};

// std heap algorithms build max-heaps; "later" first makes the top the earliest event. Ties
// are broken by tag so the order never depends on push history.
struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.t > b.t || (a.t == b.t && a.tag > b.tag);
  }
};

struct CopyReq {
  double ms;
  int input, producer, to, slot;
};

struct PendingCopy {
  std::uint64_t key;  // (input, producer + 1, destination): the same-instant FIFO order
  int res;
  CopyReq req;
};

// A FIFO of copy requests on one link resource; grows only when a link backs up further than
// ever before.
class CopyQueue {
 public:
  void reserve(std::size_t n) {
    std::size_t cap = 8;
    while (cap < n) cap *= 2;
    buf_.resize(cap);
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  void push(const CopyReq& r) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = r;
    ++size_;
  }
  CopyReq pop() {
    const CopyReq r = buf_[head_];
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
    return r;
  }

 private:
  void grow() {
    std::vector<CopyReq> next(buf_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) next[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_.swap(next);
    head_ = 0;
  }
  std::vector<CopyReq> buf_;
  std::size_t head_ = 0, size_ = 0;
};

constexpr int kLayerBits = 24;  // ready keys: input << kLayerBits | layer

struct ProcState {
  bool busy = false;
  bool visible = false;  // the running task has a positive profiled duration
  int input = 0, layer = 0, slot = 0;
  double start = 0.0, finish = 0.0, dur = 0.0;
  std::vector<std::uint64_t> ready;  // min-heap of ready keys: oldest input, then layer
};

struct LinkState {
  bool busy = false;
  CopyReq cur{};
  CopyQueue queue;
};

// Per-input state that only matters while the input is in flight.
struct Slot {
  double arrival = 0.0;
  double done_t = 0.0;
  std::uint64_t confident = ~0ULL;  // exits whose result can end this input (trace)
  int first = 0;                    // first confident result k
  int sample = 0;                   // trace row
  int done_result = -1;
  int started = 0;
};

struct Dest {
  int to, res;
  double ms;
};

using Consumer = Problem::Dependencies::Consumer;

class Des {
 public:
  Des(const Problem& problem, const Config& config, const DesOptions& options);
  Metrics run();

 private:
  // --- setup
  void check_inputs() const;
  void build_tasks();
  void build_copies();
  void build_exits();
  void build_state();

  // --- event loop
  void apply(const Event& ev);
  void arrive(int input, double t);
  void task_done(int proc, double t);
  void copy_done(int link, double t);
  void output_ready(int input, int slot, int producer, int from, double t);
  void deliver(int input, int slot, int producer, int to, double t);
  void result_reached(int input, int slot, int result, double t);
  void release(int input, int layer);
  void flush_copies();
  void retire_done();
  void start_copies(double t);
  void start_tasks(double t);
  double draw_duration(int layer);
  void push(double t, std::uint64_t kind, std::uint64_t index);
  int alloc_slot(double t);
  void next_arrival(int input, double t);
  void draw_first(int input, Slot& s);

  // --- results
  void finish_stats(Metrics& r) const;
  int* waits(int slot) { return &wait_[static_cast<std::size_t>(slot) * n_layers_]; }

  const Problem& pb_;
  const Config& cfg_;
  const DesOptions& opt_;
  int n_layers_, n_procs_, n_exits_, n_res_, host_, n_inputs_;
  double contention_;

  // Static tables for this config.
  Problem::Dependencies dep_;                // what each layer waits for, where outputs go
  std::vector<double> mean_, mu_, sigma_;    // per layer at its processor
  std::vector<Dest> dests_;                  // dep_.dests, with link and time
  std::vector<double> active_w_, idle_w_;
  std::optional<ExitPlan> plan_;             // first confident result per input (exits.hpp)

  // Dynamic state.
  std::vector<Event> heap_;
  std::vector<ProcState> procs_;
  std::vector<LinkState> links_;
  std::vector<PendingCopy> pending_;
  std::vector<int> done_now_;                // inputs done in the current round
  std::vector<int> starting_;                // processors starting a task this round
  std::vector<Slot> slots_;
  std::vector<int> wait_;                    // slot x layer
  std::vector<int> free_slots_;
  std::vector<std::uint8_t> state_;          // per input
  std::vector<int> slot_of_;                 // per input
  ArrivalClock arrivals_;
  std::mt19937_64 jitter_rng_;
  Normal normal_;
  int retired_ = 0;
  double last_done_ = 0.0;

  // Accumulated results.
  // Per layer, summed over inputs: execution time of every started task, and the part of it
  // inside the span. Active energy is summed per processor, as the analytical evaluator does:
  // one input's energy is then bit-identical to the evaluator's wherever each processor runs
  // its layers in declaration order (equal up to rounding otherwise).
  std::vector<double> active_ms_, busy_ms_;
  std::vector<int> first_count_;
  std::vector<double> first_latency_;
  double accuracy_sum_ = 0.0;
  bool accuracy_known_ = true;
  Metrics res_;
};

Des::Des(const Problem& problem, const Config& config, const DesOptions& options)
    : pb_(problem),
      cfg_(config),
      opt_(options),
      n_layers_(problem.layers()),
      n_procs_(problem.processors()),
      n_exits_(problem.exits()),
      n_res_(problem.link_resources()),
      host_(problem.host()),
      n_inputs_(options.inputs),
      contention_(problem.contention()),
      // Independent streams, so that turning jitter on does not change the exits drawn (the
      // exit stream, mt19937_64(seed), lives in the ExitPlan).
      arrivals_(options.arrival, options.seed),
      jitter_rng_(options.seed ^ 0xC2B2AE3D27D4EB4FULL) {
  check_inputs();
  build_tasks();
  build_exits();
  build_state();
}

void Des::check_inputs() const { check_des(pb_, cfg_, opt_); }

void Des::build_tasks() {
  dep_ = pb_.dependencies(cfg_);
  if (opt_.record_schedule)
    check_schedule_size(n_inputs_, static_cast<std::int64_t>(dep_.enabled_layers.size() +
                                                             dep_.dests.size()) + n_exits_ + 1);
  build_copies();
  mean_.assign(n_layers_, 0.0);
  mu_.assign(n_layers_, 0.0);
  sigma_.assign(n_layers_, 0.0);
  for (int l : dep_.enabled_layers) {
    const int p = cfg_.proc[l];
    const double m = pb_.duration(l, p, cfg_.freq_level[p], cfg_.threads[p]);
    const double s = pb_.duration_std(l, p, cfg_.freq_level[p], cfg_.threads[p]);
    mean_[l] = m;
    if (m > 0.0 && s > 0.0) {  // log-normal with mean m and standard deviation s
      // var = log(1 + r^2), r = s / m, without squaring a huge r: for r > 1 it is
      // 2 log r + log1p(1 / r^2), with log r = log s - log m so that even an r beyond the
      // largest double (s = 1e9, m = 1e-300) gives a finite variance.
      const double r = s / m;
      const double var = r <= 1.0 ? std::log1p(r * r)
                                  : 2.0 * (std::log(s) - std::log(m)) + std::log1p(1.0 / (r * r));
      sigma_[l] = std::sqrt(var);
      mu_[l] = std::log(m) - var / 2.0;
    }
  }
}

void Des::build_copies() {
  // Each copy with its link resource and time, in Problem::dependencies()'s order.
  for (int p = -1; p < n_layers_; ++p) {
    const int from = p < 0 ? host_ : cfg_.proc[p];
    for (int i = dep_.dest_begin[p + 1]; i < dep_.dest_begin[p + 2]; ++i) {
      const int q = dep_.dests[i];
      dests_.push_back({q, pb_.link_resource(from, q), pb_.copy_ms(p, from, q)});
    }
  }
  active_w_.assign(n_procs_, kNaN);
  idle_w_.assign(n_procs_, 0.0);
  for (int q = 0; q < n_procs_; ++q) {
    if (pb_.platform().processors[q].has_power) active_w_[q] = pb_.active_w(q, cfg_.freq_level[q]);
    idle_w_[q] = pb_.idle_w(q);
  }
}

void Des::build_exits() { plan_.emplace(pb_, cfg_, opt_.seed, opt_.forced_exits); }

void Des::build_state() {
  procs_.resize(n_procs_);
  links_.resize(n_res_);
  const std::size_t guess = 64;
  for (ProcState& p : procs_) p.ready.reserve(guess * 4);
  for (LinkState& l : links_) l.queue.reserve(guess);
  heap_.reserve(n_procs_ + n_res_ + 4);
  pending_.reserve(guess);
  done_now_.reserve(guess);
  starting_.reserve(n_procs_);
  const int slots = std::min(n_inputs_, 16);
  slots_.resize(slots);
  wait_.resize(static_cast<std::size_t>(slots) * n_layers_);
  for (int s = slots - 1; s >= 0; --s) free_slots_.push_back(s);
  state_.assign(n_inputs_, kPending);
  slot_of_.assign(n_inputs_, -1);
  active_ms_.assign(n_layers_, 0.0);
  busy_ms_.assign(n_layers_, 0.0);
  first_count_.assign(n_exits_ + 1, 0);
  first_latency_.assign(n_exits_ + 1, 0.0);
  res_.origin = Origin::simulated;
  res_.feasible = true;
  res_.inputs = n_inputs_;
  res_.latency_ms.assign(n_inputs_, 0.0);
}

// ------------------------------------------------------------------------------------------
// Event loop

Metrics Des::run() {
  push(0.0, kArrivalEv, 0);
  while (!heap_.empty() && retired_ < n_inputs_) {
    const double t = heap_.front().t;
    do {
      while (!heap_.empty() && heap_.front().t == t) {
        const Event ev = heap_.front();
        std::pop_heap(heap_.begin(), heap_.end(), EventLater());
        heap_.pop_back();
        ++res_.events;
        apply(ev);
      }
      flush_copies();
      retire_done();
      if (retired_ == n_inputs_) break;
      start_copies(t);
      // A zero-length copy arrives at this instant, before any processor picks a task.
      if (!heap_.empty() && heap_.front().t == t) continue;
      start_tasks(t);
    } while (!heap_.empty() && heap_.front().t == t);
  }
  if (retired_ < n_inputs_)  // cannot happen for a model the loader accepted
    throw std::logic_error("simulate_des: an input never finished (a layer never became ready)");
  finish_stats(res_);
  return std::move(res_);
}

void Des::push(double t, std::uint64_t kind, std::uint64_t index) {
  heap_.push_back({t, kind << kTagShift | index});
  std::push_heap(heap_.begin(), heap_.end(), EventLater());
}

void Des::apply(const Event& ev) {
  const auto index = static_cast<int>(ev.tag & ((1ULL << kTagShift) - 1));
  switch (ev.tag >> kTagShift) {
    case kArrivalEv: arrive(index, ev.t); break;
    case kTaskEv: task_done(index, ev.t); break;
    default: copy_done(index, ev.t); break;
  }
}

int Des::alloc_slot(double t) {
  if (free_slots_.empty()) {  // more inputs in flight than ever before: double the pool
    const int old = static_cast<int>(slots_.size());
    // Arrivals faster than the mapping serves them leave ever more inputs in flight, each with
    // a count per layer: past max_state_bytes the run stops, saying so, instead of failing to
    // allocate (docs/formats.md, "Model size").
    if (2.0 * old * n_layers_ * sizeof(int) > static_cast<double>(opt_.max_state_bytes))
      throw Error("", 0,
                  fmt::format("the DES would hold more than {} inputs in flight at t = {} ms "
                              "(they arrive faster than the mapping finishes them): their state "
                              "would pass {} MiB; lower the arrival rate or the number of inputs",
                              old, t, opt_.max_state_bytes >> 20),
                  kOtherError);
    slots_.resize(old * 2);
    wait_.resize(slots_.size() * n_layers_);
    for (int s = 2 * old - 1; s >= old; --s) free_slots_.push_back(s);
  }
  const int s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

void Des::draw_first(int input, Slot& s) {
  const ExitDecision d = (*plan_)(input);
  s.first = d.first;
  s.confident = d.confident;
  s.sample = d.sample;
}

void Des::arrive(int input, double t) {
  const int slot = alloc_slot(t);
  slot_of_[input] = slot;
  state_[input] = kLive;
  Slot& s = slots_[slot];
  s = Slot{};
  s.arrival = t;
  draw_first(input, s);
  std::memcpy(waits(slot), dep_.wait.data(), sizeof(int) * n_layers_);
  for (int l : dep_.unblocked) release(input, l);
  output_ready(input, slot, -1, host_, t);
  next_arrival(input, t);
}

void Des::next_arrival(int input, double t) {
  const int next = input + 1;
  if (next >= n_inputs_) return;
  switch (opt_.arrival.kind) {
    case ArrivalKind::closed: break;  // pushed when `input` is done
    case ArrivalKind::periodic:
    case ArrivalKind::poisson:
      push(arrivals_.next(input, t), kArrivalEv, next);
      break;
  }
}

void Des::task_done(int proc, double t) {
  ProcState& p = procs_[proc];
  p.busy = false;
  busy_ms_[p.layer] += p.finish - p.start;
  if (state_[p.input] == kRetired) return;  // its output is discarded
  output_ready(p.input, p.slot, p.layer, proc, t);
}

void Des::copy_done(int link, double t) {
  LinkState& l = links_[link];
  l.busy = false;
  const CopyReq& c = l.cur;
  if (state_[c.input] == kRetired) return;
  deliver(c.input, c.slot, c.producer, c.to, t);
}

// `producer`'s output exists on `from` at t: feed local consumers, release sequential gates,
// and send it to every other processor that needs it.
void Des::output_ready(int input, int slot, int producer, int from, double t) {
  deliver(input, slot, producer, from, t);
  if (producer >= 0) {
    int* w = waits(slot);
    for (int i = dep_.gate_begin[producer]; i < dep_.gate_begin[producer + 1]; ++i)
      if (--w[dep_.gates[i]] == 0) release(input, dep_.gates[i]);
  }
  for (int i = dep_.dest_begin[producer + 1]; i < dep_.dest_begin[producer + 2]; ++i) {
    const Dest& d = dests_[i];
    if (d.res < 0) {  // no link: the copy is free and instantaneous
      if (opt_.record_schedule)
        res_.schedule.copies.push_back({input, producer, from, d.to, -1, t, t});
      deliver(input, slot, producer, d.to, t);
      continue;
    }
    const std::uint64_t key = static_cast<std::uint64_t>(input) << 32 |
                              static_cast<std::uint64_t>(producer + 1) << 8 |
                              static_cast<std::uint64_t>(d.to);
    pending_.push_back({key, d.res, {d.ms, input, producer, d.to, slot}});
  }
}

// `producer`'s output has arrived on `to` at t.
void Des::deliver(int input, int slot, int producer, int to, double t) {
  int* w = waits(slot);
  for (int i = dep_.cons_begin[producer + 1]; i < dep_.cons_begin[producer + 2]; ++i) {
    const Consumer& c = dep_.consumers[i];
    if (c.proc == to && --w[c.layer] == 0) release(input, c.layer);
  }
  const int r = dep_.result_at[producer + 1];
  if (r >= 0 && to == host_) result_reached(input, slot, r, t);
}

void Des::release(int input, int layer) {
  auto& ready = procs_[cfg_.proc[layer]].ready;
  ready.push_back(static_cast<std::uint64_t>(input) << kLayerBits | static_cast<unsigned>(layer));
  std::push_heap(ready.begin(), ready.end(), std::greater<>());
}

void Des::result_reached(int input, int slot, int result, double t) {
  if (opt_.record_schedule) res_.schedule.results.push_back({input, result, t});
  Slot& s = slots_[slot];
  if (!plan_->ends(ExitDecision{s.first, s.confident, s.sample}, result)) return;
  if (state_[input] == kDoneNow) {  // a tie at this instant: the earlier exit is the one scored
    s.done_result = std::min(s.done_result, result);
    return;
  }
  state_[input] = kDoneNow;
  s.done_t = t;
  s.done_result = result;
  done_now_.push_back(input);
  if (opt_.arrival.kind == ArrivalKind::closed && input + 1 < n_inputs_)
    push(t, kArrivalEv, input + 1);  // same instant: applied before anything starts
}

// Requests of one round join their link queues in (input, producer, destination) order.
void Des::flush_copies() {
  if (pending_.empty()) return;
  // Rounds carry a handful of requests: insertion sort beats std::sort here.
  for (std::size_t i = 1; i < pending_.size(); ++i)
    for (std::size_t j = i; j > 0 && pending_[j].key < pending_[j - 1].key; --j)
      std::swap(pending_[j], pending_[j - 1]);
  for (const PendingCopy& p : pending_) links_[p.res].queue.push(p.req);
  pending_.clear();
}

// Done inputs give their slot back; what they had not started is cancelled.
void Des::retire_done() {
  for (int input : done_now_) {
    const int slot = slot_of_[input];
    const Slot& s = slots_[slot];
    const double latency = s.done_t - s.arrival;
    res_.latency_ms[input] = latency;
    last_done_ = std::max(last_done_, s.done_t);
    ++first_count_[s.first];
    first_latency_[s.first] += latency;
    const int r = s.done_result;
    if (pb_.trace()) {
      const ExitTrace& tr = *pb_.trace();
      accuracy_sum_ += r == n_exits_ ? tr.final_ok[s.sample] : tr.ok[r][s.sample];
    } else {
      const auto& acc = r == n_exits_ ? pb_.model().final_accuracy : pb_.model().exits[r].accuracy;
      if (acc) accuracy_sum_ += *acc;
      else accuracy_known_ = false;
    }
    if (s.started < static_cast<int>(dep_.enabled_layers.size())) {
      const int* w = waits(slot);
      for (int l : dep_.enabled_layers)
        if (w[l] != kStarted) {
          ++res_.cancelled_tasks;
          res_.cancelled_work_ms += mean_[l];
        }
    }
    state_[input] = kRetired;
    free_slots_.push_back(slot);
    ++retired_;
  }
  done_now_.clear();
}

void Des::start_copies(double t) {
  for (int li = 0; li < n_res_; ++li) {
    LinkState& l = links_[li];
    if (l.busy) continue;
    while (!l.queue.empty()) {
      const CopyReq c = l.queue.pop();
      if (state_[c.input] != kLive) {
        ++res_.cancelled_copies;
        continue;
      }
      l.busy = true;
      l.cur = c;
      const double finish = t + c.ms;
      if (opt_.record_schedule) {
        const int from = c.producer < 0 ? host_ : cfg_.proc[c.producer];
        res_.schedule.copies.push_back({c.input, c.producer, from, c.to, li, t, finish});
      }
      push(finish, kCopyEv, static_cast<std::uint64_t>(li));
      break;
    }
  }
}

double Des::draw_duration(int layer) {
  if (!opt_.jitter || sigma_[layer] == 0.0) return mean_[layer];
  const double d = std::exp(mu_[layer] + sigma_[layer] * normal_(jitter_rng_));
  // A std_ms many orders above the mean can draw a duration beyond any double: no time after
  // it could be simulated, so the run stops here instead of producing infinite latencies.
  if (!std::isfinite(d)) {
    const int p = cfg_.proc[layer];
    throw Error("", 0,
                fmt::format("jitter: layer '{}' on {} drew a duration beyond any number (profiled "
                            "mean {:g} ms, std {:g} ms): the std is too large to simulate",
                            pb_.model().layers[layer].name, pb_.platform().processors[p].name,
                            mean_[layer],
                            pb_.duration_std(layer, p, cfg_.freq_level[p], cfg_.threads[p])),
                kOtherError);
  }
  return d;
}

// Every idle processor picks its oldest input's first ready task; durations are computed only
// once all starts of the round are known, so that simultaneous starts see each other.
void Des::start_tasks(double t) {
  starting_.clear();
  int executing = 0;
  for (int q = 0; q < n_procs_; ++q) {
    ProcState& p = procs_[q];
    if (p.busy) {
      executing += p.visible && p.finish > t;
      continue;
    }
    auto& ready = p.ready;
    while (!ready.empty()) {
      const std::uint64_t key = ready.front();
      std::pop_heap(ready.begin(), ready.end(), std::greater<>());
      ready.pop_back();
      const auto input = static_cast<int>(key >> kLayerBits);
      if (state_[input] != kLive) continue;  // cancelled
      p.busy = true;
      p.input = input;
      p.layer = static_cast<int>(key & ((1ULL << kLayerBits) - 1));
      p.slot = slot_of_[input];
      p.visible = mean_[p.layer] > 0.0;
      executing += p.visible;
      starting_.push_back(q);
      break;
    }
  }
  for (int q : starting_) {
    ProcState& p = procs_[q];
    const bool others = executing - static_cast<int>(p.visible) > 0;
    const double factor = others ? contention_ : 1.0;
    p.dur = draw_duration(p.layer) * factor;
    p.start = t;
    p.finish = t + p.dur;
    active_ms_[p.layer] += p.finish - p.start;
    waits(p.slot)[p.layer] = kStarted;
    ++slots_[p.slot].started;
    if (opt_.record_schedule) res_.schedule.tasks.push_back({p.input, p.layer, q, t, p.finish});
    push(p.finish, kTaskEv, static_cast<std::uint64_t>(q));
  }
}

// ------------------------------------------------------------------------------------------
// Summary

}  // namespace

namespace {

void Des::finish_stats(Metrics& r) const {
  const int n = n_inputs_;
  summarize_latencies(r, first_count_, first_latency_);
  r.accuracy = accuracy_known_ ? accuracy_sum_ / n : kNaN;

  // The span runs from the first arrival (t = 0) to the last done; tasks still running then
  // count only their part inside it towards busy time, but their whole duration as energy.
  const double span = last_done_;
  r.makespan_ms = span;
  r.throughput_ips = span > 0.0 ? n * 1000.0 / span : std::numeric_limits<double>::infinity();
  std::vector<double> busy_layer = busy_ms_;
  for (const ProcState& p : procs_)
    if (p.busy) busy_layer[p.layer] += span - p.start;
  std::vector<double> busy(n_procs_, 0.0), executing(n_procs_, 0.0);
  for (int l : dep_.enabled_layers) {
    const int q = cfg_.proc[l];
    executing[q] += active_ms_[l];
    busy[q] += busy_layer[l];
  }
  double active = 0.0, idle = 0.0;
  r.utilization.assign(n_procs_, 0.0);
  r.energy_by_processor_mj.assign(n_procs_, kNaN);
  for (int q = 0; q < n_procs_; ++q) {
    const double a = executing[q] * active_w_[q], i = idle_w_[q] * (span - busy[q]);
    active += a;
    idle += i;
    if (pb_.platform().processors[q].has_power) r.energy_by_processor_mj[q] = (a + i) / n;
    r.utilization[q] = span > 0.0 ? busy[q] / span : 0.0;
  }
  r.energy_mj = pb_.has_power() ? (active + idle) / n : kNaN;

  // Requests still queued belong to done inputs: they never start.
  for (const LinkState& l : links_) r.cancelled_copies += static_cast<std::int64_t>(l.queue.size());
}

}  // namespace

void check_des(const Problem& problem, const Config& config, const DesOptions& options) {
  if (options.inputs < 1)
    throw InputError("", 0, "--inputs: expected a positive number of inputs, got " +
                                std::to_string(options.inputs));
  for (int k : options.forced_exits)
    if (k < 0 || k > problem.exits())
      throw InputError("", 0, "forced exit " + std::to_string(k) + " is not in 0.." +
                                  std::to_string(problem.exits()));
  if (const std::string why = problem.infeasibility(config); !why.empty())
    throw InfeasibleError("", 0, why);
  if (problem.layers() >= (1 << kLayerBits))
    throw InputError(problem.model().file, 0, "the DES handles fewer than 2^24 layers");
  if (problem.trace() && problem.trace()->samples < 1)
    throw InputError(problem.trace()->file, 0, "the exit trace has no samples");
}

Metrics simulate_des(const Problem& problem, const Config& config, const DesOptions& options) {
  return Des(problem, config, options).run();
}

}  // namespace hetmap
