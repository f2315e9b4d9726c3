// The timeline recorder: spans on the right thread, nested as the scopes are;
// nothing recorded when off; the cap counts what it drops.
#include "core/timeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

namespace distsgd::timeline {
namespace {

const Track* find_track(const Snapshot& snapshot, const std::string& name) {
  for (const auto& track : snapshot.tracks)
    if (track.name == name) return &track;
  return nullptr;
}

class Timeline : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }
};

TEST_F(Timeline, NestedSpansAreRecordedInnerFirstWithinTheOuter) {
  start(1000);
  name_this_thread("training");
  {
    Span outer("step", "train");
    { Span inner("forward", "compute"); }
    { Span inner("backward", "compute", "bucket", 7); }
  }
  stop();
  const auto snapshot = collect();
  const Track* track = find_track(snapshot, "training");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 3u);
  // A scope is recorded when it ends: the inner ones first.
  const auto& forward = track->events[0];
  const auto& backward = track->events[1];
  const auto& step = track->events[2];
  EXPECT_STREQ(forward.name, "forward");
  EXPECT_STREQ(backward.name, "backward");
  EXPECT_STREQ(step.name, "step");
  EXPECT_STREQ(step.category, "train");
  EXPECT_STREQ(backward.arg_name, "bucket");
  EXPECT_EQ(backward.arg, 7);
  EXPECT_EQ(forward.arg_name, nullptr);
  for (const auto* inner : {&forward, &backward}) {
    EXPECT_GE(inner->start_ns, step.start_ns);
    EXPECT_LE(inner->start_ns + inner->duration_ns, step.start_ns + step.duration_ns);
    EXPECT_GE(inner->duration_ns, 0);
  }
  EXPECT_LE(forward.start_ns + forward.duration_ns, backward.start_ns);
  EXPECT_EQ(snapshot.recorded, 3);
  EXPECT_EQ(snapshot.dropped, 0);
}

TEST_F(Timeline, PhasesFollowOneAnotherAndTheLastEndsWithTheScope) {
  start(1000);
  name_this_thread("training");
  {
    Phases phase;
    phase.begin("data", "data");
    phase.begin("forward", "compute");  // ends "data"
    phase.end();
    phase.end();  // nothing open: records nothing
    phase.begin("after step", "method");
  }
  const auto snapshot = collect();
  const Track* track = find_track(snapshot, "training");
  ASSERT_NE(track, nullptr);
  ASSERT_EQ(track->events.size(), 3u);
  EXPECT_STREQ(track->events[0].name, "data");
  EXPECT_STREQ(track->events[1].name, "forward");
  EXPECT_STREQ(track->events[2].name, "after step");
  EXPECT_LE(track->events[0].start_ns + track->events[0].duration_ns, track->events[1].start_ns);
  EXPECT_LE(track->events[1].start_ns + track->events[1].duration_ns, track->events[2].start_ns);
}

TEST_F(Timeline, EachThreadHasATrackOfItsOwn) {
  start(1000);
  name_this_thread("training");
  std::thread other([] {
    name_this_thread("gossip service");
    Span span("serve pull", "gossip", "peer", 1);
  });
  other.join();
  { Span span("forward", "compute"); }
  const auto snapshot = collect();
  const Track* main_track = find_track(snapshot, "training");
  const Track* other_track = find_track(snapshot, "gossip service");
  ASSERT_NE(main_track, nullptr);
  ASSERT_NE(other_track, nullptr);
  EXPECT_NE(main_track->tid, other_track->tid);
  ASSERT_EQ(other_track->events.size(), 1u);
  EXPECT_STREQ(other_track->events[0].name, "serve pull");
  EXPECT_EQ(other_track->events[0].arg, 1);
  ASSERT_EQ(main_track->events.size(), 1u);
  EXPECT_STREQ(main_track->events[0].name, "forward");
}

TEST_F(Timeline, OffRecordsNothingAndStartClearsThePreviousRun) {
  start(1000);
  { Span span("before", "test"); }
  stop();
  { Span span("while off", "test"); }
  record("also off", "test", 1, 2);
  record_on_lane("lane", 0, "also off", "test", 1, 2);
  auto snapshot = collect();
  EXPECT_EQ(snapshot.recorded, 1);
  std::size_t events = 0;
  for (const auto& track : snapshot.tracks) events += track.events.size();
  EXPECT_EQ(events, 1u);
  start(1000);
  snapshot = collect();
  EXPECT_EQ(snapshot.recorded, 0);
  EXPECT_TRUE(snapshot.tracks.empty());
}

TEST_F(Timeline, PastTheCapEventsAreCountedAsDropped) {
  start(5);
  for (int i = 0; i < 12; ++i) Span span("tiny", "test");
  const auto snapshot = collect();
  EXPECT_EQ(snapshot.recorded, 5);
  EXPECT_EQ(snapshot.dropped, 7);
  EXPECT_EQ(snapshot.cap, 5);
  std::size_t events = 0;
  for (const auto& track : snapshot.tracks) events += track.events.size();
  EXPECT_EQ(events, 5u);
}

TEST_F(Timeline, LanesHoldOverlappingOperationsApartFromTheThread) {
  start(1000);
  name_this_thread("training");
  record_on_lane("all-reduce bucket", 0, "all-reduce", "comm", 100, 400, "gradient bucket 0");
  record_on_lane("all-reduce bucket", 1, "all-reduce", "comm", 200, 500);
  record_on_lane("all-reduce bucket", 0, "all-reduce", "comm", 600, 700);
  record("wait", "comm", 300, 250);  // an end before the start is clamped to 0
  const auto snapshot = collect();
  const Track* lane0 = find_track(snapshot, "all-reduce bucket 0");
  const Track* lane1 = find_track(snapshot, "all-reduce bucket 1");
  ASSERT_NE(lane0, nullptr);
  ASSERT_NE(lane1, nullptr);
  EXPECT_NE(lane0->tid, lane1->tid);
  EXPECT_GE(lane0->tid, 1000);
  ASSERT_EQ(lane0->events.size(), 2u);
  EXPECT_EQ(lane0->events[0].start_ns, 100);
  EXPECT_EQ(lane0->events[0].duration_ns, 300);
  EXPECT_STREQ(lane0->events[0].detail, "gradient bucket 0");
  EXPECT_STREQ(lane0->events[1].detail, "");
  const Track* training = find_track(snapshot, "training");
  ASSERT_NE(training, nullptr);
  ASSERT_EQ(training->events.size(), 1u);
  EXPECT_EQ(training->events[0].duration_ns, 0);
}

TEST_F(Timeline, ALongDetailIsCutToFitAndTerminated) {
  start(10);
  const std::string long_label(200, 'x');
  record("wait", "comm", 0, 1, nullptr, 0, long_label);
  const auto snapshot = collect();
  ASSERT_EQ(snapshot.tracks.size(), 1u);
  const auto& event = snapshot.tracks[0].events.at(0);
  EXPECT_EQ(std::string(event.detail), std::string(sizeof event.detail - 1, 'x'));
}

TEST_F(Timeline, ThreadsRecordingAtOnceLoseNothingUnderTheCap) {
  start(100000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < 2000; ++i) Span span("work", "test");
    });
  for (auto& thread : threads) thread.join();
  const auto snapshot = collect();
  EXPECT_EQ(snapshot.recorded, 8000);
  std::size_t events = 0;
  for (const auto& track : snapshot.tracks) events += track.events.size();
  EXPECT_EQ(events, 8000u);
}

}  // namespace
}  // namespace distsgd::timeline
