#pragma once
// Power meters: measured energy beside measured latency (docs/validation.md, "Power and
// energy"). A PowerMeter is one power domain (a GPU's board, a CPU package) with a cumulative
// energy reading; a backend lists its meters with Backend::power_meters(), and the profiler
// (idle_w / active_w of platform.yaml, docs/formats.md), the executor (energy_mj of a run) and
// validation (energy MAPE) sample them with a PowerSampler. A processor no meter covers has no
// measured power: it is reported as "not measured" with the reason, never estimated.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hetmap/platform.hpp"

namespace hetmap::backend {

/// One power domain with a cumulative energy reading.
class PowerMeter {
 public:
  virtual ~PowerMeter() = default;
  /// For comments and logs, e.g. "nvml:0 NVIDIA H100 80GB HBM3", "rapl:package-0".
  virtual std::string name() const = 0;
  /// The backend processors (indices into Backend::platform().processors) whose power this
  /// domain includes. A domain may include more (a CPU package's uncore, other processes): the
  /// profiler's idle window measures that part, and it is split over these processors.
  virtual const std::vector<int>& processors() const = 0;
  /// Energy in joules since an arbitrary origin (the meter's creation, the driver's load),
  /// non-decreasing; counter wrap-around is handled inside, provided the reading is taken at
  /// least once per wrap period (PowerSampler does, every few ms). Calls must not overlap (a
  /// PowerSampler serialises them). Throws std::runtime_error when the counter cannot be read.
  virtual double energy_j() = 0;
  /// How the reading is obtained, one line, e.g. "energy counter (uJ), wrap-around at 262143 J".
  virtual std::string method() const = 0;
  /// Time between updates of the underlying counter, seconds (0: finer than any window). A
  /// window should be many of these long; shorter ones get a warning.
  virtual double update_interval_s() const { return 0.0; }
};

/// Processors a backend has no power reading for, and why (one line).
struct UnmeasuredPower {
  std::vector<int> processors;
  std::string why;  // e.g. "rapl: /sys/class/powercap: absent (no powercap interface: a VM?)"
};

/// What Backend::power_meters() returns: the meters, and the domains that are not measured.
struct PowerMeters {
  std::vector<std::unique_ptr<PowerMeter>> meters;
  std::vector<UnmeasuredPower> not_measured;

  /// Adds a meter; the processors it covers are dropped from `not_measured`.
  void add(std::unique_ptr<PowerMeter> meter);
  /// Records that `processors` have no power reading because of `why`, replacing what was
  /// recorded for them before (the latest word on a processor wins: an override of
  /// Backend::power_meters() can start from the default and correct it).
  void unmeasured(std::vector<int> processors, std::string why);
  bool covers(int processor) const;
  /// Whether every processor 0 .. count-1 is covered by some meter.
  bool covers_all(int count) const;
  /// Why `processor` has no measured power: the reasons recorded for it, joined with "; ", or
  /// "no power meter covers it" when none was recorded; "" when a meter covers it.
  std::string why_not(int processor) const;
  std::vector<PowerMeter*> pointers() const;
};

/// A window shorter than this many updates of a meter's counter gives coarse energy: the
/// profiler and the executor warn, validation leaves such runs out of its energy MAPE.
inline constexpr double kCoarseUpdates = 10;

/// The meter whose counter updates least often; no meter when every one is read on demand.
struct SlowestMeter {
  const PowerMeter* meter = nullptr;
  double interval_s = 0.0;
  /// Whether a window of `seconds` spans fewer than kCoarseUpdates of its updates.
  bool coarse(double seconds) const { return meter && seconds < kCoarseUpdates * interval_s; }
};
SlowestMeter slowest_meter(const std::vector<PowerMeter*>& meters);

/// Processors grouped by why they have no measured power (`why[p]`, "" for a measured one), in
/// order of first appearance: {reason, processors}.
std::vector<std::pair<std::string, std::vector<int>>> group_by_reason(const std::vector<std::string>& why);

/// Where Linux exposes RAPL (powercap sysfs).
inline constexpr const char* kPowercapRoot = "/sys/class/powercap";
/// The NVIDIA driver's management library, loaded with dlopen (the CUDA toolkit ships no
/// nvml.h and the library exists only where a driver is installed).
inline constexpr const char* kNvmlLibrary = "libnvidia-ml.so.1";

/// An NVML meter for the GPU with NVML index `gpu_index`, covering `processors`: the driver's
/// total-energy counter (mJ since the driver was loaded; Volta and newer), else the board
/// power (mW) integrated over the readings (trapezoids). nullptr, with `why_not` set to a
/// one-line reason, when the library, the GPU or both readings are unavailable. NVML indices
/// follow PCI bus order and ignore CUDA_VISIBLE_DEVICES; a CUDA device is best matched by its
/// PCI bus id (make_nvml_meter_by_pci).
std::unique_ptr<PowerMeter> make_nvml_meter(unsigned gpu_index, std::vector<int> processors,
                                            std::string& why_not);
/// The same, for the GPU with PCI bus id `pci_bus_id` (as cudaDeviceGetPCIBusId writes it,
/// e.g. "0000:3B:00.0").
std::unique_ptr<PowerMeter> make_nvml_meter_by_pci(const std::string& pci_bus_id,
                                                   std::vector<int> processors,
                                                   std::string& why_not);
/// make_nvml_meter with another library file (tests: a library that does not exist).
std::unique_ptr<PowerMeter> make_nvml_meter(unsigned gpu_index, std::vector<int> processors,
                                            std::string& why_not, const std::string& library);

/// A RAPL meter over every CPU package domain under `powercap_root` (intel-rapl:N, and
/// amd-rapl:N where a kernel names them so, whose `name` is "package-N"), summed, covering
/// `processors`. Reads `energy_uj` (and `max_energy_range_uj` for the wrap-around). nullptr with
/// the reason when the folder is absent, has no package domain, or a counter is unreadable
/// (often root-only, or absent in virtual machines).
std::unique_ptr<PowerMeter> make_rapl_meter(std::vector<int> processors, std::string& why_not,
                                            const std::string& powercap_root = kPowercapRoot);

/// Where Linux exposes sysfs (the INA3221 monitors of Jetson boards are found under it).
inline constexpr const char* kSysfsRoot = "/sys";

/// A meter for the INA3221 rail named `rail_name` (e.g. "VDD_CPU", "VDD_GPU", "VDD_IN",
/// "VDD_SOC", "VDD_CPU_GPU_CV"; compared without regard to case) of a Jetson board, covering
/// `processors`. Jetson boards have no energy counter, only these power monitors, which L4T
/// exposes in one of two layouts under `sysfs_root`:
///  - the older `ina3221x` driver: `bus/i2c/drivers/ina3221x/*/iio:device*/in_power{0,1,2}_input`
///    (mW), named by `rail_name_{0,1,2}`;
///  - the mainline hwmon driver: `class/hwmon/hwmon*/` whose `name` is "ina3221", channels named
///    by `in{1,2,3}_label`, power = `in{N}_input` (bus voltage, mV) x `curr{N}_input` (mA).
/// The power is read at each energy_j() call and integrated by trapezoids between readings, so
/// the meter is only as good as the readings are frequent: update_interval_s() is 0, which makes
/// a PowerSampler read it every period (10 ms). nullptr, with `why_not` set to a one-line reason,
/// when no rail has that name (the reason lists the rails found, or the places looked in), when
/// two monitors both have it, or when its files cannot be read.
std::unique_ptr<PowerMeter> make_ina3221_meter(const std::string& rail_name,
                                               std::vector<int> processors, std::string& why_not,
                                               const std::string& sysfs_root = kSysfsRoot);
/// The same with the clock injected (tests): `clock_s` returns the time of a reading in
/// seconds (any origin, non-decreasing).
std::unique_ptr<PowerMeter> make_ina3221_meter(const std::string& rail_name,
                                               std::vector<int> processors, std::string& why_not,
                                               const std::string& sysfs_root,
                                               std::function<double()> clock_s);

/// External power meters (a USB power meter between the supply and the board, read over a
/// serial port) write a line-based stream of samples; the accepted format (docs/validation.md,
/// "Power on a board: INA3221 and external meters"), one item a line, CR LF or LF:
///  - a sample: `T_SECONDS,WATTS` or `T_SECONDS WATTS` (spaces or tabs around the fields
///    allowed): the meter's timestamp in seconds (any origin, never decreasing) and the power in
///    watts (finite, not negative);
///  - a marker: `# start` / `# stop` (any spaces after '#') or `START` / `STOP`, any case;
///  - a comment: any other line starting with '#'; blank lines are ignored.
/// Anything else is malformed.
struct MarkedEnergy {
  double seconds = 0.0;     // from the first to the last sample between the markers
  double joules = 0.0;      // trapezoids over those samples
  std::size_t samples = 0;  // samples between the markers (at least 2)
};
/// The energy between the first `start` marker and the `stop` marker after it, integrating the
/// samples in between by trapezoids (the markers carry no time: the window runs from the first
/// sample after `start` to the last before `stop`); lines after that `stop` are not read.
/// Throws std::runtime_error "SOURCE:LINE: why" on a malformed line, a non-finite or negative
/// value, time going backwards, a `stop` before any `start`, a second `start`, or
/// "SOURCE: ..." on a missing marker or fewer than 2 samples between them. `source` names the
/// stream in the errors.
MarkedEnergy energy_between_markers(std::istream& in, const std::string& source = "<stream>");
/// The same for a recorded file (errors also when it cannot be opened).
MarkedEnergy energy_between_markers(const std::string& path);

/// A live meter reading the sample stream above from `path` (a serial port such as
/// /dev/ttyUSB0, a FIFO, or a growing regular file), covering `processors`. The path is opened
/// read-only and non-blocking, with no terminal set-up: set the port's baud rate and raw mode
/// first, e.g. `stty -F /dev/ttyUSB0 115200 raw -echo`. Each energy_j() reads whatever complete
/// lines have arrived and integrates the samples by trapezoids over the meter's own timestamps;
/// markers and comments are ignored. On a character device the first line, which may have been
/// cut by opening the port mid-line, is dropped when malformed; any other malformed line, or
/// time going backwards, throws std::runtime_error "serial:PATH: PATH:LINE: why". Samples come
/// late by the meter's own latency, so windows must be much longer than its sample interval
/// (update_interval_s(): the mean interval between the samples seen so far, 0 before two).
/// nullptr with the reason when the path cannot be opened.
std::unique_ptr<PowerMeter> make_serial_meter(const std::string& path, std::vector<int> processors,
                                              std::string& why_not);

/// Backend::power_meters()'s default: one RAPL meter (make_rapl_meter under `powercap_root`)
/// covering every `cpu` processor of `platform`, or those processors "not measured" with the
/// reason; every other processor "not measured" (`backend` names the backend in the reason).
PowerMeters default_power_meters(const Platform& platform, const std::string& backend,
                                 const std::string& powercap_root = kPowercapRoot);

/// A meter named on the command line (`--power-meter SPEC`, docs/validation.md "Power on a
/// board"): `ina3221:RAIL@PROC[+PROC...]` (make_ina3221_meter) or `serial:PATH@PROC[+PROC...]`
/// (make_serial_meter), PROC being processor names of the backend's platform.
struct MeterSpec {
  std::string kind;             // "ina3221" or "serial"
  std::string target;           // the rail name, or the serial device's path
  std::vector<int> processors;  // the processors its power includes
  std::string text;             // as written, for errors
};
/// Parses SPEC against `platform`. Throws InputError (exit 2) naming the option and what was
/// expected: an unknown kind, no `@`, an empty target, an unknown or repeated processor.
MeterSpec parse_meter_spec(const std::string& spec, const Platform& platform);

/// `defaults` (a backend's own meters) with the meters of `specs` in place of every default
/// meter that covers one of their processors: such a default meter is dropped, and the
/// processors it covered that no spec names become "not measured" with that reason (a meter
/// is never split). Throws BackendError "--power-meter SPEC: why" when a meter cannot be
/// opened, and InputError when two specs name one processor.
PowerMeters with_meter_specs(PowerMeters defaults, const std::vector<MeterSpec>& specs,
                             const std::string& sysfs_root = kSysfsRoot);

/// One reading of a sampled meter: seconds since PowerSampler::start(), and joules since then.
struct PowerSample {
  double t_s = 0.0;
  double energy_j = 0.0;
};

/// One meter over one sampled window.
struct MeterWindow {
  std::string name, method;
  std::vector<int> processors;
  double seconds = 0.0;      // from the reading at start() to the reading at stop()
  double energy_j = 0.0;     // over the window; NaN when a reading failed
  std::vector<PowerSample> samples;  // first {0, 0}, last {seconds, energy_j}
  std::string error;         // why a reading failed ("" if none)
  double mean_w() const;     // energy_j / seconds (NaN if undefined)
};

/// Every meter of a sampler over one window.
struct PowerWindow {
  double seconds = 0.0;  // from start() to stop(), wall clock
  std::vector<MeterWindow> meters;
  bool ok() const;       // every meter read without error
  double energy_j() const;  // the sum over the meters (NaN if one failed)
};

/// Samples meters on a background thread every `period` between start() and stop(); a meter
/// whose counter changes more slowly (update_interval_s(), NVML: 100 ms) is read only that
/// often. Every counter is also read at start() and at stop() on the calling thread, so a
/// window's energy is exact up to the counters' resolution however short it is; the samples in
/// between keep wrapping counters and power-integrating meters (NVML without an energy counter)
/// up to date and give a trace. The thread sleeps between samples and takes the CPU mask of the
/// process's main thread (not that of a pinned worker that started it). A read costs a few
/// microseconds for RAPL's sysfs file, and was measured at about 4 ms for NVML's counter on an
/// H100 machine (docs/validation.md): about 4% of one core at one read per 100 ms.
class PowerSampler {
 public:
  /// `meters` are not owned and must outlive the sampler.
  explicit PowerSampler(std::vector<PowerMeter*> meters,
                        std::chrono::microseconds period = std::chrono::milliseconds(10),
                        bool keep_samples = true);
  ~PowerSampler();
  PowerSampler(const PowerSampler&) = delete;
  PowerSampler& operator=(const PowerSampler&) = delete;

  void start();
  PowerWindow stop();
  bool running() const { return running_; }

 private:
  void read_all(bool record, bool due_only);
  void loop();

  using Clock = std::chrono::steady_clock;
  std::vector<PowerMeter*> meters_;
  std::chrono::microseconds period_;
  bool keep_samples_;
  std::vector<double> origin_j_, start_s_;  // per meter: first reading (J) and its time (s)
  std::vector<std::chrono::microseconds> meter_period_;  // max(period, its update interval)
  std::vector<Clock::time_point> due_;                    // per meter: its next reading
  std::vector<MeterWindow> windows_;
  Clock::time_point t0_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, running_ = false;
  std::thread thread_;
};

}  // namespace hetmap::backend
