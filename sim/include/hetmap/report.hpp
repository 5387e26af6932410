#pragma once
// Turning results into what users read: the JSON keys of docs/design.md, a terminal table, and Chrome
// trace-event JSON (opens in Perfetto / chrome://tracing, one track per processor and link).
#include <nlohmann/json.hpp>

#include <string>

#include "hetmap/des.hpp"
#include "hetmap/evaluator.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/schedule.hpp"

namespace hetmap {

using Json = nlohmann::ordered_json;

/// `simulate --json` for the analytical evaluator (NaN and infinity become null).
Json to_json(const Problem& problem, const Evaluation& evaluation);
/// `simulate --json` in DES mode: the same keys, measured over the simulated inputs, plus the
/// latency percentiles and the DES's own counters.
Json to_json(const Problem& problem, const DesResult& result);

/// A readable table of the JSON produced above.
std::string to_table(const Json& result);

/// Chrome trace-event JSON of a schedule.
Json chrome_trace(const Problem& problem, const Schedule& schedule);

/// A result name: the exit's name, or "final".
std::string result_name(const Problem& problem, int result);

}  // namespace hetmap
