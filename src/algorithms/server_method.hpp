#pragma once
// A server rank's part in a method (the parameter servers of ASGD and EASGD):
// start -> serve until every worker has finished -> finish -> summary. The
// rules are in methods/ps_server_core.hpp; this is the driver's interface.
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "algorithms/algorithm.hpp"

namespace distsgd {

// Writes this rank's part of the checkpoint at the end of `epoch` and returns
// its digest (the trainer's checkpointer, given to the server).
using PartWriter = std::function<CheckpointDigest(int64_t epoch)>;

class ServerMethod {
 public:
  virtual ~ServerMethod() = default;
  virtual MethodTraits traits() const = 0;
  // Collective with the workers' start().
  virtual void start(ReplicaView replica) = 0;
  // Answers workers until every one of them has finished; writes this rank's
  // checkpoint parts with `writer` when the workers ask for one.
  virtual void serve(PartWriter writer) = 0;
  // After serve; collective with the workers' finish().
  virtual void finish() = 0;
  // Collective with the workers' summary().
  virtual nlohmann::json summary() = 0;
  virtual std::vector<int> lost_ranks() const = 0;
  virtual MethodCheckpoints* checkpoints() { return nullptr; }
};

}  // namespace distsgd
