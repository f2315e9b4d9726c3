#include "sim/sim_gossip.hpp"

#include <algorithm>

#include "methods/periodic_average.hpp"

namespace distsgd::sim {
namespace {
constexpr double kPullRequestBytes = 8.0;  // the engine's int64 token
}

SimGossip::SimGossip(Cluster& cluster, gossip::Mode mode)
    : cluster_(cluster),
      mode_(mode),
      global_every_(cluster.config().algo == "gossip-pga" ? cluster.config().global_every : 0) {}

double SimGossip::state_wire_floats() const {
  const auto n = static_cast<double>(cluster_.settings().numel);
  return cluster_.config().gossip_momentum ? 2.0 * n : n;
}

void SimGossip::start() {
  const auto& config = cluster_.config();
  const int n = cluster_.settings().nodes;
  std::vector<float> initial, buffers;
  if (cluster_.real()) {
    initial = cluster_.source().initial_params();
    buffers = cluster_.source().initial_buffers();
  }
  nodes_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& node = nodes_[static_cast<std::size_t>(i)];
    gossip::Settings settings;
    settings.mode = mode_;
    settings.peers = config.gossip_peers;
    settings.tau = static_cast<int>(config.tau);
    settings.mix_momentum = config.gossip_momentum;
    settings.topology = config.topology;
    settings.rank = i;
    settings.nodes = n;
    settings.seed = config.seed;
    node.params = initial;
    node.grad.assign(initial.size(), 0.0f);
    node.buffers = buffers;
    node.core.emplace(settings, initial.size());
    node.core->load(node.params, node.momentum.buffer);  // what peers pull before the first step
    node.inbox = gossip::Inbox(node.core->state_size());
    node.push_arrives_s.assign(static_cast<std::size_t>(n), -1.0);
    cluster_.events().at(0.0, [this, i] { begin_step(i); });
  }
}

void SimGossip::begin_step(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  const auto time = cluster_.compute().step(i, node.step);
  if (cluster_.real()) cluster_.gradient(i, node.step, node.params, node.buffers, node.grad);
  cluster_.times(i).compute_s += time.total();
  cluster_.events().after(time.total(), [this, i] { end_compute(i); });
}

void SimGossip::end_compute(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  if (cluster_.real())
    math::sgd_step(node.params, node.grad, node.momentum, cluster_.hyper(), cluster_.lr(node.step));
  if (mode_ != gossip::Mode::pull) {
    node.core->load(node.params, node.momentum.buffer);
    node.core->begin_mixing();
    if (node.core->round_due(node.step)) push_round(i);
    node.core->absorb(node.inbox);
    node.inbox.clear();
    node.core->store(node.params, node.momentum.buffer);
    complete_step(i);
    return;
  }
  if (!node.core->round_due(node.step)) {
    mix_and_finish_step(i);
    return;
  }
  const auto peers = node.core->next_peers();
  node.pulled.resize(peers.size());
  node.answers_due = static_cast<int>(peers.size());
  node.round_sent_s = cluster_.now();
  for (std::size_t k = 0; k < peers.size(); ++k) {
    const int peer = peers[k];
    bytes_sent_ += static_cast<int64_t>(kPullRequestBytes);
    const double at_peer = cluster_.network().send(i, peer, kPullRequestBytes, cluster_.now());
    cluster_.events().at(at_peer, [this, i, peer, k] {
      // The peer's communication thread answers with its published state.
      auto answer = std::vector<float>(nodes_[static_cast<std::size_t>(peer)].core->state().begin(),
                                       nodes_[static_cast<std::size_t>(peer)].core->state().end());
      const double back =
          cluster_.network().send(peer, i, Cluster::bytes(1) * state_wire_floats(), cluster_.now());
      cluster_.events().at(back, [this, i, k, answer = std::move(answer)]() mutable {
        auto& puller = nodes_[static_cast<std::size_t>(i)];
        puller.pulled[k] = std::move(answer);
        if (--puller.answers_due == 0) pull_answered(i);
      });
    });
  }
}

void SimGossip::pull_answered(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  cluster_.times(i).comm_s += cluster_.now() - node.round_sent_s;
  node.core->load(node.params, node.momentum.buffer);
  std::vector<std::span<const float>> views(node.pulled.begin(), node.pulled.end());
  node.core->mix_pulled(views);
  node.core->store(node.params, node.momentum.buffer);
  node.pulled.clear();
  complete_step(i);
}

void SimGossip::mix_and_finish_step(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  node.core->load(node.params, node.momentum.buffer);  // published from now on
  complete_step(i);
}

// A push's share leaves now; it is added to the peer's inbox when it arrives.
void SimGossip::push_round(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  auto peers = node.core->next_peers();
  const double now = cluster_.now();
  pushes_skipped_ += static_cast<int64_t>(std::erase_if(
      peers, [&](int peer) { return node.push_arrives_s[static_cast<std::size_t>(peer)] > now; }));
  if (peers.empty()) return;
  node.core->share(static_cast<int>(peers.size()));
  for (int peer : peers) {
    std::vector<float> message;
    node.core->write_push(message);
    const double floats = static_cast<double>(message.size() - node.core->state_size()) +
                          state_wire_floats();
    bytes_sent_ += static_cast<int64_t>(Cluster::bytes(1) * floats);
    const double arrival = cluster_.network().send(i, peer, Cluster::bytes(1) * floats, now);
    node.push_arrives_s[static_cast<std::size_t>(peer)] = arrival;
    node.core->count_push();
    const double weight = mode_ == gossip::Mode::push_sum ? node.core->weight() : 0.0;
    in_flight_weight_ += weight;
    cluster_.events().at(arrival, [this, peer, weight, message = std::move(message)] {
      in_flight_weight_ -= weight;
      gossip::NodeCore::add_push(nodes_[static_cast<std::size_t>(peer)].inbox, message);
    });
  }
}

void SimGossip::complete_step(int i) {
  auto& node = nodes_[static_cast<std::size_t>(i)];
  cluster_.step_done(i);
  ++node.step;
  const auto& settings = cluster_.settings();
  if (hybrid::global_average_due(node.step - 1, global_every_)) {
    at_meeting(i, Meeting::global_average);
    return;
  }
  if (cluster_.evaluation_due(node.step)) {
    at_meeting(i, Meeting::evaluation);
    return;
  }
  if (node.step < settings.total_steps) begin_step(i);
}

// An evaluation (every --eval-every steps, or at epoch ends) or gossip-pga's
// global average: a collective of every node.
void SimGossip::at_meeting(int i, Meeting meeting) {
  waiting_.push_back(i);
  cluster_.times(i).wait_s -= cluster_.now();  // plus the time the meeting ends, below
  if (waiting_.size() < nodes_.size()) return;
  const double now = cluster_.now();
  for (int node : waiting_) cluster_.times(node).wait_s += now;
  waiting_.clear();
  if (meeting == Meeting::global_average) {
    // The engine settles first: every push in flight arrives (their events
    // come before this one at the same time) and is taken in.
    double settled = now;
    for (const auto& node : nodes_)
      for (double arrival : node.push_arrives_s) settled = std::max(settled, arrival);
    for (int node = 0; node < static_cast<int>(nodes_.size()); ++node)
      cluster_.times(node).wait_s += settled - now;
    cluster_.events().at(settled, [this] { global_average(); });
    return;
  }
  cluster_.evaluation_point();
  for (int node = 0; node < static_cast<int>(nodes_.size()); ++node) begin_step(node);
}

// The engine's GossipSgd::global_average: the weighted mean of the whole mass
// (after absorb_everything, nothing is in flight), weights back to 1.
void SimGossip::global_average() {
  absorb_everything();
  const int n = static_cast<int>(nodes_.size());
  const bool momentum = cluster_.config().gossip_momentum;
  if (cluster_.real()) {
    double weight = 0.0;
    for (const auto& node : nodes_) weight += node.core->weight();
    const auto mean_of = [&](auto&& vector_of) {
      auto& first = vector_of(nodes_.front());
      if (first.empty()) return;
      std::vector<float> mean(first.size(), 0.0f);
      for (auto& node : nodes_) {
        const auto w = static_cast<float>(node.core->weight());
        const auto& values = vector_of(node);
        for (std::size_t k = 0; k < mean.size(); ++k) mean[k] += w * values[k];
      }
      math::scale(mean, static_cast<float>(1.0 / weight));
      for (auto& node : nodes_) vector_of(node) = mean;
    };
    mean_of([](Node& node) -> std::vector<float>& { return node.params; });
    if (momentum) mean_of([](Node& node) -> std::vector<float>& { return node.momentum.buffer; });
  }
  for (auto& node : nodes_) {
    node.core->reset_weight();
    node.core->load(node.params, node.momentum.buffer);  // what peers pull from now on
  }
  const double floats = static_cast<double>(cluster_.settings().numel) * (momentum ? 2.0 : 1.0);
  const double cost = allreduce_s(cluster_.settings().allreduce, n, Cluster::bytes(1) * floats,
                                  cluster_.settings().network);
  ++global_averages_;
  global_average_s_ += cost;
  for (int node = 0; node < n; ++node) cluster_.times(node).comm_s += cost;
  cluster_.events().after(cost, [this] { after_global_average(); });
}

void SimGossip::after_global_average() {
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    const auto step = nodes_[static_cast<std::size_t>(i)].step;
    if (cluster_.evaluation_due(step))
      at_meeting(i, Meeting::evaluation);
    else if (step < cluster_.settings().total_steps)
      begin_step(i);
  }
}

void SimGossip::absorb_everything() {
  if (mode_ == gossip::Mode::pull) return;
  for (auto& node : nodes_) {
    if (node.inbox.count == 0) continue;
    node.core->load(node.params, node.momentum.buffer);
    node.core->begin_mixing();
    node.core->absorb(node.inbox);
    node.inbox.clear();
    node.core->store(node.params, node.momentum.buffer);
  }
}

EvalTarget SimGossip::evaluation_target() {
  EvalTarget target;
  const bool finished = cluster_.events().empty();
  if (finished) absorb_everything();
  if (!cluster_.real()) return target;
  // As the engine: the weighted mean sum(w_i z_i) / sum(w_i), the plain mean
  // of the statistics, and the consensus distance of the z_i from it.
  target.params.assign(nodes_.front().params.size(), 0.0f);
  double weight = 0.0;
  for (const auto& node : nodes_) {
    const auto w = static_cast<float>(node.core->weight());
    for (std::size_t k = 0; k < target.params.size(); ++k) target.params[k] += w * node.params[k];
    weight += node.core->weight();
  }
  math::scale(target.params, static_cast<float>(1.0 / weight));
  if (!nodes_.front().buffers.empty()) {
    target.buffers.assign(nodes_.front().buffers.size(), 0.0f);
    for (const auto& node : nodes_)
      for (std::size_t k = 0; k < target.buffers.size(); ++k) target.buffers[k] += node.buffers[k];
    math::scale(target.buffers, 1.0f / static_cast<float>(nodes_.size()));
  }
  double distance = 0.0;
  for (const auto& node : nodes_) distance += math::relative_squared_distance(node.params, target.params);
  consensus_.push_back(distance / static_cast<double>(nodes_.size()));
  target.figures["consensus_distance"] = consensus_.back();
  return target;
}

double SimGossip::node_weight(int i) const { return nodes_[static_cast<std::size_t>(i)].core->weight(); }

double SimGossip::total_weight() const {
  double total = in_flight_weight_;
  for (const auto& node : nodes_) total += node.core->weight() + node.inbox.weight;
  return total;
}

nlohmann::json SimGossip::summary() const {
  int64_t rounds = 0, pushes = 0;
  for (const auto& node : nodes_) {
    rounds += node.core->rounds();
    pushes += node.core->pushes_sent();
  }
  nlohmann::json figures = {{"gossip_rounds", rounds},
                            {"gossip_bytes_sent", bytes_sent_},
                            {"consensus_history", consensus_}};
  if (mode_ != gossip::Mode::pull) {
    figures["pushes_sent"] = pushes;
    figures["pushes_skipped"] = pushes_skipped_;
  }
  if (mode_ == gossip::Mode::push_sum) figures["total_weight"] = total_weight();
  if (global_every_ > 0) {
    figures["global_every"] = global_every_;
    figures["global_averages"] = global_averages_;
    figures["global_average_s"] = global_average_s_;
  }
  return figures;
}

}  // namespace distsgd::sim
