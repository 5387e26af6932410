#pragma once
// The executor: runs a mapping for real on a backend, input after input, with the semantics the
// simulators predict (docs/semantics.md), and measures what the DES reports.
//
// - One worker thread per processor (Device::bind_thread first). It runs one layer at a time:
//   the ready layer of the oldest input, then the first in declaration order.
// - A tensor produced on one processor is copied once to each other processor that holds an
//   enabled consumer, and a result (an exit's last layer, the final backbone layer) to the host.
//   Copies run on one FIFO worker thread per unordered processor pair (Backend::copy); a
//   worker binds itself to the pair's non-CPU device if there is one (a GPU context), else it
//   is left unpinned.
// - `sequential`: the backbone layer after an exit's `after` layer also waits for the exit's last
//   layer; `parallel`: branch and backbone run concurrently.
// - Which result ends an input comes from the ExitPlan (hetmap/exits.hpp), the same draws as the
//   DES with the same seed. When a result that ends an input reaches the host, the input is
//   done: its unstarted layers and queued copies are cancelled (they never run); running ones
//   finish and their outputs are discarded.
// - Arrivals as in the DES: closed (the next input arrives when the previous is done; the thread
//   that saw it done admits it at once), periodic or Poisson (the same seeded gaps; the calling
//   thread sleeps until each arrival). Latency per input = done - arrival (steady_clock), done
//   being when the answering result's last kernel or copy to the host finished.
// - Recorded spans: a task or copy starts when a worker takes it (stamped under the scheduler
//   lock, so the recorded order is causal) and finishes when the kernel or copy returns.
// - DVFS (docs/dvfs.md): before the clock starts, every processor that runs a layer and whose
//   platform entry has freqs_mhz is set to the configuration's level (the mapping's freq_mhz,
//   default the highest) through Backend::freq_domain(), and put back after the run, also when
//   it fails. A domain that cannot be driven is a BackendError; ExecuteOptions::apply_freq =
//   false (`--no-dvfs`) leaves frequencies to the governor. Platforms without freqs_mhz (the
//   reference backend's host-cpu, the CUDA backend's x86-<card>) set nothing. Thread counts in
//   the mapping are not applied (the reference backend's kernels are single-threaded).
// - Every kernel is built, and every buffer allocated, before the clock starts: one kernel per
//   enabled layer at its processor, one set of buffers per in-flight input slot. An input that
//   arrives while every slot is busy waits for one (its latency includes the wait).
// - Power: the backend's meters (Backend::power_meters(), power.hpp) are sampled by a
//   PowerSampler from just before the clock starts to the last input's done (the dispatcher's
//   wake-up after it). When every processor is covered by a meter, energy_mj = the sum over the
//   meters of their mean power over that window x the run's span (first arrival to last done,
//   as the DES's energy) / inputs: per input, as the DES reports it (docs/semantics.md,
//   "Energy"); else energy_mj is NaN and energy_note says which processors lack a meter and why.
//   The sampler thread is not pinned (it takes the CPU mask of the process's main thread, not
//   of the workers) and sleeps between samples: one read per meter every 10 ms, microseconds
//   for RAPL, tens of microseconds for NVML.
// The reported numbers are Metrics of origin measured: cancelled_work_ms is NaN (unknown),
// events = tasks run + copies run; utilisation = busy time within the span / span.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/backend/power.hpp"
#include "hetmap/des.hpp"
#include "hetmap/metrics.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/trace.hpp"

namespace hetmap::backend {

struct ExecuteOptions {
  int inputs = 1;
  Arrival arrival;                 // closed (default), periodic:HZ, poisson:HZ
  /// Exits (the ExitPlan, as DesOptions::seed), Poisson gaps and the input tensors.
  std::uint64_t seed = 1;
  /// For tests: the first confident result of input i is forced_exits[i % size] (exit index,
  /// or exits() for the final output), as DesOptions::forced_exits.
  std::vector<int> forced_exits;
  std::uint64_t weights_seed = 1;  // Device::build
  bool record_schedule = false;    // measured spans of every task, copy and result
  /// For tests: keep, per input, the result that answered and a host copy of its tensor (the
  /// download happens when the input is done, inside the measured time).
  bool keep_outputs = false;
  /// In-flight input slots (buffers of their own); 0 = automatic: 2 for closed arrivals (the
  /// next input starts while the previous one's cancelled stragglers finish), else 8; never
  /// more than `inputs`.
  int slots = 0;
  /// Sample power meters over the run; false: energy_mj is NaN ("not measured: switched off").
  bool power = true;
  /// Board meters in place of the backend's own (`--power-meter`, power.hpp: with_meter_specs).
  std::vector<MeterSpec> power_meters;
  /// The meters to sample (not owned); null: the executor asks Backend::power_meters() (meters
  /// are made before the clock starts; validation makes them once for all its runs).
  const PowerMeters* meters = nullptr;
  int power_period_ms = 10;        // sampling period of the meters
  /// Set the configuration's frequency levels (docs/dvfs.md) on the processors freq_processors()
  /// names before the clock starts, and put them back afterwards; false (`--no-dvfs`): leave
  /// them to the governor (ExecuteResult::freq_note says so).
  bool apply_freq = true;
  DvfsOptions dvfs;                // sysfs root, writer, read-back (tests: a fake tree)
  int freq_settle_ms = 50;         // wait after setting the levels, before the kernels are built
};

struct ExecutedOutput {
  int result = -1;  // exit index, or exits() for the final output
  Shape shape;
  std::vector<float> data;
};

/// A measured run: its Metrics (origin measured; to_json(problem, run.metrics) prints
/// docs/design.md's keys, as for a simulated run), plus the record only a real run has.
struct ExecuteResult {
  Metrics metrics;
  std::vector<int> first;      // per input: first confident result (ExitPlan)
  std::vector<int> answered;   // per input: the result that ended it
  std::vector<double> arrival_ms;  // per input, from the start of the clock
  std::int64_t tasks_run = 0;  // kernels that ran
  std::int64_t copies_run = 0; // copies that ran
  std::int64_t slot_waits = 0; // inputs that arrived while every slot was busy
  int slots = 0;
  double setup_ms = 0.0;       // building kernels and allocating buffers (not in any latency)
  /// How energy_mj was measured ("measured: ..."), or why it is NaN ("not measured: ..."); one line.
  std::string energy_note;
  /// The energy per input of the processors the meters cover (`metered_processors`, sorted),
  /// computed as energy_mj is; NaN without meters or when a reading failed. Equals energy_mj
  /// when the meters cover every processor; validation compares it where they cover only some.
  std::vector<int> metered_processors;
  double metered_energy_mj = std::numeric_limits<double>::quiet_NaN();
  /// The run spanned fewer than kCoarseUpdates updates of a meter's counter (power.hpp).
  bool energy_coarse = false;
  /// Every sampled meter over the run (energy, samples every power_period_ms); empty without meters.
  PowerWindow power;
  std::vector<ExecutedOutput> outputs;  // keep_outputs, per input
  /// Per processor: the frequency level set for the run (MHz); 0 where none was set.
  std::vector<double> freq_mhz;
  /// One line: which levels were set, or which processors' freq_mhz were left to the governor
  /// (apply_freq false); "" when the run uses no processor with freqs_mhz.
  std::string freq_note;
};

/// The processors whose frequency a run of `config` sets: those that run an enabled layer and
/// whose platform entry has freqs_mhz (ascending).
std::vector<int> freq_processors(const Problem& problem, const Config& config);

/// Processors held at chosen frequency levels through Backend::freq_domain() (docs/dvfs.md): the
/// executor applies a mapping's freq_mhz with it, the profiler its DVFS sweep. restore() puts
/// every changed domain back (latest first); so does the destructor when an exception unwinds
/// past it (a failure there is a warning on stderr: a destructor cannot throw).
class FrequencyPins {
 public:
  FrequencyPins(Backend& backend, DvfsOptions options);
  ~FrequencyPins();
  FrequencyPins(const FrequencyPins&) = delete;
  FrequencyPins& operator=(const FrequencyPins&) = delete;

  /// Processor p's domain, made on first use; throws BackendError naming p and why it cannot
  /// be driven.
  FreqDomain& domain(int p);
  /// Sets p to `mhz` (one of its domain's levels), checked as DvfsOptions::verify says. A
  /// failure puts p's domain back before throwing BackendError naming p.
  void set(int p, double mhz);
  /// The level last set on p (MHz); 0 when none.
  double mhz(int p) const;
  /// Whether p and q are driven through the same cpufreq policy or devfreq device (clusters of
  /// one policy): setting one sets the other.
  bool shared(int p, int q);
  /// Puts every changed domain back, latest first; once all were tried, throws one BackendError
  /// naming every processor that could not be put back.
  void restore();

 private:
  Backend& backend_;
  DvfsOptions options_;
  std::vector<std::unique_ptr<FreqDomain>> domains_;  // per processor, null until used
  std::vector<double> mhz_;
  std::vector<int> order_;  // processors in the order their domains were made
};

/// The problem to execute `model` on `backend`: the backend's platform, an empty profile (no
/// timings are needed), an optional exit trace. Resolve mappings with
/// `problem.resolve(mapping, /*check_profile=*/false)`.
Problem execution_problem(const Model& model, const Backend& backend,
                          std::optional<ExitTrace> trace = std::nullopt);

/// Runs `config` on `backend`. `problem` must have the backend's processors (same names, same
/// order). Throws InputError for bad options, BackendError for a layer the backend cannot build,
/// and rethrows what a kernel or copy threw.
ExecuteResult execute(Backend& backend, const Problem& problem, const Config& config,
                      const ExecuteOptions& options);

}  // namespace hetmap::backend
