// The server rank of ASGD and EASGD: a thin MPI driver around ps::ServerCore.
// It keeps a receive posted for each worker the core listens to, hands each
// request that arrives to the core with the time, and sends the replies the
// core returns. A server rank does nothing else, so it needs no second
// thread; it backs off when idle so that oversubscribed workers keep the cores.
#include <fmt/format.h>

#include <chrono>

#include "algorithms/initial_state.hpp"
#include "algorithms/parameter_server.hpp"
#include "core/errors.hpp"
#include "core/idle_backoff.hpp"
#include "core/timeline.hpp"
#include "methods/heartbeat.hpp"

namespace distsgd {
namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct ParameterServer::Link {
  std::vector<float> inbox, outbox;
  comm::Request receive, send;
};

ParameterServer::ParameterServer(PsMethod method, const TrainConfig& config,
                                 comm::Communicator& world)
    : method_(method), config_(config), world_(world) {}

ParameterServer::~ParameterServer() = default;

void ParameterServer::start(ReplicaView replica) {
  layout_ =
      make_ps_layout(static_cast<int64_t>(replica.params.size()), world_.size(), config_.servers);
  shard_ = world_.rank() - layout_.workers;
  range_ = layout_.shards[static_cast<std::size_t>(shard_)];
  share_initial_state(world_, replica);
  ps::ServerSettings settings;
  settings.method = method_;
  settings.workers = layout_.workers;
  settings.rank = world_.rank();
  settings.hyper = {config_.momentum, config_.weight_decay, config_.nesterov};
  settings.alpha = easgd_alpha(config_.easgd_beta, layout_.workers);
  settings.asgd_rule = ps::parse_asgd_rule(config_.asgd_rule);
  settings.max_staleness = config_.max_staleness;
  settings.heartbeat_s = heartbeat_interval_s(config_.timeout_s);
  settings.silent_after_s = config_.timeout_s;
  settings.survive_worker_loss = config_.survive_worker_loss;
  core_.emplace(settings,
                std::vector<float>(replica.params.begin() + range_.offset,
                                   replica.params.begin() + range_.offset + range_.size),
                now_s());
  links_.resize(static_cast<std::size_t>(layout_.workers));
  for (auto& link : links_) link.inbox.resize(ps::kHeaderFloats + static_cast<std::size_t>(range_.size));
}

void ParameterServer::post_receive(int worker) {
  auto& link = links_[static_cast<std::size_t>(worker)];
  link.receive =
      world_.irecv(link.inbox.data(), link.inbox.size() * sizeof(float), worker, ps::kRequestTag,
                   fmt::format("a request from worker rank {}", worker));
}

void ParameterServer::send(ps::Reply reply) {
  auto& link = links_[static_cast<std::size_t>(reply.worker)];
  if (link.send.valid()) link.send.wait();  // the previous reply's buffer is ours again
  link.outbox = std::move(reply.message);
  const auto kind = static_cast<ps::Kind>(ps::read_header(link.outbox).kind);
  link.send = world_.isend(link.outbox.data(), link.outbox.size() * sizeof(float), reply.worker,
                           ps::kReplyTag,
                           fmt::format("the reply of server rank {} to the {} of worker rank {}",
                                       world_.rank(), ps::kind_name(kind), reply.worker));
}

void ParameterServer::serve(PartWriter writer) {
  core_->set_part_writer(std::move(writer));
  std::vector<ps::Reply> replies;
  std::vector<ps::Dropped> dropped;
  IdleBackoff idle;
  while (!core_->finished()) {
    bool progressed = false;
    for (int worker = 0; worker < layout_.workers; ++worker) {
      auto& link = links_[static_cast<std::size_t>(worker)];
      if (!core_->listening(worker)) continue;
      if (!link.receive.valid()) post_receive(worker);
      if (!link.receive.test()) continue;
      link.receive = comm::Request();
      timeline::Span span("handle request", "parameter server", "worker", worker);
      core_->handle(worker, link.inbox, now_s(), replies);
      progressed = true;
    }
    core_->advance(now_s(), replies, dropped);
    for (auto& reply : replies) {
      timeline::Span span("send reply", "parameter server", "worker", reply.worker);
      send(std::move(reply));
    }
    replies.clear();
    // A lost worker: say so first, then give up its receive (which may hold
    // half a message that never completes) and a reply in flight to it.
    for (const auto& lost : dropped) {
      fmt::print(stderr,
                 "distsgd: {}: worker rank {} is lost; going on without it ({} worker(s) still "
                 "training)\n",
                 lost.why, lost.worker, core_->live_workers());
      std::fflush(stderr);
      auto& link = links_[static_cast<std::size_t>(lost.worker)];
      if (link.receive.valid()) link.receive.abandon();
      if (link.send.valid()) link.send.release();
      link.send = comm::Request();
    }
    dropped.clear();
    if (progressed)
      idle.reset();
    else
      idle.pause();
  }
  for (auto& link : links_) {
    if (link.send.valid()) link.send.wait();
  }
  core_->close(now_s());
}

Checkpoint ParameterServer::state(ReplicaView) { return core_->checkpoint_state(shard_, range_); }

void ParameterServer::restore(ReplicaView, const Checkpoint& state) {
  core_->restore_state(state, shard_, range_);
}

void ParameterServer::finish() {
  if (config_.survive_worker_loss) {
    lost_ = agree_on_lost_workers(world_, layout_, core_->lost());
    move_to_survivors(world_, nullptr, layout_, lost_);
  }
  gather_final_shards(world_, layout_, core_->shard(), shard_);
}

nlohmann::json ParameterServer::summary() {
  return reduce_server_stats(core_->stats(), world_, layout_.servers);
}

}  // namespace distsgd
