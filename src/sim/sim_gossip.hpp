#pragma once
// Gossiping SGD (pull, push-sum, push-average) on the virtual cluster. The
// rules are gossip::NodeCore (src/methods), called in the engine's order
// (algorithms/gossip.cpp); this class moves the messages:
//   - pull: a node due for a round sends a small request to each peer; the
//     peer's communication thread answers at once with the state it last
//     published (the NodeCore's state: it is loaded with the new parameters
//     only when the node mixes, so a node still waiting for its own pulls
//     answers with its previous state, as the engine's snapshot does); the
//     node mixes when every answer has arrived;
//   - push: a node shares its state and sends each share without waiting; a
//     share is added to the peer's inbox when it arrives, and taken in at the
//     peer's next step; a peer whose previous push from this node has not
//     arrived yet is skipped that round (the engine's synchronous sends);
//   - evaluations at epoch ends are meetings of every node (collectives in
//     the engine): the first to arrive waits for the last;
//   - gossip-pga: every --global-every steps a meeting too, which waits for
//     the pushes in flight (the engine's settle), then gives every node the
//     exact mean (push-sum: weighted, weights back to 1) after allreduce_s()
//     of the model's floats.
// The push-sum weight of every node, inbox and message in flight sums to the
// number of nodes at every moment (tested).
#include <optional>

#include "methods/gossip_core.hpp"
#include "sim/cluster.hpp"

namespace distsgd::sim {

class SimGossip final : public SimMethod {
 public:
  SimGossip(Cluster& cluster, gossip::Mode mode);
  void start() override;
  EvalTarget evaluation_target() override;
  nlohmann::json summary() const override;
  int workers() const override { return cluster_.settings().nodes; }

  // Push-sum: the weight held by every node and inbox, plus that in flight.
  double total_weight() const;
  double node_weight(int node) const;

 private:
  struct Node {
    std::vector<float> params, grad, buffers;
    math::MomentumState momentum;
    std::optional<gossip::NodeCore> core;
    gossip::Inbox inbox;
    int64_t step = 0;
    // pull: the answers of this round
    std::vector<std::vector<float>> pulled;
    int answers_due = 0;
    double round_sent_s = 0.0;
    std::vector<double> push_arrives_s;  // per peer: when this node's last push to it arrives
  };

  void begin_step(int node);
  void end_compute(int node);
  void pull_answered(int node);
  void mix_and_finish_step(int node);
  void push_round(int node);
  void complete_step(int node);
  enum class Meeting { evaluation, global_average };
  void at_meeting(int node, Meeting meeting);
  void global_average();
  void after_global_average();
  void absorb_everything();
  double state_wire_floats() const;

  Cluster& cluster_;
  gossip::Mode mode_;
  std::vector<Node> nodes_;
  std::vector<int> waiting_;  // nodes at the epoch-end meeting
  double in_flight_weight_ = 0.0;
  std::vector<double> consensus_;
  int64_t pushes_skipped_ = 0, bytes_sent_ = 0;
  int global_every_ = 0;  // gossip-pga's --global-every; 0: plain gossip
  int64_t global_averages_ = 0;
  double global_average_s_ = 0.0;
};

}  // namespace distsgd::sim
