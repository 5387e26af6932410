// Meters named on the command line (`--power-meter`, power.hpp, docs/validation.md "Power on
// a board"): the board meters (INA3221 rails, an external meter over serial) in place of a
// backend's own.
#include <fmt/format.h>

#include <algorithm>

#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/power.hpp"

namespace hetmap::backend {

namespace {

InputError spec_error(const std::string& spec, const std::string& what) {
  return InputError("--power-meter " + spec, 0, what);
}

}  // namespace

MeterSpec parse_meter_spec(const std::string& spec, const Platform& platform) {
  const std::string expected =
      "expected ina3221:RAIL@PROC[+PROC...] or serial:PATH@PROC[+PROC...]";
  const std::size_t colon = spec.find(':'), at = spec.rfind('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon)
    throw spec_error(spec, expected);
  MeterSpec m;
  m.text = spec;
  m.kind = spec.substr(0, colon);
  m.target = spec.substr(colon + 1, at - colon - 1);
  if (m.kind != "ina3221" && m.kind != "serial")
    throw spec_error(spec, "unknown meter kind '" + m.kind + "': " + expected);
  if (m.target.empty())
    throw spec_error(spec, m.kind == "serial" ? "no serial device path" : "no rail name");
  const std::string procs = spec.substr(at + 1);
  std::size_t from = 0;
  for (;;) {
    const std::size_t plus = procs.find('+', from);
    const std::string name = procs.substr(from, plus == std::string::npos ? std::string::npos : plus - from);
    const int p = platform.find(name);
    if (p < 0) {
      std::string have;
      for (const Processor& q : platform.processors) have += (have.empty() ? "" : ", ") + q.name;
      throw spec_error(spec, fmt::format("no processor '{}' on platform {} (it has: {})", name,
                                         platform.name, have));
    }
    if (std::find(m.processors.begin(), m.processors.end(), p) != m.processors.end())
      throw spec_error(spec, "processor '" + name + "' named twice");
    m.processors.push_back(p);
    if (plus == std::string::npos) break;
    from = plus + 1;
  }
  return m;
}

PowerMeters with_meter_specs(PowerMeters defaults, const std::vector<MeterSpec>& specs,
                             const std::string& sysfs_root) {
  if (specs.empty()) return defaults;
  std::vector<int> named;
  for (const MeterSpec& s : specs)
    for (int p : s.processors) {
      if (std::find(named.begin(), named.end(), p) != named.end())
        throw spec_error(s.text, "a processor it names is named by another --power-meter too");
      named.push_back(p);
    }
  const auto is_named = [&](int p) { return std::find(named.begin(), named.end(), p) != named.end(); };

  PowerMeters out;
  out.not_measured = std::move(defaults.not_measured);
  for (auto& meter : defaults.meters) {
    const std::vector<int>& ps = meter->processors();
    if (std::none_of(ps.begin(), ps.end(), is_named)) {
      out.meters.push_back(std::move(meter));
      continue;
    }
    // A meter is one domain: it cannot be split, so it goes, and what only it covered is unmeasured.
    std::vector<int> rest;
    for (int p : ps)
      if (!is_named(p)) rest.push_back(p);
    out.unmeasured(rest, fmt::format("its meter {} also covers processors a --power-meter names, "
                                     "and was replaced",
                                     meter->name()));
  }
  for (const MeterSpec& s : specs) {
    std::string why;
    std::unique_ptr<PowerMeter> m =
        s.kind == "ina3221" ? make_ina3221_meter(s.target, s.processors, why, sysfs_root)
                            : make_serial_meter(s.target, s.processors, why);
    if (!m) throw BackendError("--power-meter " + s.text + ": " + why);
    out.add(std::move(m));
  }
  return out;
}

}  // namespace hetmap::backend
