#pragma once
// Runs a distsgd job that must succeed and returns its summary.json (empty,
// with the test failed, when it does not), with the log directory under "dir".
#include <gtest/gtest.h>

#include <string>

#include "e2e_util.hpp"

namespace distsgd::testing {

inline nlohmann::json run_ok(int ranks, const std::string& args, const std::string& name,
                             double limit_s = 300) {
  const auto dir = make_temp_dir(name);
  const auto run = run_distsgd(ranks, args + " --quiet --log-dir " + dir, limit_s);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (run.exit_code != 0) return nlohmann::json::object();
  auto summary = read_json(dir + "/summary.json");
  summary["dir"] = dir;
  return summary;
}

}  // namespace distsgd::testing
