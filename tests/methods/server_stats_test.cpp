// Server statistics: the staleness histogram and the job's figures from the
// summed and maximised vectors of every rank.
#include "methods/server_stats.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace distsgd::ps {
namespace {

TEST(ServerStats, StalenessGoesToItsBinAndLargeOnesToTheLast) {
  ServerStats stats;
  for (int64_t s : {0, 0, 1, 3, 40}) stats.record_staleness(s);
  EXPECT_EQ(stats.histogram[0], 2.0);
  EXPECT_EQ(stats.histogram[1], 1.0);
  EXPECT_EQ(stats.histogram[3], 1.0);
  EXPECT_EQ(stats.histogram[ServerStats::kBins - 1], 1.0);
  EXPECT_EQ(stats.staleness_sum, 44.0);
  EXPECT_EQ(stats.staleness_max, 40.0);
}

TEST(ServerStats, FiguresOfTwoServersSumCountsAndAverageRates) {
  ServerStats a, b;
  a.record_staleness(0);
  a.record_staleness(2);
  b.record_staleness(4);
  a.updates = 2, b.updates = 1;
  a.requests = a.replies = 3, b.requests = b.replies = 2;
  a.serve_s = 2.0, b.serve_s = 1.0;  // 1 update/s each
  a.max_lead = 1, b.max_lead = 3;
  auto sums = a.sums();
  const auto other = b.sums();
  for (std::size_t i = 0; i < sums.size(); ++i) sums[i] += other[i];
  auto maxima = a.maxima();
  const auto other_max = b.maxima();
  for (std::size_t i = 0; i < maxima.size(); ++i) maxima[i] = std::max(maxima[i], other_max[i]);
  const auto figures = ServerStats::figures(sums, maxima, 2);
  EXPECT_DOUBLE_EQ(figures.at("staleness_mean").get<double>(), 2.0);
  EXPECT_EQ(figures.at("staleness_max").get<double>(), 4.0);
  EXPECT_EQ(figures.at("staleness_histogram"), nlohmann::json({1, 0, 1, 0, 1}));
  EXPECT_EQ(figures.at("server_updates").get<double>(), 3.0);
  EXPECT_EQ(figures.at("server_requests").get<double>(), 5.0);
  EXPECT_EQ(figures.at("server_replies").get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(figures.at("server_updates_per_s").get<double>(), 1.0);
  EXPECT_EQ(figures.at("max_lead").get<double>(), 3.0);
  EXPECT_EQ(figures.at("serve_s").get<double>(), 2.0);
}

TEST(ServerStats, NoUpdatesGiveAZeroMeanNotANaN) {
  const ServerStats none;
  const auto figures = ServerStats::figures(none.sums(), none.maxima(), 1);
  EXPECT_EQ(figures.at("staleness_mean").get<double>(), 0.0);
  EXPECT_EQ(figures.at("server_updates_per_s").get<double>(), 0.0);
  EXPECT_THROW(ServerStats::figures({1.0}, none.maxima(), 1), std::invalid_argument);
}

}  // namespace
}  // namespace distsgd::ps
