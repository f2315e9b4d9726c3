// distsgd compare and report as a user runs them: real mpirun jobs started by
// compare itself, results.csv checked against each run's summary.json, figures
// checked to be real PNG images.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e_summary.hpp"

namespace distsgd::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

// A PNG signature and a plausible size for a drawn figure.
void expect_png(const std::string& path) {
  const auto content = read_file(path);
  ASSERT_GT(content.size(), 5000u) << path;
  EXPECT_LT(content.size(), 2000000u) << path;
  EXPECT_EQ(content.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
}

TEST(Compare, TwoMethodsTwoNodeCountsWriteMatchingResultsAndFigures) {
  const auto out = make_temp_dir("compare");
  const auto run = run_shell(
      fmt::format("env OPENBLAS_NUM_THREADS=1 {} compare --nodes 1,2 --algos allreduce,gossip-pull "
                  "--model mlp --epochs 1 --max-steps 60 --eval-every 20 --eval-samples 500 "
                  "--target-accuracy 0.5 --out {}",
                  distsgd_binary(), out),
      600);
  // gossip-pull cannot run on 1 rank: skipped, recorded, and the rest runs.
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("[skip] gossip-pull on 1 nodes"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("[3/3]"), std::string::npos) << run.output;
  const auto rows = read_csv(out + "/results.csv");
  ASSERT_EQ(rows.size(), 5u);  // header + 4 planned runs
  const auto& header = rows[0];
  auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  ASSERT_LT(column("status"), header.size());
  int ok = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    ASSERT_EQ(row.size(), header.size()) << r;
    if (row[column("status")] != "ok") {
      EXPECT_EQ(row[column("algo")], "gossip-pull");
      EXPECT_EQ(row[column("nodes")], "1");
      EXPECT_NE(row[column("status")].find("skipped"), std::string::npos);
      continue;
    }
    ++ok;
    const auto summary = read_json(out + "/runs/" + row[column("algo")] + "-n" +
                                   row[column("nodes")] + "-r1/summary.json");
    EXPECT_EQ(row[column("algo")], summary.at("algo").get<std::string>());
    EXPECT_EQ(std::stoi(row[column("nodes")]), summary.at("nodes").get<int>());
    EXPECT_EQ(std::stoi(row[column("workers")]), summary.at("workers").get<int>());
    EXPECT_DOUBLE_EQ(std::stod(row[column("final_test_accuracy")]),
                     summary.at("final_test_accuracy").get<double>());
    EXPECT_DOUBLE_EQ(std::stod(row[column("samples_per_s")]),
                     summary.at("samples_per_s").get<double>());
    if (!summary.at("time_to_target_s").is_null()) {
      EXPECT_DOUBLE_EQ(std::stod(row[column("time_to_target_s")]),
                       summary.at("time_to_target_s").get<double>());
    }
  }
  EXPECT_EQ(ok, 3);
  for (const char* figure :
       {"error_vs_time_n1.png", "error_vs_time_n2.png", "error_vs_epochs_n2.png",
        "throughput_vs_nodes.png", "time_to_target_vs_nodes.png"})
    expect_png(out + "/" + figure);
  const auto report = read_file(out + "/report.md");
  EXPECT_NE(report.find("compare --nodes 1,2"), std::string::npos);
  EXPECT_NE(report.find("![Test error against training time (s), 2 node(s)](error_vs_time_n2.png)"),
            std::string::npos)
      << report;

  // report regenerates the same CSV from the saved runs.
  const auto before = read_file(out + "/results.csv");
  std::filesystem::remove(out + "/results.csv");
  std::filesystem::remove(out + "/throughput_vs_nodes.png");
  const auto again = run_shell(fmt::format("{} report {}", distsgd_binary(), out), 120);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_file(out + "/results.csv"), before);
  expect_png(out + "/throughput_vs_nodes.png");
}

TEST(Compare, BadInputIsRefusedBeforeAnythingRuns) {
  const auto out = make_temp_dir("compare-bad");
  auto expect_refused = [&](const std::string& args, const std::string& message) {
    const auto run =
        run_shell(fmt::format("{} compare {} --out {}", distsgd_binary(), args, out), 60);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << "expected '" << message << "' in:\n"
                                                           << run.output;
    EXPECT_FALSE(std::filesystem::exists(out + "/runs.json")) << "nothing may run";
  };
  expect_refused("--algos allreduce,sgd2 --nodes 2", "unknown method 'sgd2'");
  expect_refused("--algos asgd --nodes 1", "asgd cannot run at any of the node counts 1");
  expect_refused("--algos allreduce --nodes 2 --no-such-flag 3", "--no-such-flag");
  expect_refused("--algos allreduce --nodes 2 --epochs 0", "--epochs must be at least 1");
  const auto blocked = make_temp_dir("compare-ro") + "/file";
  std::ofstream(blocked) << "not a directory";
  const auto run = run_shell(
      fmt::format("{} compare --algos allreduce --nodes 2 --out {}/sub", distsgd_binary(), blocked),
      60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("cannot be written"), std::string::npos) << run.output;
}

TEST(Compare, AStragglerLowersSynchronousThroughput) {
  const std::string args =
      "train --algo allreduce --model cnn --epochs 1 --max-steps 30 --eval-samples 200 ";
  const auto plain = run_ok(2, args, "no-straggler");
  const auto slow = run_ok(2, args + "--straggler 1:4", "straggler");
  ASSERT_FALSE(plain.empty() || slow.empty());
  // Every step waits for the slow rank: far below the plain rate.
  EXPECT_LT(slow.at("samples_per_s").get<double>(), 0.7 * plain.at("samples_per_s").get<double>())
      << plain.at("samples_per_s") << " vs " << slow.at("samples_per_s");
  EXPECT_GT(slow.at("straggler").at("injected_s_per_worker")[1].get<double>(), 0.0);
  EXPECT_EQ(slow.at("straggler").at("injected_s_per_worker")[0].get<double>(), 0.0);
}

}  // namespace
}  // namespace distsgd::testing
