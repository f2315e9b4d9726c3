// The Chrome trace: valid JSON with the fields Perfetto and chrome://tracing
// read, times in microseconds from the common origin, ranks as processes.
#include "metrics/timeline_trace.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

namespace distsgd::metrics {
namespace {

timeline::Event event(const char* name, const char* category, int64_t start_ns, int64_t dur_ns) {
  timeline::Event e;
  e.name = name;
  e.category = category;
  e.start_ns = start_ns;
  e.duration_ns = dur_ns;
  return e;
}

timeline::Snapshot two_tracks() {
  timeline::Snapshot snapshot;
  timeline::Track training{1, "training", {}};
  training.events.push_back(event("forward", "compute", 1'001'500, 2'000'250));
  auto bucket = event("all-reduce", "comm", 1'500'000, 10);
  bucket.arg_name = "bucket";
  bucket.arg = 3;
  std::snprintf(bucket.detail, sizeof bucket.detail, "%s", "gradient \"bucket\" 3\n");
  training.events.push_back(bucket);
  timeline::Track service{2, "gossip service", {}};
  service.events.push_back(event("serve pull", "gossip", 500, 100));  // before the origin
  snapshot.tracks = {training, service};
  return snapshot;
}

const nlohmann::json* find_event(const nlohmann::json& events, const std::string& name) {
  for (const auto& e : events)
    if (e.at("name") == name && e.at("ph") == "X") return &e;
  return nullptr;
}

TEST(TimelineTrace, OneRankIsValidJsonWithTheFieldsOfCompleteEvents) {
  const auto text = trace_json({rank_events_json(2, two_tracks(), 1'000'000)},
                               {{"cap_per_rank", 250000}, {"dropped_events", {{"2", 0}}}});
  const auto trace = nlohmann::json::parse(text);
  EXPECT_EQ(trace.at("displayTimeUnit"), "ms");
  EXPECT_EQ(trace.at("otherData").at("cap_per_rank"), 250000);
  const auto& events = trace.at("traceEvents");
  ASSERT_TRUE(events.is_array());
  const auto* forward = find_event(events, "forward");
  ASSERT_NE(forward, nullptr);
  EXPECT_EQ(forward->at("cat"), "compute");
  EXPECT_EQ(forward->at("pid"), 2);
  EXPECT_EQ(forward->at("tid"), 1);
  EXPECT_DOUBLE_EQ(forward->at("ts").get<double>(), 1.5);       // (1'001'500 - 1'000'000) ns
  EXPECT_DOUBLE_EQ(forward->at("dur").get<double>(), 2000.25);  // 2'000'250 ns
  EXPECT_FALSE(forward->contains("args"));
  const auto* bucket = find_event(events, "all-reduce");
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->at("args").at("bucket"), 3);
  EXPECT_EQ(bucket->at("args").at("detail"), "gradient \"bucket\" 3\n");
  const auto* pull = find_event(events, "serve pull");
  ASSERT_NE(pull, nullptr);
  EXPECT_EQ(pull->at("tid"), 2);
  EXPECT_EQ(pull->at("ts").get<double>(), 0.0);  // clamped to the origin
}

TEST(TimelineTrace, ADetailCutInsideAUtf8CharacterStillParses) {
  timeline::Snapshot snapshot;
  auto e = event("wait", "comm", 0, 1);
  std::snprintf(e.detail, sizeof e.detail, "%s", "caf\xc3");  // the first byte of a 2-byte character
  snapshot.tracks.push_back({1, "training", {e}});
  const auto trace = nlohmann::json::parse(trace_json({rank_events_json(0, snapshot, 0)}, {}));
  EXPECT_EQ(find_event(trace.at("traceEvents"), "wait")->at("args").at("detail"), "caf?");
}

TEST(TimelineTrace, MetadataNamesTheRankAndEachThread) {
  const auto trace = nlohmann::json::parse(trace_json({rank_events_json(2, two_tracks(), 0)}, {}));
  std::set<std::string> names;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "M") continue;
    EXPECT_EQ(e.at("pid"), 2);
    if (e.at("name") == "process_name") {
      EXPECT_EQ(e.at("args").at("name"), "rank 2");
    }
    if (e.at("name") == "thread_name")
      names.insert(std::to_string(e.at("tid").get<int>()) + ":" +
                   e.at("args").at("name").get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"1:training", "2:gossip service"}));
}

TEST(TimelineTrace, RanksAreMergedAndAnEmptyRankIsLeftOut) {
  timeline::Snapshot one;
  one.tracks.push_back({1, "training", {event("forward", "compute", 10, 5)}});
  const auto text = trace_json(
      {rank_events_json(0, one, 0), rank_events_json(1, timeline::Snapshot{}, 0),
       rank_events_json(2, one, 0)},
      {});
  const auto trace = nlohmann::json::parse(text);
  std::set<int> pids;
  for (const auto& e : trace.at("traceEvents")) pids.insert(e.at("pid").get<int>());
  EXPECT_EQ(pids, (std::set<int>{0, 2}));
  EXPECT_TRUE(rank_events_json(1, timeline::Snapshot{}, 0).empty());
  // No rank at all is still a valid, empty trace.
  EXPECT_TRUE(nlohmann::json::parse(trace_json({}, {})).at("traceEvents").empty());
}

}  // namespace
}  // namespace distsgd::metrics
