#pragma once
// What the benchmarks that launch `mpirun distsgd train` jobs share: run one
// job and read its summary.json, and the median of repeated figures.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "../tests/mpi/e2e_util.hpp"

namespace distsgd::bench {

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

// Runs `mpirun -np ranks distsgd <train_args> --quiet --log-dir <tmp>` and
// returns its summary; throws with the job's output if it fails.
inline nlohmann::json run_summary(int ranks, const std::string& train_args) {
  const auto dir = testing::make_temp_dir("bench");
  const auto run = testing::run_distsgd(ranks, train_args + " --quiet --log-dir " + dir, 600);
  if (run.exit_code != 0)
    throw std::runtime_error(
        fmt::format("run failed ({} ranks: {}):\n{}", ranks, train_args, run.output));
  auto summary = testing::read_json(dir + "/summary.json");
  std::filesystem::remove_all(dir);
  return summary;
}

}  // namespace distsgd::bench
