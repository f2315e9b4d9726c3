// Network profiles: each named profile and unit parses to the figures it
// states, bad specs are rejected naming the spec, costs follow the formula,
// and the size ranges are looked up at their boundaries.
#include "sim/network_profile.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/errors.hpp"

namespace distsgd::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The message of a ConfigError thrown by parse(spec); fails the test if none.
std::string parse_error(const std::string& spec) {
  try {
    NetworkProfile::parse(spec);
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no ConfigError for '" << spec << "'";
  return "";
}

TEST(NetworkProfile, FreeCostsNothing) {
  const auto free = NetworkProfile::parse("free");
  EXPECT_TRUE(free.is_free());
  EXPECT_EQ(free.name(), "free");
  EXPECT_EQ(free.message_s(0), 0.0);
  EXPECT_EQ(free.message_s(1e9), 0.0);
}

TEST(NetworkProfile, NamedProfilesHaveTheirStatedFigures) {
  struct Case {
    const char* name;
    double latency_s, bandwidth_Bps;
  };
  for (const Case& c : {Case{"10gbe", 30e-6, 9.4e9 / 8}, Case{"25gbe", 20e-6, 23.5e9 / 8},
                        Case{"100g-ib", 1.2e-6, 12e9}, Case{"200g-ib", 1.0e-6, 24e9}}) {
    const auto profile = NetworkProfile::parse(c.name);
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(profile.is_free());
    EXPECT_EQ(profile.name(), c.name);
    EXPECT_FALSE(profile.source().empty());
    EXPECT_DOUBLE_EQ(profile.cost(1).latency_s, c.latency_s);
    EXPECT_DOUBLE_EQ(profile.cost(1).bandwidth_Bps, c.bandwidth_Bps);
  }
  EXPECT_EQ(NetworkProfile::names(),
            (std::vector<std::string>{"free", "10gbe", "25gbe", "100g-ib", "200g-ib"}));
}

TEST(NetworkProfile, FasterNetworksAreFaster) {
  double previous = kInf;
  for (const char* name : {"10gbe", "25gbe", "100g-ib", "200g-ib"}) {
    const double seconds = NetworkProfile::parse(name).message_s(1 << 20);
    EXPECT_LT(seconds, previous) << name;
    previous = seconds;
  }
}

TEST(NetworkProfile, AMegabyteAt10GbitAnd50usCostsWhatTheFormulaSays) {
  const auto profile = NetworkProfile::parse("bw=10Gbit,lat=50us");
  EXPECT_EQ(profile.name(), "bw=10Gbit,lat=50us");
  // 1e6 bytes = 8e6 bits at 1e10 bit/s: 800 us, plus 50 us.
  EXPECT_DOUBLE_EQ(profile.message_s(1e6), 850e-6);
  EXPECT_DOUBLE_EQ(profile.message_s(0), 50e-6);
  EXPECT_DOUBLE_EQ(profile.cost(1e6).transfer_s(1e6), 800e-6);
}

TEST(NetworkProfile, BandwidthUnits) {
  const auto bandwidth = [](const std::string& bw) {
    return NetworkProfile::parse("bw=" + bw + ",lat=1us").cost(1).bandwidth_Bps;
  };
  // Bits per second: lowercase b, bit or Bit, with or without /s and ps.
  for (const char* bits : {"10Gbit", "10GBit", "10Gb", "10Gbps", "10Gbit/s", "10Gb/s", "10000Mbit",
                           "1e10bit", "1e7kbit", "0.01Tbit"})
    EXPECT_DOUBLE_EQ(bandwidth(bits), 1.25e9) << bits;
  EXPECT_DOUBLE_EQ(bandwidth("8bit"), 1.0);
  EXPECT_DOUBLE_EQ(bandwidth("8Kbit"), 1e3);
  // Bytes per second: uppercase B, decimal or binary prefixes.
  for (const char* bytes : {"1.25GB", "1.25GB/s", "1.25GBps", "1250MB", "1250000kB", "1.25e9B"})
    EXPECT_DOUBLE_EQ(bandwidth(bytes), 1.25e9) << bytes;
  EXPECT_DOUBLE_EQ(bandwidth("1GiB"), 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(bandwidth("2MiB/s"), 2.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(bandwidth("3KiB"), 3.0 * 1024);
  EXPECT_DOUBLE_EQ(bandwidth("1TB"), 1e12);
}

TEST(NetworkProfile, LatencyUnitsAndKeyOrder) {
  const auto latency = [](const std::string& lat) {
    return NetworkProfile::parse("lat=" + lat + ",bw=1GB").cost(1).latency_s;
  };
  EXPECT_DOUBLE_EQ(latency("2s"), 2.0);
  EXPECT_DOUBLE_EQ(latency("1.5ms"), 1.5e-3);
  EXPECT_DOUBLE_EQ(latency("50us"), 50e-6);
  EXPECT_DOUBLE_EQ(latency("700ns"), 700e-9);
  EXPECT_DOUBLE_EQ(latency("0us"), 0.0);
}

TEST(NetworkProfile, BadSpecsAreRejectedNamingTheSpecAndTheProblem) {
  struct Case {
    const char* spec;
    const char* says;
  };
  for (const Case& c : {
           Case{"20gbe", "unknown"},
           Case{"", "unknown"},
           Case{"bw=10Gbit", "missing lat="},
           Case{"lat=5us", "missing bw="},
           Case{"bw=10,lat=5us", "unknown bandwidth unit"},
           Case{"bw=10Gbt,lat=5us", "unknown bandwidth unit 'Gbt'"},
           Case{"bw=10Xbit,lat=5us", "unknown bandwidth unit"},
           Case{"bw=fast,lat=5us", "not a number"},
           Case{"bw=0Gbit,lat=5us", "must be > 0"},
           Case{"bw=-1Gbit,lat=5us", "must be > 0"},
           Case{"bw=infGbit,lat=5us", "not a number"},
           Case{"bw=10Gbit,lat=5", "unknown latency unit"},
           Case{"bw=10Gbit,lat=5min", "unknown latency unit 'min'"},
           Case{"bw=10Gbit,lat=-5us", "must be >= 0"},
           Case{"bw=10Gbit,lat=5us,bw=1Gbit", "bw= given twice"},
           Case{"bw=10Gbit,lat=5us,loss=1", "unknown key 'loss'"},
           Case{"bw=10Gbit,,lat=5us", "not KEY=VALUE"},
       }) {
    const std::string message = parse_error(c.spec);
    EXPECT_NE(message.find(std::string("'") + c.spec + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.spec << ": " << message;
  }
  // The error lists what is known.
  EXPECT_NE(parse_error("infiniband").find("100g-ib"), std::string::npos);
}

TEST(NetworkProfile, SizeRangesAreLookedUpWithInclusiveUpperBounds) {
  const NetworkProfile profile("two", {{1000, {1e-6, 1e9}}, {kInf, {1e-5, 1e10}}}, "test");
  EXPECT_DOUBLE_EQ(profile.cost(0).latency_s, 1e-6);
  EXPECT_DOUBLE_EQ(profile.cost(1000).latency_s, 1e-6);
  EXPECT_DOUBLE_EQ(profile.cost(1001).latency_s, 1e-5);
  EXPECT_DOUBLE_EQ(profile.message_s(2000), 1e-5 + 2000 / 1e10);
  EXPECT_THROW(profile.cost(-1), std::invalid_argument);
}

TEST(NetworkProfile, RangesThatDoNotMakeAProfileAreRejected) {
  const auto rejects = [](std::vector<SizeRange> ranges, const char* says) {
    try {
      NetworkProfile("bad", std::move(ranges), "test");
      ADD_FAILURE() << "accepted; expected: " << says;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(says), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("'bad'"), std::string::npos) << error.what();
    }
  };
  rejects({}, "no size ranges");
  rejects({{1000, {0, 1e9}}}, "must hold every larger size");
  rejects({{1000, {0, 1e9}}, {500, {0, 1e9}}, {kInf, {0, 1e9}}}, "does not come after");
  rejects({{kInf, {-1e-6, 1e9}}}, "latency");
  rejects({{kInf, {0, -5}}}, "bandwidth");
  rejects({{0, {0, 1}}, {kInf, {0, 1}}}, "max_bytes 0");
}

TEST(NetworkProfile, ToJsonStatesEveryFigureAndInfinityAsNull) {
  const auto json = NetworkProfile::parse("bw=8Gbit,lat=2us").to_json();
  EXPECT_EQ(json.at("name"), "bw=8Gbit,lat=2us");
  EXPECT_TRUE(json.at("source").is_string());
  ASSERT_EQ(json.at("ranges").size(), 1u);
  EXPECT_TRUE(json.at("ranges")[0].at("max_bytes").is_null());
  EXPECT_DOUBLE_EQ(json.at("ranges")[0].at("latency_s").get<double>(), 2e-6);
  EXPECT_DOUBLE_EQ(json.at("ranges")[0].at("bandwidth_Bps").get<double>(), 1e9);
  EXPECT_TRUE(
      NetworkProfile::parse("free").to_json().at("ranges")[0].at("bandwidth_Bps").is_null());
}

}  // namespace
}  // namespace distsgd::sim
