#include "train/timeline_session.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "algorithms/make_algorithm.hpp"
#include "comm/clock_alignment.hpp"
#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "core/timeline.hpp"
#include "metrics/timeline_trace.hpp"

namespace distsgd {
namespace {
constexpr int kTimelineTag = 7501;
}  // namespace

TimelineSession::TimelineSession(const TrainConfig& config, comm::Communicator& comm)
    : path_(config.timeline), algo_(config.algo), comm_(comm) {
  if (path_.empty()) return;
  // Found out now, not after the whole run.
  const auto parent = std::filesystem::absolute(path_).parent_path();
  if (std::filesystem::is_directory(path_) || !std::filesystem::is_directory(parent))
    throw ConfigError("--timeline " + path_ + ": " +
                      (std::filesystem::is_directory(path_) ? "is a directory"
                                                            : "its directory does not exist"));
  timeline::name_this_thread(role_for(config, comm.rank(), comm.size()) == Role::server
                                 ? "server"
                                 : "training");
  origin_ns_ = comm::aligned_clock_origin_ns(comm_);
  timeline::start(kTimelineCap);
}

TimelineSession::~TimelineSession() {
  if (path_.empty() || finished_) return;
  timeline::stop();
  // Leaving by an exception: write what this rank has, and never throw here.
  try {
    write_own_file("the run failed");
  } catch (const std::exception& error) {
    fmt::print(stderr, "distsgd: rank {}: --timeline: {}\n", comm_.rank(), error.what());
  }
}

nlohmann::json TimelineSession::other_data(int64_t ranks) const {
  return {{"algo", algo_},
          {"ranks", ranks},
          {"cap_per_rank", kTimelineCap},
          {"clock",
           "steady clock of each rank; time 0 is each rank's reading at the end of a barrier at "
           "the start of training"}};
}

void TimelineSession::write_own_file(const char* why) const {
  const auto snapshot = timeline::collect();
  auto other = other_data(1);
  other["rank"] = comm_.rank();
  other["recorded_events"] = {{std::to_string(comm_.rank()), snapshot.recorded}};
  other["dropped_events"] = {{std::to_string(comm_.rank()), snapshot.dropped}};
  other["incomplete"] = why;
  const auto path = fmt::format("{}.rank{}", path_, comm_.rank());
  write_file_atomically(
      path, metrics::trace_json({metrics::rank_events_json(comm_.rank(), snapshot, origin_ns_)},
                                other));
  fmt::print(stderr, "distsgd: rank {}: --timeline: {}: this rank's events are in {}\n",
             comm_.rank(), why, path);
  std::fflush(stderr);
}

void TimelineSession::finish(const std::vector<int>& lost_ranks) {
  if (path_.empty()) return;
  timeline::stop();  // the gather below is not part of the run
  if (!lost_ranks.empty()) {
    finished_ = true;
    return write_own_file("ranks were lost");
  }
  const auto snapshot = timeline::collect();
  const auto own = metrics::rank_events_json(comm_.rank(), snapshot, origin_ns_);
  const int size = comm_.size();
  const std::array<int64_t, 3> mine{static_cast<int64_t>(own.size()), snapshot.recorded,
                                    snapshot.dropped};
  std::vector<int64_t> all(3 * static_cast<std::size_t>(size));
  comm_.allgather(mine.data(), all.data(), sizeof mine, "the timeline's sizes");
  if (comm_.rank() != 0) {
    if (!own.empty())
      comm_.isend(own.data(), own.size(), 0, kTimelineTag, "this rank's timeline to rank 0")
          .wait();
    finished_ = true;
    return;
  }
  std::vector<std::string> events(static_cast<std::size_t>(size));
  events[0] = own;
  auto other = other_data(size);
  other["recorded_events"] = nlohmann::json::object();
  other["dropped_events"] = nlohmann::json::object();
  for (int rank = 0; rank < size; ++rank) {
    const auto at = 3 * static_cast<std::size_t>(rank);
    other["recorded_events"][std::to_string(rank)] = all[at + 1];
    other["dropped_events"][std::to_string(rank)] = all[at + 2];
    if (all[at + 2] > 0)
      fmt::print(stderr, "distsgd: --timeline: rank {} dropped {} events past the cap of {}\n",
                 rank, all[at + 2], kTimelineCap);
    if (rank == 0 || all[at] == 0) continue;
    auto& text = events[static_cast<std::size_t>(rank)];
    text.resize(static_cast<std::size_t>(all[at]));
    comm_.irecv(text.data(), text.size(), rank, kTimelineTag,
                fmt::format("the timeline of rank {}", rank))
        .wait();
  }
  write_file_atomically(path_, metrics::trace_json(events, other));
  finished_ = true;
}

}  // namespace distsgd
