// Backend::power_meters()'s default (backend.hpp, power.hpp): RAPL for the CPU processors.
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/power.hpp"

namespace hetmap::backend {

PowerMeters Backend::power_meters() { return default_power_meters(platform(), name()); }

}  // namespace hetmap::backend
