#pragma once
// `--power-meter SPEC`, shared by `profile`, `run` and `validate`: board meters (an INA3221
// rail, an external meter over serial) in place of the backend's own (docs/validation.md,
// "Power on a board").
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "hetmap/backend/power.hpp"
#include "hetmap/platform.hpp"

namespace hetmap::cli {

void add_power_meter_option(CLI::App* cmd, std::vector<std::string>& specs);

/// The specs parsed against the backend's platform. InputError (exit 2) for a bad spec, and
/// for specs given with --no-power (nothing would read the meters).
std::vector<backend::MeterSpec> parse_power_meters(const std::vector<std::string>& specs,
                                                   const Platform& platform, bool no_power);

}  // namespace hetmap::cli
