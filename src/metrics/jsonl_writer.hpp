#pragma once
// One JSON object per line (metrics.rank<R>.jsonl). Lines are buffered and
// flushed at most every few seconds, so per-step records cost the step nothing
// measurable, and at close.
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <string>

namespace distsgd::metrics {

class JsonlWriter {
 public:
  explicit JsonlWriter(const std::string& path);
  void write(const nlohmann::json& record);
  void flush();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace distsgd::metrics
