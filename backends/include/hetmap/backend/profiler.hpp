#pragma once
// The profiler: measures a model's layers on every processor of a backend, the cost of copying
// tensors between every pair of processors, and (where it can be measured honestly) the
// slow-down a layer suffers while another processor is busy. The result is written as the
// simulator's inputs: DIR/platform.yaml and DIR/MODEL.csv (docs/formats.md), plus
// DIR/MODEL.transfers.csv with the measured copy time of each of the model's tensors.
//
// Method (docs/validation.md): every timing runs on a thread bound to its processor
// (Device::bind_thread), after warm-up runs, one kernel run per sample (timed inside passes of
// the whole model, so that each layer meets the caches it meets in a real run), repeated until the 95%
// confidence interval of the mean is within `rel_ci` of the mean, between `min_reps` and
// `max_reps` samples and at most `time_cap_ms` of measuring per cell. Link costs come from a
// size sweep of Backend::copy in both directions, issued as the executor issues copies (handed
// to a copy worker, until the consumer's thread runs), fitted by weighted least squares to
// latency_ms + bytes / (gbytes_per_s * 1e9) * 1e3. Where the backend's power meters cover
// processors (Backend::power_meters()), idle_w comes from windows with every processor idle
// (each domain's idle power split evenly between the processors it covers) and active_w from a
// window per processor running the whole model back to back (docs/validation.md, "Power and
// energy"); the others are written without power, and the file says why.
//
// Frequencies (docs/dvfs.md): a processor whose platform entry has freqs_mhz is held at its
// highest level through Backend::freq_domain() while it is measured (so that MODEL.csv's empty
// freq_mhz, "the highest", is true), or left to the governor when its domain cannot be driven
// (the files say so). With `dvfs_sweep` (`hetmap profile --dvfs`) every processor's layers are
// measured at every level, a GPU's at every (GPU level, host-CPU level) pair, into
// DIR/MODEL.dvfs.csv; a processor that cannot be driven is then an error. Every domain is put
// back when profile() returns or throws.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"

namespace hetmap::backend {

/// When to stop repeating one measurement.
struct RepeatOptions {
  int warmup = 3;              // runs before the first sample, not recorded
  int min_reps = 10;           // samples always taken (unless the time cap is hit first)
  int max_reps = 1000;         // samples at most
  double rel_ci = 0.02;        // stop once the 95% CI half-width <= rel_ci * mean
  double time_cap_ms = 2000;   // stop once this much time was spent sampling (>= 3 samples)
};

struct ProfileOptions {
  RepeatOptions layers;                                 // per layer and processor
  /// Time every layer inside passes of the whole model on its processor (each layer sees the
  /// caches the layers before it leave, as in a real run); false: each layer alone in a hot
  /// loop (its weights and input stay cached, so it reads faster than it runs in a model).
  bool in_model = true;
  RepeatOptions links{2, 5, 200, 0.02, 300};            // per copy size and direction
  /// Copy sizes of the link sweep, bytes: 4 KiB .. 16 MiB by factors of 4.
  std::vector<std::int64_t> link_bytes = {4 << 10,  16 << 10, 64 << 10, 256 << 10,
                                          1 << 20,  4 << 20,  16 << 20};
  /// Time each copy as the executor issues it: queued by the producer's thread for a copy
  /// worker, until the consumer's thread runs (thread hand-over included). false: time
  /// Backend::copy alone.
  bool link_handoff = true;
  bool transfers = true;                                // measure each model tensor's copies
  RepeatOptions transfer_reps{2, 5, 200, 0.02, 100};
  bool contention = true;                               // measure the contention factor
  int contention_layers = 4;                            // heaviest layers timed per processor
  RepeatOptions contention_reps{2, 10, 300, 0.02, 500};
  /// Measure idle_w and active_w of the processors the backend's power meters cover
  /// (Backend::power_meters(); docs/validation.md, "Power and energy"): every processor idle
  /// for `power_idle_s` before and again after the active windows, then each covered processor
  /// running the whole model back to back for `power_active_s` while the others idle. Windows
  /// must span many updates of the slowest counter (NVML's: tens of ms), hence >= 1 s by default.
  bool power = true;
  /// Board meters in place of the backend's own (`--power-meter`, power.hpp: with_meter_specs).
  std::vector<MeterSpec> power_meters;
  double power_idle_s = 2.0;
  double power_active_s = 2.0;
  int power_period_ms = 10;                             // sampling period of the meters
  std::uint64_t seed = 1;                               // weights and input data
  /// Measure every layer at every frequency level (`hetmap profile --dvfs`, docs/dvfs.md): the
  /// levels of the platform's freqs_mhz, or, where the backend's platform lists none, those of
  /// the processor's FreqDomain (then written into platform.yaml). GPU layers are measured at
  /// every (GPU level, host-processor level) pair; MODEL.csv gets them at the host's highest
  /// level, MODEL.dvfs.csv every pair. Every processor's domain must be drivable (BackendError
  /// otherwise). false: processors with freqs_mhz are held at their highest level where their
  /// domain can be driven, else left to the governor (and the files say so).
  bool dvfs_sweep = false;
  /// Where and how frequencies are set (sysfs root, writer, read-back): tests use a fake tree.
  DvfsOptions dvfs;
  /// Wait after setting a level before timing (the clock and the governor settle).
  int dvfs_settle_ms = 50;
  /// Progress lines (one per layer, link and contention pair), e.g. printed on stderr.
  std::function<void(const std::string&)> log;

  /// Small caps for tests and a first look (`hetmap profile --quick`): a few seconds.
  static ProfileOptions quick();
};

/// Summary of repeated timings.
struct SampleStats {
  double mean_ms = 0.0;
  double std_ms = 0.0;       // sample standard deviation (n - 1)
  double p99_ms = 0.0;       // 99th percentile, nearest rank (hetmap/stats.hpp)
  double ci_half_ms = 0.0;   // 95% confidence half-width of the mean (Student t)
  int samples = 0;
  bool converged = false;    // ci_half_ms <= rel_ci * mean_ms
};

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom (t_{0.975, df}).
double t_quantile_975(int df);

/// Mean, std, p99 and CI of `samples_ms` (converged is judged against `rel_ci`).
SampleStats summarize(const std::vector<double>& samples_ms, double rel_ci = 0.02);

/// The stopping rule of RepeatOptions, fed one sample at a time (warm-up left to the caller).
class Sampler {
 public:
  explicit Sampler(const RepeatOptions& options);
  /// Records a sample; returns whether more are wanted.
  bool add(double ms);
  bool done() const { return done_; }
  const std::vector<double>& samples() const { return samples_; }

 private:
  RepeatOptions o_;
  int min_reps_, max_reps_, floor_reps_;
  std::vector<double> samples_;
  double sum_ = 0, sum2_ = 0, spent_ = 0;
  bool done_ = false;
};

/// `run_once` timed repeatedly under `options`; returns the raw samples (ms).
std::vector<double> repeat_timed(const std::function<void()>& run_once,
                                 const RepeatOptions& options);
/// The same with samples that time themselves (`sample_once` returns ms).
std::vector<double> repeat_samples(const std::function<double()>& sample_once,
                                   const RepeatOptions& options);

/// A link model: latency_ms + bytes / (gbytes_per_s * 1e9) * 1e3.
struct LinkFit {
  double latency_ms = 0.0;
  double gbytes_per_s = 0.0;
  double max_rel_residual = 0.0;  // largest |fit - measured| / measured over the points
};

/// Least-squares fit of (bytes, ms) points, weighted by 1 / ms^2 so that every size counts by
/// its relative error (an unweighted fit lets the largest copies swamp the latency). A negative
/// intercept is refitted through the origin (latency 0). Needs two distinct sizes; throws
/// std::invalid_argument otherwise or when the times do not grow with size.
LinkFit fit_link(const std::vector<double>& bytes, const std::vector<double>& ms);

struct LayerMeasurement {
  int layer = -1;
  int proc = -1;
  double freq_mhz = 0.0;  // 0: the processor's default
  /// GPU rows of a DVFS sweep: the host processor's level while they were timed (MODEL.dvfs.csv's
  /// host_freq_mhz); 0 for CPU rows and outside a sweep.
  double host_freq_mhz = 0.0;
  int threads = 0;        // 0: the processor's default
  SampleStats stats;
  /// The device's own time for the same runs (Kernel::device_ms(): CUDA events on the CUDA
  /// backend's GPU); samples = 0 where the backend does not measure it apart.
  SampleStats device;
};

struct LinkMeasurement {
  int a = -1, b = -1;             // processor indices, a < b
  std::vector<double> bytes, ms;  // one point per size and direction (mean of its samples)
  LinkFit fit;                    // what platform.yaml gets
  std::vector<double> direct_ms;  // with link_handoff: Backend::copy alone, same points
  std::optional<LinkFit> direct_fit;
};

struct TransferMeasurement {
  int layer = -1;  // -1: the model input
  int from = -1, to = -1;
  SampleStats stats;
};

struct ContentionMeasurement {
  bool measured = false;
  double factor = 1.0;          // what platform.yaml gets
  double raw_mean_ratio = 1.0;  // mean of the ratios, before clamping at 1
  struct Pair {
    int layer = -1, proc = -1, busy = -1;
    double alone_ms = 0.0, loaded_ms = 0.0;
  };
  std::vector<Pair> pairs;
  std::string note;             // how it was obtained, or why not
};

/// idle_w and active_w as measured with the backend's power meters (docs/validation.md).
struct PowerMeasurement {
  bool attempted = false;           // ProfileOptions::power and at least one meter
  /// Per processor (NaN: not measured, and why_not says why).
  std::vector<double> idle_w, active_w;
  std::vector<double> active_raw_w;  // before clamping at idle_w (a rise below 0 is noise)
  std::vector<double> busy_share;    // share of the processor's active window inside Kernel::run
  std::vector<double> active_s;      // length of its active window
  std::vector<std::string> why_not;  // "" when measured
  struct Domain {
    std::string name, method;
    std::vector<int> processors;     // the processors it covers (its idle power is split evenly)
    double idle_before_w = 0.0, idle_after_w = 0.0, idle_w = 0.0;  // idle_w: their mean
    std::vector<double> active_window_w;  // per processor: mean power during its active window
  };
  std::vector<Domain> domains;
  double idle_s = 0.0;               // length of each idle window (the longer of the two)
  std::vector<std::string> warnings; // windows shorter than a counter's resolution, ...
  std::string note;                  // one line: what was measured, or why nothing was
  bool any() const;                  // some processor got active_w and idle_w
};

struct ProfileResult {
  std::string backend;      // Backend::name()
  std::string machine;      // Backend::describe()
  std::string date_utc;     // when the profile started, "YYYY-MM-DD HH:MM UTC"
  std::string model;        // model name
  Platform platform;        // processors of the backend, plus measured links and contention
  std::vector<LayerMeasurement> layers;
  std::vector<std::string> refused;  // "layer on proc: why" for layers the backend cannot run
  std::vector<LinkMeasurement> links;
  std::vector<TransferMeasurement> transfers;
  ContentionMeasurement contention;
  PowerMeasurement power;   // also written into platform.processors (active_w, idle_w)
  ProfileOptions options;
  bool dvfs_threads = false;  // whether rows other than the defaults were measured
  /// Frequencies: per processor, the level it was held at while the links, contention, power and
  /// its MODEL.csv rows at "the highest" were measured (MHz); 0 where none was set (no
  /// freqs_mhz, or a domain that could not be driven: freq_note says why).
  std::vector<double> pinned_mhz;
  /// Every row of a DVFS sweep (MODEL.dvfs.csv: GPU rows at every host level); empty without.
  std::vector<LayerMeasurement> dvfs_layers;
  /// How frequencies were handled, one clause for the files' source lines ("" when the platform
  /// has no freqs_mhz and no sweep ran).
  std::string freq_note;
};

/// Measures `model` on every processor of `backend`.
ProfileResult profile(Backend& backend, const Model& model, const ProfileOptions& options);

// The files' texts come from the formats' own writers (hetmap/platform.hpp, hetmap/profile.hpp:
// what they write, their readers read back), with measurements kept to six significant digits.

/// docs/formats.md platform.yaml text: active_w/idle_w for the processors whose power was measured,
/// comment lines on how, and which processors have none and why.
std::string platform_yaml(const ProfileResult& result);
/// docs/formats.md profile CSV text with a `# source:` header line.
std::string profile_csv(const ProfileResult& result, const Model& model);
/// `layer,from,to,mean_ms` rows of the measured per-tensor copies.
std::string transfers_csv(const ProfileResult& result, const Model& model);

/// MODEL.dvfs.csv text: `layer,processor,freq_mhz,host_freq_mhz,threads,mean_ms,std_ms,p99_ms,
/// samples`, every row of a DVFS sweep (host_freq_mhz empty for CPU rows); "" without a sweep.
std::string dvfs_profile_csv(const ProfileResult& result, const Model& model);

/// MODEL.device.csv text: the profile with every row that has a device time (GPU layers)
/// replaced by it, i.e. without launch and synchronisation overhead; "" when no row has one.
/// For comparison only (docs/validation.md): the executor's worker is busy for the wall time.
std::string device_profile_csv(const ProfileResult& result, const Model& model);

struct ProfileFiles {
  std::string platform, profile, transfers;  // transfers empty when not measured
  std::string device;                        // MODEL.device.csv, empty when not written
  std::string dvfs;                          // MODEL.dvfs.csv, empty without a DVFS sweep
};
/// Writes DIR/platform.yaml, DIR/MODEL.csv (and DIR/MODEL.transfers.csv, DIR/MODEL.device.csv,
/// DIR/MODEL.dvfs.csv; removes those this run has nothing for), all or none (detail::OutputSet,
/// docs/design.md "Output files"): on failure every file of DIR is left as it was.
ProfileFiles write_profile(const ProfileResult& result, const Model& model, const std::string& dir);

/// The current time as "YYYY-MM-DD HH:MM UTC", for `source:` lines.
std::string utc_now();

}  // namespace hetmap::backend
