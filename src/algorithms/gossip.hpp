#pragma once
// Gossiping SGD (Jin, Yuan, Iandola, Keutzer 2016): no server and no global
// barrier; every --tau steps each node mixes its state with --gossip-peers
// peers chosen by --topology (topology.hpp).
//
//   gossip-pull: fetch each peer's state (its communication thread answers from
//                a consistent snapshot while it keeps training) and average:
//                x_i = (x_i + x_j1 + ... + x_jr) / (r + 1).
//   gossip-push, --push-mode sum (push-sum): the node holds a numerator x_i and
//                a weight w_i (initially 1) and trains on z_i = x_i / w_i; it
//                keeps 1/(r+1) of (x_i, w_i), sends the same share to each peer
//                and adds whatever arrived. The total weight stays the number
//                of nodes.
//   gossip-push, --push-mode average: the seed's variant: the receiver
//                averages its parameters with what arrived (not
//                mass-conserving).
//
// Momentum buffers stay local unless --gossip-momentum (then they are mixed
// with the same weights). Evaluations are the only global synchronisations:
// they score the exact average of the replicas and measure the consensus
// distance, mean over nodes of ||x_i - x_avg||^2 / ||x_avg||^2.
//
// Checkpoints come in parts (train/checkpoint.hpp): at the end of a checkpoint
// epoch the nodes settle (no push in flight; one all-reduce per poll), then each
// writes its replica, momentum, push-sum weight and place in the peer schedule.
// Not with --leave-early (nodes stop at different epochs).
#include <memory>
#include <optional>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/gossip_service.hpp"
#include "algorithms/topology.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

class GossipSgd : public Algorithm {
 public:
  enum class Mode { pull, push_sum, push_average };

  GossipSgd(Mode mode, const TrainConfig& config, comm::Communicator& world);
  ~GossipSgd() override;

  std::string name() const override { return mode_ == Mode::pull ? "gossip-pull" : "gossip-push"; }
  // With --leave-early nodes end at different steps, so during training rank
  // 0 evaluates its own replica alone; at the end all nodes evaluate together.
  bool synchronous_evaluation() const override { return config_.leave_early.empty(); }
  bool supports_checkpoints() const override { return config_.leave_early.empty(); }
  bool checkpoints_in_parts() const override { return true; }
  void start(ReplicaView replica) override;
  std::optional<std::vector<PartDigest>> quiesce_for_checkpoint(ReplicaView replica, int64_t epoch,
                                                                int64_t step) override;
  MethodState checkpoint_state(ReplicaView replica) override;
  void restore_state(ReplicaView replica, const MethodState& state) override;
  void after_step(ReplicaView replica, const StepInfo& step) override;
  bool prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  void finish(ReplicaView replica) override;
  nlohmann::json evaluation_figures() const override;
  nlohmann::json summary() override;

  // Collective: waits until every push sent by any node has been taken in by
  // its receiver, then absorbs them, so that the replicas and push-sum
  // weights can be compared (tests; the run itself never needs it).
  void settle(ReplicaView replica);
  double weight() const { return weight_; }
  double consensus_distance() const { return consensus_.empty() ? 0.0 : consensus_.back(); }

 private:
  void load_state(ReplicaView replica);   // state_ = params (+ momentum)
  void store_state(ReplicaView replica);  // params (+ momentum) = state_
  void pull_round();
  void push_round();
  void absorb_pushes();
  void absorb_into(ReplicaView replica);
  void wait_for_pushes();
  void wait_for_everyone();

  Mode mode_;
  TrainConfig config_;
  comm::Communicator& world_;
  std::optional<comm::Communicator> gossip_comm_;
  std::unique_ptr<GossipService> service_;
  std::optional<PeerSchedule> schedule_;
  std::vector<float> state_, arrived_;
  std::vector<std::vector<float>> pulled_;
  std::vector<std::vector<float>> push_buffers_;  // one per destination rank
  std::vector<comm::Request> push_sends_;         // one per destination rank
  double weight_ = 1.0;
  int64_t steps_ = 0, rounds_ = 0, bytes_sent_ = 0, pushes_sent_ = 0;
  bool finished_ = false;
  std::vector<double> consensus_;
};

}  // namespace distsgd
