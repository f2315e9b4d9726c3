#pragma once
// ASGD and EASGD on the virtual cluster: workers 0..W-1 and servers W..N-1,
// as in the engine. The rules are ps::WorkerCore and ps::ServerCore
// (src/methods), called as the MPI drivers call them; this class moves their
// messages on the network model:
//   - a worker computes its gradient at the parameters it holds when its step
//     starts (ASGD: the shards the servers last sent it), so staleness is
//     whatever the order of events makes it;
//   - a request crosses the worker's outgoing and the server's incoming link
//     (requests converging on a server queue there), the server handles one
//     request at a time (an update costs its floats times the measured rate),
//     and its replies cross the links back;
//   - a finished worker keeps asking every server until told all are done
//     (the server answers every heartbeat), which is what releases workers
//     held by --max-staleness when a slow one finishes.
// With --timing-only the cores run on empty vectors while the messages cost
// what the real model's would.
#include <optional>

#include "methods/ps_layout.hpp"
#include "methods/ps_server_core.hpp"
#include "methods/ps_worker_core.hpp"
#include "sim/cluster.hpp"

namespace distsgd::sim {

class SimParameterServer final : public SimMethod {
 public:
  SimParameterServer(Cluster& cluster, PsMethod method);
  void start() override;
  EvalTarget evaluation_target() override;
  nlohmann::json summary() const override;
  int workers() const override { return wire_.workers; }

 private:
  struct Worker {
    std::vector<float> params, grad, buffers;
    math::MomentumState momentum;  // EASGD's local SGD
    std::optional<ps::WorkerCore> core;
    int64_t step = 0;
    ps::Kind exchanging = ps::Kind::pull;
    std::vector<char> awaiting;  // per shard: a reply is due
    std::vector<char> again;     // done: servers still counting workers in training
    double sent_s = 0.0;
    int64_t exchanges = 0;
    double exchange_s = 0.0;
  };
  struct Server {
    std::optional<ps::ServerCore> core;
    double busy_until = 0.0;
    bool ticking = false;
    bool closed = false;
  };

  void begin_step(int worker);
  void end_compute(int worker);
  void complete_step(int worker);
  // Sends `kind` to the servers marked in `to` (all when empty).
  void exchange(int worker, ps::Kind kind, std::span<const float> full,
                const std::vector<char>& to = {});
  void arrive_at_server(int shard, int worker, std::vector<float> message, double cost_s);
  void serve(int shard, int worker, const std::vector<float>& message);
  void send_replies(int shard, std::vector<ps::Reply>& replies, double at);
  void tick(int shard);
  void arrive_at_worker(int worker, int shard, std::vector<float> message);
  double wire_floats(int shard, ps::Kind kind) const;

  Cluster& cluster_;
  PsMethod method_;
  PsLayout wire_;   // the real model's shards: what messages cost
  PsLayout state_;  // the shards held (empty when timing only)
  std::vector<Worker> workers_;
  std::vector<Server> servers_;
  double heartbeat_s_ = 1.0;
};

}  // namespace distsgd::sim
