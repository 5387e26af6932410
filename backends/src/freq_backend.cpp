// Backend::freq_domain()'s default (backend.hpp, dvfs.hpp, docs/dvfs.md): a CPU processor's
// cpufreq policy (found by the host cores its Device runs on), a GPU's devfreq device. Every
// failure is one BackendError line that names the processor, then why. Also FrequencyPins
// (executor.hpp), which the executor and the profiler hold levels with.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/dvfs.hpp"
#include "hetmap/backend/executor.hpp"

namespace hetmap::backend {

namespace {

std::unique_ptr<FreqDomain> cpu_domain(Backend& backend, int processor, const DvfsOptions& options) {
  const std::string& name = backend.platform().processors[processor].name;
  const std::vector<int> cores = backend.device(processor).cores();
  if (cores.empty())
    throw BackendError(fmt::format(
        "processor {} (cpu): the {} backend does not say which host cores it runs on, so its "
        "cpufreq policy cannot be found",
        name, backend.name()));
  try {
    return std::make_unique<CpuFreqDomain>(cores, options);
  } catch (const BackendError& e) {
    // dvfs.cpp's messages name the file; say which processor asked.
    throw BackendError(fmt::format("processor {} (cpu, cores {}): {}", name, fmt::join(cores, " "),
                                   e.what()));
  }
}

std::unique_ptr<FreqDomain> gpu_domain(Backend& backend, int processor, const DvfsOptions& options) {
  const std::string& name = backend.platform().processors[processor].name;
  const std::string device = find_gpu_devfreq(options.root);
  if (device.empty())
    throw BackendError(fmt::format(
        "processor {} (gpu): no devfreq device under {}/class/devfreq looks like a GPU (gpu, "
        "mali, gv11b, gp10b, ga10b, ...): GPU DVFS needs a board whose kernel exposes its GPU "
        "through devfreq",
        name, options.root));
  try {
    return std::make_unique<DevFreqDomain>(device, options);
  } catch (const BackendError& e) {
    throw BackendError(fmt::format("processor {} (gpu, devfreq {}): {}", name, device, e.what()));
  }
}

}  // namespace

std::unique_ptr<FreqDomain> Backend::freq_domain(int processor, const DvfsOptions& options) {
  const Platform& pf = platform();
  if (processor < 0 || processor >= static_cast<int>(pf.processors.size()))
    throw BackendError(fmt::format("backend {}: no processor {} (it has 0..{})", name(), processor,
                                   static_cast<int>(pf.processors.size()) - 1));
  const Processor& p = pf.processors[processor];
  switch (p.kind) {
    case ProcKind::cpu:
      return cpu_domain(*this, processor, options);
    case ProcKind::gpu:
      return gpu_domain(*this, processor, options);
    default:
      throw BackendError(fmt::format("processor {} ({}): the {} backend cannot set the frequency "
                                     "of a {} processor (only cpufreq CPUs and devfreq GPUs)",
                                     p.name, to_string(p.kind), name(), to_string(p.kind)));
  }
}

// ---------------------------------------------------------------------------------------------
// FrequencyPins

FrequencyPins::FrequencyPins(Backend& backend, DvfsOptions options)
    : backend_(backend),
      options_(std::move(options)),
      domains_(backend.platform().processors.size()),
      mhz_(backend.platform().processors.size(), 0.0) {}

FrequencyPins::~FrequencyPins() {
  try {
    restore();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hetmap: warning: %s\n", e.what());
  }
}

FreqDomain& FrequencyPins::domain(int p) {
  auto& d = domains_.at(static_cast<std::size_t>(p));
  if (!d) {
    d = backend_.freq_domain(p, options_);
    if (!d)
      throw BackendError(fmt::format("processor {}: the {} backend gave no frequency domain",
                                     backend_.platform().processors[static_cast<std::size_t>(p)].name,
                                     backend_.name()));
    order_.push_back(p);
  }
  return *d;
}

void FrequencyPins::set(int p, double mhz) {
  FreqDomain& d = domain(p);
  const std::string& name = backend_.platform().processors[static_cast<std::size_t>(p)].name;
  try {
    d.set_mhz(mhz);
  } catch (const BackendError& e) {
    // Half-done (governor switched, level refused): put it back now, not at the end.
    std::string also;
    try {
      d.restore();
    } catch (const std::exception& r) {
      also = fmt::format("; putting it back also failed: {}", r.what());
    }
    mhz_[static_cast<std::size_t>(p)] = 0.0;
    throw BackendError(fmt::format("processor {}: setting {:g} MHz: {}{}", name, mhz, e.what(), also));
  }
  mhz_[static_cast<std::size_t>(p)] = mhz;
}

double FrequencyPins::mhz(int p) const { return mhz_.at(static_cast<std::size_t>(p)); }

namespace {
// The sysfs folder a domain drives (its policy or device), to tell shared domains apart.
std::string domain_path(const FreqDomain& d) {
  if (const auto* c = dynamic_cast<const CpuFreqDomain*>(&d)) return c->info().path;
  if (const auto* g = dynamic_cast<const DevFreqDomain*>(&d)) return g->info().path;
  return "";
}
}  // namespace

bool FrequencyPins::shared(int p, int q) {
  if (p == q) return true;
  const std::string a = domain_path(domain(p)), b = domain_path(domain(q));
  return !a.empty() && a == b;
}

void FrequencyPins::restore() {
  // Latest first, so that where two processors share a policy the one that saved the governor
  // writes it back last. The domains' own destructors then find nothing left to restore.
  std::string failed;
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    try {
      domains_[static_cast<std::size_t>(*it)]->restore();
    } catch (const std::exception& e) {
      failed += fmt::format("{}putting processor {}'s frequency back failed: {}",
                            failed.empty() ? "" : "; ",
                            backend_.platform().processors[static_cast<std::size_t>(*it)].name, e.what());
    }
  }
  std::fill(mhz_.begin(), mhz_.end(), 0.0);
  if (!failed.empty()) throw BackendError(failed);
}

}  // namespace hetmap::backend
