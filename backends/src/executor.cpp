// The executor (executor.hpp). One mutex guards all scheduling state; kernels and copies run
// outside it. Threads:
//   - the calling thread dispatches timed arrivals (periodic, Poisson) and waits for free
//     slots; closed-loop arrivals are admitted by whichever thread retires the previous input
//     (or frees a slot), at once and under the lock, so that no thread wake-up sits between
//     one input's done and the next one's start;
//   - one worker per processor: binds itself, builds its layers' kernels and allocates its
//     buffers (so memory is touched by the thread that uses it), then runs ready layers;
//   - one copy worker per unordered processor pair that carries copies, FIFO.
// Scheduling state mirrors the DES (sim/src/des.cpp): per-slot wait counters (distinct inputs
// plus sequential gates), per-processor ready heaps ordered by (input, layer), per-producer
// consumer and destination lists. Everything is sized before the clock starts: ready heaps and
// copy queues hold at most one entry per (slot, layer) or (slot, copy), since a done input's
// entries are purged when it retires.
#include "hetmap/backend/executor.hpp"

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "hetmap/detail/random.hpp"
#include "hetmap/error.hpp"
#include "hetmap/exits.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/detail/number.hpp"

namespace hetmap::backend {

Problem execution_problem(const Model& model, const Backend& backend,
                          std::optional<ExitTrace> trace) {
  const Platform& platform = backend.platform();
  return Problem(model, platform, Profile::empty(model, platform), std::nullopt, std::move(trace));
}

namespace {

using Clock = std::chrono::steady_clock;
using hetmap::detail::kNaN;
constexpr int kStarted = -1;   // wait count of a layer that has started
constexpr int kTail = 4;       // recent spans kept per processor to clip busy time to the span

enum class SlotState : std::uint8_t { free, reserved, live, retired };

struct Ready {
  int input, layer, slot;
};
// std heap algorithms build max-heaps: "later" on top would be wrong, so invert.
struct ReadyLater {
  bool operator()(const Ready& a, const Ready& b) const {
    return a.input > b.input || (a.input == b.input && a.layer > b.layer);
  }
};

struct CopyReq {
  int input, slot, producer, from, to;
};

// A FIFO of fixed capacity (sized before the clock starts).
class Fifo {
 public:
  void reserve(std::size_t n) { buf_.resize(std::max<std::size_t>(n, 1)); }
  bool empty() const { return size_ == 0; }
  void push(const CopyReq& r) {
    if (size_ == buf_.size()) throw std::logic_error("executor: copy queue overflow");
    buf_[(head_ + size_) % buf_.size()] = r;
    ++size_;
  }
  CopyReq pop() {
    const CopyReq r = buf_[head_];
    head_ = (head_ + 1) % buf_.size();
    --size_;
    return r;
  }
  /// Removes the requests of `input`, keeping the others in order; returns how many went.
  int purge(int input) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      const CopyReq& r = buf_[(head_ + i) % buf_.size()];
      if (r.input != input) buf_[(head_ + kept++) % buf_.size()] = r;
    }
    const int removed = static_cast<int>(size_ - kept);
    size_ = kept;
    return removed;
  }

 private:
  std::vector<CopyReq> buf_;
  std::size_t head_ = 0, size_ = 0;
};

using Consumer = Problem::Dependencies::Consumer;

struct Slot {
  int index = 0;
  SlotState state = SlotState::free;
  int input = -1;
  double arrival = 0.0;
  ExitDecision decision;
  int started = 0;   // layers started
  int inflight = 0;  // kernels and copies running on its buffers
  std::vector<int> wait;                         // per layer
  std::vector<std::unique_ptr<Buffer>> buf;      // (producer + 1) * P + processor
  std::vector<std::vector<const Buffer*>> in;    // per layer: its kernel's inputs
};

struct ProcState {
  std::condition_variable cv;
  std::vector<Ready> ready;  // heap, ReadyLater
  double busy = 0.0;         // summed task time
  std::array<std::pair<double, double>, kTail> tail{};  // last spans (start, finish)
  int n_tail = 0;
};

struct PairState {
  int a = 0, b = 0;
  std::condition_variable cv;
  Fifo queue;
  std::size_t per_input = 0;  // copies one input may queue here
};

class Executor {
 public:
  Executor(Backend& backend, const Problem& problem, const Config& config,
           const ExecuteOptions& options);
  ExecuteResult run();

 private:
  // --- setup
  void check() const;
  void build_tables();
  void build_slots();
  void proc_setup(int q);

  // --- threads
  void proc_worker(int q);
  void copy_worker(int pair);
  void dispatch();

  // --- scheduling, all under mu_
  void admit_closed();
  void arrive(Slot& s, int input, double t);
  void output_ready(Slot& s, int producer, int from, double t);
  void deliver(Slot& s, int producer, int to, double t);
  void make_ready(Slot& s, int layer);
  void retire(Slot& s, int result, double t);
  void release_if_idle(Slot& s);
  void fail(std::exception_ptr e);
  void stop_all();
  void account(int q, double start, double finish);

  void setup_power();
  void finish_stats();
  void finish_energy();
  double now_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
  }
  std::size_t buf_index(int producer, int proc) const {
    return static_cast<std::size_t>(producer + 1) * n_procs_ + proc;
  }
  Buffer& buffer(Slot& s, int producer, int proc) { return *s.buf[buf_index(producer, proc)]; }

  Backend& be_;
  const Problem& pb_;
  const Config& cfg_;
  const ExecuteOptions& opt_;
  const Model& model_;
  int n_layers_, n_procs_, n_exits_, host_, n_inputs_;

  // Static tables (as in the DES).
  Problem::Dependencies dep_;  // what each layer waits for, where outputs go
  std::vector<int> pair_of_;     // from * P + to -> pair index, -1 if no copies
  std::vector<std::vector<float>> input_data_;

  ExitPlan plan_;
  std::vector<std::unique_ptr<Kernel>> kernel_;  // per layer, at its processor

  // Shared state.
  std::mutex mu_;
  std::condition_variable disp_cv_;  // dispatcher: setup done, slot freed, input done, abort
  std::vector<ProcState> procs_;
  std::vector<PairState> pairs_;
  std::vector<Slot> slots_;
  std::vector<int> free_;
  int setup_done_ = 0;
  int retired_ = 0;
  int next_closed_ = 0;         // closed arrivals: the next input to admit
  bool closed_waiting_ = false;  // ... and it is waiting for a slot
  bool stop_ = false;
  bool abort_ = false;
  std::exception_ptr error_;
  double last_done_ = 0.0;
  Clock::time_point t0_;

  // Power: the meters (the caller's, or the backend's own) and their sampler.
  PowerMeters own_meters_;
  const PowerMeters* meters_ = nullptr;
  std::unique_ptr<PowerSampler> sampler_;

  // Accumulated results.
  std::vector<int> first_count_;
  std::vector<double> first_latency_;
  double accuracy_sum_ = 0.0;
  bool accuracy_known_ = true;
  ExecuteResult res_;
};

Executor::Executor(Backend& backend, const Problem& problem, const Config& config,
                   const ExecuteOptions& options)
    : be_(backend),
      pb_(problem),
      cfg_(config),
      opt_(options),
      model_(problem.model()),
      n_layers_(problem.layers()),
      n_procs_(problem.processors()),
      n_exits_(problem.exits()),
      host_(problem.host()),
      n_inputs_(options.inputs),
      plan_((check(), ExitPlan(problem, config, options.seed, options.forced_exits))) {
  build_tables();
  build_slots();
}

void Executor::check() const {
  if (n_inputs_ < 1)
    throw InputError("", 0, "--inputs: expected a positive number of inputs, got " +
                                std::to_string(n_inputs_));
  if (opt_.slots < 0)
    throw InputError("", 0, "slots: expected 0 (automatic) or more, got " +
                                std::to_string(opt_.slots));
  if (opt_.arrival.kind != ArrivalKind::closed &&
      !(std::isfinite(opt_.arrival.rate_hz) && opt_.arrival.rate_hz > 0.0))
    throw InputError("", 0, "--arrival: expected RATE_HZ > 0");
  const Platform& bp = be_.platform();
  bool same = static_cast<int>(bp.processors.size()) == n_procs_ && bp.host == host_;
  for (int q = 0; same && q < n_procs_; ++q)
    same = bp.processors[q].name == pb_.platform().processors[q].name;
  if (!same)
    throw BackendError("the problem's platform '" + pb_.platform().name +
                       "' does not have the processors of backend " + be_.name() + " (platform '" +
                       bp.name + "')");
  if (static_cast<int>(cfg_.proc.size()) != n_layers_)
    throw InputError("", 0, "the configuration does not belong to this model");
  for (int l = 0; l < n_layers_; ++l)
    if (cfg_.proc[l] >= n_procs_)
      throw InputError("", 0, "layer " + model_.layers[l].name + " is placed on no processor");
}

void Executor::build_tables() {
  dep_ = pb_.dependencies(cfg_);

  // One copy worker per processor pair that carries copies, and how many it carries per input.
  pair_of_.assign(static_cast<std::size_t>(n_procs_) * n_procs_, -1);
  std::vector<std::size_t> per_pair;
  for (int p = -1; p < n_layers_; ++p) {
    const int from = p < 0 ? host_ : cfg_.proc[p];
    for (int i = dep_.dest_begin[p + 1]; i < dep_.dest_begin[p + 2]; ++i) {
      const int q = dep_.dests[i];
      const int a = std::min(from, q), b = std::max(from, q);
      int& pi = pair_of_[static_cast<std::size_t>(a) * n_procs_ + b];
      if (pi < 0) {
        pi = static_cast<int>(per_pair.size());
        pair_of_[static_cast<std::size_t>(b) * n_procs_ + a] = pi;
        per_pair.push_back(0);
      }
      ++per_pair[pi];
    }
  }
  pairs_ = std::vector<PairState>(per_pair.size());
  for (int a = 0; a < n_procs_; ++a)
    for (int b = a + 1; b < n_procs_; ++b)
      if (const int pi = pair_of_[static_cast<std::size_t>(a) * n_procs_ + b]; pi >= 0) {
        pairs_[pi].a = a;
        pairs_[pi].b = b;
        pairs_[pi].per_input = per_pair[pi];
      }

  // Input tensors: a few distinct ones, drawn from the seed; input i gets i % count.
  const int distinct = std::min(n_inputs_, 4);
  std::mt19937_64 g(opt_.seed ^ 0x2545F4914F6CDD1DULL);
  const auto n = static_cast<std::size_t>(model_.input.elements());
  input_data_.resize(distinct);
  for (auto& d : input_data_) {
    d.resize(n);
    for (float& x : d) x = static_cast<float>(2.0 * detail::uniform01(g) - 1.0);
  }
}

void Executor::build_slots() {
  int slots = opt_.slots > 0 ? opt_.slots : (opt_.arrival.kind == ArrivalKind::closed ? 2 : 8);
  slots = std::min(slots, n_inputs_);
  res_.slots = slots;
  slots_ = std::vector<Slot>(slots);
  for (int i = slots - 1; i >= 0; --i) free_.push_back(i);
  for (Slot& s : slots_) {
    s.index = static_cast<int>(&s - slots_.data());
    s.wait.assign(n_layers_, 0);
    s.buf.resize(static_cast<std::size_t>(n_layers_ + 1) * n_procs_);
    s.in.resize(n_layers_);
  }
  procs_ = std::vector<ProcState>(n_procs_);
  std::vector<std::size_t> layers_on(n_procs_, 0);
  for (int l : dep_.enabled_layers) ++layers_on[cfg_.proc[l]];
  for (int q = 0; q < n_procs_; ++q) procs_[q].ready.reserve(layers_on[q] * slots);
  for (PairState& p : pairs_) p.queue.reserve(p.per_input * slots);
  kernel_.resize(n_layers_);

  res_.metrics.inputs = n_inputs_;
  res_.metrics.latency_ms.assign(n_inputs_, 0.0);
  res_.first.assign(n_inputs_, -1);
  res_.answered.assign(n_inputs_, -1);
  res_.arrival_ms.assign(n_inputs_, 0.0);
  if (opt_.keep_outputs) res_.outputs.resize(n_inputs_);
  first_count_.assign(n_exits_ + 1, 0);
  first_latency_.assign(n_exits_ + 1, 0.0);
  if (opt_.record_schedule) {
    check_schedule_size(n_inputs_, static_cast<std::int64_t>(dep_.enabled_layers.size() +
                                                             dep_.dests.size()) + n_exits_ + 1);
    const auto n = static_cast<std::size_t>(n_inputs_);
    res_.metrics.schedule.tasks.reserve(n * dep_.enabled_layers.size());
    res_.metrics.schedule.copies.reserve(n * dep_.dests.size());
    res_.metrics.schedule.results.reserve(n * (n_exits_ + 1));
  }
}

// On processor q's own thread: its kernels and the buffers that live on it.
void Executor::proc_setup(int q) {
  Device& dev = be_.device(q);
  dev.bind_thread();
  for (int l : dep_.enabled_layers)
    if (cfg_.proc[l] == q) kernel_[l] = dev.build(model_, l, opt_.weights_seed);
  for (Slot& s : slots_) {
    for (int p = -1; p < n_layers_; ++p) {
      if (p >= 0 && !dep_.enabled[p]) continue;
      const int from = p < 0 ? host_ : cfg_.proc[p];
      const bool here = from == q || std::find(dep_.dests.begin() + dep_.dest_begin[p + 1],
                                               dep_.dests.begin() + dep_.dest_begin[p + 2],
                                               q) != dep_.dests.begin() + dep_.dest_begin[p + 2];
      if (here) s.buf[buf_index(p, q)] = dev.allocate(p < 0 ? model_.input : model_.layers[p].out);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Threads

void Executor::proc_worker(int q) {
  try {
    proc_setup(q);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    fail(std::current_exception());
  }
  std::unique_lock<std::mutex> lock(mu_);
  ++setup_done_;
  disp_cv_.notify_all();
  ProcState& p = procs_[q];
  try {
    while (true) {
      p.cv.wait(lock, [&] { return stop_ || !p.ready.empty(); });
      if (stop_) break;
      std::pop_heap(p.ready.begin(), p.ready.end(), ReadyLater());
      const Ready t = p.ready.back();
      p.ready.pop_back();
      Slot& s = slots_[t.slot];
      s.wait[t.layer] = kStarted;
      ++s.started;
      ++s.inflight;
      // The start is stamped before the lock is released, so that whatever this start makes
      // possible on other threads is stamped later (the recorded order is the causal one).
      const double start = now_ms();
      lock.unlock();
      kernel_[t.layer]->run(s.in[t.layer], buffer(s, t.layer, q));
      const double finish = now_ms();
      lock.lock();
      --s.inflight;
      ++res_.tasks_run;
      account(q, start, finish);
      if (opt_.record_schedule) res_.metrics.schedule.tasks.push_back({t.input, t.layer, q, start, finish});
      if (s.state == SlotState::live) output_ready(s, t.layer, q, finish);
      else release_if_idle(s);
      admit_closed();
    }
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    fail(std::current_exception());
  }
}

void Executor::copy_worker(int pair) {
  PairState& pr = pairs_[pair];
  // A GPU-like endpoint needs its context on this thread; CPU clusters are left unpinned.
  try {
    for (int q : {pr.a, pr.b})
      if (pb_.platform().processors[q].kind != ProcKind::cpu) {
        be_.device(q).bind_thread();
        break;
      }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    fail(std::current_exception());
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  try {
    while (true) {
      pr.cv.wait(lock, [&] { return stop_ || !pr.queue.empty(); });
      if (stop_) break;
      const CopyReq c = pr.queue.pop();
      Slot& s = slots_[c.slot];
      ++s.inflight;
      const double start = now_ms();
      lock.unlock();
      be_.copy(buffer(s, c.producer, c.from), c.from, buffer(s, c.producer, c.to), c.to);
      const double finish = now_ms();
      lock.lock();
      --s.inflight;
      ++res_.copies_run;
      if (opt_.record_schedule)
        res_.metrics.schedule.copies.push_back(
            {c.input, c.producer, c.from, c.to, pb_.link_resource(c.from, c.to), start, finish});
      if (s.state == SlotState::live) deliver(s, c.producer, c.to, finish);
      else release_if_idle(s);
      admit_closed();
    }
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    fail(std::current_exception());
  }
}

void Executor::dispatch() {
  std::unique_lock<std::mutex> lock(mu_);
  if (opt_.arrival.kind == ArrivalKind::closed) {
    admit_closed();  // input 0; each retirement admits the next
    disp_cv_.wait(lock, [&] { return abort_ || retired_ == n_inputs_; });
    return;
  }
#ifdef __linux__
  // Wake up at the arrival times, not up to the default 50 us timer slack later.
  struct TimerSlack {
    int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    TimerSlack() { prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); }
    ~TimerSlack() {
      if (old > 0) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(old), 0, 0, 0);
    }
  } slack;
#endif
  ArrivalClock arrivals(opt_.arrival, opt_.seed);  // the DES's stream
  double next = 0.0;  // arrival time of the next input, ms
  for (int i = 0; i < n_inputs_; ++i) {
    const double at = next;
    if (i + 1 < n_inputs_) next = arrivals.next(i, at);
    const auto deadline =
        t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(at));
    if (disp_cv_.wait_until(lock, deadline, [&] { return abort_; })) return;
    if (free_.empty()) {
      ++res_.slot_waits;
      disp_cv_.wait(lock, [&] { return abort_ || !free_.empty(); });
      if (abort_) return;
    }
    Slot& s = slots_[free_.back()];
    free_.pop_back();
    s.state = SlotState::reserved;  // the upload runs unlocked; nobody else touches the slot
    lock.unlock();
    const auto& data = input_data_[static_cast<std::size_t>(i) % input_data_.size()];
    be_.upload(data.data(), buffer(s, -1, host_), host_);  // throws: run() catches
    lock.lock();
    arrive(s, i, at);
  }
  disp_cv_.wait(lock, [&] { return abort_ || retired_ == n_inputs_; });
}

// ------------------------------------------------------------------------------------------
// Scheduling (under mu_)

// Closed arrivals: input i arrives when input i - 1 is done (at that time), as soon as a slot
// is free. Called by the dispatcher for input 0, then by every worker at the end of each step
// (never from inside a step: the retired input's slot may be the one reused). The upload runs
// under the lock: in a closed loop nothing else is in flight but the previous input's
// cancelled stragglers.
void Executor::admit_closed() {
  if (opt_.arrival.kind != ArrivalKind::closed || abort_) return;
  const int i = next_closed_;
  if (i >= n_inputs_ || retired_ < i) return;  // input i - 1 is not done yet
  if (free_.empty()) {
    if (!closed_waiting_) ++res_.slot_waits;
    closed_waiting_ = true;
    return;
  }
  closed_waiting_ = false;
  Slot& s = slots_[free_.back()];
  free_.pop_back();
  const auto& data = input_data_[static_cast<std::size_t>(i) % input_data_.size()];
  be_.upload(data.data(), buffer(s, -1, host_), host_);
  ++next_closed_;
  arrive(s, i, i == 0 ? 0.0 : last_done_);
}

void Executor::arrive(Slot& s, int input, double t) {
  s.state = SlotState::live;
  s.input = input;
  s.arrival = t;
  s.decision = plan_(input);
  s.started = 0;
  std::copy(dep_.wait.begin(), dep_.wait.end(), s.wait.begin());
  res_.first[input] = s.decision.first;
  res_.arrival_ms[input] = t;
  for (int l : dep_.unblocked) make_ready(s, l);
  output_ready(s, -1, host_, t);
}

// `producer`'s output exists on `from`: feed local consumers, release sequential gates, and
// request a copy to every other processor that needs it.
void Executor::output_ready(Slot& s, int producer, int from, double t) {
  deliver(s, producer, from, t);
  const int d0 = dep_.dest_begin[producer + 1], d1 = dep_.dest_begin[producer + 2];
  if (s.state != SlotState::live) {  // done by this very output: its copies are cancelled
    res_.metrics.cancelled_copies += d1 - d0;
    return;
  }
  if (producer >= 0)
    for (int i = dep_.gate_begin[producer]; i < dep_.gate_begin[producer + 1]; ++i)
      if (--s.wait[dep_.gates[i]] == 0) make_ready(s, dep_.gates[i]);
  for (int i = d0; i < d1; ++i) {
    const int to = dep_.dests[i];
    PairState& pr = pairs_[pair_of_[static_cast<std::size_t>(from) * n_procs_ + to]];
    pr.queue.push({s.input, s.index, producer, from, to});
    pr.cv.notify_one();
  }
}

// `producer`'s output has arrived on `to` at t.
void Executor::deliver(Slot& s, int producer, int to, double t) {
  for (int i = dep_.cons_begin[producer + 1]; i < dep_.cons_begin[producer + 2]; ++i) {
    const Consumer& c = dep_.consumers[i];
    if (c.proc == to && --s.wait[c.layer] == 0) make_ready(s, c.layer);
  }
  const int r = dep_.result_at[producer + 1];
  if (r < 0 || to != host_) return;
  if (opt_.record_schedule) res_.metrics.schedule.results.push_back({s.input, r, t});
  if (plan_.ends(s.decision, r)) retire(s, r, t);
}

void Executor::make_ready(Slot& s, int layer) {
  ProcState& p = procs_[cfg_.proc[layer]];
  p.ready.push_back({s.input, layer, s.index});
  std::push_heap(p.ready.begin(), p.ready.end(), ReadyLater());
  p.cv.notify_one();
}

// The input is done: score it, cancel what it has not started, free its slot once idle.
void Executor::retire(Slot& s, int result, double t) {
  const int input = s.input;
  const double latency = t - s.arrival;
  res_.metrics.latency_ms[input] = latency;
  res_.answered[input] = result;
  last_done_ = std::max(last_done_, t);
  ++first_count_[s.decision.first];
  first_latency_[s.decision.first] += latency;
  if (pb_.trace()) {
    const ExitTrace& tr = *pb_.trace();
    const int k = s.decision.sample;
    accuracy_sum_ += result == n_exits_ ? tr.final_ok[k] : tr.ok[result][k];
  } else {
    const auto& acc =
        result == n_exits_ ? model_.final_accuracy : model_.exits[result].accuracy;
    if (acc) accuracy_sum_ += *acc;
    else accuracy_known_ = false;
  }
  res_.metrics.cancelled_tasks += static_cast<std::int64_t>(dep_.enabled_layers.size()) - s.started;
  for (ProcState& p : procs_) {
    const auto end = std::remove_if(p.ready.begin(), p.ready.end(),
                                    [&](const Ready& r) { return r.input == input; });
    if (end == p.ready.end()) continue;
    p.ready.erase(end, p.ready.end());
    std::make_heap(p.ready.begin(), p.ready.end(), ReadyLater());
  }
  for (PairState& pr : pairs_) res_.metrics.cancelled_copies += pr.queue.purge(input);
  if (opt_.keep_outputs) {
    ExecutedOutput& o = res_.outputs[input];
    const int layer = pb_.result_layer(result);
    o.result = result;
    o.shape = model_.layers[layer].out;
    o.data.resize(static_cast<std::size_t>(o.shape.elements()));
    be_.download(buffer(s, layer, host_), host_, o.data.data());
  }
  s.state = SlotState::retired;
  ++retired_;
  if (retired_ == n_inputs_) stop_all();
  release_if_idle(s);
  disp_cv_.notify_all();
}

void Executor::release_if_idle(Slot& s) {
  if (s.state != SlotState::retired || s.inflight > 0) return;
  s.state = SlotState::free;
  free_.push_back(s.index);
  disp_cv_.notify_all();
}

void Executor::fail(std::exception_ptr e) {
  if (!error_) error_ = std::move(e);
  abort_ = true;
  stop_all();
}

void Executor::stop_all() {
  stop_ = true;
  for (ProcState& p : procs_) p.cv.notify_all();
  for (PairState& p : pairs_) p.cv.notify_all();
  disp_cv_.notify_all();
}

// Busy time: every task's duration, then the part after the last done is cut off at the end
// (only the last few tasks of a processor can reach past it).
void Executor::account(int q, double start, double finish) {
  ProcState& p = procs_[q];
  p.busy += finish - start;
  p.tail[p.n_tail % kTail] = {start, finish};
  ++p.n_tail;
}

// ------------------------------------------------------------------------------------------
// Run and summary

// The meters, made before the clock starts (an NVML meter loads the driver's library).
void Executor::setup_power() {
  if (!opt_.power) return;
  if (opt_.power_period_ms < 1)
    throw InputError("", 0, "power_period_ms: expected at least 1 ms, got " +
                                std::to_string(opt_.power_period_ms));
  if (opt_.meters) {
    meters_ = opt_.meters;
  } else {
    own_meters_ = with_meter_specs(be_.power_meters(), opt_.power_meters);
    meters_ = &own_meters_;
  }
  for (const auto& m : meters_->meters)
    for (int q : m->processors())
      if (q < 0 || q >= n_procs_)
        throw Error("", 0,
                    "backend " + be_.name() + ": power meter " + m->name() + " covers processor " +
                        std::to_string(q) + ", which the platform does not have",
                    kOtherError);
  if (!meters_->meters.empty())
    sampler_ = std::make_unique<PowerSampler>(meters_->pointers(),
                                              std::chrono::milliseconds(opt_.power_period_ms));
}

ExecuteResult Executor::run() {
  setup_power();
  const Clock::time_point setup_start = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(n_procs_ + pairs_.size());
  auto join_all = [&] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_all();
    }
    for (std::thread& t : threads) t.join();
  };
  for (int q = 0; q < n_procs_; ++q) threads.emplace_back([this, q] { proc_worker(q); });
  {
    std::unique_lock<std::mutex> lock(mu_);
    disp_cv_.wait(lock, [&] { return setup_done_ == n_procs_; });
  }
  if (error_) {
    join_all();
    std::rethrow_exception(error_);
  }
  for (Slot& s : slots_)
    for (int l : dep_.enabled_layers) {
      const int q = cfg_.proc[l];
      for (int src : model_.layers[l].inputs) s.in[l].push_back(&buffer(s, src, q));
    }
  for (int i = 0; i < static_cast<int>(pairs_.size()); ++i)
    threads.emplace_back([this, i] { copy_worker(i); });
  // Every counter is read at start() and stop(): the window is [just before t0, just after the
  // last done], as the DES's energy spans [first arrival, last done].
  if (sampler_) sampler_->start();
  t0_ = Clock::now();
  res_.setup_ms = std::chrono::duration<double, std::milli>(t0_ - setup_start).count();
  try {
    dispatch();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    fail(std::current_exception());
  }
  if (sampler_) res_.power = sampler_->stop();
  join_all();
  if (error_) std::rethrow_exception(error_);
  finish_stats();
  return std::move(res_);
}

void Executor::finish_stats() {
  Metrics& r = res_.metrics;
  const int n = n_inputs_;
  r.origin = Origin::measured;
  r.feasible = true;
  summarize_latencies(r, first_count_, first_latency_);
  r.accuracy = accuracy_known_ ? accuracy_sum_ / n : kNaN;
  finish_energy();
  r.cancelled_work_ms = kNaN;
  r.events = res_.tasks_run + res_.copies_run;

  const double span = last_done_;
  r.makespan_ms = span;
  r.throughput_ips = span > 0.0 ? n * 1000.0 / span : std::numeric_limits<double>::infinity();
  r.utilization.assign(n_procs_, 0.0);
  for (int q = 0; q < n_procs_; ++q) {
    const ProcState& p = procs_[q];
    double busy = p.busy;
    for (int i = 0; i < std::min(p.n_tail, kTail); ++i) {
      const auto [start, finish] = p.tail[i];
      if (finish > span) busy -= finish - std::max(start, span);
    }
    r.utilization[q] = span > 0.0 ? std::max(0.0, busy) / span : 0.0;
  }
}

std::string fmt_ms(double ms) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g ms", ms);
  return buf;
}

// energy_mj: the measured energy of every meter over the window, per input, when every
// processor is covered; else NaN with the reason. metered_energy_mj: the same over the
// processors the meters cover.
void Executor::finish_energy() {
  ExecuteResult& r = res_;
  r.metrics.energy_mj = kNaN;
  if (!opt_.power) {
    r.energy_note = "not measured: power sampling switched off";
    return;
  }
  const bool read = r.power.ok() && !r.power.meters.empty();
  const SlowestMeter slowest = slowest_meter(meters_->pointers());
  if (read) {
    // Each meter's mean power over its window times the run's span (first arrival to last
    // done, as the DES's energy): the window also holds the start and stop readings (about 4 ms
    // each for NVML) and the dispatcher's wake-up after the last done. W x ms = mJ.
    double mj = 0.0;
    for (const MeterWindow& m : r.power.meters) {
      mj += m.mean_w() * last_done_;
      r.metered_processors.insert(r.metered_processors.end(), m.processors.begin(), m.processors.end());
    }
    std::sort(r.metered_processors.begin(), r.metered_processors.end());
    r.metered_energy_mj = mj / n_inputs_;
    r.energy_coarse = slowest.coarse(r.power.seconds);
  }
  std::vector<std::string> why(static_cast<std::size_t>(n_procs_));
  for (int q = 0; q < n_procs_; ++q)
    if (!meters_->covers(q)) why[static_cast<std::size_t>(q)] = meters_->why_not(q);
  const auto missing = group_by_reason(why);
  if (!missing.empty()) {
    r.energy_note = "not measured:";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      std::string names;
      for (int q : missing[i].second) names += (names.empty() ? "" : ", ") + pb_.platform().processors[q].name;
      r.energy_note += (i ? "; " : " ") + names + ": " + missing[i].first;
    }
    return;
  }
  if (!r.power.ok()) {
    for (const MeterWindow& m : r.power.meters)
      if (!m.error.empty()) r.energy_note = "not measured: reading a power meter failed: " + m.error;
    return;
  }
  r.metrics.energy_mj = r.metered_energy_mj;
  std::string by;
  for (std::size_t i = 0; i < meters_->meters.size(); ++i) by += (i ? ", " : "") + meters_->meters[i]->name();
  char buf[256];
  std::snprintf(buf, sizeof(buf), "measured: %.6g J over %.4g s by ", r.power.energy_j(), r.power.seconds);
  r.energy_note = buf + by + "; mean power x the run's " + fmt_ms(last_done_) + " span / " +
                  std::to_string(n_inputs_) + " input" + (n_inputs_ == 1 ? "" : "s");
  if (r.energy_coarse) {
    std::snprintf(buf, sizeof(buf), "; warning: the run is shorter than %g updates of %s's counter "
                  "(about every %.3g s): the energy is coarse", kCoarseUpdates,
                  slowest.meter->name().c_str(), slowest.interval_s);
    r.energy_note += buf;
  }
}

}  // namespace

std::vector<int> freq_processors(const Problem& problem, const Config& config) {
  const Platform& pf = problem.platform();
  std::vector<char> used(pf.processors.size(), 0);
  for (int l : problem.dependencies(config).enabled_layers)
    if (config.proc[l] < used.size()) used[config.proc[l]] = 1;
  std::vector<int> out;
  for (std::size_t q = 0; q < used.size(); ++q)
    if (used[q] && !pf.processors[q].freqs_mhz.empty()) out.push_back(static_cast<int>(q));
  return out;
}

namespace {

// The configuration's level of processor q in MHz (the highest where it names none).
double config_mhz(const Problem& problem, const Config& config, int q) {
  const Processor& p = problem.platform().processors[q];
  const std::size_t level = static_cast<std::size_t>(q) < config.freq_level.size()
                                ? config.freq_level[q]
                                : p.freqs_mhz.size() - 1;
  if (level >= p.freqs_mhz.size())
    throw InputError("", 0, "processor " + p.name + ": frequency level " + std::to_string(level) +
                                " is not one of its " + std::to_string(p.freqs_mhz.size()) +
                                " freqs_mhz");
  return p.freqs_mhz[level];
}

std::string mhz_text(double mhz) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g MHz", mhz);
  return buf;
}

// Sets every processor of `procs` to the configuration's level (docs/dvfs.md) and says so in
// `note`; `applied` gets the levels set. Two processors of one cpufreq policy cannot run at two
// levels: that is an error, not a silent last-one-wins.
void apply_levels(FrequencyPins& pins, const Problem& problem, const Config& config,
                  const std::vector<int>& procs, std::vector<double>& applied, std::string& note) {
  const auto& ps = problem.platform().processors;
  for (std::size_t i = 0; i < procs.size(); ++i)
    for (std::size_t j = i + 1; j < procs.size(); ++j) {
      const int p = procs[i], q = procs[j];
      const double fp = config_mhz(problem, config, p), fq = config_mhz(problem, config, q);
      if (fp != fq && pins.shared(p, q))
        throw BackendError("processors " + ps[p].name + " and " + ps[q].name +
                           " share one frequency domain, but the mapping's freq_mhz gives them " +
                           mhz_text(fp) + " and " + mhz_text(fq) + ": give both the same level");
    }
  for (int q : procs) {
    const double mhz = config_mhz(problem, config, q);
    try {
      pins.set(q, mhz);
    } catch (const BackendError& e) {
      throw BackendError(std::string(e.what()) +
                         " (--no-dvfs runs at whatever frequency the governor picks)");
    }
    applied[q] = mhz;
    note += (note.empty() ? "set " : ", ") + ps[q].name + " " + mhz_text(mhz);
  }
  note += " (the mapping's freq_mhz, put back after the run)";
}

}  // namespace

ExecuteResult execute(Backend& backend, const Problem& problem, const Config& config,
                      const ExecuteOptions& options) {
  Executor executor(backend, problem, config, options);  // checks the inputs before any write
  const std::vector<int> procs = freq_processors(problem, config);
  std::vector<double> applied(static_cast<std::size_t>(problem.processors()), 0.0);
  std::string note;
  // Declared before the run: an exception from the run unwinds through its destructor, which
  // puts every domain back.
  FrequencyPins pins(backend, options.dvfs);
  if (!procs.empty() && options.apply_freq) {
    apply_levels(pins, problem, config, procs, applied, note);
    if (options.freq_settle_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(options.freq_settle_ms));
  } else if (!procs.empty()) {
    for (int q : procs)
      note += (note.empty() ? "left to the governor (--no-dvfs): " : ", ") +
              problem.platform().processors[q].name + " (mapping " +
              mhz_text(config_mhz(problem, config, q)) + ")";
    note += "; measured times may not match the mapping's freq_mhz";
  }
  ExecuteResult r = executor.run();
  pins.restore();
  r.freq_mhz = std::move(applied);
  r.freq_note = std::move(note);
  return r;
}

}  // namespace hetmap::backend
