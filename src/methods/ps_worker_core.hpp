#pragma once
// The worker side of ASGD and EASGD: what to send to each server and what to
// do with each reply, with no waiting inside (the MPI worker,
// algorithms/parameter_server_worker.cpp, sends and waits; a simulator
// delivers on a virtual clock). Messages follow ps_protocol.hpp.
//
//   ASGD:  after backward, push the gradient's shard to each server; train on
//          the parameter shard each sends back.
//   EASGD: local SGD with momentum; every tau steps, send the replica's shard
//          to each server, which answers with the centre c before its move;
//          then x -= alpha * (x - c), the same d the server added to c.
#include <cstdint>
#include <span>
#include <vector>

#include "core/checkpoint_record.hpp"
#include "methods/ps_layout.hpp"
#include "methods/ps_protocol.hpp"

namespace distsgd::ps {

class WorkerCore {
 public:
  WorkerCore(PsMethod method, PsLayout layout, int tau, float alpha);

  const PsLayout& layout() const { return layout_; }
  // EASGD exchanges after step `step` (counted from 0) every tau steps.
  bool elastic_due(int64_t step) const;

  // The request of `kind` to the server of `shard` into `message` (resized):
  // the header, then that shard of `full` (the gradient or the replica; empty
  // for pull, done and checkpoint).
  void write_request(int shard, Kind kind, std::span<const float> full, int64_t step,
                     int64_t epoch, double lr, std::vector<float>& message) const;
  // A reply from the server of `shard` to a request of `kind`: checks its kind
  // (RuntimeFailure naming the server when it is not the one asked for),
  // records the server's version (not a pull's: the worker does not compute
  // on what it pulls for evaluation), and returns its header.
  Header read_reply(int shard, Kind kind, std::span<const float> message);
  // ASGD and pull replies: the shard's parameters into `params` (the full vector).
  void take_parameters(int shard, std::span<const float> message, std::span<float> params) const;
  // EASGD reply: x -= alpha * (x - c) on the shard of `params`.
  void take_elastic(int shard, std::span<const float> message, std::span<float> params) const;

  const std::vector<int64_t>& versions() const { return versions_; }
  Checkpoint checkpoint_state() const;
  // Throws DataError (naming `rank`) when the part knows another number of servers.
  void restore_state(const Checkpoint& state, int rank);

 private:
  PsMethod method_;
  PsLayout layout_;
  int tau_;
  float alpha_;
  // Per server, the version of the shard the worker computes on (the last
  // push or elastic reply), which each request tells the server.
  std::vector<int64_t> versions_;
};

}  // namespace distsgd::ps
