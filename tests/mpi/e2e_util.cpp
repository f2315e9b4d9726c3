#include "e2e_util.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace distsgd::testing {

CommandResult run_shell(const std::string& command, double limit_s) {
  const auto full = fmt::format("timeout -k 5 {:.0f} {} 2>&1", limit_s, command);
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + full);
  CommandResult result;
  std::array<char, 4096> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

const std::string& distsgd_binary() {
  static const std::string binary = [] {
    const char* value = std::getenv("DISTSGD_TEST_BINARY");
    return std::string(value && *value ? value : DISTSGD_BINARY);
  }();
  return binary;
}

const std::string& mpi_launcher() {
  static const std::string launcher = [] {
    const auto asked = run_shell(distsgd_binary() + " info --launcher", 60);
    std::string command = asked.output.substr(0, asked.output.find('\n'));
    if (asked.exit_code != 0 || command.empty())
      throw std::runtime_error(distsgd_binary() + " info --launcher failed: " + asked.output);
    return command;
  }();
  return launcher;
}

CommandResult run_distsgd(int ranks, const std::string& args, double limit_s) {
  const std::string env = "OPENBLAS_NUM_THREADS=1";
  if (ranks == 0) return run_shell(fmt::format("env {} {} {}", env, distsgd_binary(), args), limit_s);
  return run_shell(
      fmt::format("env {} {} -np {} {} {}", env, mpi_launcher(), ranks, distsgd_binary(), args),
      limit_s);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(file);
}

std::string make_temp_dir(const std::string& name) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("distsgd-e2e-" + name + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace distsgd::testing
