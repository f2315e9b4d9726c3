#pragma once
// The rules of one parameter server (ASGD and EASGD) as a request handler, in
// the shape of ps-lite's KVServer handle: given a worker, its request and the
// time, it says which replies to send now. No MPI, no threads, no clock of its
// own: the MPI server loop (algorithms/parameter_server.cpp) receives, calls
// and sends; a simulator calls the very same code on a virtual clock.
//
// It owns this server's shard of the parameters (ASGD) or of the centre
// (EASGD), the shard's optimizer state, the version count, each worker's
// clock (updates it made here), the staleness bound (--max-staleness K: a reply
// to a worker more than K updates ahead of the slowest worker still training
// is held until that one catches up), the end of the run (end_of_run.hpp), the
// checkpoint rendezvous and lost-worker bookkeeping (--survive-worker-loss).
// Messages follow ps_protocol.hpp.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/checkpoint_record.hpp"
#include "methods/asgd_rule.hpp"
#include "methods/end_of_run.hpp"
#include "methods/ps_layout.hpp"
#include "methods/ps_protocol.hpp"
#include "methods/server_stats.hpp"
#include "methods/update_math.hpp"

namespace distsgd::ps {

struct ServerSettings {
  PsMethod method = PsMethod::asgd;
  int workers = 1;
  int rank = 0;  // this server's rank, for messages
  math::SgdHyper hyper;  // momentum: what the user asked for (--momentum)
  // ASGD: how a gradient becomes a step (asgd_rule.hpp); the server's explicit
  // momentum is asgd_explicit_momentum(asgd_rule, hyper.momentum, workers).
  AsgdRule asgd_rule = AsgdRule::momentum;
  float alpha = 0.0f;  // EASGD moving rate
  std::optional<int64_t> max_staleness;
  double heartbeat_s = 1.0;       // heartbeat_interval_s(--timeout-s)
  double silent_after_s = 300.0;  // --timeout-s: a worker still training silent this long is lost
  bool survive_worker_loss = false;
};

// A message to one worker: header and payload, ready to send.
struct Reply {
  int worker = 0;
  std::vector<float> message;
};

// A worker the server stopped waiting for (--survive-worker-loss).
struct Dropped {
  int worker = 0;
  std::string why;
};

// Writes this server's part of the checkpoint of `epoch` (its state from
// checkpoint_state) and returns the part's digest.
using PartWriter = std::function<CheckpointDigest(int64_t epoch)>;

class ServerCore {
 public:
  // `start_s`: the time on the caller's clock when serving starts (a worker
  // that sends nothing from then on is silent).
  ServerCore(const ServerSettings& settings, std::vector<float> shard, double start_s);

  // A request `message` (header and payload) from `worker` at `now_s`: the
  // replies to send now are appended to `out` (none when held, or for a
  // request answered later: checkpoint and done). Throws RuntimeFailure for a
  // request the protocol does not allow.
  void handle(int worker, std::span<const float> message, double now_s, std::vector<Reply>& out);
  // Time has passed: the checkpoint rendezvous, the answers to finished
  // workers, silent workers (lost: dropped with --survive-worker-loss, else a
  // RuntimeFailure naming the worker). Call after handle() and when idle.
  void advance(double now_s, std::vector<Reply>& out, std::vector<Dropped>& dropped);

  // Whether a request from `worker` can come now (the driver keeps a receive
  // posted for it): not while its checkpoint or end-of-run request is
  // unanswered, nor once released or dropped.
  bool listening(int worker) const;
  // Every worker has been told that all have finished: serving is over.
  bool finished() const { return end_.all_released(); }
  // Marks the end of serving (for the update rate).
  void close(double now_s);

  void set_part_writer(PartWriter writer) { part_writer_ = std::move(writer); }
  std::span<const float> shard() const { return params_; }
  int64_t version() const { return version_; }
  const ServerStats& stats() const { return stats_; }
  const std::vector<int>& lost() const { return lost_; }
  // The momentum of this server's optimizer (ASGD: after the rule's compensation).
  double explicit_momentum() const { return hyper_.momentum; }
  int live_workers() const { return end_.training(); }

  // The state a checkpoint part keeps, and its restoration (throws DataError
  // when the part is of another shard or layout).
  Checkpoint checkpoint_state(int64_t shard_index, const math::Range& range) const;
  void restore_state(const Checkpoint& state, int64_t shard_index, const math::Range& range);

 private:
  struct Peer {
    int64_t clock = 0;              // updates this worker has made on this server
    bool held = false;              // its reply is held back by --max-staleness
    bool at_checkpoint = false;     // has asked for the current checkpoint, not had the answer
    bool checkpoint_waiting = false;  // its checkpoint request is not answered yet
    bool lost = false;
    double held_since = 0.0, last_request = 0.0;
    int64_t last_step = -1;
    Kind last_kind = Kind::pull;
    std::vector<float> pending;  // EASGD: the reply (the centre before the move) while held
  };

  // A reply with the shard (push_gradient, pull) or the held centre (elastic).
  Reply reply(int worker, Kind kind);
  // A reply of the header alone (done, checkpoint), answering `worker`'s last request.
  Reply header_reply(int worker, Header header);
  void update(int worker, Peer& peer, const Header& header, std::span<const float> payload,
              double now_s, std::vector<Reply>& out);
  void release_held(double now_s, std::vector<Reply>& out);
  void progress_checkpoint(double now_s, std::vector<Reply>& out);
  Reply checkpoint_reply(int worker, CheckpointAnswer answer, const CheckpointDigest& digest);
  void check_silent(double now_s, std::vector<Dropped>& dropped);
  int64_t slowest_live_clock() const;
  Peer& peer(int worker) { return peers_[static_cast<std::size_t>(worker)]; }

  ServerSettings settings_;
  math::SgdHyper hyper_;       // settings_.hyper with the momentum the rule gives
  std::vector<float> params_;  // this server's shard (ASGD) or centre (EASGD)
  math::MomentumState momentum_;
  int64_t version_ = 0;
  std::vector<Peer> peers_;
  EndOfRun end_;
  ServerStats stats_;
  std::optional<double> first_request_s_;
  PartWriter part_writer_;
  // The checkpoint the workers are gathering for (epoch, or -1), and once
  // every worker has asked or finished, the answer.
  int64_t checkpoint_epoch_ = -1;
  std::optional<CheckpointAnswer> checkpoint_answer_;
  CheckpointDigest checkpoint_digest_;
  std::vector<int> lost_;
};

}  // namespace distsgd::ps
