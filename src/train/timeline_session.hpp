#pragma once
// --timeline FILE for one run of `distsgd train`: starts the recorder
// (core/timeline.hpp) on every rank from a common clock origin, and at the
// end gathers every rank's events to rank 0, which writes the merged Chrome
// trace (metrics/timeline_trace.hpp) to FILE atomically.
//
// A run that fails (an exception leaves train() before finish()), or one that
// lost ranks (--survive-worker-loss: a gather could never end), leaves each
// rank's own events in FILE.rankR instead, so the trace of a failed run is not
// lost. Without --timeline nothing is started and nothing is sent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

// Events each rank keeps at most (~100 bytes each); past it they are counted
// in the file's otherData.dropped_events.
inline constexpr std::size_t kTimelineCap = 250'000;

class TimelineSession {
 public:
  // Collective over `comm` when config.timeline is set (the clock alignment).
  TimelineSession(const TrainConfig& config, comm::Communicator& comm);
  ~TimelineSession();
  TimelineSession(const TimelineSession&) = delete;
  TimelineSession& operator=(const TimelineSession&) = delete;

  // The end of a run that returned: collective over `comm` (every rank sends
  // its events to rank 0, which writes the file), unless `lost_ranks` is not
  // empty: then each rank writes FILE.rankR.
  void finish(const std::vector<int>& lost_ranks);

 private:
  void write_own_file(const char* why) const;
  nlohmann::json other_data(int64_t ranks) const;

  std::string path_;  // empty: no timeline
  std::string algo_;
  comm::Communicator& comm_;
  int64_t origin_ns_ = 0;
  bool finished_ = false;
};

}  // namespace distsgd
