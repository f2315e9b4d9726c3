#include "cli/compare_run.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/compare_plan.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"

namespace distsgd::cli {
namespace {

using Json = nlohmann::json;

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted.push_back(c);
  }
  return quoted + "'";
}

int exit_code_of(int status) {
  if (status == -1) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string last_line(const std::string& path) {
  std::ifstream file(path);
  std::string line, last;
  while (std::getline(file, line)) {
    if (line.find_first_not_of(" \r\t-") != std::string::npos &&
        line.find("distsgd") != std::string::npos)
      last = line;
  }
  return last;
}

Json read_json_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw DataError("cannot read " + path);
  try {
    return Json::parse(file);
  } catch (const Json::exception& error) {
    throw DataError(path + " is not valid JSON: " + error.what());
  }
}

// A CSV field: numbers as the shortest text that reads back the same, null as empty.
std::string field(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  if (value.is_number()) return fmt::format("{}", value.get<int64_t>());
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"')
      quoted += "\"\"";
    else
      quoted.push_back(c);
  }
  return quoted + "\"";
}

const std::vector<std::string> kColumns = {"algo",
                                           "nodes",
                                           "workers",
                                           "servers",
                                           "repeat",
                                           "time_to_target_s",
                                           "epochs_to_target",
                                           "final_test_accuracy",
                                           "best_test_accuracy",
                                           "samples_per_s",
                                           "consensus_distance",
                                           "staleness_mean",
                                           "straggler",
                                           "status",
                                           "simulated"};

// results.csv from runs.json and each run's summary.json.
std::vector<Json> write_results(const std::string& dir) {
  const auto manifest = read_json_file(dir + "/runs.json");
  std::vector<Json> rows;
  std::string csv;
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if (i > 0) csv += ',';
    csv += kColumns[i];
  }
  csv += "\n";
  for (const auto& run : manifest.at("runs")) {
    Json row = {{"algo", run.at("algo")},
                {"nodes", run.at("nodes")},
                {"repeat", run.at("repeat")},
                {"straggler", run.at("straggler")},
                {"status", run.at("status")},
                {"simulated", run.value("simulated", false) ? "yes" : "no"}};
    const auto summary_path = dir + "/runs/" + run.at("name").get<std::string>() + "/summary.json";
    if (run.at("status") == "ok") {
      const auto summary = read_json_file(summary_path);
      for (const char* key :
           {"workers", "servers", "time_to_target_s", "epochs_to_target", "final_test_accuracy",
            "best_test_accuracy", "samples_per_s", "consensus_distance", "staleness_mean"})
        row[key] = summary.value(key, Json(nullptr));
    }
    for (std::size_t i = 0; i < kColumns.size(); ++i) {
      if (i > 0) csv += ',';
      csv += field(row.value(kColumns[i], Json(nullptr)));
    }
    csv += "\n";
    rows.push_back(row);
  }
  write_file_atomically(dir + "/results.csv", csv);
  return rows;
}

// Figures, report.md and report.html, drawn with Debian's matplotlib.
int draw_figures(const std::string& dir) {
  const std::string command =
      fmt::format("/usr/bin/python3 {}/plot_compare.py {}", DISTSGD_TOOLS_DIR, shell_quote(dir));
  const int code = exit_code_of(std::system(command.c_str()));
  if (code != 0)
    fmt::print(stderr, "distsgd compare: drawing the figures failed (exit {}): {}\n", code,
               command);
  return code == 0 ? 0 : 1;
}

void print_table(const std::vector<Json>& rows) {
  fmt::print("\n{:<12} {:>5} {:>10} {:>9} {:>10} {:>12} {:>10}  {}\n", "method", "nodes",
             "straggler", "accuracy", "samples/s", "to target s", "consensus", "status");
  auto number = [](const Json& value, const char* format) {
    return value.is_null() ? std::string("-")
                           : fmt::format(fmt::runtime(format), value.get<double>());
  };
  for (const auto& row : rows) {
    fmt::print("{:<12} {:>5} {:>10} {:>9} {:>10} {:>12} {:>10}  {}\n",
               row.at("algo").get<std::string>(), row.at("nodes").get<int>(),
               row.at("straggler").get<std::string>().empty()
                   ? "-"
                   : row.at("straggler").get<std::string>(),
               number(row.value("final_test_accuracy", Json(nullptr)), "{:.4f}"),
               number(row.value("samples_per_s", Json(nullptr)), "{:.0f}"),
               number(row.value("time_to_target_s", Json(nullptr)), "{:.1f}"),
               number(row.value("consensus_distance", Json(nullptr)), "{:.1e}"),
               row.at("status").get<std::string>());
  }
}

}  // namespace

int run_compare(const CompareOptions& options) {
  options.validate();
  const auto runs = plan_runs(options);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string launcher = options.launcher();
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  Json manifest = {{"command", options.command_line},
                   {"launcher", options.simulate ? "distsgd simulate" : launcher},
                   {"simulated", options.simulate},
                   {"sim_flags", options.sim_flags},
                   {"runs", Json::array()}};
  const int total = static_cast<int>(std::count_if(
      runs.begin(), runs.end(), [](const PlannedRun& run) { return run.skip_reason.empty(); }));
  int done = 0, failed = 0;
  double spent_s = 0.0;
  for (const auto& run : runs) {
    Json entry = {{"name", run.name},     {"algo", run.algo},           {"nodes", run.nodes},
                  {"repeat", run.repeat}, {"straggler", run.straggler}, {"seconds", nullptr},
                  {"simulated", options.simulate}};
    const std::string run_dir = options.out + "/runs/" + run.name;
    if (!run.skip_reason.empty()) {
      entry["status"] = "skipped: " + run.skip_reason;
      fmt::print("[skip] {} on {} nodes: {}\n", run.algo, run.nodes, run.skip_reason);
    } else {
      std::filesystem::remove_all(run_dir);
      std::filesystem::create_directories(run_dir);
      std::string command =
          options.simulate
              ? fmt::format("{} simulate --nodes {}", shell_quote(self), run.nodes)
              : fmt::format("{} -np {} {} train", launcher, run.nodes, shell_quote(self));
      for (const auto& arg : run.train_args) command += fmt::format(" {}", shell_quote(arg));
      if (options.simulate)
        for (const auto& arg : options.sim_args()) command += fmt::format(" {}", shell_quote(arg));
      command += fmt::format(" --log-dir {} > {} 2>&1", shell_quote(run_dir),
                             shell_quote(run_dir + "/run.log"));
      entry["command"] = command;
      const double eta = done > 0 ? spent_s / done * (total - done) : 0.0;
      fmt::print("[{}/{}] {} on {} nodes{}{} ... (log: {}/run.log{})\n", done + 1, total, run.algo,
                 run.nodes, options.repeat > 1 ? fmt::format(", repeat {}", run.repeat) : "",
                 run.straggler.empty() ? "" : ", straggler " + run.straggler, run_dir,
                 done > 0 ? fmt::format("; about {:.0f} s left", eta) : "");
      std::fflush(stdout);
      const auto started = std::chrono::steady_clock::now();
      const int code = exit_code_of(std::system(command.c_str()));
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      spent_s += seconds;
      ++done;
      entry["seconds"] = seconds;
      if (code == 0 && std::filesystem::exists(run_dir + "/summary.json")) {
        entry["status"] = "ok";
        const auto summary = read_json_file(run_dir + "/summary.json");
        const auto& accuracy = summary.at("final_test_accuracy");
        fmt::print("      done in {:.0f} s: {}{:.0f} samples/s{}\n", seconds,
                   accuracy.is_null() ? std::string()
                                      : fmt::format("test accuracy {:.4f}, ", accuracy.get<double>()),
                   summary.at("samples_per_s").get<double>(),
                   options.simulate ? " (simulated, virtual time)" : "");
      } else {
        ++failed;
        entry["status"] =
            fmt::format("failed (exit {}): {}", code, last_line(run_dir + "/run.log"));
        fmt::print("      {}\n", entry["status"].get<std::string>());
      }
    }
    manifest["runs"].push_back(entry);
    write_file_atomically(options.out + "/runs.json", manifest.dump(2) + "\n");
  }
  const auto rows = write_results(options.out);
  print_table(rows);
  const int figures = draw_figures(options.out);
  fmt::print(
      "\nResults: {0}/results.csv, report {0}/report.html and {0}/report.md, figures {0}/*.png, "
      "per-run logs {0}/runs/*/run.log\n",
      options.out);
  return failed > 0 || figures != 0 ? 1 : 0;
}

int run_report(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/runs.json"))
    throw ConfigError("report: " + dir +
                      " has no runs.json (is it the --out of a distsgd compare?)");
  const auto rows = write_results(dir);
  print_table(rows);
  const int figures = draw_figures(dir);
  fmt::print("\nResults: {0}/results.csv, report {0}/report.html and {0}/report.md, figures {0}/*.png\n",
             dir);
  return figures;
}

}  // namespace distsgd::cli
