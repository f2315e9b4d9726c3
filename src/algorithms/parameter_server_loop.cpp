// The server side of ASGD and EASGD: one loop that polls a receive posted for
// each worker, applies what arrives to this server's shard and answers. A
// server rank does nothing else, so it needs no second thread; it backs off
// when idle so that oversubscribed workers keep the cores.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "algorithms/parameter_server.hpp"
#include "core/errors.hpp"
#include "core/idle_backoff.hpp"

namespace distsgd {
namespace {
using Clock = std::chrono::steady_clock;

double seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }
}  // namespace

struct ParameterServer::Peer {
  std::vector<float> inbox, outbox;
  comm::Request receive, send;
  int64_t clock = 0;                // updates this worker has made on this server
  bool done = false;                // has said it finished training
  bool released = false;            // has been told that every worker finished; sends nothing more
  bool held = false;                // its reply is held back by --max-staleness
  bool waiting_for_end = false;     // its `done` request is not answered yet
  bool at_checkpoint = false;       // has asked for the current checkpoint, not had the answer
  bool checkpoint_waiting = false;  // its `checkpoint` request is not answered yet
  bool lost = false;                // --survive-worker-loss: dropped after the deadline
  Clock::time_point held_since{}, last_request = Clock::now();
  int64_t last_step = -1;
  ps::Kind last_kind = ps::Kind::pull;
};

ParameterServer::ParameterServer(PsMethod method, const TrainConfig& config,
                                 comm::Communicator& world)
    : method_(method),
      config_(config),
      world_(world),
      hyper_{config.momentum, config.weight_decay, config.nesterov} {}

ParameterServer::~ParameterServer() = default;

void ParameterServer::start(ReplicaView replica) {
  layout_ =
      make_ps_layout(static_cast<int64_t>(replica.params.size()), world_.size(), config_.servers);
  shard_ = world_.rank() - layout_.workers;
  range_ = layout_.shards[static_cast<std::size_t>(shard_)];
  alpha_ = static_cast<float>(config_.easgd_beta / layout_.workers);
  share_initial_state(world_, replica);
  params_.assign(replica.params.begin() + range_.offset,
                 replica.params.begin() + range_.offset + range_.size);
  peers_.resize(static_cast<std::size_t>(layout_.workers));
  for (auto& peer : peers_) {
    peer.inbox.resize(ps::kHeaderFloats + static_cast<std::size_t>(range_.size));
    peer.outbox.resize(ps::kHeaderFloats + static_cast<std::size_t>(range_.size));
  }
}

void ParameterServer::post_receive(int worker) {
  auto& peer = peers_[static_cast<std::size_t>(worker)];
  peer.receive =
      world_.irecv(peer.inbox.data(), peer.inbox.size() * sizeof(float), worker, ps::kRequestTag,
                   fmt::format("a request from worker rank {}", worker));
}

void ParameterServer::serve(ReplicaView) {
  for (int worker = 0; worker < layout_.workers; ++worker) post_receive(worker);
  std::optional<Clock::time_point> first_request;
  IdleBackoff idle;
  for (;;) {
    bool progressed = false;
    for (int worker = 0; worker < layout_.workers; ++worker) {
      auto& peer = peers_[static_cast<std::size_t>(worker)];
      if (peer.released || !peer.receive.valid() || !peer.receive.test()) continue;
      if (!first_request) first_request = Clock::now();
      peer.receive = comm::Request();
      handle(worker);
      progressed = true;
    }
    progress_checkpoint();
    const bool all_done = live_workers() == 0;
    answer_finished_workers(all_done);
    if (all_done &&
        std::all_of(peers_.begin(), peers_.end(), [](const Peer& p) { return p.released; }))
      break;
    if (progressed) {
      idle.reset();
    } else if (idle.pause()) {
      check_silent_workers();
    }
  }
  for (auto& peer : peers_) {
    if (peer.send.valid() && !peer.lost) peer.send.wait();
  }
  if (first_request) stats_.serve_s = seconds(Clock::now() - *first_request);
}

void ParameterServer::handle(int worker) {
  auto& peer = peers_[static_cast<std::size_t>(worker)];
  const auto header = ps::read_header(peer.inbox);
  const auto kind = static_cast<ps::Kind>(header.kind);
  peer.last_request = Clock::now();
  peer.last_step = header.step;
  peer.last_kind = kind;
  ++stats_.requests;
  const std::span<float> payload(peer.inbox.data() + ps::kHeaderFloats,
                                 static_cast<std::size_t>(range_.size));
  switch (kind) {
    case ps::Kind::push_gradient:
    case ps::Kind::elastic: {
      if ((kind == ps::Kind::push_gradient) != (method_ == PsMethod::asgd) || peer.done)
        throw comm::CommFailure(
            fmt::format("server rank {} ({}): unexpected {} from worker rank {}", world_.rank(),
                        name(), ps::kind_name(kind), worker));
      stats_.record_staleness(version_ - header.version);
      if (kind == ps::Kind::push_gradient) {
        math::sgd_step(params_, payload, momentum_, hyper_, header.lr);
      } else {
        // The reply carries the centre before the move, so the worker moves by
        // the same d = alpha * (x - c) as the centre does here.
        std::copy(params_.begin(), params_.end(), peer.outbox.begin() + ps::kHeaderFloats);
        math::elastic_exchange(payload, params_, alpha_);
      }
      ++version_;
      ++peer.clock;
      ++stats_.updates;
      post_receive(worker);
      if (config_.max_staleness && peer.clock - slowest_live_clock() > *config_.max_staleness) {
        peer.held = true;
        peer.held_since = Clock::now();
        ++stats_.held_replies;
      } else {
        reply(worker, kind);
      }
      release_held_replies();
      return;
    }
    case ps::Kind::pull:
      post_receive(worker);
      reply(worker, kind);
      return;
    case ps::Kind::checkpoint:
      if (peer.done)
        throw comm::CommFailure(fmt::format(
            "server rank {}: checkpoint request from worker rank {}, which has finished",
            world_.rank(), worker));
      if (checkpoint_epoch_ >= 0 && header.version != checkpoint_epoch_)
        throw comm::CommFailure(fmt::format(
            "server rank {}: worker rank {} asks for the checkpoint of epoch {} while others "
            "wait for the one of epoch {}",
            world_.rank(), worker, header.version, checkpoint_epoch_));
      checkpoint_epoch_ = header.version;
      peer.at_checkpoint = true;
      peer.checkpoint_waiting = true;
      peer.held_since = Clock::now();
      return;  // answered by progress_checkpoint
    case ps::Kind::done:
      // The first `done` ends this worker's training; later ones wait for the end.
      peer.done = true;
      peer.waiting_for_end = true;
      peer.held_since = Clock::now();
      release_held_replies();  // the slowest live worker may have been this one
      return;
  }
  throw comm::CommFailure(
      fmt::format("server rank {}: request of unknown kind {} from worker rank {}", world_.rank(),
                  header.kind, worker));
}

void ParameterServer::reply(int worker, ps::Kind kind) {
  auto& peer = peers_[static_cast<std::size_t>(worker)];
  if (peer.send.valid()) peer.send.wait();  // the previous reply's buffer is ours again
  std::size_t floats = ps::kHeaderFloats;
  int64_t version = version_;
  if (kind == ps::Kind::push_gradient || kind == ps::Kind::pull) {
    std::copy(params_.begin(), params_.end(), peer.outbox.begin() + ps::kHeaderFloats);
    floats += params_.size();
  } else if (kind == ps::Kind::elastic) {
    floats += params_.size();  // the centre was put there when the request came
  } else {
    version = live_workers();  // `done`: how many are still training
  }
  if (kind == ps::Kind::push_gradient || kind == ps::Kind::elastic)
    stats_.max_lead =
        std::max(stats_.max_lead, static_cast<double>(peer.clock - slowest_live_clock()));
  ps::write_header(peer.outbox, {static_cast<int64_t>(kind), version, peer.last_step, 0.0});
  peer.send = world_.isend(peer.outbox.data(), floats * sizeof(float), worker, ps::kReplyTag,
                           fmt::format("the reply of server rank {} to the {} of worker rank {}",
                                       world_.rank(), ps::kind_name(kind), worker));
  ++stats_.replies;
}

// Answers the workers waiting for the end: with 0 once every worker has
// finished (they send nothing more after that), else, at least every
// heartbeat, with the number still training (they will ask again), so that a
// finished worker's own deadline never passes while the others still train.
void ParameterServer::answer_finished_workers(bool all_done) {
  const auto heartbeat = std::chrono::duration<double>(std::min(1.0, config_.timeout_s / 4));
  for (int worker = 0; worker < layout_.workers; ++worker) {
    auto& peer = peers_[static_cast<std::size_t>(worker)];
    if (!peer.waiting_for_end) continue;
    if (!all_done && Clock::now() - peer.held_since < heartbeat) continue;
    peer.waiting_for_end = false;
    if (all_done) {
      peer.released = true;
    } else {
      post_receive(worker);
    }
    reply(worker, ps::Kind::done);
  }
}

// The checkpoint rendezvous: once every worker still training has asked (so
// none has a request in flight), write this server's part, or, when a worker
// has finished meanwhile, decide there is no checkpoint; answer each asking
// worker with that, and the ones still waiting for others at least every
// heartbeat (they ask again).
void ParameterServer::progress_checkpoint() {
  if (checkpoint_epoch_ < 0) return;
  if (!checkpoint_status_) {
    bool everyone = true, someone_finished = false;
    for (const auto& peer : peers_) {
      if (peer.done)
        someone_finished = true;
      else if (!peer.at_checkpoint)
        everyone = false;
    }
    if (!everyone) {
      // not yet
    } else if (someone_finished || !part_writer_) {
      checkpoint_status_ = ps::kCheckpointStopped;
      checkpoint_crc_ = 0;
    } else {
      const auto digest = part_writer_(checkpoint_epoch_);
      checkpoint_status_ = digest.bytes;
      checkpoint_crc_ = digest.crc;
    }
  }
  const auto heartbeat = std::chrono::duration<double>(std::min(1.0, config_.timeout_s / 4));
  bool anyone_left = false;
  for (int worker = 0; worker < layout_.workers; ++worker) {
    auto& peer = peers_[static_cast<std::size_t>(worker)];
    if (peer.checkpoint_waiting && checkpoint_status_) {
      peer.at_checkpoint = peer.checkpoint_waiting = false;
      post_receive(worker);
      reply_checkpoint(worker, *checkpoint_status_, checkpoint_crc_);
    } else if (peer.checkpoint_waiting && Clock::now() - peer.held_since >= heartbeat) {
      peer.checkpoint_waiting = false;
      post_receive(worker);
      reply_checkpoint(worker, ps::kCheckpointWait, 0);
    }
    anyone_left = anyone_left || peer.at_checkpoint;
  }
  if (checkpoint_status_ && !anyone_left) {
    checkpoint_epoch_ = -1;
    checkpoint_status_.reset();
  }
}

void ParameterServer::reply_checkpoint(int worker, int64_t status, uint32_t crc) {
  auto& peer = peers_[static_cast<std::size_t>(worker)];
  if (peer.send.valid()) peer.send.wait();
  ps::write_header(peer.outbox, {static_cast<int64_t>(ps::Kind::checkpoint), status,
                                 static_cast<int64_t>(crc), 0.0});
  peer.send = world_.isend(
      peer.outbox.data(), ps::kHeaderFloats * sizeof(float), worker, ps::kReplyTag,
      fmt::format("the answer of server rank {} to the checkpoint request of worker rank {}",
                  world_.rank(), worker));
  ++stats_.replies;
}

MethodState ParameterServer::checkpoint_state(ReplicaView) {
  MethodState state;
  std::vector<int64_t> clocks;
  for (const auto& peer : peers_) clocks.push_back(peer.clock);
  state.meta = {{"shard", shard_},
                {"offset", range_.offset},
                {"size", range_.size},
                {"version", version_},
                {"clocks", clocks}};
  state.tensors["server.shard"] = params_;
  state.tensors["server.momentum"] = momentum_.buffer;
  return state;
}

void ParameterServer::restore_state(ReplicaView, const MethodState& state) {
  const auto& meta = state.meta;
  if (meta.at("shard").get<int>() != shard_ || meta.at("offset").get<int64_t>() != range_.offset ||
      meta.at("size").get<int64_t>() != range_.size || meta.at("clocks").size() != peers_.size())
    throw DataError(fmt::format(
        "the checkpoint's part of server rank {} holds shard {} (offset {}, {} values) for {} "
        "workers; this run has shard {} (offset {}, {} values) for {}",
        world_.rank(), meta.at("shard").dump(), meta.at("offset").dump(), meta.at("size").dump(),
        meta.at("clocks").size(), shard_, range_.offset, range_.size, peers_.size()));
  const auto& shard = state.tensors.at("server.shard");
  if (static_cast<int64_t>(shard.size()) != range_.size)
    throw DataError(fmt::format("the checkpoint's shard of server rank {} has {} values, not {}",
                                world_.rank(), shard.size(), range_.size));
  params_ = shard;
  momentum_.buffer = state.tensors.at("server.momentum");
  version_ = meta.at("version").get<int64_t>();
  for (std::size_t w = 0; w < peers_.size(); ++w)
    peers_[w].clock = meta.at("clocks")[w].get<int64_t>();
}

void ParameterServer::release_held_replies() {
  if (!config_.max_staleness) return;
  const int64_t slowest = slowest_live_clock();
  for (int worker = 0; worker < layout_.workers; ++worker) {
    auto& peer = peers_[static_cast<std::size_t>(worker)];
    if (!peer.held || peer.clock - slowest > *config_.max_staleness) continue;
    peer.held = false;
    stats_.held_s += seconds(Clock::now() - peer.held_since);
    reply(worker, method_ == PsMethod::asgd ? ps::Kind::push_gradient : ps::Kind::elastic);
  }
}

// The clock of the slowest worker still training (the bound ignores finished ones).
int64_t ParameterServer::slowest_live_clock() const {
  int64_t slowest = std::numeric_limits<int64_t>::max();
  for (const auto& peer : peers_) {
    if (!peer.done) slowest = std::min(slowest, peer.clock);
  }
  return slowest;
}

int ParameterServer::live_workers() const {
  return static_cast<int>(
      std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return !p.done; }));
}

// A worker still training that has sent nothing for the whole deadline is lost
// or stuck: say which, and what it last sent.
void ParameterServer::check_silent_workers() {
  const auto now = Clock::now();
  for (int worker = 0; worker < layout_.workers; ++worker) {
    const auto& peer = peers_[static_cast<std::size_t>(worker)];
    if (peer.released || peer.held || peer.waiting_for_end || peer.at_checkpoint ||
        seconds(now - peer.last_request) <= config_.timeout_s)
      continue;
    const auto why = fmt::format(
        "server rank {} has had no request from worker rank {} for {:.0f} s (last: {} of step {})",
        world_.rank(), worker, config_.timeout_s,
        peer.last_step < 0 ? "none" : ps::kind_name(peer.last_kind), peer.last_step);
    if (!config_.survive_worker_loss) throw comm::CommTimeout("timed out: " + why);
    drop_lost_worker(worker, why);
  }
}

// The worker is gone (or stuck): it counts as finished, its pending receive is
// withdrawn and a reply still in flight to it is let go.
void ParameterServer::drop_lost_worker(int worker, const std::string& why) {
  auto& peer = peers_[static_cast<std::size_t>(worker)];
  peer.lost = peer.done = peer.released = true;
  if (peer.receive.valid()) peer.receive.cancel();
  if (peer.send.valid()) peer.send.release();
  lost_.push_back(worker);
  fmt::print(
      stderr,
      "distsgd: {}: worker rank {} is lost; going on without it ({} worker(s) still training)\n",
      why, worker, live_workers());
  std::fflush(stderr);
}

void ParameterServer::finish(ReplicaView) {
  if (config_.survive_worker_loss) {
    lost_ = agree_on_lost_workers(world_, layout_, lost_);
    move_to_survivors(world_, nullptr, layout_, lost_);
  }
  gather_final_shards(world_, layout_, params_, shard_);
}

nlohmann::json ParameterServer::summary() { return stats_.reduce(world_, layout_.servers); }

}  // namespace distsgd
