// Calibration: the fit recovers latency and bandwidth from points on lines,
// per size range; noisy or degenerate ranges are clamped as documented; the
// calibration file round-trips through NetworkProfile::parse, and a
// truncated, corrupt or incomplete file is an error naming the file.
#include "sim/calibration_fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>

#include "core/errors.hpp"
#include "temp_dir.hpp"

namespace distsgd::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double KiB = 1024, MiB = 1024 * 1024;

// Sizes 1 KiB, 2 KiB, ... up to `max` on the line latency + bytes / bandwidth.
std::vector<Measurement> on_line(double latency, double bandwidth, double min, double max) {
  std::vector<Measurement> points;
  for (double bytes = min; bytes <= max; bytes *= 2)
    points.push_back({bytes, latency + bytes / bandwidth});
  return points;
}

void expect_cost(const LinkCost& cost, double latency, double bandwidth) {
  EXPECT_NEAR(cost.latency_s, latency, 1e-12 + 1e-9 * latency);
  EXPECT_NEAR(cost.bandwidth_Bps, bandwidth, 1e-9 * bandwidth);
}

TEST(FitRanges, RecoversLatencyAndBandwidthOfOneLine) {
  const auto ranges = fit_ranges(on_line(3e-6, 5e9, KiB, 64 * MiB), {});
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_EQ(ranges[0].max_bytes, kInf);
  expect_cost(ranges[0].cost, 3e-6, 5e9);
}

TEST(FitRanges, RecoversADifferentLineInEachRange) {
  // Eager (small), a middle protocol and rendezvous (large), as MPI switches.
  auto points = on_line(1e-6, 2e9, KiB, 64 * KiB);
  for (const auto& p : on_line(8e-6, 6e9, 128 * KiB, MiB)) points.push_back(p);
  for (const auto& p : on_line(40e-6, 9e9, 2 * MiB, 64 * MiB)) points.push_back(p);
  const auto ranges = fit_ranges(points, {64 * KiB, MiB});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].max_bytes, 64 * KiB);
  EXPECT_EQ(ranges[1].max_bytes, MiB);
  EXPECT_EQ(ranges[2].max_bytes, kInf);
  expect_cost(ranges[0].cost, 1e-6, 2e9);
  expect_cost(ranges[1].cost, 8e-6, 6e9);
  expect_cost(ranges[2].cost, 40e-6, 9e9);
  // And the profile they make gives the measured times back.
  const NetworkProfile profile("fit", ranges, "test");
  for (const auto& p : points) EXPECT_NEAR(profile.message_s(p.bytes), p.seconds, 1e-9 * p.seconds);
}

TEST(FitRanges, IsALeastSquaresFitOfRepeatedNoisyPoints) {
  // Symmetric noise around the line 2 us + bytes / 1 GB/s cancels exactly.
  std::vector<Measurement> points;
  for (double bytes : {1e3, 1e4, 1e5}) {
    const double t = 2e-6 + bytes / 1e9;
    points.push_back({bytes, t * 1.1});
    points.push_back({bytes, t * 0.9});
  }
  const auto ranges = fit_ranges(points, {});
  expect_cost(ranges[0].cost, 2e-6, 1e9);
}

TEST(FitRanges, NegativeLatencyIsClampedAndTheSlopeRefitted) {
  // The line -1 us + bytes / 1 GB/s: latency 0, then seconds = bytes / W
  // through the origin fitted by least squares.
  const std::vector<Measurement> points = {{1e4, 1e-5 - 1e-6}, {2e4, 2e-5 - 1e-6}};
  const auto cost = fit_ranges(points, {})[0].cost;
  EXPECT_EQ(cost.latency_s, 0.0);
  const double slope = (1e4 * (1e-5 - 1e-6) + 2e4 * (2e-5 - 1e-6)) / (1e8 + 4e8);
  EXPECT_NEAR(cost.bandwidth_Bps, 1 / slope, 1e-6 / slope);
}

TEST(FitRanges, TimeThatDoesNotGrowWithSizeIsLatencyAlone) {
  const auto cost = fit_ranges({{1e3, 5e-6}, {2e3, 4e-6}, {4e3, 3e-6}}, {})[0].cost;
  EXPECT_EQ(cost.bandwidth_Bps, 0.0);  // infinite
  EXPECT_DOUBLE_EQ(cost.latency_s, 4e-6);
}

TEST(FitRanges, EveryRangeNeedsTwoDistinctSizes) {
  auto points = on_line(1e-6, 1e9, KiB, 64 * KiB);
  points.push_back({MiB, 1e-3});
  points.push_back({MiB, 1.1e-3});  // the same size twice is one size
  try {
    fit_ranges(points, {64 * KiB});
    ADD_FAILURE() << "fitted a range with one size";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("range 1"), std::string::npos) << message;
    EXPECT_NE(message.find("sizes over 64 KiB"), std::string::npos) << message;
    EXPECT_NE(message.find("1 distinct size"), std::string::npos) << message;
  }
  EXPECT_THROW(fit_ranges({}, {}), ConfigError);
  EXPECT_THROW(fit_ranges(on_line(0, 1e9, KiB, MiB), {MiB, 64 * KiB}), ConfigError);
  EXPECT_THROW(fit_ranges(on_line(0, 1e9, KiB, MiB), {0}), ConfigError);
  EXPECT_THROW(fit_ranges({{1e3, 1e-6}, {2e3, std::nan("")}}, {}), ConfigError);
}

TEST(BytesLabel, NamesSizesInBinaryUnits) {
  EXPECT_EQ(bytes_label(512), "512 B");
  EXPECT_EQ(bytes_label(64 * KiB), "64 KiB");
  EXPECT_EQ(bytes_label(1.5 * MiB), "1.5 MiB");
}

Calibration sample_calibration() {
  Calibration c;
  c.ranks = 4;
  c.mpi = "Open MPI v4.1.4";
  c.ranges = {{64 * KiB, {1.5e-6, 3e9}}, {MiB, {9e-6, 5e9}}, {kInf, {30e-6, 0.0}}};
  c.pingpong = {{KiB, 1.8e-6}, {4 * KiB, 2.9e-6}};
  c.allreduce = {{2, {{KiB, 4e-6}, {4 * KiB, 7e-6}}}, {4, {{KiB, 9e-6}}}};
  return c;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CalibrationFile, RoundTripsThroughNetworkProfileParse) {
  testing::TempDir dir;
  const std::string path = dir.file("calibration.json");
  const auto json = calibration_to_json(sample_calibration());
  EXPECT_EQ(json.at("kind"), "distsgd-calibration");
  EXPECT_EQ(json.at("version"), 1);
  EXPECT_TRUE(json.at("ranges")[2].at("max_bytes").is_null());
  EXPECT_TRUE(json.at("ranges")[2].at("bandwidth_Bps").is_null());  // infinite
  write(path, json.dump(2));

  const auto back = calibration_from_json(nlohmann::json::parse(testing::read_all(path)), path);
  EXPECT_EQ(back.ranks, 4);
  EXPECT_EQ(back.mpi, "Open MPI v4.1.4");
  ASSERT_EQ(back.pingpong.size(), 2u);
  EXPECT_EQ(back.pingpong[1].bytes, 4 * KiB);
  EXPECT_EQ(back.pingpong[1].seconds, 2.9e-6);
  ASSERT_EQ(back.allreduce.size(), 2u);
  EXPECT_EQ(back.allreduce[1].ranks, 4);
  EXPECT_EQ(back.allreduce[0].points[1].seconds, 7e-6);

  const auto profile = NetworkProfile::parse(path);
  EXPECT_EQ(profile.name(), path);
  EXPECT_NE(profile.source().find("distsgd calibrate on 4 ranks"), std::string::npos);
  ASSERT_EQ(profile.ranges().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(profile.ranges()[i].max_bytes, sample_calibration().ranges[i].max_bytes);
    EXPECT_EQ(profile.ranges()[i].cost.latency_s, sample_calibration().ranges[i].cost.latency_s);
    EXPECT_EQ(profile.ranges()[i].cost.bandwidth_Bps,
              sample_calibration().ranges[i].cost.bandwidth_Bps);
  }
  EXPECT_DOUBLE_EQ(profile.message_s(KiB), 1.5e-6 + KiB / 3e9);
  EXPECT_DOUBLE_EQ(profile.message_s(8 * MiB), 30e-6);
}

TEST(CalibrationFile, AFileWithoutTheJsonSuffixIsFoundByItsExistence) {
  testing::TempDir dir;
  const std::string path = dir.file("cluster-network");
  write(path, calibration_to_json(sample_calibration()).dump());
  EXPECT_EQ(NetworkProfile::parse(path).ranges().size(), 3u);
}

// The message of the DataError that parse(path) throws; fails the test if none.
std::string file_error(const std::string& path) {
  try {
    NetworkProfile::parse(path);
  } catch (const DataError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no DataError for " << path;
  return "";
}

TEST(CalibrationFile, ATruncatedFileIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("truncated.json");
  const std::string whole = calibration_to_json(sample_calibration()).dump(2);
  for (std::size_t length : {std::size_t{0}, std::size_t{1}, whole.size() / 2, whole.size() - 1}) {
    write(path, whole.substr(0, length));
    const std::string message = file_error(path);
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
  }
}

TEST(CalibrationFile, AMissingFileIsAnErrorNamingIt) {
  testing::TempDir dir;
  const std::string message = file_error(dir.file("absent.json"));
  EXPECT_NE(message.find("absent.json"), std::string::npos);
  EXPECT_NE(message.find("cannot be opened"), std::string::npos);
}

TEST(CalibrationFile, MissingOrWrongFieldsAreErrorsNamingTheFieldAndFile) {
  testing::TempDir dir;
  const std::string path = dir.file("bad.json");
  struct Case {
    std::function<void(nlohmann::json&)> spoil;
    const char* says;
  };
  const std::vector<Case> cases = {
      {[](auto& j) { j.erase("kind"); }, "field 'kind' is missing"},
      {[](auto& j) { j["kind"] = "distsgd-checkpoint"; }, "field 'kind' is \"distsgd-checkpoint\""},
      {[](auto& j) { j["version"] = 2; }, "field 'version' is 2; this build reads version 1"},
      {[](auto& j) { j.erase("ranks"); }, "field 'ranks' is missing"},
      {[](auto& j) { j["ranks"] = 1; }, "field 'ranks' is 1"},
      {[](auto& j) { j["mpi"] = 3; }, "field 'mpi' is not a string"},
      {[](auto& j) { j.erase("ranges"); }, "field 'ranges' is missing"},
      {[](auto& j) { j["ranges"] = nlohmann::json::array(); }, "no size ranges"},
      {[](auto& j) { j["ranges"][1].erase("latency_s"); },
       "field 'ranges[1].latency_s' is missing"},
      {[](auto& j) { j["ranges"][0]["latency_s"] = "fast"; },
       "'ranges[0].latency_s' is not a number"},
      {[](auto& j) { j["ranges"][0]["bandwidth_Bps"] = -1; },
       "'ranges[0].bandwidth_Bps' must be > 0"},
      {[](auto& j) { j["ranges"][2]["max_bytes"] = 1e9; }, "must hold every larger size"},
      {[](auto& j) { j.erase("pingpong"); }, "field 'pingpong' is missing"},
      {[](auto& j) { j["pingpong"][0] = {1}; }, "'pingpong[0]' is not a pair"},
      {[](auto& j) { j["allreduce"][1].erase("points"); }, "'allreduce[1].points' is missing"},
      {[](auto& j) { j["allreduce"] = 5; }, "'allreduce' is not an array"},
      {[](auto& j) { j = nlohmann::json::array(); }, "is not a JSON object"},
  };
  for (const auto& c : cases) {
    auto json = calibration_to_json(sample_calibration());
    c.spoil(json);
    write(path, json.dump());
    const std::string message = file_error(path);
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace distsgd::sim
