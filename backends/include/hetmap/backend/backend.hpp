#pragma once
// The interface the profiler and the executor share: build a layer of any docs/formats.md op on a
// processor, allocate tensors there, copy them between processors, run a layer. A backend
// exposes its processors as a hetmap::Platform, so everything measured on it lines up with
// the simulator's inputs.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "hetmap/error.hpp"
#include "hetmap/model.hpp"
#include "hetmap/platform.hpp"
#include "hetmap/backend/power.hpp"

namespace hetmap::backend {

class FreqDomain;    // dvfs.hpp
struct DvfsOptions;  // dvfs.hpp

/// A backend that cannot do what it was asked (an `opaque` layer, a missing device, ...).
/// Exit code 2: the input asked for something this backend cannot run.
class BackendError : public Error {
 public:
  explicit BackendError(const std::string& message) : Error("", 0, message, kBadInput) {}
};

/// A tensor in one processor's memory (float32, Shape::elements() values).
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual const Shape& shape() const = 0;
  std::size_t bytes() const { return static_cast<std::size_t>(shape().bytes()); }
};

/// One layer built for one processor, weights allocated and ready to run.
class Kernel {
 public:
  virtual ~Kernel() = default;
  /// Computes `output` from `inputs` (in the layer's input order). Runs on the processor's
  /// own worker thread; returns when the result is complete (GPU backends synchronise).
  virtual void run(const std::vector<const Buffer*>& inputs, Buffer& output) = 0;
  /// The time the device itself spent on the last run() (ms), where the backend measures it
  /// apart from the host's wall-clock time (the CUDA backend's GPU kernels: CUDA events); NaN
  /// otherwise. run()'s wall time minus this is launch and synchronisation overhead.
  virtual double device_ms() const { return std::numeric_limits<double>::quiet_NaN(); }
};

/// One processor of a backend.
class Device {
 public:
  virtual ~Device() = default;
  /// Builds top-level layer `layer` of `model` (a block with its whole body). Weights are
  /// random, drawn from `seed` and the layer's name only, so a layer computes the same numbers
  /// wherever it is placed. Throws BackendError for ops the backend cannot run (`opaque`).
  virtual std::unique_ptr<Kernel> build(const Model& model, int layer, std::uint64_t seed) = 0;
  virtual std::unique_ptr<Buffer> allocate(const Shape& shape) = 0;
  /// Prepares the calling thread to run this device's kernels (CPU affinity, GPU context).
  virtual void bind_thread() = 0;
  /// The host cores this device's kernels run on (a CPU cluster's), in ascending order; empty
  /// for an accelerator. Backend::freq_domain() finds a CPU processor's cpufreq policy by them.
  virtual std::vector<int> cores() const { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  /// The processors (names, kinds, cores, host). Links and power are left to the profiler.
  virtual const Platform& platform() const = 0;
  virtual Device& device(int processor) = 0;
  /// Copies `src` (on processor `from`) into `dst` (on processor `to`), on the calling thread.
  virtual void copy(const Buffer& src, int from, Buffer& dst, int to) = 0;
  /// Host data into a buffer, and back (model inputs, checks).
  virtual void upload(const float* data, Buffer& dst, int processor) = 0;
  virtual void download(const Buffer& src, int processor, float* data) = 0;
  /// The machine, for `source:` lines: CPU model, cores, device names, library versions.
  virtual std::string describe() const = 0;
  /// The power meters covering this backend's processors, and why the others have no power
  /// reading (power.hpp; docs/validation.md, "Power and energy"). Called once per profile, run
  /// or validation; the meters are fresh objects owned by the caller. Default
  /// (default_power_meters): a RAPL package meter covering every `cpu` processor when the
  /// powercap counters are readable, every other processor "not measured". A backend with
  /// meters of its own (NVML for a GPU) starts from Backend::power_meters() and calls
  /// PowerMeters::add (or PowerMeters::unmeasured with the reason).
  virtual PowerMeters power_meters();
  /// The frequency control of `processor` (docs/dvfs.md), for `hetmap profile`'s DVFS sweep and
  /// for applying a mapping's `freq_mhz`. Default: a `cpu` processor's cpufreq policy (the one
  /// holding its Device::cores()), a `gpu` processor's devfreq device (find_gpu_devfreq). Throws
  /// BackendError saying why when the processor's frequency cannot be set (no cpufreq, no
  /// devfreq GPU, no userspace governor, sysfs not writable, a backend whose clocks are
  /// another program's).
  virtual std::unique_ptr<FreqDomain> freq_domain(int processor, const DvfsOptions& options);
};

struct BackendOptions {
  /// CPU processors ("clusters") the machine's cores are split into, pinned to disjoint cores;
  /// 0 = min(2, cores). The CUDA backend splits the cores left after `gpu_host_cores`.
  int clusters = 0;
  /// CUDA backend: the CUDA device index of its `gpu` processor.
  int gpu = 0;
  /// CUDA backend: cores kept for the GPU's host side (the thread that launches its kernels
  /// and the copy workers of its links); 0 = automatic (a quarter of the cores, at least 1,
  /// at most 4). See docs/cuda.md.
  int gpu_host_cores = 0;
};

/// "reference" (always), "cuda" (built with HETMAP_CUDA), "acl" (built with HETMAP_ACL).
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options = {});

/// Names of the backends this build has.
std::vector<std::string> available_backends();

}  // namespace hetmap::backend
