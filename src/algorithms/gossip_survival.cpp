// --survive-worker-loss for gossip (pull, push-sum, push-average), under
// `mpirun --enable-recovery`. Open MPI never says that a rank died
// (../shared/notes/open-mpi-faults.md): a send to it stays pending for good
// (MPI_Cancel does nothing; MPI_Request_free is safe), a receive from it never
// completes, and one it had begun to fill cannot be cancelled and waited for.
// So a node finds a dead peer by deadlines (--timeout-s):
//   - a push the peer has not taken for that long is let go (released) and
//     its push-sum share counted as lost (NodeCore::lose_push);
//   - a pull the peer has not answered in that long is abandoned and the
//     round mixes the answers that came;
// and stops choosing that peer (NodeCore::mark_lost). That is each node's own
// view, for whom to talk to. The run's verdict is rank 0's alone (heartbeats,
// gossip_service.hpp), sent to every survivor with the end of the run; all of
// them then move to a communicator of the survivors (MPI_Comm_create_group,
// which only the members join) for the collectives of the end, so that none
// is ever started with a dead rank in it.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "algorithms/gossip.hpp"
#include "core/idle_backoff.hpp"

namespace distsgd {

void GossipSgd::lose_peer(int peer, const std::string& why) {
  if (core_->lost(peer)) return;
  core_->mark_lost(peer);
  fmt::print(stderr, "distsgd: rank {}: {}; no longer gossiping with rank {}\n", world_.rank(),
             why, peer);
  std::fflush(stderr);
}

// The push to `peer` will never be taken. Its share is gone with it (push-sum:
// counted). The library may still read the buffer of a released send, so the
// buffer is never written again: the peer is never chosen again.
void GossipSgd::lose_push_to(int peer) {
  auto& send = push_sends_[static_cast<std::size_t>(peer)];
  send.release();
  send = comm::Request();
  core_->lose_push(push_buffers_[static_cast<std::size_t>(peer)]);
  lose_peer(peer, fmt::format("rank {} has not taken a push for {:g} s (--timeout-s)", peer,
                              config_.timeout_s));
}

// Before a push round: a push still untaken after the deadline means a lost
// peer (a live one's communication thread always has a receive posted).
void GossipSgd::give_up_untaken_pushes() {
  for (int peer = 0; peer < static_cast<int>(push_sends_.size()); ++peer) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    if (send.valid() && !send.test() && send.elapsed_s() >= config_.timeout_s)
      lose_push_to(peer);
  }
}

// At the end: every push is taken, or given up once it has waited the deadline
// (counted from when it was sent, so one to a peer lost long ago goes at once).
void GossipSgd::wait_or_give_up_pushes() {
  IdleBackoff idle;
  for (int peer = 0; peer < static_cast<int>(push_sends_.size()); ++peer) {
    auto& send = push_sends_[static_cast<std::size_t>(peer)];
    while (send.valid() && !send.test()) {
      service_->check();
      if (send.elapsed_s() >= config_.timeout_s) {
        lose_push_to(peer);
        break;
      }
      idle.pause();
    }
  }
}

// A pull round's answers (requests: the reply's receive, then the request's
// send, per peer), each waited for until the deadline: a peer that has not
// answered by then is lost; its receive is abandoned (the reply may be half
// in) and its buffer set aside for good. The round mixes the answers that came.
void GossipSgd::mix_answered_pulls(const std::vector<int>& peers,
                                   std::vector<comm::Request>& requests) {
  std::vector<std::span<const float>> views;
  IdleBackoff idle;
  for (std::size_t k = 0; k < peers.size(); ++k) {
    auto& reply = requests[2 * k];
    auto& request = requests[2 * k + 1];
    while (!reply.test() && reply.elapsed_s() < config_.timeout_s) {
      service_->check();
      idle.pause();
    }
    if (reply.test()) {
      request.wait();  // the peer answered, so it has taken the request
      views.emplace_back(pulled_[k]);
      continue;
    }
    reply.abandon();
    request.release();
    abandoned_.push_back(std::move(pulled_[k]));
    pulled_[k].assign(core_->state_size(), 0.0f);
    lose_peer(peers[k], fmt::format("rank {} did not answer a pull within {:g} s (--timeout-s)",
                                    peers[k], config_.timeout_s));
  }
  core_->mix_pulled(views);
}

// Every survivor has the same list (rank 0's), so all build the same
// communicator; the trainer's communicators (the job's, the workers') are
// replaced, so the collectives of the end run among the survivors alone.
void GossipSgd::move_to_survivors(const std::vector<int>& lost) {
  for (int rank : lost) {
    if (!core_->lost(rank)) core_->mark_lost(rank);
  }
  std::vector<int> keep;
  for (int rank = 0; rank < world_.size(); ++rank)
    if (!std::binary_search(lost.begin(), lost.end(), rank)) keep.push_back(rank);
  world_ = world_.subset(keep, fmt::format("the {} ranks that survived", keep.size()));
  if (workers_) *workers_ = world_.split(0, world_.rank(), "surviving workers");
}

void GossipSgd::vanish() { service_->stop(config_.timeout_s); }

}  // namespace distsgd
