// The versions record: the two libraries as their modules report them, this
// build's own version and compiler filled in.
#include "core/runtime_versions.hpp"

#include <gtest/gtest.h>

namespace distsgd {
namespace {

TEST(RuntimeVersions, TheFourKeys) {
  const auto versions = runtime_versions("1.13.0", "Open MPI v4.1.4");
  EXPECT_EQ(versions.size(), 4u);
  EXPECT_EQ(versions.at("libtorch"), "1.13.0");
  EXPECT_EQ(versions.at("mpi"), "Open MPI v4.1.4");
  EXPECT_EQ(versions.at("distsgd"), DISTSGD_VERSION_STRING);
  EXPECT_FALSE(versions.at("compiler").get<std::string>().empty());
}

}  // namespace
}  // namespace distsgd
