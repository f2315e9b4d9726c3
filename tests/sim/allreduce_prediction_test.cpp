// The fitted profile's predictions for measured all-reduces: the ring column is
// the simulator's allreduce_s, the best column is the fastest of the three
// algorithms and names it, errors are signed percentages of the measured time,
// and a calibration file carrying the "predicted" lists still parses as a
// network profile.
#include "sim/allreduce_prediction.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "temp_dir.hpp"

namespace distsgd::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double KiB = 1024, MiB = 1024 * 1024;

// 10 us and 1 GB/s at every size: latency dominates 1 KiB, bandwidth 4 MiB.
NetworkProfile one_line() { return NetworkProfile("test", {{kInf, {10e-6, 1e9}}}, "test"); }

TEST(PredictAllreduce, TheEngineColumnIsOpenMpisChoiceOfAlgorithm) {
  const auto profile = one_line();
  const auto predictions =
      predict_allreduce({{2, {{KiB, 30e-6}, {4 * MiB, 5e-3}}}, {4, {{KiB, 1e-4}}}}, profile);
  ASSERT_EQ(predictions.size(), 3u);
  EXPECT_EQ(predictions[2].ranks, 4);
  EXPECT_EQ(predictions[2].bytes, KiB);
  EXPECT_EQ(predictions[2].measured_s, 1e-4);
  for (const auto& p : predictions)
    EXPECT_DOUBLE_EQ(p.engine_s,
                     allreduce_s(AllreduceAlgorithm::openmpi, p.ranks, p.bytes, profile));
  // 2 ranks, 1 KiB: a binomial reduce and broadcast, 2 (10 us + 1 KiB / 1 GB/s).
  EXPECT_DOUBLE_EQ(predictions[0].engine_s, 2 * (10e-6 + 1024 / 1e9));
}

TEST(PredictAllreduce, TheBestColumnIsTheFastestAlgorithmAndNamesIt) {
  const auto profile = one_line();
  const auto p = predict_allreduce({{4, {{KiB, 1e-4}, {4 * MiB, 1e-2}}}}, profile);
  ASSERT_EQ(p.size(), 2u);
  // Small: halving-doubling's 4 latencies beat the ring's 6 and the tree's 4 whole vectors.
  EXPECT_EQ(p[0].best, AllreduceAlgorithm::halving_doubling);
  // Large on 4 ranks: ring and halving-doubling move the same bytes; the
  // latencies decide (4 against 6).
  for (const auto& q : p) {
    for (auto a : {AllreduceAlgorithm::ring, AllreduceAlgorithm::tree,
                   AllreduceAlgorithm::halving_doubling})
      EXPECT_LE(q.best_s, allreduce_s(a, 4, q.bytes, profile));
    EXPECT_DOUBLE_EQ(q.best_s, allreduce_s(q.best, 4, q.bytes, profile));
  }
  // Two ranks: every algorithm is one exchange each way; the tie names the ring.
  const auto two = predict_allreduce({{2, {{KiB, 1e-4}}}}, NetworkProfile::parse("free"));
  EXPECT_EQ(two[0].best, AllreduceAlgorithm::ring);
  EXPECT_EQ(two[0].best_s, 0.0);
}

TEST(ErrorPercent, IsSignedAndNaNWithoutAMeasurement) {
  EXPECT_DOUBLE_EQ(error_percent(1.25, 1.0), 25.0);
  EXPECT_DOUBLE_EQ(error_percent(0.5, 1.0), -50.0);
  EXPECT_TRUE(std::isnan(error_percent(1.0, 0.0)));
}

TEST(AddPredictions, ListsEachSeriesAndACalibrationFileWithThemStillParses) {
  const auto profile = one_line();
  Calibration c;
  c.ranks = 3;
  c.mpi = "Open MPI v4.1.4";
  c.ranges = profile.ranges();
  c.pingpong = {{KiB, 11e-6}, {2 * KiB, 12e-6}};
  c.allreduce = {{2, {{KiB, 30e-6}}}, {3, {{KiB, 0.0}, {2 * KiB, 50e-6}}}};
  const auto predictions = predict_allreduce(c.allreduce, profile);
  auto json = calibration_to_json(c);
  add_predictions(json, predictions);

  const auto& three = json.at("allreduce")[1].at("predicted");
  ASSERT_EQ(three.size(), 2u);
  EXPECT_EQ(three[1].at("bytes"), 2 * KiB);
  EXPECT_EQ(three[1].at("measured_s"), 50e-6);
  EXPECT_EQ(three[1].at("engine_s"), predictions[2].engine_s);
  EXPECT_TRUE(three[0].at("engine_error_pct").is_null());  // a 0 s measurement
  EXPECT_TRUE(three[1].at("best").is_string());

  testing::TempDir dir;
  const std::string path = dir.file("calibration.json");
  std::ofstream(path) << json.dump(2);
  const auto parsed = NetworkProfile::parse(path);
  EXPECT_DOUBLE_EQ(parsed.message_s(KiB), profile.message_s(KiB));
}

}  // namespace
}  // namespace distsgd::sim
