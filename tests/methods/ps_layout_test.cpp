// Roles and shards of the parameter-server methods.
#include "methods/ps_layout.hpp"

#include <gtest/gtest.h>

#include "core/errors.hpp"

namespace distsgd {
namespace {

TEST(PsLayout, LastRanksServeBalancedContiguousShards) {
  const auto layout = make_ps_layout(10, 5, 3);
  EXPECT_EQ(layout.workers, 2);
  EXPECT_EQ(layout.servers, 3);
  ASSERT_EQ(layout.shards.size(), 3u);
  EXPECT_EQ(layout.shards[0], (math::Range{0, 4}));
  EXPECT_EQ(layout.shards[1], (math::Range{4, 3}));
  EXPECT_EQ(layout.shards[2], (math::Range{7, 3}));
  EXPECT_EQ(layout.server_rank(0), 2);
  EXPECT_EQ(layout.server_rank(2), 4);
}

TEST(PsLayout, ImpossibleRankCountsAreConfigErrorsNamingTheFlag) {
  try {
    make_ps_layout(10, 1, 1);
    FAIL() << "1 rank accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("at least 2 ranks"), std::string::npos);
  }
  for (int servers : {0, 4, 5}) {
    try {
      make_ps_layout(10, 4, servers);
      FAIL() << servers << " servers accepted on 4 ranks";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("--servers " + std::to_string(servers)),
                std::string::npos);
    }
  }
}

TEST(PsLayout, EasgdAlphaIsBetaOverWorkers) {
  EXPECT_FLOAT_EQ(easgd_alpha(0.9, 3), 0.3f);
  EXPECT_FLOAT_EQ(easgd_alpha(0.9, 1), 0.9f);
}

}  // namespace
}  // namespace distsgd
