// NVML for NVIDIA GPUs (power.hpp). The CUDA toolkit here has no nvml.h and the driver's
// library exists only where a driver is installed, so libnvidia-ml.so.1 is loaded at run time
// and the few functions used are declared here, with the C types of NVML's stable ABI.
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#include "hetmap/backend/power.hpp"

namespace hetmap::backend {

namespace {

using nvmlReturn_t = int;           // NVML_SUCCESS = 0
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;

struct NvmlApi {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;                                           // nvmlInit_v2
  nvmlReturn_t (*shutdown)() = nullptr;                                       // nvmlShutdown
  nvmlReturn_t (*by_index)(unsigned, nvmlDevice_t*) = nullptr;               // ..._v2
  nvmlReturn_t (*by_pci)(const char*, nvmlDevice_t*) = nullptr;              // ..._v2
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*index)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long*) = nullptr;      // mJ
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned*) = nullptr;                  // mW
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  bool initialised = false;

  std::string error(const char* function, nvmlReturn_t r) const {
    const char* text = error_string ? error_string(r) : nullptr;
    return fmt::format("{}: {} (NVML error {})", function, text ? text : "unknown error", r);
  }
  ~NvmlApi() {
    if (initialised && shutdown) shutdown();
    if (lib) dlclose(lib);
  }
};

template <class F>
void bind(void* lib, const char* symbol, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, symbol));
}

// Loads the library and initialises NVML; nullptr with the reason otherwise.
std::unique_ptr<NvmlApi> open_nvml(const std::string& library, std::string& why_not) {
  auto api = std::make_unique<NvmlApi>();
  dlerror();
  api->lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!api->lib) {
    const char* e = dlerror();
    why_not = fmt::format("nvml: cannot load {} ({}): no NVIDIA driver on this machine", library,
                          e ? e : "unknown error");
    return nullptr;
  }
  bind(api->lib, "nvmlInit_v2", api->init);
  bind(api->lib, "nvmlShutdown", api->shutdown);
  bind(api->lib, "nvmlDeviceGetHandleByIndex_v2", api->by_index);
  bind(api->lib, "nvmlDeviceGetHandleByPciBusId_v2", api->by_pci);
  bind(api->lib, "nvmlDeviceGetName", api->name);
  bind(api->lib, "nvmlDeviceGetIndex", api->index);
  bind(api->lib, "nvmlDeviceGetTotalEnergyConsumption", api->energy);
  bind(api->lib, "nvmlDeviceGetPowerUsage", api->power);
  bind(api->lib, "nvmlErrorString", api->error_string);
  for (auto [ok, symbol] : {std::pair<bool, const char*>{api->init != nullptr, "nvmlInit_v2"},
                            {api->shutdown != nullptr, "nvmlShutdown"},
                            {api->by_index != nullptr, "nvmlDeviceGetHandleByIndex_v2"}})
    if (!ok) {
      why_not = fmt::format("nvml: {} has no {} (a driver too old for this interface)", library, symbol);
      return nullptr;
    }
  if (const nvmlReturn_t r = api->init(); r != kNvmlSuccess) {
    why_not = "nvml: " + api->error("nvmlInit_v2", r);
    return nullptr;
  }
  api->initialised = true;
  return api;
}

class NvmlMeter : public PowerMeter {
 public:
  NvmlMeter(std::unique_ptr<NvmlApi> api, nvmlDevice_t device, std::string name,
            std::vector<int> processors, bool counter, unsigned long long origin_mj,
            unsigned origin_mw)
      : api_(std::move(api)),
        device_(device),
        name_(std::move(name)),
        processors_(std::move(processors)),
        counter_(counter),
        origin_mj_(origin_mj),
        last_mw_(origin_mw),
        last_t_(Clock::now()) {}
  std::string name() const override { return name_; }
  const std::vector<int>& processors() const override { return processors_; }
  double energy_j() override {
    if (counter_) {
      unsigned long long mj = 0;
      if (const nvmlReturn_t r = api_->energy(device_, &mj); r != kNvmlSuccess)
        throw std::runtime_error(name_ + ": " + api_->error("nvmlDeviceGetTotalEnergyConsumption", r));
      // Millijoules since the driver was loaded: a 64-bit count that does not wrap in practice.
      return static_cast<double>(mj >= origin_mj_ ? mj - origin_mj_ : 0) * 1e-3;
    }
    // No energy counter (before Volta): the board power, integrated over the readings by
    // trapezoids, so its accuracy depends on the sampling period and on how the driver
    // averages the power it reports.
    unsigned mw = 0;
    if (const nvmlReturn_t r = api_->power(device_, &mw); r != kNvmlSuccess)
      throw std::runtime_error(name_ + ": " + api_->error("nvmlDeviceGetPowerUsage", r));
    const Clock::time_point t = Clock::now();
    const double dt = std::chrono::duration<double>(t - last_t_).count();
    integrated_j_ += 0.5 * (static_cast<double>(last_mw_) + static_cast<double>(mw)) * 1e-3 * dt;
    last_mw_ = mw;
    last_t_ = t;
    return integrated_j_;
  }
  std::string method() const override {
    return counter_ ? "NVML total energy counter (mJ since the driver was loaded)"
                    : "NVML board power (mW) integrated over the samples (no energy counter on this GPU)";
  }
  // The energy counter steps every 100 ms (0.097-0.103 s measured on an H100 with driver 580,
  // docs/validation.md). The power reading's refresh was not measured: sampled at the
  // sampler's period.
  double update_interval_s() const override { return counter_ ? 0.1 : 0.0; }

 private:
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<NvmlApi> api_;
  nvmlDevice_t device_;
  std::string name_;
  std::vector<int> processors_;
  bool counter_;
  unsigned long long origin_mj_;
  unsigned last_mw_;
  Clock::time_point last_t_;
  double integrated_j_ = 0.0;
};

std::unique_ptr<PowerMeter> make_meter(std::unique_ptr<NvmlApi> api, nvmlDevice_t device,
                                       const std::string& id, std::vector<int> processors,
                                       std::string& why_not) {
  char name[96] = "";
  if (!api->name || api->name(device, name, sizeof(name)) != kNvmlSuccess)
    std::snprintf(name, sizeof(name), "unnamed GPU");
  unsigned index = 0;
  std::string label = id;
  if (api->index && api->index(device, &index) == kNvmlSuccess) label = std::to_string(index);
  const std::string meter = fmt::format("nvml:{} {}", label, name);
  unsigned long long mj = 0;
  nvmlReturn_t r_energy = -1, r_power = -1;
  if (api->energy && (r_energy = api->energy(device, &mj)) == kNvmlSuccess)
    return std::make_unique<NvmlMeter>(std::move(api), device, meter, std::move(processors), true, mj, 0);
  unsigned mw = 0;
  if (api->power && (r_power = api->power(device, &mw)) == kNvmlSuccess)
    return std::make_unique<NvmlMeter>(std::move(api), device, meter, std::move(processors), false, 0, mw);
  why_not = fmt::format("{}: neither energy nor power can be read ({}; {})", meter,
                        api->energy ? api->error("nvmlDeviceGetTotalEnergyConsumption", r_energy)
                                    : "no nvmlDeviceGetTotalEnergyConsumption",
                        api->power ? api->error("nvmlDeviceGetPowerUsage", r_power)
                                   : "no nvmlDeviceGetPowerUsage");
  return nullptr;
}

}  // namespace

std::unique_ptr<PowerMeter> make_nvml_meter(unsigned gpu_index, std::vector<int> processors,
                                            std::string& why_not, const std::string& library) {
  why_not.clear();
  std::unique_ptr<NvmlApi> api = open_nvml(library, why_not);
  if (!api) return nullptr;
  nvmlDevice_t device = nullptr;
  if (const nvmlReturn_t r = api->by_index(gpu_index, &device); r != kNvmlSuccess) {
    why_not = fmt::format("nvml: GPU {}: {}", gpu_index, api->error("nvmlDeviceGetHandleByIndex_v2", r));
    return nullptr;
  }
  return make_meter(std::move(api), device, std::to_string(gpu_index), std::move(processors), why_not);
}

std::unique_ptr<PowerMeter> make_nvml_meter(unsigned gpu_index, std::vector<int> processors,
                                            std::string& why_not) {
  return make_nvml_meter(gpu_index, std::move(processors), why_not, kNvmlLibrary);
}

std::unique_ptr<PowerMeter> make_nvml_meter_by_pci(const std::string& pci_bus_id,
                                                   std::vector<int> processors,
                                                   std::string& why_not) {
  why_not.clear();
  std::unique_ptr<NvmlApi> api = open_nvml(kNvmlLibrary, why_not);
  if (!api) return nullptr;
  if (!api->by_pci) {
    why_not = std::string("nvml: ") + kNvmlLibrary + " has no nvmlDeviceGetHandleByPciBusId_v2";
    return nullptr;
  }
  nvmlDevice_t device = nullptr;
  if (const nvmlReturn_t r = api->by_pci(pci_bus_id.c_str(), &device); r != kNvmlSuccess) {
    why_not = fmt::format("nvml: GPU {}: {}", pci_bus_id, api->error("nvmlDeviceGetHandleByPciBusId_v2", r));
    return nullptr;
  }
  return make_meter(std::move(api), device, pci_bus_id, std::move(processors), why_not);
}

}  // namespace hetmap::backend
