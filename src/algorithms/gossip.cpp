#include "algorithms/gossip.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "algorithms/initial_state.hpp"
#include "core/errors.hpp"
#include "core/timeline.hpp"
#include "methods/heartbeat.hpp"
#include "methods/periodic_average.hpp"
#include "methods/update_math.hpp"

namespace distsgd {

GossipSgd::GossipSgd(gossip::Mode mode, const TrainConfig& config, comm::Communicator& world,
                     comm::Communicator* workers)
    : mode_(mode),
      config_(config),
      world_(world),
      global_every_(config.algo == "gossip-pga" ? config.global_every : 0),
      workers_(workers) {}

GossipSgd::~GossipSgd() = default;

MethodTraits GossipSgd::traits() const {
  MethodTraits traits;
  traits.name = global_every_ > 0             ? "gossip-pga"
                : mode_ == gossip::Mode::pull ? "gossip-pull"
                                              : "gossip-push";
  // With --leave-early nodes end at different steps, so during training rank
  // 0 evaluates its own replica alone; at the end all nodes evaluate together.
  // The same with --survive-worker-loss: a meeting (a collective) that a lost
  // node was part of could never end.
  const bool together = meet_during_training();
  traits.evaluation = together ? MethodTraits::Evaluation::every_worker
                               : MethodTraits::Evaluation::worker0;
  traits.stop = together ? MethodTraits::StopAgreement::epoch_end
                         : MethodTraits::StopAgreement::on_own;
  traits.checkpoints =
      together ? MethodTraits::Checkpoints::in_parts : MethodTraits::Checkpoints::none;
  return traits;
}

void GossipSgd::start(ReplicaView replica) {
  share_initial_state(world_, replica);
  gossip_comm_.emplace(world_.split(0, world_.rank(), "gossip"));
  gossip::Settings settings;
  settings.mode = mode_;
  settings.peers = config_.gossip_peers;
  settings.tau = config_.tau;
  settings.mix_momentum = config_.gossip_momentum;
  settings.topology = config_.topology;
  settings.rank = world_.rank();
  settings.nodes = world_.size();
  settings.seed = config_.seed;
  core_.emplace(settings, replica.params.size());
  service_ = std::make_unique<GossipService>(*gossip_comm_, core_->state_size(),
                                             core_->push_floats(),
                                             heartbeat_interval_s(config_.timeout_s));
  if (config_.survive_worker_loss) service_->watch_liveness(config_.timeout_s);
  if (mode_ == gossip::Mode::pull) {
    pulled_.assign(static_cast<std::size_t>(config_.gossip_peers),
                   std::vector<float>(core_->state_size()));
    core_->load(replica.params, replica.momentum);
    service_->publish(core_->state());
  } else {
    push_buffers_.resize(static_cast<std::size_t>(world_.size()));
    push_sends_.resize(static_cast<std::size_t>(world_.size()));
    arrived_ = gossip::Inbox(core_->state_size());
  }
  service_->start();
}

void GossipSgd::after_step(ReplicaView replica, const StepInfo& step) {
  service_->check();
  ++steps_;
  core_->load(replica.params, replica.momentum);
  if (mode_ == gossip::Mode::pull) {
    if (core_->round_due(step.step)) pull_round();
    service_->publish(core_->state());
  } else {
    core_->begin_mixing();
    if (core_->round_due(step.step)) push_round();
    absorb_pushes();
  }
  core_->store(replica.params, replica.momentum);
  if (hybrid::global_average_due(step.step, global_every_)) global_average(replica);
}

void GossipSgd::pull_round() {
  timeline::Span span("gossip pull", "gossip");
  const auto peers = core_->next_peers();
  std::vector<comm::Request> requests;
  const int64_t token = steps_;
  for (std::size_t k = 0; k < peers.size(); ++k) {
    requests.push_back(gossip_comm_->irecv(pulled_[k].data(), pulled_[k].size() * sizeof(float),
                                           peers[k], gossip_tags::kPullReply,
                                           fmt::format("the state pulled from rank {}", peers[k])));
    requests.push_back(gossip_comm_->isend(&token, sizeof token, peers[k],
                                           gossip_tags::kPullRequest,
                                           fmt::format("a pull request to rank {}", peers[k])));
    bytes_sent_ += static_cast<int64_t>(sizeof token);
  }
  if (config_.survive_worker_loss) return mix_answered_pulls(peers, requests);
  for (auto& request : requests) request.wait();
  std::vector<std::span<const float>> views(pulled_.begin(), pulled_.end());
  core_->mix_pulled(views);
}

// Sends this round's shares. A peer that has not yet taken our previous push
// (stopped, or slow) is skipped this round rather than waited for: its share
// stays here, so no mass is lost, and this node goes on training.
void GossipSgd::push_round() {
  timeline::Span span("gossip push", "gossip");
  if (config_.survive_worker_loss) give_up_untaken_pushes();
  auto peers = core_->next_peers();
  pushes_skipped_ += static_cast<int64_t>(std::erase_if(peers, [this](int peer) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    return send.valid() && !send.test();
  }));
  if (peers.empty()) return;
  core_->share(static_cast<int>(peers.size()));
  for (int peer : peers) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    if (send.valid()) send.wait();
    auto& buffer = push_buffers_[static_cast<std::size_t>(peer)];
    core_->write_push(buffer);
    send = gossip_comm_->issend(buffer.data(), buffer.size() * sizeof(float), peer,
                                gossip_tags::kPush, fmt::format("a push to rank {}", peer));
    bytes_sent_ += static_cast<int64_t>(buffer.size() * sizeof(float));
    core_->count_push();
  }
}

void GossipSgd::absorb_pushes() {
  timeline::Span span("absorb pushes", "gossip");
  service_->take_pushes(arrived_);
  core_->absorb(arrived_);
}

void GossipSgd::wait_for_pushes() {
  if (config_.survive_worker_loss) return wait_or_give_up_pushes();
  for (auto& send : push_sends_) {
    if (send.valid()) send.wait();
  }
}

void GossipSgd::settle(ReplicaView replica) {
  timeline::Span span("gossip settle", "gossip");
  wait_for_pushes();
  for (;;) {
    service_->check();
    double in_flight = static_cast<double>(core_->pushes_sent() - service_->pushes_received());
    world_.allreduce(&in_flight, 1, comm::DType::f64, comm::ReduceOp::sum, "pushes in flight");
    if (in_flight == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (mode_ != gossip::Mode::pull) absorb_into(replica);
}

std::optional<std::vector<std::optional<CheckpointDigest>>> GossipSgd::prepare(ReplicaView replica,
                                                                               int64_t, int64_t) {
  settle(replica);
  return std::vector<std::optional<CheckpointDigest>>(static_cast<std::size_t>(world_.size()));
}

// Counters of traffic (and so of pushes in flight) start again from zero in a
// resumed run, on every node alike; the schedule continues where it was.
Checkpoint GossipSgd::state(ReplicaView) {
  auto state = core_->checkpoint_state();
  state.meta["steps"] = steps_;
  state.meta["consensus_history"] = consensus_;
  return state;
}

void GossipSgd::restore(ReplicaView replica, const Checkpoint& state) {
  core_->restore_state(state);
  steps_ = state.meta.at("steps").get<int64_t>();
  consensus_ = state.meta.at("consensus_history").get<std::vector<double>>();
  if (mode_ == gossip::Mode::pull) {
    // Peers pull the restored state from now on (before any of them trains:
    // the trainer's restore ends with a collective).
    core_->load(replica.params, replica.momentum);
    service_->publish(core_->state());
  }
}

// Takes in what arrived since the last step into the replica itself.
void GossipSgd::absorb_into(ReplicaView replica) {
  core_->load(replica.params, replica.momentum);
  core_->begin_mixing();
  absorb_pushes();
  core_->store(replica.params, replica.momentum);
}

// The end of the run: tell rank 0 this node has finished, then ask again (at
// least every heartbeat rank 0 answers with the count still training) until
// every node has; meanwhile this node's communication thread keeps serving.
// Rank 0's last answer lists the nodes it found lost (gossip_service.hpp).
std::vector<int> GossipSgd::wait_for_everyone() {
  int64_t notice = steps_;
  std::vector<int64_t> answer(static_cast<std::size_t>(gossip_comm_->size()) + 2, 0);
  answer[0] = 1;
  while (answer[0] > 0) {
    service_->check();
    auto reply = gossip_comm_->irecv(answer.data(), answer.size() * sizeof(int64_t), 0,
                                     gossip_tags::kDoneReply,
                                     "rank 0's answer to the end-of-training notice");
    gossip_comm_
        ->isend(&notice, sizeof notice, 0, gossip_tags::kDone,
                "the end-of-training notice to rank 0")
        .wait();
    reply.wait();
  }
  std::vector<int> lost(answer.begin() + 2, answer.begin() + 2 + answer[1]);
  std::sort(lost.begin(), lost.end());
  if (std::binary_search(lost.begin(), lost.end(), world_.rank()))
    throw RuntimeFailure(fmt::format(
        "rank {} was declared lost by rank 0 (silent for more than --timeout-s)", world_.rank()));
  return lost;
}

MethodEnd GossipSgd::finish(ReplicaView replica) {
  wait_for_pushes();
  // Empty unless --survive-worker-loss (only then does rank 0 drop anyone).
  const auto lost = wait_for_everyone();
  service_->stop(config_.timeout_s, lost);
  if (mode_ != gossip::Mode::pull) absorb_into(replica);
  finished_ = true;
  if (!lost.empty()) move_to_survivors(lost);
  return {lost};
}

// Collective: the exact average of all replicas, and how far they are from it.
EvaluationTarget GossipSgd::prepare_evaluation(ReplicaView replica, ReplicaView out) {
  if (!finished_ && traits().evaluation != MethodTraits::Evaluation::every_worker) return {};
  const auto n = static_cast<float>(world_.size());
  // Push-sum's average is sum(x_i) / sum(w_i) = sum(w_i z_i) / sum(w_i): with
  // uneven weights (a slow node gathers mass) the plain mean of the z_i is not
  // what the nodes converge to. The other modes weigh every replica equally.
  double weight = core_->weight();
  std::copy(replica.params.begin(), replica.params.end(), out.params.begin());
  math::scale(out.params, static_cast<float>(weight));
  world_.allreduce(out.params.data(), out.params.size(), comm::DType::f32, comm::ReduceOp::sum,
                   "replica average");
  world_.allreduce(&weight, 1, comm::DType::f64, comm::ReduceOp::sum, "total weight");
  math::scale(out.params, static_cast<float>(1.0 / weight));
  if (!out.buffers.empty()) {
    std::copy(replica.buffers.begin(), replica.buffers.end(), out.buffers.begin());
    world_.allreduce(out.buffers.data(), out.buffers.size(), comm::DType::f32, comm::ReduceOp::sum,
                     "batch-norm statistics average");
    math::scale(out.buffers, 1.0f / n);
  }
  double distance = math::relative_squared_distance(replica.params, out.params);
  world_.allreduce(&distance, 1, comm::DType::f64, comm::ReduceOp::sum, "consensus distance");
  consensus_.push_back(distance / world_.size());
  return {true, {{"consensus_distance", consensus_.back()}}};
}

nlohmann::json GossipSgd::summary() {
  const bool push_sum = mode_ == gossip::Mode::push_sum;
  double totals[7] = {
      push_sum ? core_->weight() : 0.0,
      static_cast<double>(bytes_sent_ + service_->bytes_sent()) / std::max<int64_t>(steps_, 1),
      static_cast<double>(service_->pulls_served()),
      static_cast<double>(service_->pushes_received()),
      static_cast<double>(core_->pushes_sent()),
      static_cast<double>(pushes_skipped_),
      core_->weight_lost()};
  world_.allreduce(totals, 7, comm::DType::f64, comm::ReduceOp::sum, "gossip figures");
  nlohmann::json figures = {
      {"topology", config_.topology},
      {"gossip_peers", config_.gossip_peers},
      {"tau", config_.tau},
      {"gossip_momentum", config_.gossip_momentum},
      {"rounds_rank0", core_->rounds()},
      {"bytes_sent_per_step", totals[1] / world_.size()},
      {"pulls_served", totals[2]},
      {"pushes_received", totals[3]},
      {"pushes_sent", totals[4]},
      // Pushes not sent because the peer had not yet taken the previous one
      // (its share stayed with the sender).
      {"pushes_skipped", totals[5]},
      {"consensus_distance",
       consensus_.empty() ? nlohmann::json(nullptr) : nlohmann::json(consensus_.back())},
      {"consensus_history", consensus_}};
  if (mode_ != gossip::Mode::pull) figures["push_mode"] = config_.push_mode;
  if (global_every_ > 0) {
    figures["global_every"] = global_every_;
    figures["global_averages_rank0"] = global_averages_;
    figures["global_average_s_rank0"] = global_average_s_;
  }
  if (push_sum) {
    // How unevenly the mass is spread: a slow node that pushes rarely gathers weight.
    double extremes[2] = {-core_->weight(), core_->weight()};
    world_.allreduce(extremes, 2, comm::DType::f64, comm::ReduceOp::max, "push-sum weight range");
    figures["push_sum_total_weight"] = totals[0];
    // --survive-worker-loss: the weight of the pushes given up on the way to
    // lost nodes (the lost nodes' own weight is not known to the survivors:
    // it is what push_sum_total_weight lacks beyond this, of the node count).
    figures["push_sum_weight_lost_in_pushes"] = totals[6];
    figures["push_sum_weight_min"] = -extremes[0];
    figures["push_sum_weight_max"] = extremes[1];
  }
  return figures;
}

}  // namespace distsgd
