#pragma once
// Turning results into what users read: the JSON keys of docs/design.md, a terminal table, and Chrome
// trace-event JSON (opens in Perfetto / chrome://tracing, one track per processor and link).
#include <nlohmann/json.hpp>

#include <string>

#include "hetmap/metrics.hpp"
#include "hetmap/problem.hpp"
#include "hetmap/schedule.hpp"

namespace hetmap {

using Json = nlohmann::ordered_json;

/// The JSON keys of docs/design.md ("Command line"); NaN and infinity become null. Every origin
/// has the analytical evaluator's keys; simulated and measured runs add the latency percentiles,
/// max_latency_ms, inputs, makespan_ms and the event and cancellation counters.
Json to_json(const Problem& problem, const Metrics& metrics);

/// A readable table of the JSON produced above.
std::string to_table(const Json& result);

/// Chrome trace-event JSON of a schedule.
Json chrome_trace(const Problem& problem, const Schedule& schedule);

/// A result name: the exit's name, or "final".
std::string result_name(const Problem& problem, int result);

}  // namespace hetmap
