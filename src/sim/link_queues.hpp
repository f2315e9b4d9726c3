#pragma once
// The links of the simulated cluster and their contention. Every node has one
// outgoing and one incoming link (full duplex: sending and receiving do not
// compete), each a FIFO queue: a message waits until the link is free.
//
// A message of S bytes from A to B handed to the network at time t, with the
// cost (latency L, bandwidth W) of its size's range:
//   tx_start = max(t, out_free[A]);   out_free[A] = tx_start + S/W
//   rx_start = max(tx_start + L, in_free[B])
//   arrival  = in_free[B] = rx_start + S/W
// Cut-through: the tail arrives L after it left A's link, unless B's
// incoming link is still receiving an earlier message, when it streams in
// behind that one. So two messages that converge on one receiver at the same
// time arrive one transfer time S/W apart, and one sender's messages leave in
// the order they were handed over. The switch between is ideal (no losses, no
// buffers that fill, no oversubscription of the core).
//
// Without queues (contention off), every message costs only L + S/W from t.
//
// The queues follow the order of the calls: a caller that hands over a
// message with an earlier `now` than one already queued puts it behind that
// one (as a real NIC would). Deterministic: the same calls give the same times.
#include <vector>

#include "sim/network_profile.hpp"

namespace distsgd::sim {

class LinkQueues {
 public:
  // nodes >= 1 (ConfigError otherwise). queues = false: no contention.
  LinkQueues(int nodes, NetworkProfile profile, bool queues = true);

  // The time the message has fully arrived at `to`. from == to: `now` (no
  // network). Node ids outside [0, nodes): std::out_of_range; negative or NaN
  // bytes, or a NaN now: std::invalid_argument.
  double send(int from, int to, double bytes, double now);

  // Seconds this node's outgoing link spent sending, its incoming link
  // receiving (S/W per message: latency keeps no link busy), and their sum,
  // which can exceed the wall time since the two links work at once.
  double sent_s(int node) const;
  double received_s(int node) const;
  double busy_s(int node) const { return sent_s(node) + received_s(node); }

  int nodes() const { return static_cast<int>(out_free_.size()); }
  bool queues() const { return queues_; }
  const NetworkProfile& profile() const { return profile_; }

 private:
  int checked(int node, const char* role) const;

  NetworkProfile profile_;
  bool queues_;
  // When each link is next free, and how long it has been busy.
  std::vector<double> out_free_, in_free_, sent_s_, received_s_;
};

}  // namespace distsgd::sim
