#pragma once
// Asynchronous parameter-server SGD: plain asynchronous SGD (Downpour, --algo
// asgd) and elastic averaging SGD (Zhang, Choromanska, LeCun 2015, --algo
// easgd). The last S ranks are servers; the flat parameter vector is split
// into S balanced contiguous shards, one per server. Workers never wait for
// each other, only for their own round trip to each server (ps_protocol.hpp).
//
//   ASGD:  worker: gradient on its parameters -> push to every shard's server;
//          server: SGD with momentum on its shard, version += 1, reply with the
//          shard's new parameters, which the worker trains on next.
//   EASGD: worker: local SGD with momentum (EAMSGD); every tau steps, per
//          shard: server replies with the centre c and then sets c += d, the
//          worker sets x -= d, with d = alpha * (x - c), alpha = beta / workers.
//
// --max-staleness K: a server holds its reply to a worker that is more than K
// updates ahead of the slowest worker still training (stale-synchronous).
//
// Evaluation uses the server's parameters (ASGD) or the centre (EASGD); a
// finished worker tells each server so, and a server serves until all have.
//
// Checkpoints come in parts (train/checkpoint.hpp): at the end of a checkpoint
// epoch every worker asks every server for its part (ps::Kind::checkpoint);
// a server writes it (shard, momentum, version, clocks) once every worker has
// asked, that is once nothing is in flight, and then answers. So a checkpoint
// costs a rendezvous of the workers: the fastest waits there for the slowest.
// A worker that finished (stopped by a signal) means no checkpoint: the others
// are told so and stop too. Not with --leave-early (workers stop at different
// epochs).
#include <memory>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "algorithms/initial_state.hpp"
#include "algorithms/ps_protocol.hpp"
#include "algorithms/server_stats.hpp"
#include "algorithms/update_math.hpp"
#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace distsgd {

enum class PsMethod { asgd, easgd };

// Who is who: ranks [0, workers) train, ranks [workers, workers + servers) serve.
struct PsLayout {
  int workers = 0;
  int servers = 0;
  std::vector<math::Range> shards;  // shard s is held by rank workers + s
  int server_rank(int shard) const { return workers + shard; }
};

// Throws ConfigError when `nodes` cannot hold `servers` servers and a worker.
PsLayout make_ps_layout(int64_t numel, int nodes, int servers);

// Collective over the job: every rank gets the servers' final parameters.
// Servers pass their shard and index, workers an empty span and -1.
std::vector<float> gather_final_shards(comm::Communicator& world, const PsLayout& layout,
                                       std::span<const float> own_shard, int own_index);

// --survive-worker-loss (parameter_server_survival.cpp). Servers: agree on the
// lost workers (the first server gathers and sends the union to every
// survivor). Workers: receive that list. Then every survivor moves `world` (and
// a worker its `workers`) to communicators of the survivors.
std::vector<int> agree_on_lost_workers(comm::Communicator& world, const PsLayout& layout,
                                       std::vector<int> lost);
std::vector<int> receive_lost_workers(comm::Communicator& world, const PsLayout& layout);
void move_to_survivors(comm::Communicator& world, comm::Communicator* workers, PsLayout& layout,
                       const std::vector<int>& lost);

class ParameterServerWorker : public Algorithm {
 public:
  ParameterServerWorker(PsMethod method, const TrainConfig& config, comm::Communicator& world,
                        comm::Communicator& workers);

  std::string name() const override { return method_ == PsMethod::asgd ? "asgd" : "easgd"; }
  bool replaces_optimizer_step() const override { return method_ == PsMethod::asgd; }
  bool synchronous_evaluation() const override { return false; }
  bool supports_checkpoints() const override { return config_.leave_early.empty(); }
  bool checkpoints_in_parts() const override { return true; }
  void start(ReplicaView replica) override;
  std::optional<std::vector<PartDigest>> quiesce_for_checkpoint(ReplicaView replica, int64_t epoch,
                                                                int64_t step) override;
  MethodState checkpoint_state(ReplicaView replica) override;
  void restore_state(ReplicaView replica, const MethodState& state) override;
  void before_step(ReplicaView replica, const StepInfo& step) override;
  void after_step(ReplicaView replica, const StepInfo& step) override;
  bool prepare_evaluation(ReplicaView replica, ReplicaView out) override;
  void finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  std::vector<int> lost_ranks() const override { return lost_; }

 private:
  // One round trip with every server (or those with only[s] set): sends
  // `payload` (the full vector, each server gets its shard; empty for pull and
  // done) and waits for the replies in inbox_.
  void exchange(ps::Kind kind, std::span<const float> payload, const StepInfo& step,
                const std::vector<char>& only = {});
  std::span<const float> reply_shard(int shard) const;

  PsMethod method_;
  TrainConfig config_;
  comm::Communicator& world_;
  comm::Communicator& workers_;
  PsLayout layout_;
  std::vector<std::vector<float>> outbox_, inbox_;
  std::vector<int64_t> versions_;  // the last version seen from each server
  std::vector<float> final_params_;
  bool finished_ = false;
  std::vector<int> lost_;  // --survive-worker-loss: workers the servers dropped
  int64_t exchanges_ = 0;
  double exchange_s_ = 0.0;
};

class ParameterServer : public Algorithm {
 public:
  ParameterServer(PsMethod method, const TrainConfig& config, comm::Communicator& world);
  ~ParameterServer() override;

  std::string name() const override { return method_ == PsMethod::asgd ? "asgd" : "easgd"; }
  Role role() const override { return Role::server; }
  bool supports_checkpoints() const override { return config_.leave_early.empty(); }
  bool checkpoints_in_parts() const override { return true; }
  void start(ReplicaView replica) override;
  void set_part_writer(PartWriter writer) override { part_writer_ = std::move(writer); }
  MethodState checkpoint_state(ReplicaView replica) override;
  void restore_state(ReplicaView replica, const MethodState& state) override;
  void serve(ReplicaView replica) override;
  void finish(ReplicaView replica) override;
  nlohmann::json summary() override;
  std::vector<int> lost_ranks() const override { return lost_; }

 private:
  struct Peer;
  void post_receive(int worker);
  void handle(int worker);
  void reply(int worker, ps::Kind kind);
  void release_held_replies();
  void answer_finished_workers(bool all_done);
  void progress_checkpoint();
  void reply_checkpoint(int worker, int64_t status, uint32_t crc);
  int64_t slowest_live_clock() const;
  int live_workers() const;
  void check_silent_workers();
  void drop_lost_worker(int worker, const std::string& why);

  PsMethod method_;
  TrainConfig config_;
  comm::Communicator& world_;
  PsLayout layout_;
  int shard_ = 0;
  math::Range range_;
  std::vector<float> params_;  // this server's shard (ASGD) or centre (EASGD)
  math::MomentumState momentum_;
  math::SgdHyper hyper_;
  float alpha_ = 0.0f;
  int64_t version_ = 0;
  std::vector<Peer> peers_;
  ps::ServerStats stats_;
  PartWriter part_writer_;
  // The checkpoint the workers are gathering for (epoch, or -1), and once every
  // worker has asked or finished, the answer: part size or kCheckpointStopped.
  int64_t checkpoint_epoch_ = -1;
  std::optional<int64_t> checkpoint_status_;
  uint32_t checkpoint_crc_ = 0;
  std::vector<int> lost_;  // --survive-worker-loss: workers dropped (agreed in finish())
};

}  // namespace distsgd
