#include "backend_options.hpp"

#include "hetmap/backend/backend.hpp"

#include "hetmap/error.hpp"

namespace hetmap::cli {

void add_backend_option(CLI::App* cmd, std::string& backend) {
  std::string names;
  for (const std::string& n : backend::available_backends()) names += (names.empty() ? "" : ", ") + n;
  cmd->add_option("--backend", backend, "backend: " + names + " (the backends this build has)")
      ->capture_default_str();
}

void add_power_meter_option(CLI::App* cmd, std::vector<std::string>& specs) {
  cmd->add_option("--power-meter", specs,
                  "a board meter covering processors, in place of the backend's own "
                  "(repeatable): ina3221:RAIL@PROC[+PROC...] (Jetson) or "
                  "serial:PATH@PROC[+PROC...] (an external meter's samples)")
      ->expected(1)
      ->take_all();
}

std::vector<backend::MeterSpec> parse_power_meters(const std::vector<std::string>& specs,
                                                   const Platform& platform, bool no_power) {
  if (!specs.empty() && no_power)
    throw InputError("--power-meter", 0, "given with --no-power: nothing would read the meter");
  std::vector<backend::MeterSpec> out;
  for (const std::string& s : specs) out.push_back(backend::parse_meter_spec(s, platform));
  return out;
}

}  // namespace hetmap::cli
