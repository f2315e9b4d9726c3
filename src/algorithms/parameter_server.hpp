#pragma once
// Asynchronous parameter-server SGD over MPI: plain asynchronous SGD
// (Downpour, --algo asgd) and elastic averaging SGD (Zhang, Choromanska, LeCun
// 2015, --algo easgd). The rules are in src/methods/ (ps_worker_core.hpp,
// ps_server_core.hpp, ps_protocol.hpp); these classes are their MPI drivers.
// The last S ranks are servers, each holding one balanced shard
// (methods/ps_layout.hpp). Workers never wait for each other, only for their
// own round trip to each server (in parallel over the servers).
//
// Evaluation uses the servers' parameters (ASGD) or the centre (EASGD): worker
// 0 pulls them during training; at the end every rank gets the final shards.
//
// Checkpoints come in parts (train/checkpointer.hpp): at the end of a
// checkpoint epoch every worker asks every server for its part; a server
// writes it once every worker has asked, that is once nothing is in flight,
// and then answers. So a checkpoint costs a rendezvous of the workers: the
// fastest waits there for the slowest. A worker that finished (stopped by a
// signal) means no checkpoint: the others are told so and stop too. Not with
// --leave-early (workers stop at different epochs).
#include <memory>
#include <optional>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/server_method.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "methods/ps_layout.hpp"
#include "methods/ps_server_core.hpp"
#include "methods/ps_worker_core.hpp"

namespace distsgd {

// Collective over the job: every rank gets the servers' final parameters.
// Servers pass their shard and index, workers an empty span and -1.
std::vector<float> gather_final_shards(comm::Communicator& world, const PsLayout& layout,
                                       std::span<const float> own_shard, int own_index);

// Collective over the job: the servers' statistics summed and maximised over
// every rank (workers pass empty ones), as summary.json figures.
nlohmann::json reduce_server_stats(const ps::ServerStats& stats, comm::Communicator& world,
                                   int servers);

// The traits of ASGD and EASGD, on workers and servers alike.
MethodTraits ps_traits(PsMethod method, const TrainConfig& config);

// --survive-worker-loss (parameter_server_survival.cpp). Servers: agree on the
// lost workers (the first server gathers and sends the union to every
// survivor). Workers: receive that list. Then every survivor moves `world` (and
// a worker its `workers`) to communicators of the survivors.
std::vector<int> agree_on_lost_workers(comm::Communicator& world, const PsLayout& layout,
                                       std::vector<int> lost);
std::vector<int> receive_lost_workers(comm::Communicator& world, const PsLayout& layout);
void move_to_survivors(comm::Communicator& world, comm::Communicator* workers, PsLayout& layout,
                       const std::vector<int>& lost);

class ParameterServerWorker : public Algorithm, private MethodCheckpoints {
 public:
  ParameterServerWorker(PsMethod method, const TrainConfig& config, comm::Communicator& world,
                        comm::Communicator& workers);

  MethodTraits traits() const override { return ps_traits(method_, config_); }
  void start(ReplicaView replica) override;
  void before_step(ReplicaView replica, const StepInfo& step) override;
  void after_step(ReplicaView replica, const StepInfo& step) override;
  EvaluationTarget prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  MethodEnd finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  MethodCheckpoints* checkpoints() override {
    return config_.leave_early.empty() ? this : nullptr;
  }

 private:
  std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(ReplicaView replica,
                                                                      int64_t epoch,
                                                                      int64_t step) override;
  Checkpoint state(ReplicaView) override { return core_->checkpoint_state(); }
  void restore(ReplicaView, const Checkpoint& state) override {
    core_->restore_state(state, world_.rank());
  }
  // One round trip with every server (or those with only[s] set): sends the
  // request of `kind` (each server gets its shard of `full`; empty for pull,
  // done and checkpoint) and waits for the replies in inbox_.
  void exchange(ps::Kind kind, std::span<const float> full, const StepInfo& step,
                const std::vector<char>& only = {});
  // Repeats a header-only request to every server until each has answered
  // with something other than "ask again" (done, checkpoint).
  template <typename Settled>
  void until_settled(ps::Kind kind, const StepInfo& step, Settled settled);

  PsMethod method_;
  TrainConfig config_;
  comm::Communicator& world_;
  comm::Communicator& workers_;
  std::optional<ps::WorkerCore> core_;
  std::vector<std::vector<float>> outbox_, inbox_;
  std::vector<float> final_params_;
  bool finished_ = false;
  std::vector<int> lost_;  // --survive-worker-loss: workers the servers dropped
  int64_t exchanges_ = 0;
  double exchange_s_ = 0.0;
};

class ParameterServer : public ServerMethod, private MethodCheckpoints {
 public:
  ParameterServer(PsMethod method, const TrainConfig& config, comm::Communicator& world);
  ~ParameterServer() override;

  MethodTraits traits() const override { return ps_traits(method_, config_); }
  void start(ReplicaView replica) override;
  void serve(PartWriter writer) override;
  void finish() override;
  nlohmann::json summary() override;
  std::vector<int> lost_ranks() const override { return lost_; }
  MethodCheckpoints* checkpoints() override {
    return config_.leave_early.empty() ? this : nullptr;
  }

 private:
  struct Link;  // the receive and the reply in flight of one worker
  std::optional<std::vector<std::optional<CheckpointDigest>>> prepare(ReplicaView, int64_t,
                                                                      int64_t) override {
    return std::vector<std::optional<CheckpointDigest>>{};
  }
  Checkpoint state(ReplicaView) override;
  void restore(ReplicaView, const Checkpoint& state) override;
  void post_receive(int worker);
  void send(ps::Reply reply);

  PsMethod method_;
  TrainConfig config_;
  comm::Communicator& world_;
  PsLayout layout_;
  int shard_ = 0;
  math::Range range_;
  std::optional<ps::ServerCore> core_;
  std::vector<Link> links_;
  std::vector<int> lost_;  // --survive-worker-loss: workers dropped (agreed in finish())
};

}  // namespace distsgd
