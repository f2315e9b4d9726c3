#pragma once
// The timeline as a Chrome trace (the Trace Event Format that Perfetto and
// chrome://tracing open): {"traceEvents":[...], "displayTimeUnit":"ms",
// "otherData":{...}}. Each rank is a process (pid = rank, named "rank R"),
// each of its threads and lanes a thread (tid); every span a complete event
// ("ph":"X") with ts and dur in microseconds since the common origin.
//
// Written in two halves so that ranks can send theirs to rank 0 as text:
// rank_events_json() is one rank's events (metadata included) as a
// comma-separated list, and trace_json() wraps the lists of every rank.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/timeline.hpp"

namespace distsgd::metrics {

// One rank's events, as JSON objects separated by commas (no brackets).
// `origin_ns` (steady clock) becomes ts 0; an event before it is clamped to 0.
std::string rank_events_json(int rank, const timeline::Snapshot& snapshot, int64_t origin_ns);

// The whole trace from the ranks' lists (empty ones are left out);
// `other_data` becomes "otherData" (the cap, the events dropped per rank).
std::string trace_json(const std::vector<std::string>& rank_events, const nlohmann::json& other_data);

}  // namespace distsgd::metrics
