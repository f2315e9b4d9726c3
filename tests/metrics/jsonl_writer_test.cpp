// JsonlWriter (metrics.rank<R>.jsonl): one JSON object a line, appended to what
// the file holds (a resumed run continues its metrics), buffered until flush()
// or close, and every failure a RuntimeFailure naming the file.
#include "metrics/jsonl_writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "temp_dir.hpp"

namespace distsgd::metrics {
namespace {

using distsgd::testing::read_all;
using distsgd::testing::TempDir;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::vector<nlohmann::json> kRecords = {
    {{"type", "step"}, {"step", 1}, {"loss", 2.5}},
    {{"type", "eval"}, {"method", {{"figures", {1, 2, 3}}}}, {"test_accuracy", 0.875}},
    // A string with a newline still makes one line.
    {{"type", "note"}, {"text", "two\nlines"}},
};

TEST(JsonlWriter, WritesOneParsableObjectPerLine) {
  TempDir dir;
  const auto path = dir.file("metrics.rank0.jsonl");
  JsonlWriter writer(path);
  EXPECT_EQ(writer.path(), path);
  for (const auto& record : kRecords) writer.write(record);
  writer.flush();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), kRecords.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(nlohmann::json::parse(lines[i]), kRecords[i]) << lines[i];
  EXPECT_EQ(read_all(path).back(), '\n');
}

TEST(JsonlWriter, AppendsToTheLinesAlreadyThere) {
  TempDir dir;
  const auto path = dir.file("metrics.rank0.jsonl");
  {
    JsonlWriter first(path);
    first.write(kRecords[0]);
  }
  {
    JsonlWriter second(path);  // a resumed run
    second.write(kRecords[1]);
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0]), kRecords[0]);
  EXPECT_EQ(nlohmann::json::parse(lines[1]), kRecords[1]);
}

TEST(JsonlWriter, ClosingFlushesWhatIsBuffered) {
  TempDir dir;
  const auto path = dir.file("m.jsonl");
  {
    JsonlWriter writer(path);
    for (const auto& record : kRecords) writer.write(record);
  }  // no flush(): the destructor writes the rest
  EXPECT_EQ(lines_of(path).size(), kRecords.size());
}

TEST(JsonlWriter, LinesAreBufferedUntilFlush) {
  TempDir dir;
  const auto path = dir.file("m.jsonl");
  const auto before = std::chrono::steady_clock::now();
  JsonlWriter writer(path);
  writer.write(kRecords[0]);
  const auto content = read_all(path);
  // The writer flushes on its own once more than 5 s have passed since its
  // last flush; only when that cannot have happened yet is the file known to
  // be empty. (No bound on time is asserted.)
  if (std::chrono::steady_clock::now() - before < std::chrono::seconds(4)) {
    EXPECT_EQ(content, "") << "a per-step record reached the file before any flush";
  }
  writer.flush();
  EXPECT_EQ(read_all(path), kRecords[0].dump() + "\n");
  writer.write(kRecords[1]);
  writer.flush();
  EXPECT_EQ(lines_of(path).size(), 2u);
}

TEST(JsonlWriter, AFileThatCannotBeOpenedIsARuntimeFailureNamingIt) {
  const std::string path = "/nonexistent-distsgd-dir/metrics.rank0.jsonl";
  try {
    JsonlWriter writer(path);
    FAIL() << "no error";
  } catch (const RuntimeFailure& error) {
    EXPECT_EQ(std::string(error.what()), "cannot open metrics file " + path);
    EXPECT_EQ(error.exit_code(), 1);
  }
}

TEST(JsonlWriter, AWriteThatFailsIsReportedByFlush) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  JsonlWriter writer("/dev/full");  // opens, but every write fails with ENOSPC
  writer.write(kRecords[0]);
  try {
    writer.flush();
    FAIL() << "no error";
  } catch (const RuntimeFailure& error) {
    EXPECT_EQ(std::string(error.what()), "cannot write metrics file /dev/full");
  }
}

}  // namespace
}  // namespace distsgd::metrics
