#include "hetmap/backend/profiler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "hetmap/backend/executor.hpp"
#include "hetmap/detail/csv.hpp"
#include "hetmap/detail/io.hpp"
#include "hetmap/profile.hpp"
#include "hetmap/stats.hpp"
#include "hetmap/detail/number.hpp"

namespace hetmap::backend {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Runs `f` on a fresh thread bound to `device`, and rethrows what it threw.
template <class F>
void on_device(Device& device, F&& f) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      device.bind_thread();
      f();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

// Runs `f` on a fresh thread placed as the executor places the copy worker of a processor pair:
// bound to the pair's non-CPU device if it has one (a GPU context), else left unpinned.
template <class F>
void on_copy_thread(Backend& backend, int from, int to, F&& f) {
  const Platform& pf = backend.platform();
  Device* bind = nullptr;
  if (pf.processors[to].kind != ProcKind::cpu) bind = &backend.device(to);
  else if (pf.processors[from].kind != ProcKind::cpu) bind = &backend.device(from);
  std::exception_ptr error;
  std::thread t([&] {
    try {
      if (bind) bind->bind_thread();
      f();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Deterministic input data in [-1, 1).
void fill(std::vector<float>& v, std::uint64_t seed) {
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (float& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>(static_cast<double>(s >> 40) / static_cast<double>(1ULL << 24)) * 2.0f - 1.0f;
  }
}

std::unique_ptr<Buffer> make_buffer(Backend& backend, int proc, const Shape& shape,
                                    std::uint64_t seed) {
  std::unique_ptr<Buffer> b = backend.device(proc).allocate(shape);
  std::vector<float> data(static_cast<std::size_t>(shape.elements()));
  fill(data, seed);
  backend.upload(data.data(), *b, proc);
  return b;
}

const Shape& input_shape(const Model& model, int producer) {
  return producer < 0 ? model.input : model.layers[producer].out;
}

// One layer built on one processor with its input and output buffers. Construct it on a thread
// bound to the processor (first-touch memory, GPU contexts).
struct Bench {
  std::unique_ptr<Kernel> kernel;
  std::vector<std::unique_ptr<Buffer>> inputs;
  std::vector<const Buffer*> input_ptrs;
  std::unique_ptr<Buffer> output;

  Bench(Backend& backend, const Model& model, int layer, int proc, std::uint64_t seed) {
    Device& device = backend.device(proc);
    kernel = device.build(model, layer, seed);
    const Layer& l = model.layers[layer];
    for (std::size_t i = 0; i < l.inputs.size(); ++i) {
      inputs.push_back(make_buffer(backend, proc, input_shape(model, l.inputs[i]),
                                   seed + 977 * (layer + 1) + i));
      input_ptrs.push_back(inputs.back().get());
    }
    output = device.allocate(l.out);
  }
  void run() { kernel->run(input_ptrs, *output); }
};

// A processor kept busy with a loop of kernels on its own bound thread, paused and resumed on
// demand; while paused it sleeps (no load).
class BusyLoop {
 public:
  BusyLoop(Backend& backend, const Model& model, int proc, const std::vector<int>& layers,
           std::uint64_t seed) {
    thread_ = std::thread([this, &backend, &model, proc, layers, seed] {
      try {
        backend.device(proc).bind_thread();
        std::vector<std::unique_ptr<Bench>> benches;
        for (int l : layers) benches.push_back(std::make_unique<Bench>(backend, model, l, proc, seed));
        for (auto& b : benches) b->run();
        loop(benches);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
        state_ = kDone;
        cv_.notify_all();
      }
    });
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return state_ != kStarting; });
    if (error_) {
      lock.unlock();
      thread_.join();
      lock.lock();
      rethrow(lock);
    }
  }
  ~BusyLoop() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        want_ = kDone;
        running_ = false;
      }
      cv_.notify_all();
      thread_.join();
    }
  }
  void resume() { set(kRunning); }
  void pause() { set(kPaused); }
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      want_ = kDone;
      running_ = false;
    }
    cv_.notify_all();
    thread_.join();
    std::unique_lock<std::mutex> lock(mutex_);
    rethrow(lock);
  }

 private:
  enum State { kStarting, kPaused, kRunning, kDone };
  void loop(std::vector<std::unique_ptr<Bench>>& benches) {
    std::unique_lock<std::mutex> lock(mutex_);
    state_ = kPaused;
    cv_.notify_all();
    for (;;) {
      cv_.wait(lock, [&] { return want_ != state_; });
      state_ = want_;
      cv_.notify_all();
      if (state_ == kDone) return;
      if (state_ == kPaused) continue;
      running_ = true;
      lock.unlock();
      while (running_.load(std::memory_order_relaxed))
        for (auto& b : benches) {
          if (!running_.load(std::memory_order_relaxed)) break;
          b->run();
        }
      lock.lock();
      state_ = kPaused;  // acknowledged below: set() waits for it
      cv_.notify_all();
    }
  }
  void set(State s) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (state_ == kDone) return rethrow(lock);
    want_ = s;
    if (s != kRunning) running_ = false;
    cv_.notify_all();
    cv_.wait(lock, [&] { return state_ == s || state_ == kDone; });
    rethrow(lock);
  }
  void rethrow(std::unique_lock<std::mutex>&) {
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  State state_ = kStarting, want_ = kPaused;
  std::atomic<bool> running_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

// A copy issued the way the executor issues one: the producer's thread (bound to `from`) queues
// it for a copy worker (placed like the executor's), which runs Backend::copy and wakes the
// consumer's thread (bound to `to`), asleep on a condition variable as an idle worker is. A
// sample is the time from queueing to the consumer running again.
class Handoff {
 public:
  Handoff(Backend& backend, int from, int to, const Buffer& src, Buffer& dst) {
    const Platform& pf = backend.platform();
    Device* copy_bind = nullptr;
    if (pf.processors[to].kind != ProcKind::cpu) copy_bind = &backend.device(to);
    else if (pf.processors[from].kind != ProcKind::cpu) copy_bind = &backend.device(from);
    copier_ = std::thread([this, &backend, from, to, &src, &dst, copy_bind] {
      guarded([&] {
        if (copy_bind) copy_bind->bind_thread();
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
          cv_copy_.wait(lock, [&] { return stop_ || requested_ > copied_; });
          if (stop_) return;
          lock.unlock();
          backend.copy(src, from, dst, to);
          lock.lock();
          ++copied_;
          cv_consumer_.notify_all();
        }
      });
    });
    consumer_ = std::thread([this, &backend, to] {
      guarded([&] {
        backend.device(to).bind_thread();
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
          waiting_ = true;
          cv_producer_.notify_all();
          cv_consumer_.wait(lock, [&] { return stop_ || copied_ > seen_; });
          const Clock::time_point t = Clock::now();
          if (stop_) return;
          woke_ = t;
          waiting_ = false;
          ++seen_;
          cv_producer_.notify_all();
        }
      });
    });
  }
  ~Handoff() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_copy_.notify_all();
    cv_consumer_.notify_all();
    copier_.join();
    consumer_.join();
  }
  // One copy, from the calling (producer) thread; ms.
  double once() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_producer_.wait(lock, [&] { return error_ || (waiting_ && seen_ == requested_); });
    if (error_) std::rethrow_exception(error_);
    const Clock::time_point t0 = Clock::now();
    ++requested_;
    cv_copy_.notify_all();
    cv_producer_.wait(lock, [&] { return error_ || seen_ == requested_; });
    if (error_) std::rethrow_exception(error_);
    return std::chrono::duration<double, std::milli>(woke_ - t0).count();
  }

 private:
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      cv_producer_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_copy_, cv_consumer_, cv_producer_;
  long long requested_ = 0, copied_ = 0, seen_ = 0;
  bool waiting_ = false, stop_ = false;
  Clock::time_point woke_{};
  std::exception_ptr error_;
  std::thread copier_, consumer_;
};

// Samples (ms) of copying a `shape` tensor from `from` to `to`.
std::vector<double> measure_copy(Backend& backend, int from, int to, const Shape& shape,
                                 const RepeatOptions& reps, bool handoff, std::uint64_t seed) {
  std::unique_ptr<Buffer> src, dst;
  on_device(backend.device(from), [&] { src = make_buffer(backend, from, shape, seed); });
  on_device(backend.device(to), [&] { dst = backend.device(to).allocate(shape); });
  std::vector<double> samples;
  if (handoff) {
    on_device(backend.device(from), [&] {
      Handoff h(backend, from, to, *src, *dst);
      samples = repeat_samples([&] { return h.once(); }, reps);
    });
  } else {
    on_copy_thread(backend, from, to, [&] {
      samples = repeat_timed([&] { backend.copy(*src, from, *dst, to); }, reps);
    });
  }
  return samples;
}

// ------------------------------------------------------------------------------------------
// Power (docs/validation.md, "Power and energy"; docs/semantics.md, "Energy": a processor draws
// active_w while it executes a task, idle_w otherwise).

// Every processor idle for `seconds`: the calling thread sleeps while the sampler reads.
PowerWindow idle_window(PowerSampler& sampler, double seconds) {
  sampler.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return sampler.stop();
}

struct ActiveRun {
  bool ran = false;      // false: every layer refused on this processor
  double busy_s = 0.0;   // time inside Kernel::run during the window
  int passes = 0;
  PowerWindow window;
};

// The whole model built on one processor (on its bound thread): every layer's kernel, output and
// inputs, the model input uploaded at the start of each pass. A layer the backend refuses keeps
// its reason, and its consumers read random data in its place.
struct ModelPass {
  ModelPass(Backend& backend, const Model& model, int p, std::uint64_t seed)
      : backend(backend), p(p), L(static_cast<int>(model.layers.size())), kernels(L), why(L),
        out(L), ins(L), input(static_cast<std::size_t>(model.input.elements())) {
    fill(input, seed);
    in_buf = backend.device(p).allocate(model.input);
    for (int l = 0; l < L; ++l) {
      try {
        kernels[l] = backend.device(p).build(model, l, seed);
        ++built;
      } catch (const BackendError& e) {
        why[l] = e.what();
      }
      out[l] = kernels[l] ? backend.device(p).allocate(model.layers[l].out)
                          : make_buffer(backend, p, model.layers[l].out, seed + l);
      for (int src : model.layers[l].inputs) ins[l].push_back(src < 0 ? in_buf.get() : out[src].get());
    }
  }
  void upload() { backend.upload(input.data(), *in_buf, p); }
  // Runs layer l and returns its wall time (ms).
  double run(int l) {
    const Clock::time_point k0 = Clock::now();
    kernels[l]->run(ins[l], *out[l]);
    return ms_since(k0);
  }

  Backend& backend;
  int p, L, built = 0;
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<std::string> why;  // refused layers: the backend's reason
  std::vector<std::unique_ptr<Buffer>> out;
  std::vector<std::vector<const Buffer*>> ins;
  std::vector<float> input;
  std::unique_ptr<Buffer> in_buf;
};

// Processor p runs the whole model back to back on a thread bound to it (as the in-model layer
// timing does: every layer in declaration order, the input uploaded at the start of each pass)
// for at least `seconds`, the others idle; the window runs from the first to the last pass.
ActiveRun active_window(Backend& backend, const Model& model, int p, const ProfileOptions& o,
                        PowerSampler& sampler) {
  ActiveRun a;
  const int L = static_cast<int>(model.layers.size());
  on_device(backend.device(p), [&] {
    ModelPass m(backend, model, p, o.seed);
    if (m.built == 0) return;
    auto pass = [&] {
      m.upload();
      double busy = 0.0;
      for (int l = 0; l < L; ++l)
        if (m.kernels[l]) busy += m.run(l) / 1e3;
      return busy;
    };
    pass();  // warm-up: first-touch memory, caches, a GPU's clocks
    sampler.start();
    const Clock::time_point t0 = Clock::now();
    do {
      a.busy_s += pass();
      ++a.passes;
    } while (ms_since(t0) < o.power_active_s * 1e3);
    a.window = sampler.stop();
    a.ran = true;
  });
  return a;
}

std::string failed_meter(const PowerWindow& w) {
  for (const MeterWindow& m : w.meters)
    if (!m.error.empty()) return m.error;
  return "";
}

std::string proc_list(const Platform& pf, const std::vector<int>& procs) {
  std::string s;
  for (int p : procs) s += (s.empty() ? "" : ", ") + pf.processors[p].name;
  return s;
}

// Fills r.power and the processors' active_w / idle_w.
void measure_power(Backend& backend, const Model& model, const ProfileOptions& o, ProfileResult& r,
                   const std::function<void(const std::string&)>& log) {
  PowerMeasurement& pw = r.power;
  Platform& pf = r.platform;
  const int P = static_cast<int>(pf.processors.size());
  using hetmap::detail::kNaN;
  pw.idle_w.assign(P, kNaN);
  pw.active_w.assign(P, kNaN);
  pw.active_raw_w.assign(P, kNaN);
  pw.busy_share.assign(P, kNaN);
  pw.active_s.assign(P, kNaN);
  pw.why_not.assign(P, "");
  for (Processor& p : pf.processors) {  // the backend's placeholders are not measurements
    p.has_power = false;
    p.active_w.assign(static_cast<std::size_t>(p.levels()), 0.0);
    p.idle_w = 0.0;
  }
  if (!o.power) {
    for (int p = 0; p < P; ++p) pw.why_not[p] = "switched off with --no-power";
    pw.note = "not measured: switched off with --no-power";
    return;
  }
  PowerMeters meters = with_meter_specs(backend.power_meters(), o.power_meters);
  for (const auto& m : meters.meters)
    for (int q : m->processors())
      if (q < 0 || q >= P)
        throw Error("", 0, fmt::format("backend {}: power meter {} covers processor {}, but the "
                                       "platform has processors 0..{}", r.backend, m->name(), q, P - 1),
                    kOtherError);
  for (int p = 0; p < P; ++p) pw.why_not[p] = meters.why_not(p);
  if (meters.meters.empty()) {
    std::string why;
    for (int p = 0; p < P; ++p)
      if (why.find(pw.why_not[p]) == std::string::npos)
        why += (why.empty() ? "" : "; ") + pw.why_not[p];
    pw.note = "not measured: " + why;
    log("power: " + pw.note);
    return;
  }
  if (!(o.power_idle_s > 0) || !(o.power_active_s > 0) || o.power_period_ms < 1)
    throw InputError("", 0, "power windows: expected idle and active seconds > 0 and a sampling "
                            "period >= 1 ms");
  pw.attempted = true;

  const std::vector<PowerMeter*> ms = meters.pointers();
  const std::size_t M = ms.size();
  if (const SlowestMeter slowest = slowest_meter(ms); slowest.coarse(std::min(o.power_idle_s, o.power_active_s)))
    pw.warnings.push_back(fmt::format(
        "windows of {:g} s / {:g} s span fewer than {:g} updates of {}'s counter (about every {:g} s): "
        "the power readings are coarse",
        o.power_idle_s, o.power_active_s, kCoarseUpdates, slowest.meter->name(), slowest.interval_s));
  PowerSampler sampler(ms, std::chrono::milliseconds(o.power_period_ms), /*keep_samples=*/false);
  auto abandon = [&](const std::string& why) {
    for (int p = 0; p < P; ++p)
      if (pw.why_not[p].empty()) pw.why_not[p] = why;
    pw.idle_w.assign(P, kNaN);
    pw.active_w.assign(P, kNaN);
    pw.note = "not measured: " + why;
    log("power: " + pw.note);
  };

  // Idle before the active windows, and again after them (drift hits both; the mean is used).
  log(fmt::format("power: every processor idle for {:g} s ({})", o.power_idle_s,
                  M == 1 ? ms[0]->name() : std::to_string(M) + " meters"));
  const PowerWindow idle1 = idle_window(sampler, o.power_idle_s);
  if (!idle1.ok()) return abandon("reading a power meter failed: " + failed_meter(idle1));
  std::vector<ActiveRun> runs(P);
  for (int p = 0; p < P; ++p) {
    if (!pw.why_not[p].empty()) continue;
    runs[p] = active_window(backend, model, p, o, sampler);
    if (!runs[p].ran) {
      pw.why_not[p] = "no layer of the model runs on it";
      continue;
    }
    if (!runs[p].window.ok())
      return abandon("reading a power meter failed: " + failed_meter(runs[p].window));
    std::string line = fmt::format(
        "power: {} ran {} passes of the whole model in {:.2f} s ({:.1f}% inside kernels):",
        pf.processors[p].name, runs[p].passes, runs[p].window.seconds,
        100 * runs[p].busy_s / runs[p].window.seconds);
    for (const MeterWindow& w : runs[p].window.meters)
      line += fmt::format(" {} {:.2f} W", w.name, w.mean_w());
    log(line);
  }
  const PowerWindow idle2 = idle_window(sampler, o.power_idle_s);
  if (!idle2.ok()) return abandon("reading a power meter failed: " + failed_meter(idle2));
  pw.idle_s = std::max(idle1.seconds, idle2.seconds);

  // Per meter: idle power, and its power during each processor's active window.
  for (std::size_t m = 0; m < M; ++m) {
    PowerMeasurement::Domain d;
    d.name = ms[m]->name();
    d.method = ms[m]->method();
    d.processors = ms[m]->processors();
    std::sort(d.processors.begin(), d.processors.end());
    d.processors.erase(std::unique(d.processors.begin(), d.processors.end()), d.processors.end());
    d.idle_before_w = idle1.meters[m].mean_w();
    d.idle_after_w = idle2.meters[m].mean_w();
    d.idle_w = 0.5 * (d.idle_before_w + d.idle_after_w);
    d.active_window_w.assign(P, kNaN);
    for (int p = 0; p < P; ++p)
      if (runs[p].ran) d.active_window_w[p] = runs[p].window.meters[m].mean_w();
    log(fmt::format("power: {} idle {:.2f} W before, {:.2f} W after the active windows", d.name,
                    d.idle_before_w, d.idle_after_w));
    if (std::abs(d.idle_after_w - d.idle_before_w) > 0.1 * std::max(d.idle_before_w, d.idle_after_w))
      pw.warnings.push_back(fmt::format("{}'s idle power moved from {:.2f} W to {:.2f} W between the "
                                        "two idle windows (drift, or a machine that was not idle)",
                                        d.name, d.idle_before_w, d.idle_after_w));
    pw.domains.push_back(std::move(d));
  }
  // idle_w(p): each domain's idle power split evenly between the processors it covers.
  // active_w(p): idle_w(p) plus the rise above idle of every meter while p ran alone, divided by
  // the share of the window spent inside Kernel::run, so that active_w x task time (what the
  // simulator charges) reproduces the measured energy. Every meter counts, not only p's own:
  // the semantics have the platform draw active_w(p) + the others' idle_w while p runs, so
  // work p causes elsewhere (the host thread that drives a GPU) belongs to p.
  for (int p = 0; p < P; ++p) {
    if (!pw.why_not[p].empty()) continue;
    double idle = 0.0, rise = 0.0;
    for (const auto& d : pw.domains) {
      if (std::binary_search(d.processors.begin(), d.processors.end(), p))
        idle += d.idle_w / static_cast<double>(d.processors.size());
      rise += d.active_window_w[p] - d.idle_w;
    }
    const ActiveRun& a = runs[p];
    pw.busy_share[p] = a.window.seconds > 0 ? a.busy_s / a.window.seconds : kNaN;
    pw.active_s[p] = a.window.seconds;
    pw.idle_w[p] = idle;
    pw.active_raw_w[p] = idle + rise / pw.busy_share[p];
    pw.active_w[p] = std::max(idle, pw.active_raw_w[p]);
    if (!std::isfinite(pw.active_w[p]) || !std::isfinite(idle)) {
      pw.why_not[p] = "the meters gave no finite power (a window of zero length?)";
      pw.idle_w[p] = pw.active_w[p] = kNaN;
      continue;
    }
    if (pw.active_raw_w[p] < idle)
      pw.warnings.push_back(fmt::format("{}: measured active power {:.3f} W is below its idle share "
                                        "{:.3f} W (noise): written as the idle share",
                                        pf.processors[p].name, pw.active_raw_w[p], idle));
    Processor& proc = pf.processors[p];
    proc.has_power = true;
    proc.active_w.assign(static_cast<std::size_t>(proc.levels()), pw.active_w[p]);
    proc.idle_w = idle;
    if (!proc.freqs_mhz.empty())
      pw.warnings.push_back(fmt::format(
          "{}: power measured at {} only; the same active_w is written for every level", proc.name,
          r.pinned_mhz.size() > static_cast<std::size_t>(p) && r.pinned_mhz[p] > 0
              ? fmt::format("its highest level ({:g} MHz)", r.pinned_mhz[p])
              : std::string("the level the governor chose")));
  }
  for (const std::string& w : pw.warnings) log("power: warning: " + w);
  std::vector<int> measured, missing;
  for (int p = 0; p < P; ++p) (pw.why_not[p].empty() ? measured : missing).push_back(p);
  pw.note = measured.empty() ? "not measured: no processor could be run under a meter"
                             : fmt::format("measured for {}", proc_list(pf, measured));
  if (!missing.empty()) pw.note += fmt::format("; not measured for {}", proc_list(pf, missing));
  log("power: " + pw.note);
}

std::string cq(const std::string& s) { return detail::csv_cell(s); }

std::string num(double v) { return fmt::format("{:.6g}", v); }

std::string repeat_text(const RepeatOptions& r) {
  return fmt::format("{} warm-up runs, then repeated until the 95% CI half-width was within "
                     "{:g}% of the mean ({}..{} samples, at most {:g} ms per cell)",
                     r.warmup, r.rel_ci * 100, r.min_reps, r.max_reps, r.time_cap_ms);
}

std::string source_line(const ProfileResult& r) {
  return fmt::format("measured with hetmap profile --backend {} on {}, {}", r.backend, r.machine,
                     r.date_utc);
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// Processors grouped by the reason they have no measured power: "cpu0, cpu1 (why)".
std::string missing_power(const ProfileResult& r) {
  std::string s;
  for (const auto& [why, procs] : group_by_reason(r.power.why_not))
    s += (s.empty() ? "" : "; ") + proc_list(r.platform, procs) + " (" + one_line(why) + ")";
  return s;
}

// platform.yaml's comment lines on power (docs/validation.md, "Power and energy").
std::vector<std::string> power_comments(const ProfileResult& r) {
  const PowerMeasurement& pw = r.power;
  const Platform& pf = r.platform;
  const std::string missing = missing_power(r);
  if (!pw.any())
    return {"No power data: " +
                (missing.empty() ? std::string("no processor") : "not measured for " + missing) + ".",
            "Energy is not predicted on this platform (docs/formats.md: only when every "
            "processor has active_w)."};
  std::vector<std::string> lines;
  std::string y = "Power (docs/validation.md, \"Power and energy\"), sampled every " +
                  std::to_string(r.options.power_period_ms) + " ms from:";
  for (const auto& d : pw.domains)
    y += " " + d.name + " [" + d.method + "; covers " + proc_list(pf, d.processors) + "]";
  lines.push_back(y + ".");
  y = fmt::format("  idle: every processor idle for {:.2f} s before and again after the active "
                  "windows:", pw.idle_s);
  for (const auto& d : pw.domains)
    y += fmt::format(" {} {:.3f} W then {:.3f} W (mean {:.3f} W, split evenly between {} processor{})",
                     d.name, d.idle_before_w, d.idle_after_w, d.idle_w, d.processors.size(),
                     d.processors.size() == 1 ? "" : "s");
  lines.push_back(y + ".");
  lines.push_back("  active: each processor ran the whole model back to back on its bound thread, "
                  "the others idle; active_w = its idle share + the rise of every meter above its "
                  "idle power, divided by the share of the window inside Kernel::run.");
  for (int p = 0; p < static_cast<int>(pw.active_w.size()); ++p) {
    if (!pw.why_not[p].empty()) continue;
    y = fmt::format("  {}: {:.2f} s,", pf.processors[p].name, pw.active_s[p]);
    for (const auto& d : pw.domains) y += fmt::format(" {} {:.3f} W,", d.name, d.active_window_w[p]);
    const std::string raw = pw.active_raw_w[p] < pw.idle_w[p]
                                ? fmt::format(" (raw {:.4g} W, below idle: noise)", pw.active_raw_w[p])
                                : "";
    lines.push_back(y + fmt::format(" {:.1f}% inside kernels -> active_w {:.4g} W{}, idle_w {:.4g} W.",
                                    100 * pw.busy_share[p], pw.active_w[p], raw, pw.idle_w[p]));
  }
  for (const std::string& w : pw.warnings) lines.push_back("  warning: " + w + ".");
  if (!missing.empty())
    lines.push_back("  not measured for " + missing +
                    ": no active_w/idle_w, so energy is not predicted on this platform "
                    "(docs/formats.md: only when every processor has active_w).");
  return lines;
}

// The power part of platform.yaml's `source:` line.
std::string power_source(const ProfileResult& r) {
  const std::string missing = missing_power(r);
  std::string s;
  if (r.power.any()) {
    std::vector<int> measured;
    for (int p = 0; p < static_cast<int>(r.power.why_not.size()); ++p)
      if (r.power.why_not[p].empty()) measured.push_back(p);
    std::string meters;
    for (const auto& d : r.power.domains) meters += (meters.empty() ? "" : ", ") + d.name;
    s = "; power measured for " + proc_list(r.platform, measured) + " (" + meters + ")";
    if (!missing.empty()) s += ", not measured for " + missing;
  } else {
    s = "; power not measured" + (missing.empty() ? std::string() : " for " + missing);
  }
  return s;
}

// The profile's frequencies and thread counts, for its `# source:` line (docs/dvfs.md).
std::string dvfs_note(const ProfileResult& r) {
  const bool reference = r.backend == "reference";
  if (r.freq_note.empty())
    return fmt::format("; default frequency and thread count only (the {} backend cannot set DVFS "
                       "levels or thread counts on platform {}: it lists no freqs_mhz, so "
                       "frequencies were left to the governor (`hetmap profile --dvfs` measures "
                       "the levels cpufreq/devfreq offer){})",
                       r.backend, r.platform.name,
                       reference ? ", and its kernels are single-threaded" : "");
  return "; " + r.freq_note + fmt::format("; default thread count only (the {} backend cannot set "
                                          "thread counts{})", r.backend,
                                          reference ? ": its kernels are single-threaded" : "");
}

}  // namespace

bool PowerMeasurement::any() const {
  for (std::size_t p = 0; p < active_w.size(); ++p)
    if (std::isfinite(active_w[p]) && p < why_not.size() && why_not[p].empty()) return true;
  return false;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

ProfileOptions ProfileOptions::quick() {
  ProfileOptions o;
  o.layers = {1, 5, 50, 0.05, 100};
  o.links = {1, 3, 20, 0.05, 40};
  o.link_bytes = {4 << 10, 64 << 10, 1 << 20, 4 << 20};
  o.transfer_reps = {1, 3, 20, 0.05, 20};
  o.contention_layers = 2;
  o.contention_reps = {1, 5, 40, 0.05, 100};
  o.power_idle_s = 0.5;
  o.power_active_s = 0.5;
  return o;
}

double t_quantile_975(int df) {
  static const double table[] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306,  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120,  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064,  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return std::numeric_limits<double>::infinity();
  if (df <= 30) return table[df];
  // Cornish-Fisher expansion around the normal quantile (error < 1e-4 for df > 30).
  const double z = 1.959964, n = df;
  return z + (z * z * z + z) / (4 * n) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}

SampleStats summarize(const std::vector<double>& samples_ms, double rel_ci) {
  SampleStats s;
  s.samples = static_cast<int>(samples_ms.size());
  if (samples_ms.empty()) return s;
  double sum = 0;
  for (double x : samples_ms) sum += x;
  s.mean_ms = sum / s.samples;
  double ss = 0;
  for (double x : samples_ms) ss += (x - s.mean_ms) * (x - s.mean_ms);
  s.std_ms = s.samples > 1 ? std::sqrt(ss / (s.samples - 1)) : 0.0;
  s.p99_ms = percentile(samples_ms, 99);
  s.ci_half_ms = s.samples > 1 ? t_quantile_975(s.samples - 1) * s.std_ms / std::sqrt(s.samples)
                               : std::numeric_limits<double>::infinity();
  s.converged = s.ci_half_ms <= rel_ci * s.mean_ms;
  return s;
}

std::vector<double> repeat_timed(const std::function<void()>& run_once, const RepeatOptions& o) {
  return repeat_samples(
      [&] {
        const Clock::time_point t0 = Clock::now();
        run_once();
        return ms_since(t0);
      },
      o);
}

Sampler::Sampler(const RepeatOptions& o)
    : o_(o),
      min_reps_(std::max(1, o.min_reps)),
      max_reps_(std::max(min_reps_, o.max_reps)),
      floor_reps_(std::min(3, max_reps_)) {
  samples_.reserve(static_cast<std::size_t>(std::min(max_reps_, 4096)));
}

bool Sampler::add(double ms) {
  if (done_) return false;
  samples_.push_back(ms);
  spent_ += ms;
  sum_ += ms;
  sum2_ += ms * ms;
  const int n = static_cast<int>(samples_.size());
  if (n >= max_reps_) return !(done_ = true);
  if (n < floor_reps_) return true;
  if (spent_ >= o_.time_cap_ms) return !(done_ = true);
  if (n < min_reps_) return true;
  const double mean = sum_ / n;
  const double var = std::max(0.0, (sum2_ - n * mean * mean) / (n - 1));
  if (t_quantile_975(n - 1) * std::sqrt(var / n) <= o_.rel_ci * mean) done_ = true;
  return !done_;
}

std::vector<double> repeat_samples(const std::function<double()>& sample_once, const RepeatOptions& o) {
  for (int i = 0; i < o.warmup; ++i) (void)sample_once();
  Sampler sampler(o);
  while (sampler.add(sample_once())) {
  }
  return sampler.samples();
}

LinkFit fit_link(const std::vector<double>& bytes, const std::vector<double>& ms) {
  if (bytes.size() != ms.size() || bytes.size() < 2)
    throw std::invalid_argument("link fit: expected at least two (bytes, ms) points");
  double S = 0, Sx = 0, Sy = 0, Sxx = 0, Sxy = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!(ms[i] > 0)) throw std::invalid_argument("link fit: copy times must be > 0");
    const double w = 1.0 / (ms[i] * ms[i]), x = bytes[i], y = ms[i];
    S += w; Sx += w * x; Sy += w * y; Sxx += w * x * x; Sxy += w * x * y;
  }
  const double det = S * Sxx - Sx * Sx;
  if (!(det > 0) || det < 1e-12 * S * Sxx)
    throw std::invalid_argument("link fit: expected at least two distinct sizes");
  double slope = (S * Sxy - Sx * Sy) / det;
  double intercept = (Sy - slope * Sx) / S;
  if (intercept < 0) {  // through the origin
    intercept = 0;
    slope = Sxy / Sxx;
  }
  if (!(slope > 0)) throw std::invalid_argument("link fit: copy times do not grow with size");
  LinkFit f;
  f.latency_ms = intercept;
  f.gbytes_per_s = 1e-6 / slope;  // ms per byte = 1e3 / (G * 1e9)
  for (std::size_t i = 0; i < bytes.size(); ++i)
    f.max_rel_residual = std::max(f.max_rel_residual,
                                  std::abs(intercept + slope * bytes[i] - ms[i]) / ms[i]);
  return f;
}

namespace {

// Every layer of the model on processor p, timed at the frequencies set now.
struct LayerSamples {
  std::vector<std::vector<double>> wall, device;  // per layer: samples (ms); device: where measured
  std::vector<std::string> why;                   // per layer: the backend's refusal, "" if it ran
  int passes = 0;                                 // passes of the whole model (in_model)
};

LayerSamples measure_layers(Backend& backend, const Model& model, int p, const ProfileOptions& o) {
  const int L = static_cast<int>(model.layers.size());
  LayerSamples s;
  s.wall.resize(L);
  s.device.resize(L);
  s.why.resize(L);
  if (!o.in_model) {
    // Each layer alone in a hot loop: its weights and input stay in the caches.
    for (int l = 0; l < L; ++l) {
      try {
        on_device(backend.device(p), [&] {
          Bench bench(backend, model, l, p, o.seed);
          s.wall[l] = repeat_timed([&] { bench.run(); }, o.layers);
        });
      } catch (const BackendError& e) {
        s.why[l] = e.what();
      }
    }
    return s;
  }
  // The whole model, pass after pass, every layer timed inside the pass: each layer meets the
  // caches its producers and the layers before it leave, as in a real run. Every layer is
  // recorded in every pass, so that all samples spread over the same stretch of time (a
  // machine's speed drifts: samples of a layer that converged in the first passes would all
  // come from the first second); passes stop once every layer's rule is satisfied, after
  // max_reps passes, or after the sum of the layers' time caps.
  on_device(backend.device(p), [&] {
    ModelPass m(backend, model, p, o.seed);
    s.why = m.why;
    const auto& kernels = m.kernels;
    std::vector<Sampler> rules(L, Sampler(o.layers));
    int open = 0;
    for (int l = 0; l < L; ++l) open += kernels[l] ? 1 : 0;
    const double budget = o.layers.time_cap_ms * std::max(1, open);
    const int max_passes = std::max({1, o.layers.min_reps, o.layers.max_reps});
    // The budget is for measuring: building the kernels (cuDNN's algorithm search, warm-up
    // runs) does not count, or a slow build would leave no pass at all.
    const Clock::time_point measuring = Clock::now();
    for (int pass = -o.layers.warmup; open > 0 && pass < max_passes; ++pass) {
      m.upload();
      for (int l = 0; l < L; ++l) {
        if (!kernels[l]) continue;
        const double ms = m.run(l);
        if (pass < 0) continue;
        s.wall[l].push_back(ms);
        if (const double d = kernels[l]->device_ms(); std::isfinite(d)) s.device[l].push_back(d);
        if (!rules[l].done() && !rules[l].add(ms)) --open;
      }
      s.passes = pass + 1;
      if (pass >= 0 && ms_since(measuring) >= budget) break;  // at least one measured pass
    }
  });
  return s;
}

// ------------------------------------------------------------------------------------------
// Frequencies (docs/dvfs.md).

std::string levels_text(const std::vector<double>& mhz) {
  if (mhz.size() == 1) return num(mhz[0]) + " MHz";
  return fmt::format("{}..{} MHz, {} levels", num(mhz.front()), num(mhz.back()), mhz.size());
}

// One setting the layers of a processor are timed at: its level (0: as held for everything
// else) and, for a GPU swept per host level, the host processor's level. `in_csv`: its rows go
// to MODEL.csv (a GPU's only at the host's highest level; MODEL.dvfs.csv gets every point).
struct FreqPoint {
  double mhz = 0.0, host_mhz = 0.0;
  bool in_csv = true;
};

struct FreqPlan {
  std::vector<std::vector<double>> sweep;  // per processor: the levels swept; empty: one point
  std::vector<std::string> held, left;     // for the note: "cpu0 (1416 MHz)", "cpu1 (why)"
};

// With a sweep, every processor's domain must be drivable: its levels (the platform's, else the
// domain's, then written into platform.yaml) are swept, and it starts at the highest. Without,
// a processor with freqs_mhz is held at its highest level where it can be driven, else left to
// the governor (the files say so).
FreqPlan plan_frequencies(const ProfileOptions& o, ProfileResult& r, FrequencyPins& pins,
                          const std::function<void(const std::string&)>& log) {
  const int P = static_cast<int>(r.platform.processors.size());
  FreqPlan plan;
  plan.sweep.resize(P);
  r.pinned_mhz.assign(P, 0.0);
  for (int p = 0; p < P; ++p) {
    Processor& proc = r.platform.processors[p];
    if (o.dvfs_sweep) {
      FreqDomain& d = pins.domain(p);  // throws, naming p and why it cannot be driven
      if (proc.freqs_mhz.empty()) {
        if (d.levels_mhz().empty())
          throw BackendError(fmt::format("processor {}: its frequency domain lists no levels", proc.name));
        proc.freqs_mhz = d.levels_mhz();
        proc.active_w.assign(static_cast<std::size_t>(proc.levels()), 0.0);  // measure_power fills it
      }
      plan.sweep[p] = proc.freqs_mhz;
    }
    if (proc.freqs_mhz.empty()) continue;
    const double top = proc.freqs_mhz.back();
    try {
      pins.set(p, top);
    } catch (const BackendError& e) {
      if (o.dvfs_sweep) throw;
      plan.left.push_back(fmt::format("{} ({})", proc.name, e.what()));
      log(fmt::format("warning: {}'s frequency is left to the governor: {}", proc.name, e.what()));
      continue;
    }
    r.pinned_mhz[p] = top;
    plan.held.push_back(fmt::format("{} ({})", proc.name, levels_text({top})));
  }
  if (!plan.held.empty() && o.dvfs_settle_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(o.dvfs_settle_ms));
  return plan;
}

// The processor a GPU's rows are swept against (it launches the GPU's work), or -1.
int sweep_host(const ProfileResult& r, const FreqPlan& plan, int p) {
  const int h = r.platform.host;
  if (r.platform.processors[p].kind != ProcKind::gpu || h == p || h < 0) return -1;
  return plan.sweep[h].empty() ? -1 : h;
}

std::vector<FreqPoint> points_of(const ProfileResult& r, const FreqPlan& plan, int p) {
  if (plan.sweep[p].empty()) return {FreqPoint{}};
  const int h = sweep_host(r, plan, p);
  std::vector<FreqPoint> out;
  for (double f : plan.sweep[p]) {
    if (h < 0) {
      out.push_back({f, 0.0, true});
      continue;
    }
    for (double fh : plan.sweep[h]) out.push_back({f, fh, fh == plan.sweep[h].back()});
  }
  return out;
}

std::string freq_note(const ProfileOptions& o, const ProfileResult& r, const FreqPlan& plan) {
  const Platform& pf = r.platform;
  std::string s;
  if (o.dvfs_sweep) {
    std::string swept, gpus;
    for (int p = 0; p < static_cast<int>(plan.sweep.size()); ++p) {
      swept += fmt::format("{}{} ({})", swept.empty() ? "" : ", ", pf.processors[p].name,
                           levels_text(plan.sweep[p]));
      if (const int h = sweep_host(r, plan, p); h >= 0)
        gpus += fmt::format("; {}'s layers were timed at every level of host {} too ({}.dvfs.csv, "
                            "host_freq_mhz), {}.csv has them at the host's highest ({} MHz)",
                            pf.processors[p].name, pf.processors[h].name, r.model, r.model,
                            num(plan.sweep[h].back()));
    }
    s = fmt::format("every layer measured at every frequency level of {} (--dvfs: set through "
                    "cpufreq/devfreq and read back, then {} ms to settle){}; links, transfers, "
                    "contention and power at every processor's highest level",
                    swept, std::max(0, o.dvfs_settle_ms), gpus);
  } else if (!plan.held.empty()) {
    s = "frequencies held at the highest level through cpufreq/devfreq (what an empty freq_mhz "
        "means): ";
    for (std::size_t i = 0; i < plan.held.size(); ++i) s += (i ? ", " : "") + plan.held[i];
  }
  if (!plan.left.empty()) {
    s += std::string(s.empty() ? "" : "; ") +
         "frequencies left to the governor (rows with an empty freq_mhz are at whatever level it "
         "chose, not necessarily the highest) for ";
    for (std::size_t i = 0; i < plan.left.size(); ++i) s += (i ? ", " : "") + plan.left[i];
  }
  return s;
}

}  // namespace

ProfileResult profile(Backend& backend, const Model& model, const ProfileOptions& o) {
  ProfileResult r;
  r.backend = backend.name();
  r.machine = backend.describe();
  r.date_utc = utc_now();
  r.model = model.name;
  r.platform = backend.platform();
  r.platform.file.clear();
  r.platform.links.clear();
  r.platform.contention = 1.0;
  r.options = o;
  auto log = [&](const std::string& line) {
    if (o.log) o.log(line);
  };
  const int P = static_cast<int>(r.platform.processors.size());
  const int L = static_cast<int>(model.layers.size());
  std::size_t name_w = 5;
  for (const Layer& l : model.layers) name_w = std::max(name_w, l.name.size());

  // 0. Frequencies: held (or swept) through the backend's domains until the end; an exception
  // unwinds through `pins`, which puts every domain back.
  FrequencyPins pins(backend, o.dvfs);
  const FreqPlan plan = plan_frequencies(o, r, pins, log);
  r.freq_note = freq_note(o, r, plan);
  r.dvfs_threads = o.dvfs_sweep;
  if (!r.freq_note.empty()) log("frequencies: " + r.freq_note);

  // 1. Layers, one processor at a time (the others idle), at each of its frequency points.
  std::vector<std::vector<double>> alone(L, std::vector<double>(P, std::nan("")));
  std::vector<std::vector<int>> row(L, std::vector<int>(P, -1));  // r.layers at the held level
  std::vector<std::vector<std::string>> why(L, std::vector<std::string>(P));  // refused
  for (int p = 0; p < P; ++p) {
    const std::string& pname = r.platform.processors[p].name;
    const int host = sweep_host(r, plan, p);
    const std::vector<FreqPoint> points = points_of(r, plan, p);
    for (std::size_t k = 0; k < points.size(); ++k) {
      const FreqPoint& pt = points[k];
      std::string at;
      if (pt.mhz > 0) {
        pins.set(p, pt.mhz);
        at = fmt::format(" at {} MHz", num(pt.mhz));
        if (pt.host_mhz > 0) {
          pins.set(host, pt.host_mhz);
          at += fmt::format(" (host {} at {} MHz)", r.platform.processors[host].name, num(pt.host_mhz));
        }
        if (o.dvfs_settle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.dvfs_settle_ms));
      }
      const Clock::time_point t0 = Clock::now();
      const LayerSamples s = measure_layers(backend, model, p, o);
      // The MODEL.csv "default": the level held while everything else is measured.
      const bool held = pt.mhz == 0.0 || (!plan.sweep[p].empty() && pt.mhz == plan.sweep[p].back());
      double sum_ms = 0.0;
      for (int l = 0; l < L; ++l) {
        if (!s.why[l].empty() || s.wall[l].empty()) {
          if (k == 0) why[l][p] = s.why[l].empty() ? "not measured" : s.why[l];
          continue;
        }
        LayerMeasurement m;
        m.layer = l;
        m.proc = p;
        m.freq_mhz = pt.mhz;
        m.host_freq_mhz = pt.host_mhz;
        m.stats = summarize(s.wall[l], o.layers.rel_ci);
        if (s.device[l].size() == s.wall[l].size()) m.device = summarize(s.device[l], o.layers.rel_ci);
        sum_ms += m.stats.mean_ms;
        if (!plan.sweep[p].empty()) r.dvfs_layers.push_back(m);
        if (!pt.in_csv) continue;
        m.host_freq_mhz = 0.0;  // MODEL.csv has no such column: these rows are at the host's highest
        if (held) {
          row[l][p] = static_cast<int>(r.layers.size());
          alone[l][p] = m.stats.mean_ms;
        }
        r.layers.push_back(m);
      }
      log(fmt::format("{}{}: {}{:.1f} s; the layers sum to {:.4f} ms", pname, at,
                      o.in_model ? fmt::format("{} passes of the whole model, ", s.passes) : "",
                      ms_since(t0) / 1e3, sum_ms));
    }
    // Back to the highest level for the other processors' layers, links, contention and power.
    if (!plan.sweep[p].empty()) pins.set(p, plan.sweep[p].back());
    if (host >= 0) pins.set(host, plan.sweep[host].back());
  }
  // Layer-major, as the files have always been: the refusals, and one line per layer.
  for (int l = 0; l < L; ++l) {
    std::string line = fmt::format("[{:>{}}/{}] {:<{}}", l + 1, std::to_string(L).size(), L,
                                   model.layers[l].name, name_w);
    for (int p = 0; p < P; ++p) {
      const std::string& pname = r.platform.processors[p].name;
      if (row[l][p] < 0) {
        r.refused.push_back(fmt::format("{} on {}: {}", model.layers[l].name, pname,
                                        why[l][p].empty() ? "not measured" : why[l][p]));
        line += fmt::format("  {}: refused", pname);
        continue;
      }
      const LayerMeasurement& m = r.layers[static_cast<std::size_t>(row[l][p])];
      line += fmt::format("  {} {:.4f} ms +-{:.1f}% ({}{})", pname, m.stats.mean_ms,
                          m.stats.mean_ms > 0 ? 100 * m.stats.ci_half_ms / m.stats.mean_ms : 0.0,
                          m.stats.samples, m.stats.converged ? "" : ", capped");
      if (m.device.samples > 0) line += fmt::format(" [device {:.4f} ms]", m.device.mean_ms);
    }
    log(line);
  }
  auto by_cell = [](const LayerMeasurement& a, const LayerMeasurement& b) {
    return std::tie(a.layer, a.proc, a.freq_mhz, a.host_freq_mhz) <
           std::tie(b.layer, b.proc, b.freq_mhz, b.host_freq_mhz);
  };
  std::stable_sort(r.layers.begin(), r.layers.end(), by_cell);
  std::stable_sort(r.dvfs_layers.begin(), r.dvfs_layers.end(), by_cell);

  // 2. Links: a size sweep in both directions per pair, each copy issued as the executor issues
  // it (or, without link_handoff, Backend::copy alone on a thread placed like its copy worker).
  for (int a = 0; a < P; ++a)
    for (int b = a + 1; b < P; ++b) {
      LinkMeasurement m;
      m.a = a;
      m.b = b;
      std::vector<double> direct_ms;
      const std::string pair = r.platform.processors[a].name + "-" + r.platform.processors[b].name;
      // A busy machine can stall a small copy's hand-off for milliseconds, so that the times
      // do not grow with size: the sweep is measured again, up to three times, before the
      // profile fails. Sizes that cannot be fitted fail at once.
      const int attempts =
          std::set<std::int64_t>(o.link_bytes.begin(), o.link_bytes.end()).size() >= 2 ? 3 : 1;
      for (int attempt = 1;; ++attempt) {
        m.bytes.clear();
        m.ms.clear();
        direct_ms.clear();
        for (std::int64_t bytes : o.link_bytes) {
          const Shape shape{{std::max<std::int64_t>(1, bytes / 4)}};
          for (int dir = 0; dir < 2; ++dir) {
            const int from = dir ? b : a, to = dir ? a : b;
            const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(bytes);
            m.bytes.push_back(static_cast<double>(shape.bytes()));
            m.ms.push_back(summarize(measure_copy(backend, from, to, shape, o.links, o.link_handoff, seed)).mean_ms);
            if (o.link_handoff)
              direct_ms.push_back(summarize(measure_copy(backend, from, to, shape, o.links, false, seed)).mean_ms);
          }
        }
        try {
          m.fit = fit_link(m.bytes, m.ms);
          break;
        } catch (const std::invalid_argument& e) {
          if (attempt == attempts)
            throw Error("", 0,
                        attempts == 1 ? "link " + pair + ": " + e.what()
                                      : fmt::format("link {}: {} in {} sweeps (is the machine busy?)",
                                                    pair, e.what(), attempts),
                        kOtherError);
          log(fmt::format("link {}: {}; measuring again ({} of {})", pair, e.what(), attempt + 1,
                          attempts));
        }
      }
      log(fmt::format("link {}: latency {:.4f} ms, {:.2f} GB/s (largest residual {:.1f}%, {} points{})",
                      pair, m.fit.latency_ms, m.fit.gbytes_per_s, 100 * m.fit.max_rel_residual,
                      m.bytes.size(), o.link_handoff ? ", copies handed over as the executor does" : ""));
      if (o.link_handoff) {
        try {
          m.direct_fit = fit_link(m.bytes, direct_ms);
          m.direct_ms = direct_ms;
          log(fmt::format("link {}: Backend::copy alone: latency {:.4f} ms, {:.2f} GB/s", pair,
                          m.direct_fit->latency_ms, m.direct_fit->gbytes_per_s));
        } catch (const std::invalid_argument&) {
        }
      }
      Link link;
      link.a = a;
      link.b = b;
      link.latency_ms = m.fit.latency_ms;
      link.gbytes_per_s = m.fit.gbytes_per_s;
      r.platform.links.push_back(link);
      r.links.push_back(std::move(m));
    }

  // 3. The model's own tensors, every ordered pair.
  if (o.transfers && P > 1) {
    for (int l = -1; l < L; ++l) {
      const Shape& shape = input_shape(model, l);
      for (int from = 0; from < P; ++from)
        for (int to = 0; to < P; ++to) {
          if (from == to) continue;
          const std::vector<double> samples = measure_copy(
              backend, from, to, shape, o.transfer_reps, o.link_handoff, o.seed + static_cast<std::uint64_t>(l + 2));
          r.transfers.push_back({l, from, to, summarize(samples, o.transfer_reps.rel_ci)});
        }
    }
    log(fmt::format("transfers: {} tensor copies measured", r.transfers.size()));
  }

  // 4. Contention: the heaviest layers of each processor timed alone and while another
  // processor runs the model's kernels in a loop, interleaved so that drift hits both alike.
  ContentionMeasurement& c = r.contention;
  if (!o.contention) {
    c.note = "not measured (switched off); contention 1.0";
  } else if (P < 2) {
    c.note = "one processor; contention 1.0";
  } else {
    double ratio_sum = 0;
    for (int p = 0; p < P; ++p) {
      std::vector<int> order;
      for (int l = 0; l < L; ++l)
        if (!std::isnan(alone[l][p])) order.push_back(l);
      std::sort(order.begin(), order.end(), [&](int x, int y) { return alone[x][p] > alone[y][p]; });
      order.resize(std::min<std::size_t>(order.size(),
                                         static_cast<std::size_t>(std::max(0, o.contention_layers))));
      for (int q = 0; q < P; ++q) {
        if (q == p || order.empty()) continue;
        std::vector<int> busy_layers;
        for (int l = 0; l < L; ++l)
          if (!std::isnan(alone[l][q])) busy_layers.push_back(l);
        if (busy_layers.empty()) continue;
        BusyLoop busy(backend, model, q, busy_layers, o.seed);
        for (int l : order) {
          ContentionMeasurement::Pair pair{l, p, q, 0.0, 0.0};
          on_device(backend.device(p), [&] {
            Bench bench(backend, model, l, p, o.seed);
            // Alone, loaded, alone, loaded: drift hits both conditions alike. Medians: a
            // preempted sample on a shared machine says nothing about contention.
            std::vector<double> alone_s, loaded_s;
            for (int round = 0; round < 2; ++round) {
              busy.pause();
              for (double x : repeat_timed([&] { bench.run(); }, o.contention_reps)) alone_s.push_back(x);
              busy.resume();
              for (double x : repeat_timed([&] { bench.run(); }, o.contention_reps)) loaded_s.push_back(x);
            }
            busy.pause();
            pair.alone_ms = median(alone_s);
            pair.loaded_ms = median(loaded_s);
          });
          log(fmt::format("contention: {} on {} while {} is busy: {:.4f} -> {:.4f} ms (x{:.3f})",
                          model.layers[l].name, r.platform.processors[p].name,
                          r.platform.processors[q].name, pair.alone_ms, pair.loaded_ms,
                          pair.loaded_ms / pair.alone_ms));
          ratio_sum += pair.loaded_ms / pair.alone_ms;
          c.pairs.push_back(pair);
        }
        busy.finish();
      }
    }
    if (c.pairs.empty()) {
      c.note = "no layer to time; contention 1.0";
    } else {
      c.measured = true;
      c.raw_mean_ratio = ratio_sum / static_cast<double>(c.pairs.size());
      c.factor = std::max(1.0, c.raw_mean_ratio);
      c.note = fmt::format("mean over {} layers of the ratio of their median time while another "
                           "processor ran the model's kernels in a loop to their median time alone: {:.4f}{}",
                           c.pairs.size(), c.raw_mean_ratio,
                           c.raw_mean_ratio < 1.0 ? " (below 1 is noise: written as 1.0)" : "");
      r.platform.contention = c.factor;
    }
    log("contention: " + c.note);
  }

  // 5. Power: idle_w and active_w of the processors the backend's meters cover.
  measure_power(backend, model, o, r, log);

  // 6. Every domain back as it was found (a failure is an error: the machine is left pinned).
  pins.restore();
  return r;
}

namespace {

// What the files keep of a measurement: six significant digits, far below its noise.
double six_digits(double v) { return std::stod(num(v)); }

// The source line of every profile file.
std::string profile_source(const ProfileResult& r) {
  return source_line(r) + "; model " + r.model +
         (r.options.in_model
              ? "; every layer timed inside passes of the whole model on a thread bound to each "
                "processor: "
              : "; every layer timed alone in a loop on a thread bound to each processor, ") +
         repeat_text(r.options.layers) + dvfs_note(r);
}

// The MODEL.csv rows of `layers` (a processor's default frequency and threads where they were
// not set).
Profile profile_of(const ProfileResult& r, const std::vector<LayerMeasurement>& layers,
                   const Model& model) {
  Profile p = Profile::empty(model, r.platform);
  p.source = profile_source(r);
  for (const LayerMeasurement& m : layers) {
    const Processor& proc = r.platform.processors[m.proc];
    ProfileRow row;
    row.layer = m.layer;
    row.proc = m.proc;
    row.default_freq = m.freq_mhz <= 0;
    row.freq_mhz = row.default_freq ? proc.default_freq() : six_digits(m.freq_mhz);
    row.threads = m.threads > 0 ? m.threads : proc.default_threads();
    row.mean_ms = six_digits(m.stats.mean_ms);
    row.std_ms = six_digits(m.stats.std_ms);
    row.p99_ms = six_digits(m.stats.p99_ms);
    row.samples = m.stats.samples;
    p.add(row);
  }
  return p;
}

// "# not measured (the backend refuses them): ..." where the backend refused layers.
std::vector<std::string> refusal_notes(const ProfileResult& r) {
  if (r.refused.empty()) return {};
  std::string s = "not measured (the backend refuses them):";
  for (const std::string& x : r.refused) s += " " + x + ";";
  s.pop_back();
  return {s};
}

}  // namespace

std::string platform_yaml(const ProfileResult& r) {
  std::vector<std::string> comments = {
      fmt::format("Measured by `hetmap profile --backend {}` (model {}), {}.", r.backend, r.model,
                  r.date_utc),
      fmt::format("Links: weighted least-squares fit of a size sweep of Backend::copy{}.",
                  r.options.link_handoff
                      ? " issued as the executor issues copies (queued for a copy worker, "
                        "timed until the consumer's thread runs)"
                      : " alone"),
      fmt::format("Contention: {}.", r.contention.note)};
  if (!r.freq_note.empty()) comments.push_back("Frequencies (docs/dvfs.md): " + r.freq_note + ".");
  for (std::string& c : power_comments(r)) comments.push_back(std::move(c));
  // The numbers as measured, to the digits their noise leaves (the contention factor to four).
  Platform pf = r.platform;
  for (Processor& p : pf.processors) {
    for (double& f : p.freqs_mhz) f = six_digits(f);
    for (double& w : p.active_w) w = six_digits(w);
    p.idle_w = p.has_power ? six_digits(p.idle_w) : 0.0;
  }
  for (Link& l : pf.links) {
    l.latency_ms = six_digits(l.latency_ms);
    l.gbytes_per_s = six_digits(l.gbytes_per_s);
  }
  pf.contention = std::stod(fmt::format("{:.4g}", pf.contention));
  pf.source = source_line(r) + power_source(r);
  return to_yaml(pf, comments);
}

std::string profile_csv(const ProfileResult& r, const Model& model) {
  return to_csv(profile_of(r, r.layers, model), model, r.platform, refusal_notes(r));
}

std::string dvfs_profile_csv(const ProfileResult& r, const Model& model) {
  if (r.dvfs_layers.empty()) return "";
  // The MODEL.csv source line, plus what the extra column means. A table of its own (not
  // read by any command, docs/formats.md), written with the same cell writer.
  std::string s = "# source: " + one_line(profile_source(r)) +
                  "; host_freq_mhz: the host processor's level while a GPU row was timed (empty "
                  "for CPU rows)\n";
  s += "layer,processor,freq_mhz,host_freq_mhz,threads,mean_ms,std_ms,p99_ms,samples\n";
  for (const LayerMeasurement& m : r.dvfs_layers) {
    s += cq(model.layers[m.layer].name) + "," + cq(r.platform.processors[m.proc].name) + ",";
    s += (m.freq_mhz > 0 ? num(m.freq_mhz) : "") + ",";
    s += (m.host_freq_mhz > 0 ? num(m.host_freq_mhz) : "") + ",";
    s += (m.threads > 0 ? std::to_string(m.threads) : "") + ",";
    s += num(m.stats.mean_ms) + "," + num(m.stats.std_ms) + "," + num(m.stats.p99_ms) + "," +
         std::to_string(m.stats.samples) + "\n";
  }
  return s;
}

std::string device_profile_csv(const ProfileResult& r, const Model& model) {
  bool any = false;
  double wall = 0.0, device = 0.0;
  std::vector<LayerMeasurement> layers = r.layers;
  for (LayerMeasurement& m : layers)
    if (m.device.samples > 0) {
      any = true;
      wall += m.stats.mean_ms;
      device += m.device.mean_ms;
      m.stats = m.device;
    }
  if (!any) return "";
  Profile p = profile_of(r, layers, model);
  // The source says what differs, and how much.
  p.source += fmt::format(
      "; rows with a device time give it instead of the wall time (CUDA events around each layer "
      "on the GPU: no launch or synchronisation overhead; over those rows {:.4f} ms device vs "
      "{:.4f} ms wall), for comparison only (docs/validation.md)", device, wall);
  return to_csv(p, model, r.platform, refusal_notes(r));
}

std::string transfers_csv(const ProfileResult& r, const Model& model) {
  Transfers t;
  t.source = source_line(r) + "; Backend::copy of each tensor of model " + r.model +
             (r.options.link_handoff ? " handed from a thread bound to the producer to a copy worker "
                                       "placed as the executor's, timed until the consumer's thread runs, "
                                     : " on a thread placed like the executor's copy workers, ") +
             repeat_text(r.options.transfer_reps);
  for (const TransferMeasurement& m : r.transfers) {
    TransferRow row;
    row.layer = m.layer;
    row.from = m.from;
    row.to = m.to;
    row.mean_ms = six_digits(m.stats.mean_ms);
    t.rows.push_back(row);
  }
  return to_csv(t, model, r.platform);
}

ProfileFiles write_profile(const ProfileResult& r, const Model& model, const std::string& dir) {
  namespace fs = std::filesystem;
  ProfileFiles f;
  f.platform = (fs::path(dir) / "platform.yaml").string();
  f.profile = (fs::path(dir) / (model.name + ".csv")).string();
  // All or none (docs/design.md, "Output files"): a failure leaves the folder as it was.
  detail::OutputSet out;
  // A file this run has nothing for is removed: a stale transfers file from an earlier run would
  // silently override the link formula, a stale device file describe another backend's run.
  auto write_or_remove = [&](const std::string& suffix, const std::string& text) {
    const std::string path = (fs::path(dir) / (model.name + suffix)).string();
    if (text.empty()) {
      out.remove(path);
      return std::string();
    }
    out.write(path, text);
    return path;
  };
  f.device = write_or_remove(".device.csv", device_profile_csv(r, model));
  f.dvfs = write_or_remove(".dvfs.csv", dvfs_profile_csv(r, model));
  out.write(f.profile, profile_csv(r, model));
  f.transfers = write_or_remove(".transfers.csv", r.transfers.empty() ? "" : transfers_csv(r, model));
  out.write(f.platform, platform_yaml(r));
  out.commit();
  return f;
}

}  // namespace hetmap::backend
