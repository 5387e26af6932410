#pragma once
// The options `profile`, `run` and `validate` share to choose and equip a backend: `--backend`
// (listing the backends this build has) and `--power-meter SPEC`, board meters (an INA3221
// rail, an external meter over serial) in place of the backend's own (docs/validation.md,
// "Power on a board").
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "hetmap/backend/power.hpp"
#include "hetmap/platform.hpp"

namespace hetmap::cli {

/// `--backend NAME`, its help listing backend::available_backends() (make_backend refuses
/// others, naming these).
void add_backend_option(CLI::App* cmd, std::string& backend);

void add_power_meter_option(CLI::App* cmd, std::vector<std::string>& specs);

/// The specs parsed against the backend's platform. InputError (exit 2) for a bad spec, and
/// for specs given with --no-power (nothing would read the meters).
std::vector<backend::MeterSpec> parse_power_meters(const std::vector<std::string>& specs,
                                                   const Platform& platform, bool no_power);

}  // namespace hetmap::cli
