#include "sim/network_profile.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "core/errors.hpp"
#include "sim/calibration_fit.hpp"

namespace distsgd::sim {

double LinkCost::transfer_s(double bytes) const {
  return bandwidth_Bps > 0.0 ? bytes / bandwidth_Bps : 0.0;
}

double LinkCost::seconds(double bytes) const { return latency_s + transfer_s(bytes); }

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct NamedProfile {
  const char* name;
  double latency_s;
  double bandwidth_Bps;
  const char* source;
};

// The figures and their reasons are in network_profile.hpp.
constexpr NamedProfile kNamed[] = {
    {"free", 0.0, 0.0, "no network cost"},
    {"10gbe", 30e-6, 9.4e9 / 8,
     "10 GbE, MPI over TCP: 9.4 Gbit/s goodput (~94% of line rate), 30 us one-way"},
    {"25gbe", 20e-6, 23.5e9 / 8,
     "25 GbE, MPI over TCP: 23.5 Gbit/s goodput (~94% of line rate), 20 us one-way"},
    {"100g-ib", 1.2e-6, 12e9,
     "EDR InfiniBand: ~12 GB/s osu_bw of a 12.5 GB/s data rate, ~1.2 us osu_latency"},
    {"200g-ib", 1.0e-6, 24e9,
     "HDR InfiniBand: ~24 GB/s osu_bw of a 25 GB/s data rate, ~1 us osu_latency"},
};

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

[[noreturn]] void bad_spec(const std::string& spec, const std::string& why) {
  throw ConfigError(fmt::format("network profile '{}': {}", spec, why));
}

// A finite number at the front of `text`, and what follows it (the unit).
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || !std::isfinite(value)) return std::nullopt;
  return std::pair{value, text.substr(end - text.data())};
}

// The factor of a decimal (k, M, G, T) or binary (Ki, Mi, Gi, Ti) prefix.
std::optional<double> prefix_factor(std::string_view prefix) {
  if (prefix.empty()) return 1.0;
  if (prefix == "k" || prefix == "K") return 1e3;
  if (prefix == "M") return 1e6;
  if (prefix == "G") return 1e9;
  if (prefix == "T") return 1e12;
  if (prefix == "Ki") return 1024.0;
  if (prefix == "Mi") return 1024.0 * 1024;
  if (prefix == "Gi") return 1024.0 * 1024 * 1024;
  if (prefix == "Ti") return 1024.0 * 1024 * 1024 * 1024;
  return std::nullopt;
}

constexpr const char* kBandwidthUnits =
    "bandwidth units: bits per second as bit, kbit, Mbit, Gbit, Tbit (or Gb, Gbps, Gbit/s), "
    "bytes per second as B, kB, MB, GB, TB, KiB, MiB, GiB (or GB/s, GBps)";
constexpr const char* kLatencyUnits = "latency units: s, ms, us, ns";

// "10Gbit" -> bytes per second.
double parse_bandwidth(const std::string& spec, std::string_view text) {
  const auto number = split_number(text);
  if (!number)
    bad_spec(spec, fmt::format("bw={} is not a number with a unit ({})", text, kBandwidthUnits));
  std::string_view unit = number->second;
  // "/s" and "ps" say "per second", which every bandwidth is.
  if (ends_with(unit, "/s"))
    unit.remove_suffix(2);
  else if (ends_with(unit, "ps"))
    unit.remove_suffix(2);
  double bytes_per_unit = 0.0;
  std::string_view prefix;
  // Lowercase b is a bit, uppercase B a byte; "Bit" is spelled out.
  for (const auto& [base, bytes] : {std::pair<std::string_view, double>{"bit", 0.125},
                                    {"Bit", 0.125},
                                    {"b", 0.125},
                                    {"B", 1.0}}) {
    if (ends_with(unit, base)) {
      bytes_per_unit = bytes;
      prefix = unit.substr(0, unit.size() - base.size());
      break;
    }
  }
  const auto factor = prefix_factor(prefix);
  if (bytes_per_unit == 0.0 || !factor)
    bad_spec(spec, fmt::format("unknown bandwidth unit '{}' in bw={} ({})", number->second, text,
                               kBandwidthUnits));
  if (number->first <= 0.0)
    bad_spec(spec, fmt::format("bw={} must be > 0 (the profile 'free' has no cost at all)", text));
  return number->first * *factor * bytes_per_unit;
}

// "50us" -> seconds.
double parse_latency(const std::string& spec, std::string_view text) {
  const auto number = split_number(text);
  if (!number)
    bad_spec(spec, fmt::format("lat={} is not a number with a unit ({})", text, kLatencyUnits));
  const std::string_view unit = number->second;
  double factor = 0.0;
  if (unit == "s") factor = 1.0;
  if (unit == "ms") factor = 1e-3;
  if (unit == "us" || unit == "\u00b5s") factor = 1e-6;
  if (unit == "ns") factor = 1e-9;
  if (factor == 0.0)
    bad_spec(spec,
             fmt::format("unknown latency unit '{}' in lat={} ({})", unit, text, kLatencyUnits));
  if (number->first < 0.0) bad_spec(spec, fmt::format("lat={} must be >= 0", text));
  return number->first * factor;
}

// "bw=10Gbit,lat=50us": both keys, once each, in any order.
NetworkProfile parse_custom(const std::string& spec) {
  std::optional<double> bandwidth, latency;
  std::string_view rest = spec;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos)
      bad_spec(spec, fmt::format("'{}' is not KEY=VALUE (keys: bw, lat)", item));
    const std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
    if (key != "bw" && key != "lat")
      bad_spec(spec, fmt::format("unknown key '{}' (keys: bw, lat)", key));
    auto& slot = key == "bw" ? bandwidth : latency;
    if (slot) bad_spec(spec, fmt::format("{}= given twice", key));
    slot = key == "bw" ? parse_bandwidth(spec, value) : parse_latency(spec, value);
  }
  if (!bandwidth || !latency)
    bad_spec(spec, fmt::format("needs both bw= and lat=, e.g. bw=10Gbit,lat=50us (missing {})",
                               bandwidth ? "lat=" : "bw="));
  return NetworkProfile(spec, {{kInfinity, LinkCost{*latency, *bandwidth}}}, "given as " + spec);
}

NetworkProfile read_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DataError(
        fmt::format("calibration file '{}' (a network profile): cannot be opened", path));
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& error) {
    throw DataError(fmt::format("calibration file '{}': not valid JSON, truncated or corrupt ({})",
                                path, error.what()));
  }
  const Calibration calibration = calibration_from_json(json, path);
  return NetworkProfile(path, calibration.ranges,
                        fmt::format("measured by distsgd calibrate on {} ranks ({}), file {}",
                                    calibration.ranks, calibration.mpi, path));
}

}  // namespace

NetworkProfile::NetworkProfile(std::string name, std::vector<SizeRange> ranges, std::string source)
    : name_(std::move(name)), ranges_(std::move(ranges)), source_(std::move(source)) {
  const auto bad = [&](const std::string& why) {
    throw ConfigError(fmt::format("network profile '{}': {}", name_, why));
  };
  if (ranges_.empty()) bad("no size ranges");
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    const auto& range = ranges_[i];
    if (!(range.max_bytes > 0.0))
      bad(fmt::format("range {} has max_bytes {} (must be > 0)", i, range.max_bytes));
    if (i > 0 && !(range.max_bytes > ranges_[i - 1].max_bytes))
      bad(fmt::format("range {} (max_bytes {}) does not come after range {} (max_bytes {})", i,
                      range.max_bytes, i - 1, ranges_[i - 1].max_bytes));
    if (!std::isfinite(range.cost.latency_s) || range.cost.latency_s < 0.0)
      bad(fmt::format("range {} has latency {} s (must be finite and >= 0)", i,
                      range.cost.latency_s));
    if (!std::isfinite(range.cost.bandwidth_Bps) || range.cost.bandwidth_Bps < 0.0)
      bad(fmt::format("range {} has bandwidth {} B/s (must be finite and >= 0; 0: infinite)", i,
                      range.cost.bandwidth_Bps));
  }
  if (ranges_.back().max_bytes != kInfinity)
    bad(fmt::format("the last range ends at {} bytes; it must hold every larger size (infinity)",
                    ranges_.back().max_bytes));
}

std::vector<std::string> NetworkProfile::names() {
  std::vector<std::string> names;
  for (const auto& named : kNamed) names.emplace_back(named.name);
  return names;
}

NetworkProfile NetworkProfile::parse(const std::string& spec) {
  for (const auto& named : kNamed)
    if (spec == named.name)
      return NetworkProfile(spec, {{kInfinity, LinkCost{named.latency_s, named.bandwidth_Bps}}},
                            named.source);
  std::error_code error;
  if (ends_with(spec, ".json") || std::filesystem::is_regular_file(spec, error))
    return read_calibration(spec);
  if (spec.find('=') != std::string::npos) return parse_custom(spec);
  std::string known;
  for (const auto& named : kNamed) known += std::string(named.name) + ", ";
  bad_spec(spec, fmt::format("unknown (known: {}bw=RATE,lat=TIME as in bw=10Gbit,lat=50us, or a "
                             "calibration .json file written by distsgd calibrate)",
                             known));
}

bool NetworkProfile::is_free() const {
  for (const auto& range : ranges_)
    if (range.cost.latency_s != 0.0 || range.cost.bandwidth_Bps != 0.0) return false;
  return true;
}

LinkCost NetworkProfile::cost(double bytes) const {
  if (!(bytes >= 0.0))
    throw std::invalid_argument(
        fmt::format("network profile '{}': message of {} bytes", name_, bytes));
  for (const auto& range : ranges_)
    if (bytes <= range.max_bytes) return range.cost;
  return ranges_.back().cost;  // unreachable: the last range is infinite
}

nlohmann::json NetworkProfile::to_json() const {
  const auto finite_or_null = [](double value, bool infinite) {
    return infinite ? nlohmann::json(nullptr) : nlohmann::json(value);
  };
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& range : ranges_)
    ranges.push_back({{"max_bytes", finite_or_null(range.max_bytes, range.max_bytes == kInfinity)},
                      {"latency_s", range.cost.latency_s},
                      {"bandwidth_Bps",
                       finite_or_null(range.cost.bandwidth_Bps, range.cost.bandwidth_Bps == 0.0)}});
  return {{"name", name_}, {"source", source_}, {"ranges", ranges}};
}

}  // namespace distsgd::sim
