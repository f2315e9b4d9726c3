// The worker side of ASGD and EASGD over MPI: a driver around ps::WorkerCore.
// One round trip per shard, in parallel over the servers; the worker waits for
// its own replies only.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "algorithms/initial_state.hpp"
#include "algorithms/parameter_server.hpp"
#include "core/errors.hpp"
#include "core/timeline.hpp"
#include "methods/asgd_rule.hpp"
#include "methods/update_math.hpp"

namespace distsgd {
namespace {
using Clock = std::chrono::steady_clock;

// The timeline's names of a worker's round trips (literals: the recorder keeps pointers).
const char* kind_event(ps::Kind kind) {
  switch (kind) {
    case ps::Kind::push_gradient:
      return "push gradient";
    case ps::Kind::pull:
      return "pull parameters";
    case ps::Kind::elastic:
      return "elastic exchange";
    case ps::Kind::checkpoint:
      return "checkpoint rendezvous";
    case ps::Kind::done:
      return "done notice";
  }
  return "server exchange";
}
}

ParameterServerWorker::ParameterServerWorker(PsMethod method, const TrainConfig& config,
                                             comm::Communicator& world, comm::Communicator& workers)
    : method_(method), config_(config), world_(world), workers_(workers) {}

void ParameterServerWorker::start(ReplicaView replica) {
  auto layout =
      make_ps_layout(static_cast<int64_t>(replica.params.size()), world_.size(), config_.servers);
  for (const auto& range : layout.shards) {
    outbox_.emplace_back(ps::kHeaderFloats + static_cast<std::size_t>(range.size));
    inbox_.emplace_back(ps::kHeaderFloats + static_cast<std::size_t>(range.size));
  }
  const float alpha = easgd_alpha(config_.easgd_beta, layout.workers);
  core_.emplace(method_, std::move(layout), config_.tau, alpha);
  share_initial_state(world_, replica);
}

void ParameterServerWorker::exchange(ps::Kind kind, std::span<const float> full,
                                     const StepInfo& step, const std::vector<char>& only) {
  const auto begin = Clock::now();
  timeline::Span span(kind_event(kind), "parameter server", "step", step.step);
  const auto& layout = core_->layout();
  std::vector<comm::Request> requests;
  for (int s = 0; s < layout.servers; ++s) {
    const auto index = static_cast<std::size_t>(s);
    if (!only.empty() && !only[index]) continue;
    core_->write_request(s, kind, full, step.step, step.epoch, step.lr, outbox_[index]);
    const int server = layout.server_rank(s);
    const auto what =
        fmt::format("{} of step {} to server rank {}", ps::kind_name(kind), step.step, server);
    requests.push_back(world_.irecv(inbox_[index].data(), inbox_[index].size() * sizeof(float),
                                    server, ps::kReplyTag, "the reply to the " + what));
    requests.push_back(world_.isend(outbox_[index].data(), outbox_[index].size() * sizeof(float),
                                    server, ps::kRequestTag, what));
  }
  for (auto& request : requests) request.wait();
  for (int s = 0; s < layout.servers; ++s)
    if (only.empty() || only[static_cast<std::size_t>(s)])
      core_->read_reply(s, kind, inbox_[static_cast<std::size_t>(s)]);
  ++exchanges_;
  exchange_s_ += std::chrono::duration<double>(Clock::now() - begin).count();
}

template <typename Settled>
void ParameterServerWorker::until_settled(ps::Kind kind, const StepInfo& step, Settled settled) {
  std::vector<char> waiting(static_cast<std::size_t>(core_->layout().servers), 1);
  while (std::find(waiting.begin(), waiting.end(), 1) != waiting.end()) {
    exchange(kind, {}, step, waiting);
    for (int s = 0; s < core_->layout().servers; ++s) {
      const auto index = static_cast<std::size_t>(s);
      if (waiting[index] && settled(s, ps::read_header(inbox_[index]))) waiting[index] = 0;
    }
  }
}

// Asks every server for its part of the checkpoint, again while a server says
// that other workers have not asked yet (see ps_protocol.hpp).
std::optional<std::vector<std::optional<CheckpointDigest>>> ParameterServerWorker::prepare(
    ReplicaView, int64_t epoch, int64_t step) {
  std::vector<std::optional<CheckpointDigest>> digests(static_cast<std::size_t>(world_.size()));
  bool stopped = false;
  until_settled(ps::Kind::checkpoint, StepInfo{step, epoch, 0.0},
                [&](int s, const ps::Header& header) {
                  const auto answer = static_cast<ps::CheckpointAnswer>(header.checkpoint);
                  if (answer == ps::CheckpointAnswer::wait) return false;
                  if (answer == ps::CheckpointAnswer::stopped)
                    stopped = true;
                  else
                    digests[static_cast<std::size_t>(core_->layout().server_rank(s))] =
                        CheckpointDigest{static_cast<uint64_t>(header.part_bytes),
                                         static_cast<uint32_t>(header.part_crc)};
                  return true;
                });
  if (stopped) return std::nullopt;
  return digests;
}

// ASGD: the servers apply this step's gradient; train on what they send back.
void ParameterServerWorker::before_step(ReplicaView replica, const StepInfo& step) {
  if (method_ != PsMethod::asgd) return;
  exchange(ps::Kind::push_gradient, replica.grads, step);
  for (int s = 0; s < core_->layout().servers; ++s)
    core_->take_parameters(s, inbox_[static_cast<std::size_t>(s)], replica.params);
}

// EASGD: every tau steps, the elastic move against the centre each server sent
// (the centre before the server moved it by the same d).
void ParameterServerWorker::after_step(ReplicaView replica, const StepInfo& step) {
  if (!core_->elastic_due(step.step)) return;
  exchange(ps::Kind::elastic, replica.params, step);
  for (int s = 0; s < core_->layout().servers; ++s)
    core_->take_elastic(s, inbox_[static_cast<std::size_t>(s)], replica.params);
}

// The model to evaluate is the servers' (ASGD parameters, EASGD centre) with
// this worker's batch-norm statistics (averaged over workers at the end).
EvaluationTarget ParameterServerWorker::prepare_evaluation(ReplicaView replica, ReplicaView out) {
  if (finished_) {
    std::copy(final_params_.begin(), final_params_.end(), out.params.begin());
  } else {
    exchange(ps::Kind::pull, {}, StepInfo{});
    for (int s = 0; s < core_->layout().servers; ++s)
      core_->take_parameters(s, inbox_[static_cast<std::size_t>(s)], out.params);
  }
  std::copy(replica.buffers.begin(), replica.buffers.end(), out.buffers.begin());
  return {true, nlohmann::json::object()};
}

// Tells every server this worker has finished, then waits until each reports
// that every worker has (a server answers at least every heartbeat, so each
// round trip keeps the deadline however long the others train).
MethodEnd ParameterServerWorker::finish(ReplicaView replica) {
  until_settled(ps::Kind::done, StepInfo{},
                [](int, const ps::Header& header) { return header.workers_training == 0; });
  finished_ = true;
  PsLayout layout = core_->layout();
  if (config_.survive_worker_loss) {
    lost_ = receive_lost_workers(world_, layout);
    move_to_survivors(world_, &workers_, layout, lost_);
  }
  final_params_ = gather_final_shards(world_, layout, {}, -1);
  if (!replica.buffers.empty() && workers_.size() > 1) {
    workers_.allreduce(replica.buffers.data(), replica.buffers.size(), comm::DType::f32,
                       comm::ReduceOp::sum, "batch-norm statistics");
    math::scale(replica.buffers, 1.0f / static_cast<float>(workers_.size()));
  }
  return {lost_};
}

nlohmann::json ParameterServerWorker::summary() {
  auto figures = reduce_server_stats(ps::ServerStats{}, world_, core_->layout().servers);
  figures["worker_exchanges"] = exchanges_;
  figures["worker_exchange_mean_s"] =
      exchanges_ > 0 ? exchange_s_ / static_cast<double>(exchanges_) : 0.0;
  if (method_ == PsMethod::asgd)
    figures.update(ps::asgd_rule_figures(ps::parse_asgd_rule(config_.asgd_rule), config_.momentum,
                                         core_->layout().workers));
  if (method_ == PsMethod::easgd) {
    figures["easgd_alpha"] = config_.easgd_beta / core_->layout().workers;
    figures["tau"] = config_.tau;
  }
  figures["max_staleness_bound"] =
      config_.max_staleness ? nlohmann::json(*config_.max_staleness) : nullptr;
  return figures;
}

}  // namespace distsgd
