#pragma once
// Gossiping SGD (Jin, Yuan, Iandola, Keutzer 2016) over MPI: no server and no
// global barrier; every --tau steps each node mixes its state with
// --gossip-peers peers chosen by --topology. The rules (schedule, pull
// averaging, push-sum share and absorb, push-average) are in
// methods/gossip_core.hpp; this class is their MPI driver, with a
// communication thread (gossip_service.hpp) that answers peers.
//
//   gossip-pull: fetch each peer's state (its communication thread answers from
//                a consistent snapshot while it keeps training) and average.
//   gossip-push, --push-mode sum (push-sum): keep 1/(r+1) of (x_i, w_i), send
//                the same share to each peer, add what arrived, train on
//                z_i = x_i / w_i. The total weight stays the number of nodes.
//   gossip-push, --push-mode average: the seed's variant (not mass-conserving).
//
// Evaluations are the only global synchronisations: they score the exact
// average of the replicas and measure the consensus distance, mean over nodes
// of ||x_i - x_avg||^2 / ||x_avg||^2.
//
// gossip-pga (Chen et al. 2021) is this class with --global-every H: every H
// steps, after the step's gossip round, an exact average of every node's
// model by all-reduce (gossip_global_average.cpp).
//
// Checkpoints come in parts: at the end of a checkpoint epoch the nodes settle
// (no push in flight; one all-reduce per poll), then each writes its replica,
// momentum, push-sum weight and place in the peer schedule. Not with
// --leave-early (nodes stop at different epochs).
//
// --survive-worker-loss (gossip_survival.cpp), under mpirun --enable-recovery:
// a node stops choosing a peer that leaves a push untaken or a pull
// unanswered past --timeout-s (the push is let go, its push-sum weight counted
// as lost; the pull is abandoned and mixed without). Rank 0 alone decides who
// is lost (a node silent past --timeout-s: gossip_service.hpp's heartbeats) and
// tells every survivor in the end-of-run answer; the survivors then move to a
// communicator of themselves for the collectives of the end (evaluation of
// their average, summary). Since any collective of a node that dies can never
// complete, nodes then meet only at the end: as with --leave-early, rank 0
// evaluates its own replica during training, each node stops on its own and
// no checkpoints are taken. A lost rank 0 is not survived: the others train to
// the end, then wait for its end-of-run answer until --timeout-s and end
// naming it.
#include <memory>
#include <optional>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/gossip_service.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "methods/gossip_core.hpp"

namespace distsgd {

class GossipSgd : public Algorithm, private MethodCheckpoints {
 public:
  // `workers` (optional): the trainer's communicator of the workers, moved to
  // the survivors with `world` when a node was lost.
  GossipSgd(gossip::Mode mode, const TrainConfig& config, comm::Communicator& world,
            comm::Communicator* workers = nullptr);
  ~GossipSgd() override;

  MethodTraits traits() const override;
  void start(ReplicaView replica) override;
  void after_step(ReplicaView replica, const StepInfo& step) override;
  EvaluationTarget prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  MethodEnd finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  MethodCheckpoints* checkpoints() override { return meet_during_training() ? this : nullptr; }

  // Collective: waits until every push sent by any node has been taken in by
  // its receiver, then absorbs them, so that the replicas and push-sum
  // weights can be compared (tests; the run itself never needs it).
  void settle(ReplicaView replica);
  double weight() const { return core_->weight(); }
  double consensus_distance() const { return consensus_.empty() ? 0.0 : consensus_.back(); }
  // Tests: this node goes silent as a killed one does (its communication
  // thread stops; it sends and answers nothing more). Not on rank 0.
  void vanish();

 private:
  std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(ReplicaView replica,
                                                                      int64_t epoch,
                                                                      int64_t step) override;
  Checkpoint state(ReplicaView replica) override;
  void restore(ReplicaView replica, const Checkpoint& state) override;
  void pull_round();
  void push_round();
  void absorb_pushes();
  void absorb_into(ReplicaView replica);
  void wait_for_pushes();
  // Returns the nodes rank 0 found lost (--survive-worker-loss; else none).
  std::vector<int> wait_for_everyone();
  // gossip-pga: every node's model becomes the exact mean (collective).
  void global_average(ReplicaView replica);

  gossip::Mode mode_;
  TrainConfig config_;
  comm::Communicator& world_;
  std::optional<comm::Communicator> gossip_comm_;
  std::optional<gossip::NodeCore> core_;
  std::unique_ptr<GossipService> service_;
  gossip::Inbox arrived_;
  std::vector<std::vector<float>> pulled_;
  std::vector<std::vector<float>> push_buffers_;  // one per destination rank
  std::vector<comm::Request> push_sends_;         // one per destination rank
  int64_t steps_ = 0, bytes_sent_ = 0, pushes_skipped_ = 0;
  bool finished_ = false;
  std::vector<double> consensus_;
  int global_every_ = 0;  // gossip-pga: steps between exact averages; 0: plain gossip
  int64_t global_averages_ = 0;
  double global_average_s_ = 0.0;

  // --survive-worker-loss (gossip_survival.cpp; see the comment at the top).
  bool meet_during_training() const {
    return config_.leave_early.empty() && !config_.survive_worker_loss;
  }
  void lose_peer(int peer, const std::string& why);
  void lose_push_to(int peer);
  void give_up_untaken_pushes();
  void wait_or_give_up_pushes();
  void mix_answered_pulls(const std::vector<int>& peers, std::vector<comm::Request>& requests);
  void move_to_survivors(const std::vector<int>& lost);
  comm::Communicator* workers_ = nullptr;
  std::vector<std::vector<float>> abandoned_;  // buffers of abandoned pulls: never reused
};

}  // namespace distsgd
