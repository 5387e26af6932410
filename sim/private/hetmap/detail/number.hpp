#pragma once
// Strict text-to-number and text-to-boolean conversion shared by every reader (YAML, CSV,
// experiment files and grids, constraints, command-line flags). Internal to hetmap.
#include <limits>
#include <optional>
#include <string>

namespace hetmap::detail {

/// "No value": a quantity not measured, not defined for this run, or not yet computed. Writers
/// print it as an empty cell or `null` (docs/formats.md); results must never end up as one.
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
/// The identity of a minimum, and the crowding distance of a front's extreme points.
inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// `text` as a finite number, or nothing if any of it is not part of one ("3x"), it is empty,
/// or it is out of range, inf or nan.
std::optional<double> parse_number(const std::string& text);

/// `text` as an integer, or nothing if any of it is not part of one ("3.5") or it does not fit
/// in a long long.
std::optional<long long> parse_integer(const std::string& text);

/// The shortest text that parse_number reads back as the same double ("1800", "0.1", "1e-05");
/// "" for inf and nan (an empty cell: no value).
std::string number_text(double value);
/// `text` as a boolean: exactly `true` or `false`, nothing else (docs/formats.md, "Booleans").
/// The one rule for every boolean hetmap reads: model and mapping YAML, experiment keys, the
/// exit trace's cells and command-line flags. yaml-cpp's own as<bool>() would also take y, n,
/// yes, no, on, off and their capitalised forms: one spelling per value keeps files greppable
/// and a typo (`ture`, `no` meant as a name) an error.
std::optional<bool> parse_bool(const std::string& text);

/// The range a physical quantity read from a file must lie in (docs/formats.md, "Quantities"):
/// wide enough for any real chip, narrow enough that every sum and product the simulators form
/// over a model stays far below the largest double. A duration of 1e308 ms is finite, but two of
/// them add up to infinity; with these bounds results are finite by construction, and a bad
/// value is refused where it is written, naming its file and line.
struct Quantity {
  double lo;
  double hi;  // kUnbounded: no upper bound (a quantity only ever divided by)
  const char* unit;
};
inline constexpr double kUnbounded = std::numeric_limits<double>::max();
inline constexpr Quantity kMilliseconds{0.0, 1e12, "ms"};           // 31.7 years
inline constexpr Quantity kWatts{0.0, 1e6, "W"};                     // a megawatt
inline constexpr Quantity kMegahertz{1e-3, 1e6, "MHz"};              // 1 kHz .. 1 THz
inline constexpr Quantity kGigabytesPerSecond{1e-6, kUnbounded, "GB/s"};  // from 1 kB/s
inline constexpr Quantity kHertz{1e-6, kUnbounded, "Hz"};            // arrival rates
inline constexpr Quantity kFactor{1e-6, 1e6, ""};                    // a dimensionless scale
/// "" if q.lo <= value <= q.hi, else "expected LO..HI UNIT, got VALUE" (">= LO UNIT" if unbounded).
std::string out_of_range(double value, const Quantity& q);

}  // namespace hetmap::detail
