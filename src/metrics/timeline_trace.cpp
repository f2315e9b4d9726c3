#include "metrics/timeline_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace distsgd::metrics {
namespace {

// A JSON string literal. The names are the code's literals and the details
// come from messages' descriptions; escaped all the same, and bytes past
// ASCII written as '?' (a detail cut to fit may end inside a UTF-8
// character), so the file always parses.
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80)
          out += '?';
        else if (static_cast<unsigned char>(c) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  out += '"';
}

void separate(std::string& out) {
  if (!out.empty()) out += ',';
}

void append_metadata(std::string& out, int rank, int tid, const char* what,
                     std::string_view name) {
  separate(out);
  fmt::format_to(std::back_inserter(out), R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"name":)",
                 rank, tid, what);
  append_string(out, name);
  out += "}}";
}

// Microseconds with nanosecond digits: the viewers take fractional ts.
void append_micros(std::string& out, int64_t ns) {
  fmt::format_to(std::back_inserter(out), "{}.{:03}", ns / 1000, ns % 1000);
}

}  // namespace

std::string rank_events_json(int rank, const timeline::Snapshot& snapshot, int64_t origin_ns) {
  std::string out;
  if (snapshot.tracks.empty()) return out;
  append_metadata(out, rank, 0, "process_name", fmt::format("rank {}", rank));
  separate(out);
  fmt::format_to(std::back_inserter(out),
                 R"({{"ph":"M","pid":{},"tid":0,"name":"process_sort_index","args":{{"sort_index":{}}}}})",
                 rank, rank);
  for (const auto& track : snapshot.tracks) {
    append_metadata(out, rank, track.tid, "thread_name", track.name);
    separate(out);
    fmt::format_to(std::back_inserter(out),
                   R"({{"ph":"M","pid":{},"tid":{},"name":"thread_sort_index","args":{{"sort_index":{}}}}})",
                   rank, track.tid, track.tid);
    for (const auto& event : track.events) {
      out += ",{\"ph\":\"X\",\"name\":";
      append_string(out, event.name);
      out += ",\"cat\":";
      append_string(out, event.category);
      fmt::format_to(std::back_inserter(out), ",\"pid\":{},\"tid\":{},\"ts\":", rank, track.tid);
      append_micros(out, std::max<int64_t>(0, event.start_ns - origin_ns));
      out += ",\"dur\":";
      append_micros(out, std::max<int64_t>(0, event.duration_ns));
      if (event.arg_name || event.detail[0] != '\0') {
        out += ",\"args\":{";
        if (event.arg_name) {
          append_string(out, event.arg_name);
          fmt::format_to(std::back_inserter(out), ":{}", event.arg);
        }
        if (event.detail[0] != '\0') {
          if (event.arg_name) out += ',';
          out += "\"detail\":";
          append_string(out, event.detail);
        }
        out += '}';
      }
      out += '}';
    }
  }
  return out;
}

std::string trace_json(const std::vector<std::string>& rank_events,
                       const nlohmann::json& other_data) {
  std::string out = "{\"traceEvents\":[";
  bool first = true;
  for (const auto& events : rank_events) {
    if (events.empty()) continue;
    if (!first) out += ",\n";
    out += events;
    first = false;
  }
  out += "],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":";
  out += other_data.is_null() ? std::string("{}") : other_data.dump();
  out += "}\n";
  return out;
}

}  // namespace distsgd::metrics
