#include "algorithms/gossip.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "algorithms/initial_state.hpp"
#include "algorithms/update_math.hpp"

namespace distsgd {
namespace {
constexpr std::size_t kWeightFloats = sizeof(double) / sizeof(float);
}

GossipSgd::GossipSgd(Mode mode, const TrainConfig& config, comm::Communicator& world)
    : mode_(mode), config_(config), world_(world) {}

GossipSgd::~GossipSgd() = default;

void GossipSgd::start(ReplicaView replica) {
  share_initial_state(world_, replica);
  gossip_comm_.emplace(world_.split(0, world_.rank(), "gossip"));
  const std::size_t numel = replica.params.size();
  state_.assign(config_.gossip_momentum ? 2 * numel : numel, 0.0f);
  schedule_.emplace(config_.topology, world_.rank(), world_.size(), config_.seed);
  service_ = std::make_unique<GossipService>(*gossip_comm_, state_.size(),
                                             std::min(1.0, config_.timeout_s / 4));
  if (mode_ == Mode::pull) {
    pulled_.assign(static_cast<std::size_t>(config_.gossip_peers),
                   std::vector<float>(state_.size()));
    load_state(replica);
    service_->publish(state_);
  } else {
    push_buffers_.resize(static_cast<std::size_t>(world_.size()));
    push_sends_.resize(static_cast<std::size_t>(world_.size()));
    arrived_.assign(state_.size(), 0.0f);
  }
  service_->start();
}

void GossipSgd::load_state(ReplicaView replica) {
  std::copy(replica.params.begin(), replica.params.end(), state_.begin());
  if (!config_.gossip_momentum) return;
  // Before the first step the momentum buffer does not exist yet: zeros.
  auto rest = std::span<float>(state_).subspan(replica.params.size());
  if (replica.momentum.empty())
    std::fill(rest.begin(), rest.end(), 0.0f);
  else
    std::copy(replica.momentum.begin(), replica.momentum.end(), rest.begin());
}

void GossipSgd::store_state(ReplicaView replica) {
  std::copy_n(state_.begin(), replica.params.size(), replica.params.begin());
  if (config_.gossip_momentum && !replica.momentum.empty())
    std::copy(state_.begin() + static_cast<std::ptrdiff_t>(replica.params.size()), state_.end(),
              replica.momentum.begin());
}

void GossipSgd::after_step(ReplicaView replica, const StepInfo& step) {
  service_->check();
  ++steps_;
  const bool round = (step.step + 1) % config_.tau == 0;
  load_state(replica);
  if (mode_ == Mode::pull) {
    if (round) pull_round();
    service_->publish(state_);
  } else {
    // The trainer stepped z = x / w; the numerator follows: x = z * w.
    if (mode_ == Mode::push_sum) math::scale(state_, static_cast<float>(weight_));
    if (round) push_round();
    absorb_pushes();
  }
  store_state(replica);
}

void GossipSgd::pull_round() {
  const auto peers = schedule_->next(config_.gossip_peers);
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
  for (auto& request : requests) request.wait();
  std::vector<std::span<const float>> views(pulled_.begin(), pulled_.end());
  math::average_with_peers(state_, views);
  ++rounds_;
}

// Sends this round's shares. A push to a peer first waits for the previous one
// to that peer to be matched (taken by its communication thread), so that the
// buffer can be reused.
void GossipSgd::push_round() {
  auto peers = schedule_->next(config_.gossip_peers);
  // A peer that has not yet taken our previous push (stopped, or slow) is
  // skipped this round rather than waited for: its share stays here, so no
  // mass is lost, and this node goes on training.
  std::erase_if(peers, [this](int peer) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    return send.valid() && !send.test();
  });
  if (peers.empty()) {
    ++rounds_;
    return;
  }
  double share_weight = 1.0;
  if (mode_ == Mode::push_sum) {
    math::push_sum_share(state_, weight_, static_cast<int>(peers.size()) + 1);
    share_weight = weight_;
  }
  for (int peer : peers) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    if (send.valid()) send.wait();
    auto& buffer = push_buffers_[static_cast<std::size_t>(peer)];
    buffer.resize(kWeightFloats + state_.size());
    std::memcpy(buffer.data(), &share_weight, sizeof share_weight);
    std::copy(state_.begin(), state_.end(), buffer.begin() + kWeightFloats);
    send = gossip_comm_->issend(buffer.data(), buffer.size() * sizeof(float), peer,
                                gossip_tags::kPush, fmt::format("a push to rank {}", peer));
    bytes_sent_ += static_cast<int64_t>(buffer.size() * sizeof(float));
    ++pushes_sent_;
  }
  ++rounds_;
}

void GossipSgd::absorb_pushes() {
  if (mode_ == Mode::push_sum) {
    service_->take_pushes(state_, weight_);
    math::push_sum_debias(state_, weight_, state_);
    return;
  }
  // Average mode: the parameters become the mean of their own and what arrived.
  double ignored = 0.0;
  std::fill(arrived_.begin(), arrived_.end(), 0.0f);
  const int count = service_->take_pushes(arrived_, ignored);
  if (count == 0) return;
  for (std::size_t i = 0; i < state_.size(); ++i)
    state_[i] = (state_[i] + arrived_[i]) / static_cast<float>(count + 1);
}

void GossipSgd::wait_for_pushes() {
  for (auto& send : push_sends_) {
    if (send.valid()) send.wait();
  }
}

void GossipSgd::settle(ReplicaView replica) {
  wait_for_pushes();
  for (;;) {
    service_->check();
    double in_flight = static_cast<double>(pushes_sent_ - service_->pushes_received());
    world_.allreduce(&in_flight, 1, comm::DType::f64, comm::ReduceOp::sum, "pushes in flight");
    if (in_flight == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (mode_ != Mode::pull) absorb_into(replica);
}

std::optional<std::vector<PartDigest>> GossipSgd::quiesce_for_checkpoint(ReplicaView replica,
                                                                         int64_t, int64_t) {
  settle(replica);
  return std::vector<PartDigest>(static_cast<std::size_t>(world_.size()));
}

// Counters of traffic (and so of pushes in flight) start again from zero in a
// resumed run, on every node alike; the schedule continues where it was.
MethodState GossipSgd::checkpoint_state(ReplicaView) {
  MethodState state;
  state.meta = {{"weight", weight_},
                {"steps", steps_},
                {"rounds", rounds_},
                {"consensus_history", consensus_}};
  return state;
}

void GossipSgd::restore_state(ReplicaView replica, const MethodState& state) {
  weight_ = state.meta.at("weight").get<double>();
  steps_ = state.meta.at("steps").get<int64_t>();
  rounds_ = state.meta.at("rounds").get<int64_t>();
  consensus_ = state.meta.at("consensus_history").get<std::vector<double>>();
  schedule_.emplace(config_.topology, world_.rank(), world_.size(), config_.seed);
  for (int64_t round = 0; round < rounds_; ++round) schedule_->next(config_.gossip_peers);
  if (mode_ == Mode::pull) {
    // Peers pull the restored state from now on (before any of them trains:
    // the trainer's restore ends with a collective).
    load_state(replica);
    service_->publish(state_);
  }
}

// Takes in what arrived since the last step into the replica itself.
void GossipSgd::absorb_into(ReplicaView replica) {
  load_state(replica);
  if (mode_ == Mode::push_sum) math::scale(state_, static_cast<float>(weight_));
  absorb_pushes();
  store_state(replica);
}

// The end of the run: tell rank 0 this node has finished, then ask again (at
// least every second rank 0 answers with the count still training) until
// every node has; meanwhile this node's communication thread keeps serving.
void GossipSgd::wait_for_everyone() {
  int64_t notice = steps_, training = 1;
  while (training > 0) {
    service_->check();
    auto reply = gossip_comm_->irecv(&training, sizeof training, 0, gossip_tags::kDoneReply,
                                     "rank 0's answer to the end-of-training notice");
    gossip_comm_
        ->isend(&notice, sizeof notice, 0, gossip_tags::kDone,
                "the end-of-training notice to rank 0")
        .wait();
    reply.wait();
  }
}

void GossipSgd::finish(ReplicaView replica) {
  wait_for_pushes();
  wait_for_everyone();
  service_->stop(config_.timeout_s);
  if (mode_ != Mode::pull) absorb_into(replica);
  finished_ = true;
}

// Collective: the exact average of all replicas, and how far they are from it.
bool GossipSgd::prepare_evaluation(ReplicaView replica, ReplicaView out) {
  if (!finished_ && !synchronous_evaluation()) return false;
  const auto n = static_cast<float>(world_.size());
  // Push-sum's average is sum(x_i) / sum(w_i) = sum(w_i z_i) / sum(w_i): with
  // uneven weights (a slow node gathers mass) the plain mean of the z_i is not
  // what the nodes converge to. The other modes weigh every replica equally.
  double weight = mode_ == Mode::push_sum ? weight_ : 1.0;
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
  return true;
}

nlohmann::json GossipSgd::evaluation_figures() const {
  if (consensus_.empty()) return nlohmann::json::object();
  return {{"consensus_distance", consensus_.back()}};
}

nlohmann::json GossipSgd::summary() {
  double totals[4] = {
      mode_ == Mode::push_sum ? weight_ : 0.0,
      static_cast<double>(bytes_sent_ + service_->bytes_sent()) / std::max<int64_t>(steps_, 1),
      static_cast<double>(service_->pulls_served()),
      static_cast<double>(service_->pushes_received())};
  world_.allreduce(totals, 4, comm::DType::f64, comm::ReduceOp::sum, "gossip figures");
  nlohmann::json figures = {
      {"topology", config_.topology},
      {"gossip_peers", config_.gossip_peers},
      {"tau", config_.tau},
      {"gossip_momentum", config_.gossip_momentum},
      {"rounds_rank0", rounds_},
      {"bytes_sent_per_step", totals[1] / world_.size()},
      {"pulls_served", totals[2]},
      {"pushes_received", totals[3]},
      {"consensus_distance",
       consensus_.empty() ? nlohmann::json(nullptr) : nlohmann::json(consensus_.back())},
      {"consensus_history", consensus_}};
  if (mode_ != Mode::pull) figures["push_mode"] = config_.push_mode;
  if (mode_ == Mode::push_sum) {
    // How unevenly the mass is spread: a slow node that pushes rarely gathers weight.
    double extremes[2] = {-weight_, weight_};
    world_.allreduce(extremes, 2, comm::DType::f64, comm::ReduceOp::max, "push-sum weight range");
    figures["push_sum_total_weight"] = totals[0];
    figures["push_sum_weight_min"] = -extremes[0];
    figures["push_sum_weight_max"] = extremes[1];
  }
  return figures;
}

}  // namespace distsgd
