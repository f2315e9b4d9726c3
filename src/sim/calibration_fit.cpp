#include "sim/calibration_fit.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <set>

#include "core/errors.hpp"

namespace distsgd::sim {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// One range's line. Centred sums: sizes reach 1e8 bytes and times 1e-6 s, so
// the textbook n*Sxy - Sx*Sy would lose most of its digits to cancellation.
LinkCost fit_line(const std::vector<Measurement>& points) {
  double mean_x = 0.0, mean_y = 0.0;
  for (const auto& p : points) mean_x += p.bytes, mean_y += p.seconds;
  mean_x /= static_cast<double>(points.size());
  mean_y /= static_cast<double>(points.size());
  double sxx = 0.0, sxy = 0.0;
  for (const auto& p : points) {
    sxx += (p.bytes - mean_x) * (p.bytes - mean_x);
    sxy += (p.bytes - mean_x) * (p.seconds - mean_y);
  }
  double slope = sxy / sxx;  // sxx > 0: the caller checked two distinct sizes
  double intercept = mean_y - slope * mean_x;
  // Time that does not grow with size (noise over a tiny range): no
  // bandwidth term at all, the average time as latency.
  if (slope <= 0.0) return LinkCost{mean_y, 0.0};
  // A line through negative latency: keep latency 0 and refit the slope
  // through the origin, which is what the range's points then say.
  if (intercept < 0.0) {
    double xx = 0.0, xy = 0.0;
    for (const auto& p : points) xx += p.bytes * p.bytes, xy += p.bytes * p.seconds;
    intercept = 0.0;
    slope = xy / xx;
    if (slope <= 0.0) return LinkCost{0.0, 0.0};
  }
  return LinkCost{intercept, 1.0 / slope};
}

std::string range_label(double low, double high) {
  return high == kInfinity ? fmt::format("sizes over {}", bytes_label(low))
                           : fmt::format("sizes ({}, {}]", bytes_label(low), bytes_label(high));
}

}  // namespace

std::string bytes_label(double bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (unit < 4 && std::fabs(bytes) >= 1024.0) bytes /= 1024.0, ++unit;
  return fmt::format("{:g} {}", bytes, kUnits[unit]);
}

std::vector<SizeRange> fit_ranges(const std::vector<Measurement>& points,
                                  const std::vector<double>& boundaries) {
  for (std::size_t i = 0; i < boundaries.size(); ++i)
    if (!std::isfinite(boundaries[i]) || boundaries[i] <= 0.0 ||
        (i > 0 && boundaries[i] <= boundaries[i - 1]))
      throw ConfigError(fmt::format(
          "calibration: size boundaries must be finite, > 0 and increasing (boundary {} is {})", i,
          boundaries[i]));
  for (const auto& p : points)
    if (!std::isfinite(p.bytes) || p.bytes < 0.0 || !std::isfinite(p.seconds) || p.seconds < 0.0)
      throw ConfigError(fmt::format("calibration: measurement ({} bytes, {} s) is not usable",
                                    p.bytes, p.seconds));

  std::vector<SizeRange> ranges;
  double low = 0.0;
  for (std::size_t i = 0; i <= boundaries.size(); ++i) {
    const double high = i < boundaries.size() ? boundaries[i] : kInfinity;
    std::vector<Measurement> in_range;
    std::set<double> sizes;
    for (const auto& p : points)
      // (low, high], the first range also holding 0, as NetworkProfile::cost looks up.
      if ((p.bytes > low || (i == 0 && p.bytes == 0.0)) && p.bytes <= high) {
        in_range.push_back(p);
        sizes.insert(p.bytes);
      }
    if (sizes.size() < 2)
      throw ConfigError(fmt::format(
          "calibration: range {} ({}) has measurements of {} distinct size(s); fitting latency "
          "and bandwidth needs at least 2",
          i, range_label(low, high), sizes.size()));
    ranges.push_back(SizeRange{high, fit_line(in_range)});
    low = high;
  }
  return ranges;
}

namespace {

nlohmann::json points_to_json(const std::vector<Measurement>& points) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : points) out.push_back({p.bytes, p.seconds});
  return out;
}

// Reads one calibration file's JSON, every complaint naming the file and the
// field ("ranges[1].latency_s").
class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw DataError(fmt::format("calibration file '{}': {}{}", file_,
                                field.empty() ? "" : "field '" + field + "' ", why));
  }
  const nlohmann::json& at(const nlohmann::json& object, const std::string& where,
                           const char* key) const {
    const std::string field = where.empty() ? key : where + "." + key;
    if (!object.is_object()) fail(where, "is not an object");
    if (!object.contains(key)) fail(field, "is missing");
    return object.at(key);
  }
  double number(const nlohmann::json& value, const std::string& field) const {
    if (!value.is_number()) fail(field, "is not a number");
    const double x = value.get<double>();
    if (!std::isfinite(x)) fail(field, "is not finite");
    return x;
  }
  const nlohmann::json& array(const nlohmann::json& value, const std::string& field) const {
    if (!value.is_array()) fail(field, "is not an array");
    return value;
  }
  std::vector<Measurement> points(const nlohmann::json& value, const std::string& field) const {
    std::vector<Measurement> out;
    for (std::size_t i = 0; i < array(value, field).size(); ++i) {
      const std::string item = fmt::format("{}[{}]", field, i);
      const auto& pair = value[i];
      if (!pair.is_array() || pair.size() != 2) fail(item, "is not a pair [bytes, seconds]");
      out.push_back({number(pair[0], item + "[0]"), number(pair[1], item + "[1]")});
    }
    return out;
  }

 private:
  const std::string& file_;
};

}  // namespace

nlohmann::json calibration_to_json(const Calibration& calibration) {
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& range : calibration.ranges) {
    const auto& cost = range.cost;
    ranges.push_back(
        {{"max_bytes",
          range.max_bytes == kInfinity ? nlohmann::json(nullptr) : nlohmann::json(range.max_bytes)},
         {"latency_s", cost.latency_s},
         {"bandwidth_Bps", cost.bandwidth_Bps == 0.0 ? nlohmann::json(nullptr)
                                                     : nlohmann::json(cost.bandwidth_Bps)}});
  }
  nlohmann::json allreduce = nlohmann::json::array();
  for (const auto& series : calibration.allreduce)
    allreduce.push_back({{"ranks", series.ranks}, {"points", points_to_json(series.points)}});
  return {{"kind", "distsgd-calibration"},
          {"version", 1},
          {"ranks", calibration.ranks},
          {"mpi", calibration.mpi},
          {"ranges", ranges},
          {"pingpong", points_to_json(calibration.pingpong)},
          {"allreduce", allreduce}};
}

Calibration calibration_from_json(const nlohmann::json& json, const std::string& file) {
  const Reader read(file);
  if (!json.is_object()) read.fail("", "is not a JSON object");
  const auto& kind = read.at(json, "", "kind");
  if (kind != "distsgd-calibration")
    read.fail("kind", fmt::format("is {}, not \"distsgd-calibration\" (a file written by distsgd "
                                  "calibrate)",
                                  kind.dump()));
  const auto& version = read.at(json, "", "version");
  if (version != 1)
    read.fail("version", fmt::format("is {}; this build reads version 1", version.dump()));

  Calibration out;
  const auto& ranks = read.at(json, "", "ranks");
  if (!ranks.is_number_integer() || ranks.get<int64_t>() < 2)
    read.fail("ranks", fmt::format("is {}, not a rank count >= 2", ranks.dump()));
  out.ranks = ranks.get<int>();
  const auto& mpi = read.at(json, "", "mpi");
  if (!mpi.is_string()) read.fail("mpi", "is not a string");
  out.mpi = mpi.get<std::string>();

  const auto& ranges = read.array(read.at(json, "", "ranges"), "ranges");
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const std::string where = fmt::format("ranges[{}]", i);
    const auto& max_bytes = read.at(ranges[i], where, "max_bytes");
    const auto& bandwidth = read.at(ranges[i], where, "bandwidth_Bps");
    SizeRange range{kInfinity, {}};
    // null: infinite (the last range's size, or a bandwidth the fit found unbounded).
    if (!max_bytes.is_null()) range.max_bytes = read.number(max_bytes, where + ".max_bytes");
    range.cost.latency_s =
        read.number(read.at(ranges[i], where, "latency_s"), where + ".latency_s");
    if (!bandwidth.is_null()) {
      range.cost.bandwidth_Bps = read.number(bandwidth, where + ".bandwidth_Bps");
      if (range.cost.bandwidth_Bps <= 0.0)
        read.fail(where + ".bandwidth_Bps", "must be > 0 (null: infinite)");
    }
    out.ranges.push_back(range);
  }
  try {
    NetworkProfile(file, out.ranges, "");  // the same rules as any profile
  } catch (const ConfigError& error) {
    read.fail("ranges", fmt::format("do not make a network profile ({})", error.what()));
  }

  out.pingpong = read.points(read.at(json, "", "pingpong"), "pingpong");
  const auto& allreduce = read.array(read.at(json, "", "allreduce"), "allreduce");
  for (std::size_t i = 0; i < allreduce.size(); ++i) {
    const std::string where = fmt::format("allreduce[{}]", i);
    const auto& series_ranks = read.at(allreduce[i], where, "ranks");
    if (!series_ranks.is_number_integer() || series_ranks.get<int64_t>() < 1)
      read.fail(where + ".ranks", "is not a rank count >= 1");
    out.allreduce.push_back(
        {series_ranks.get<int>(),
         read.points(read.at(allreduce[i], where, "points"), where + ".points")});
  }
  return out;
}

}  // namespace distsgd::sim
