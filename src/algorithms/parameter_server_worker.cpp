// The worker side of ASGD and EASGD: one round trip per shard, in parallel
// over the servers; the worker waits for its own replies only.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "algorithms/parameter_server.hpp"
#include "algorithms/ps_protocol.hpp"
#include "core/errors.hpp"

namespace distsgd {
namespace {
using Clock = std::chrono::steady_clock;
}

ParameterServerWorker::ParameterServerWorker(PsMethod method, const TrainConfig& config,
                                             comm::Communicator& world, comm::Communicator& workers)
    : method_(method), config_(config), world_(world), workers_(workers) {}

void ParameterServerWorker::start(ReplicaView replica) {
  layout_ =
      make_ps_layout(static_cast<int64_t>(replica.params.size()), world_.size(), config_.servers);
  for (const auto& range : layout_.shards) {
    outbox_.emplace_back(ps::kHeaderFloats + static_cast<std::size_t>(range.size));
    inbox_.emplace_back(ps::kHeaderFloats + static_cast<std::size_t>(range.size));
  }
  versions_.assign(static_cast<std::size_t>(layout_.servers), 0);
  share_initial_state(world_, replica);
}

void ParameterServerWorker::exchange(ps::Kind kind, std::span<const float> payload,
                                     const StepInfo& step, const std::vector<char>& only) {
  const auto begin = Clock::now();
  std::vector<comm::Request> requests;
  for (int s = 0; s < layout_.servers; ++s) {
    const auto index = static_cast<std::size_t>(s);
    if (!only.empty() && !only[index]) continue;
    const auto range = layout_.shards[index];
    auto& out = outbox_[index];
    // A checkpoint request carries the epoch where the version goes.
    const int64_t version = kind == ps::Kind::checkpoint ? step.epoch : versions_[index];
    ps::write_header(out, {static_cast<int64_t>(kind), version, step.step, step.lr});
    const std::size_t floats =
        ps::kHeaderFloats + (payload.empty() ? 0 : static_cast<std::size_t>(range.size));
    if (!payload.empty())
      std::copy_n(payload.begin() + range.offset, range.size, out.begin() + ps::kHeaderFloats);
    const int server = layout_.server_rank(s);
    const auto what =
        fmt::format("{} of step {} to server rank {}", ps::kind_name(kind), step.step, server);
    requests.push_back(world_.irecv(inbox_[index].data(), inbox_[index].size() * sizeof(float),
                                    server, ps::kReplyTag, "the reply to the " + what));
    requests.push_back(
        world_.isend(out.data(), floats * sizeof(float), server, ps::kRequestTag, what));
  }
  for (auto& request : requests) request.wait();
  for (int s = 0; s < layout_.servers; ++s) {
    if (!only.empty() && !only[static_cast<std::size_t>(s)]) continue;
    const auto header = ps::read_header(inbox_[static_cast<std::size_t>(s)]);
    if (header.kind != static_cast<int64_t>(kind))
      throw comm::CommFailure(fmt::format("server rank {} answered a {} with a {}",
                                          layout_.server_rank(s), ps::kind_name(kind),
                                          ps::kind_name(static_cast<ps::Kind>(header.kind))));
    if (kind != ps::Kind::done && kind != ps::Kind::checkpoint)
      versions_[static_cast<std::size_t>(s)] = header.version;
  }
  ++exchanges_;
  exchange_s_ += std::chrono::duration<double>(Clock::now() - begin).count();
}

std::span<const float> ParameterServerWorker::reply_shard(int shard) const {
  const auto& message = inbox_[static_cast<std::size_t>(shard)];
  return {message.data() + ps::kHeaderFloats,
          static_cast<std::size_t>(layout_.shards[static_cast<std::size_t>(shard)].size)};
}

// Asks every server for its part of the checkpoint, again while a server says
// that other workers have not asked yet (see ps_protocol.hpp).
std::optional<std::vector<PartDigest>> ParameterServerWorker::quiesce_for_checkpoint(ReplicaView,
                                                                                     int64_t epoch,
                                                                                     int64_t step) {
  std::vector<PartDigest> digests(static_cast<std::size_t>(world_.size()));
  std::vector<char> waiting(static_cast<std::size_t>(layout_.servers), 1);
  bool stopped = false;
  while (std::find(waiting.begin(), waiting.end(), 1) != waiting.end()) {
    exchange(ps::Kind::checkpoint, {}, StepInfo{step, epoch, 0.0}, waiting);
    for (int s = 0; s < layout_.servers; ++s) {
      const auto index = static_cast<std::size_t>(s);
      if (!waiting[index]) continue;
      const auto header = ps::read_header(inbox_[index]);
      if (header.version == ps::kCheckpointWait) continue;
      waiting[index] = 0;
      if (header.version == ps::kCheckpointStopped)
        stopped = true;
      else
        digests[static_cast<std::size_t>(layout_.server_rank(s))] = {
            header.version, static_cast<uint32_t>(header.step)};
    }
  }
  if (stopped) return std::nullopt;
  return digests;
}

MethodState ParameterServerWorker::checkpoint_state(ReplicaView) {
  MethodState state;
  state.meta = {{"versions", versions_}};
  return state;
}

void ParameterServerWorker::restore_state(ReplicaView, const MethodState& state) {
  const auto versions = state.meta.at("versions").get<std::vector<int64_t>>();
  if (versions.size() != versions_.size())
    throw DataError(fmt::format("the checkpoint's part of worker rank {} knows {} servers, not {}",
                                world_.rank(), versions.size(), versions_.size()));
  versions_ = versions;
}

// ASGD: the servers apply this step's gradient; train on what they send back.
void ParameterServerWorker::before_step(ReplicaView replica, const StepInfo& step) {
  if (method_ != PsMethod::asgd) return;
  exchange(ps::Kind::push_gradient, replica.grads, step);
  for (int s = 0; s < layout_.servers; ++s) {
    const auto shard = reply_shard(s);
    std::copy(shard.begin(), shard.end(),
              replica.params.begin() + layout_.shards[static_cast<std::size_t>(s)].offset);
  }
}

// EASGD: every tau steps, the elastic move against the centre each server sent
// (the centre before the server moved it by the same d).
void ParameterServerWorker::after_step(ReplicaView replica, const StepInfo& step) {
  if (method_ != PsMethod::easgd || (step.step + 1) % config_.tau != 0) return;
  exchange(ps::Kind::elastic, replica.params, step);
  const float alpha = static_cast<float>(config_.easgd_beta / layout_.workers);
  for (int s = 0; s < layout_.servers; ++s) {
    const auto range = layout_.shards[static_cast<std::size_t>(s)];
    auto& message = inbox_[static_cast<std::size_t>(s)];
    math::elastic_exchange(
        replica.params.subspan(static_cast<std::size_t>(range.offset),
                               static_cast<std::size_t>(range.size)),
        std::span<float>(message.data() + ps::kHeaderFloats, static_cast<std::size_t>(range.size)),
        alpha);
  }
}

// The model to evaluate is the servers' (ASGD parameters, EASGD centre) with
// this worker's batch-norm statistics (averaged over workers at the end).
bool ParameterServerWorker::prepare_evaluation(ReplicaView replica, ReplicaView out) {
  if (finished_) {
    std::copy(final_params_.begin(), final_params_.end(), out.params.begin());
  } else {
    exchange(ps::Kind::pull, {}, StepInfo{});
    for (int s = 0; s < layout_.servers; ++s) {
      const auto shard = reply_shard(s);
      std::copy(shard.begin(), shard.end(),
                out.params.begin() + layout_.shards[static_cast<std::size_t>(s)].offset);
    }
  }
  std::copy(replica.buffers.begin(), replica.buffers.end(), out.buffers.begin());
  return true;
}

// Tells every server this worker has finished, then waits until each reports
// that every worker has (the reply to `done` carries the number still
// training; a server answers at least every second, so each round trip keeps
// the deadline of the comm boundary however long the others train).
void ParameterServerWorker::finish(ReplicaView replica) {
  std::vector<char> waiting(static_cast<std::size_t>(layout_.servers), 1);
  while (std::find(waiting.begin(), waiting.end(), 1) != waiting.end()) {
    exchange(ps::Kind::done, {}, StepInfo{}, waiting);
    for (int s = 0; s < layout_.servers; ++s) {
      const auto index = static_cast<std::size_t>(s);
      if (waiting[index] && ps::read_header(inbox_[index]).version == 0) waiting[index] = 0;
    }
  }
  finished_ = true;
  if (config_.survive_worker_loss) {
    lost_ = receive_lost_workers(world_, layout_);
    move_to_survivors(world_, &workers_, layout_, lost_);
  }
  final_params_ = gather_final_shards(world_, layout_, {}, -1);
  if (!replica.buffers.empty() && workers_.size() > 1) {
    workers_.allreduce(replica.buffers.data(), replica.buffers.size(), comm::DType::f32,
                       comm::ReduceOp::sum, "batch-norm statistics");
    math::scale(replica.buffers, 1.0f / static_cast<float>(workers_.size()));
  }
}

nlohmann::json ParameterServerWorker::summary() {
  auto figures = ps::ServerStats{}.reduce(world_, layout_.servers);
  figures["worker_exchanges"] = exchanges_;
  figures["worker_exchange_mean_s"] =
      exchanges_ > 0 ? exchange_s_ / static_cast<double>(exchanges_) : 0.0;
  if (method_ == PsMethod::easgd) {
    figures["easgd_alpha"] = config_.easgd_beta / layout_.workers;
    figures["tau"] = config_.tau;
  }
  figures["max_staleness_bound"] =
      config_.max_staleness ? nlohmann::json(*config_.max_staleness) : nullptr;
  return figures;
}

}  // namespace distsgd
