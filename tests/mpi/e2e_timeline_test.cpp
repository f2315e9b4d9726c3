// --timeline as a user runs it: real mpirun jobs of distsgd train on
// Fashion-MNIST; the merged Chrome trace is read back and its events checked:
// every rank a process, each method's events present, spans of one thread
// nested, a failed run leaving each failing rank's own file.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "e2e_summary.hpp"

namespace distsgd::testing {
namespace {

struct Span {
  std::string name;
  double ts = 0, dur = 0;
};

struct Trace {
  nlohmann::json json;
  std::set<int> pids;
  std::map<int, std::set<std::string>> names;             // pid -> event names
  std::map<std::pair<int, int>, std::vector<Span>> spans;  // (pid, tid) -> its events
  std::map<std::pair<int, int>, std::string> threads;      // (pid, tid) -> thread name
};

Trace read_trace(const std::string& path) {
  Trace trace;
  trace.json = read_json(path);
  EXPECT_EQ(trace.json.at("displayTimeUnit"), "ms");
  for (const auto& e : trace.json.at("traceEvents")) {
    const int pid = e.at("pid").get<int>(), tid = e.at("tid").get<int>();
    if (e.at("ph") == "M") {
      if (e.at("name") == "process_name") {
        EXPECT_EQ(e.at("args").at("name"), fmt::format("rank {}", pid));
      }
      if (e.at("name") == "thread_name")
        trace.threads[{pid, tid}] = e.at("args").at("name").get<std::string>();
      continue;
    }
    EXPECT_EQ(e.at("ph"), "X");
    EXPECT_TRUE(e.at("cat").is_string());
    Span span{e.at("name").get<std::string>(), e.at("ts").get<double>(), e.at("dur").get<double>()};
    EXPECT_GE(span.ts, 0.0) << e.dump();
    EXPECT_GE(span.dur, 0.0) << e.dump();
    trace.pids.insert(pid);
    trace.names[pid].insert(span.name);
    trace.spans[{pid, tid}].push_back(span);
  }
  return trace;
}

// On each thread (and lane) the spans nest: a span that starts inside another
// ends inside it too.
void expect_nested(const Trace& trace) {
  constexpr double kSlack = 0.002;  // microseconds: ts and dur are each cut to ns
  for (auto [key, spans] : trace.spans) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.dur > b.dur;
    });
    std::vector<const Span*> open;
    for (const auto& span : spans) {
      while (!open.empty() && open.back()->ts + open.back()->dur <= span.ts + kSlack)
        open.pop_back();
      if (!open.empty())
        EXPECT_LE(span.ts + span.dur, open.back()->ts + open.back()->dur + kSlack)
            << "rank " << key.first << " tid " << key.second << ": " << span.name << " at "
            << span.ts << " overlaps " << open.back()->name << " at " << open.back()->ts;
      open.push_back(&span);
    }
  }
}

void expect_names(const Trace& trace, int pid, const std::vector<std::string>& expected) {
  const auto& names = trace.names.at(pid);
  for (const auto& name : expected)
    EXPECT_TRUE(names.count(name)) << "rank " << pid << " has no '" << name << "' event";
}

bool has_thread(const Trace& trace, int pid, const std::string& name) {
  for (const auto& [key, thread] : trace.threads)
    if (key.first == pid && thread.rfind(name, 0) == 0) return true;
  return false;
}

// mlp: the cheapest model, so that the runs stay short on a loaded machine.
const std::string kShort = "train --model mlp --eval-samples 200 --quiet ";

TEST(Timeline, AllReduceTwoRanksHasEveryPhaseEachBucketAndTheCheckpoint) {
  const auto dir = make_temp_dir("timeline-allreduce");
  // 30 steps of 1000 samples on each of 2 ranks: one epoch, so its checkpoint.
  const auto run = run_distsgd(
      2, kShort + fmt::format("--algo allreduce --batch-size 1000 --epochs 1 --eval-every 10 "
                              "--checkpoint-every 1 --bucket-mb 0.05 --log-dir {0} "
                              "--timeline {0}/trace.json",
                              dir));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto trace = read_trace(dir + "/trace.json");
  EXPECT_EQ(trace.pids, (std::set<int>{0, 1}));
  for (int rank : {0, 1}) {
    expect_names(trace, rank,
                 {"step", "data", "forward", "backward", "optimizer", "before step",
                  "all-reduce wait", "allreduce bucket", "wait", "evaluation", "final evaluation",
                  "checkpoint"});
    EXPECT_TRUE(has_thread(trace, rank, "training"));
    // --bucket-mb 0.05: the mlp's gradient is several buckets, each on its lane.
    EXPECT_TRUE(has_thread(trace, rank, "all-reduce bucket 0"));
    EXPECT_TRUE(has_thread(trace, rank, "all-reduce bucket 1"));
  }
  expect_names(trace, 0, {"final checkpoint"});
  // 30 steps on each rank, one "step" span each.
  int steps = 0;
  for (const auto& [key, spans] : trace.spans)
    for (const auto& span : spans) steps += span.name == "step";
  EXPECT_EQ(steps, 60);
  EXPECT_EQ(trace.json.at("otherData").at("dropped_events").at("0"), 0);
  EXPECT_EQ(trace.json.at("otherData").at("cap_per_rank"), 250000);
  expect_nested(trace);
}

TEST(Timeline, AsgdHasTheWorkersRoundTripsAndTheServersHandling) {
  const auto dir = make_temp_dir("timeline-asgd");
  const auto run = run_distsgd(
      3, kShort + fmt::format("--algo asgd --batch-size 32 --max-steps 30 --eval-every 15 "
                              "--log-dir {0} --timeline {0}/trace.json",
                              dir));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto trace = read_trace(dir + "/trace.json");
  EXPECT_EQ(trace.pids, (std::set<int>{0, 1, 2}));
  for (int worker : {0, 1})
    expect_names(trace, worker, {"forward", "backward", "push gradient", "done notice", "wait"});
  expect_names(trace, 0, {"evaluation", "pull parameters", "final evaluation"});
  expect_names(trace, 2, {"handle request", "send reply"});
  EXPECT_TRUE(has_thread(trace, 2, "server"));
  // ASGD's update is the server's: no optimizer step on a worker.
  EXPECT_FALSE(trace.names.at(0).count("optimizer"));
  expect_nested(trace);
}

TEST(Timeline, GossipPullHasPullsOnTheTrainingThreadAndAnswersOnTheService) {
  const auto dir = make_temp_dir("timeline-gossip");
  const auto run = run_distsgd(
      2, kShort + fmt::format("--algo gossip-pull --batch-size 32 --max-steps 30 --eval-every 15 "
                              "--log-dir {0} --timeline {0}/trace.json",
                              dir));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto trace = read_trace(dir + "/trace.json");
  EXPECT_EQ(trace.pids, (std::set<int>{0, 1}));
  for (int rank : {0, 1}) {
    expect_names(trace, rank,
                 {"forward", "backward", "optimizer", "after step", "gossip pull", "serve pull",
                  "evaluation"});
    EXPECT_TRUE(has_thread(trace, rank, "gossip service"));
    // The pulls this rank answered are on the service thread, not the training one.
    for (const auto& [key, spans] : trace.spans) {
      if (key.first != rank) continue;
      const auto& thread = trace.threads.at(key);
      for (const auto& span : spans) {
        if (span.name == "serve pull") {
          EXPECT_EQ(thread, "gossip service");
        }
        if (span.name == "gossip pull") {
          EXPECT_EQ(thread, "training");
        }
      }
    }
  }
  expect_nested(trace);
}

TEST(Timeline, AFailedRunLeavesTheFailingRanksOwnTrace) {
  const auto dir = make_temp_dir("timeline-failed");
  const auto run = run_distsgd(
      2, kShort + fmt::format("--algo allreduce --batch-size 32 --max-steps 30 --inject-nan 1:5 "
                              "--log-dir {0} --timeline {0}/trace.json",
                              dir));
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.exit_code, 124) << run.output;  // not a hang
  EXPECT_FALSE(std::filesystem::exists(dir + "/trace.json"));
  ASSERT_TRUE(std::filesystem::exists(dir + "/trace.json.rank1")) << run.output;
  EXPECT_NE(run.output.find("trace.json.rank1"), std::string::npos) << run.output;
  const auto trace = read_trace(dir + "/trace.json.rank1");
  EXPECT_EQ(trace.pids, (std::set<int>{1}));
  expect_names(trace, 1, {"forward", "backward", "optimizer"});
  EXPECT_EQ(trace.json.at("otherData").at("incomplete"), "the run failed");
  expect_nested(trace);
}

TEST(Timeline, AMissingDirectoryIsAnErrorBeforeTraining) {
  const auto dir = make_temp_dir("timeline-bad");
  const auto run = run_distsgd(
      2, kShort + fmt::format("--max-steps 5 --log-dir {0} --timeline {0}/no/such/dir/t.json", dir));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--timeline"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("does not exist"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace distsgd::testing
