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
#include "core/idle_backoff.hpp"

namespace distsgd {
namespace {
using Clock = std::chrono::steady_clock;

double seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }
}  // namespace

struct ParameterServer::Peer {
  std::vector<float> inbox, outbox;
  comm::Request receive, send;
  int64_t clock = 0;             // updates this worker has made on this server
  bool done = false;             // has said it finished training
  bool released = false;         // has been told that every worker finished; sends nothing more
  bool held = false;             // its reply is held back by --max-staleness
  bool waiting_for_end = false;  // its `done` request is not answered yet
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
    if (peer.send.valid()) peer.send.wait();
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
void ParameterServer::check_silent_workers() const {
  const auto now = Clock::now();
  for (int worker = 0; worker < layout_.workers; ++worker) {
    const auto& peer = peers_[static_cast<std::size_t>(worker)];
    if (peer.released || peer.held || peer.waiting_for_end ||
        seconds(now - peer.last_request) <= config_.timeout_s)
      continue;
    throw comm::CommTimeout(
        fmt::format("timed out after {:.0f} s: server rank {} has had no request from worker rank "
                    "{} (last: {} of step {})",
                    config_.timeout_s, world_.rank(), worker,
                    peer.last_step < 0 ? "none" : ps::kind_name(peer.last_kind), peer.last_step));
  }
}

void ParameterServer::finish(ReplicaView) { gather_final_shards(world_, layout_, params_, shard_); }

nlohmann::json ParameterServer::summary() { return stats_.reduce(world_, layout_.servers); }

}  // namespace distsgd
