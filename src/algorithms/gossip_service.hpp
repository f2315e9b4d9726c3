#pragma once
// The communication thread of a gossiping node: the MPI driver of the parts of
// gossip_core.hpp and end_of_run.hpp that answer peers. While the training
// thread computes, it
//   - answers pulls from peers with the last published snapshot of this node's
//     state (copied under a lock, so a peer never gets a half-updated vector);
//   - takes in pushes from peers and adds them to an inbox that the training
//     thread empties at its next step;
//   - on rank 0, keeps the count of nodes still training, for the end of the
//     run: a finished node asks rank 0 and gets an answer at least once a
//     second, 0 once every node has finished.
//
// --survive-worker-loss (watch_liveness): every node but rank 0 sends rank 0
// a heartbeat every heartbeat interval from this thread (so a node busy
// computing a long step still speaks); rank 0 drops a node still training
// that has been silent past --timeout-s from the end-of-run count (it is
// lost), and the answers to the end-of-training notices carry the list of the
// lost nodes. Rank 0 alone decides that list, and it is final once no node is
// training (nothing is dropped after that), so every survivor is released
// with the same list.
//
// Messages use their own communicator (a copy of the job's), so they never mix
// with the trainer's collectives. Each peer has a receive posted for pulls and
// one for pushes: a node has at most one pull outstanding per peer, and its
// pushes are synchronous sends that it waits for before the next to the same
// peer.
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "comm/communicator.hpp"
#include "methods/end_of_run.hpp"
#include "methods/gossip_core.hpp"

namespace distsgd {

// The messages (each tag one meaning):
//   kPullRequest  int64: the puller's step count (a token; only its arrival matters)
//   kPullReply    float[state]: the answering node's last published state
//   kPush         float[2 + state]: the push-sum weight (a double in two floats), then the
//                 state share (gossip::NodeCore::write_push / add_push)
//   kDone         int64: the finished node's step count, to rank 0
//   kDoneReply    int64[2 + nodes]: nodes still training (0: all have finished; sends
//                 nothing more), then the number of lost nodes and their ranks (final
//                 with 0; empty without --survive-worker-loss)
//   kAlive        int64: a heartbeat to rank 0 (--survive-worker-loss; only its arrival matters)
namespace gossip_tags {
constexpr int kPullRequest = 7401;
constexpr int kPullReply = 7402;
constexpr int kPush = 7403;
constexpr int kDone = 7404;
constexpr int kDoneReply = 7405;
constexpr int kAlive = 7406;
}  // namespace gossip_tags

class GossipService {
 public:
  // `state_size`: floats of a snapshot (parameters, plus momentum when
  // mixed); a push carries `push_floats` (the state and the push-sum weight).
  GossipService(comm::Communicator& comm, std::size_t state_size, std::size_t push_floats,
                double heartbeat_s);
  ~GossipService();
  GossipService(const GossipService&) = delete;
  GossipService& operator=(const GossipService&) = delete;

  // --survive-worker-loss, before start(): heartbeats to rank 0, and on rank
  // 0 the drop of a node silent for longer than `silent_after_s` (see above).
  void watch_liveness(double silent_after_s);
  void start();
  // The state peers pull from now on.
  void publish(std::span<const float> state);
  // The pushes that arrived since the last call: swapped into `taken`
  // (whose old contents are cleared and become the new inbox).
  void take_pushes(gossip::Inbox& taken);
  // Stops the thread after every node has finished (see the class comment):
  // rank 0 first waits until it has told every node. Pushes that arrived in
  // the meantime stay in the inbox for take_pushes. The receives from the
  // `lost` nodes are abandoned and the sends to them let go (they can never
  // complete), never waited for.
  void stop(double timeout_s, const std::vector<int>& lost = {});
  // Rethrows, on the training thread, an error of the communication thread.
  void check() const;

  bool released_everyone() const { return released_ == comm_.size(); }
  int64_t pulls_served() const { return pulls_served_; }
  int64_t pushes_received() const { return pushes_received_; }
  int64_t bytes_sent() const { return bytes_sent_; }

 private:
  struct Peer {
    int64_t pull_request = 0;
    std::vector<float> reply, push;  // reply: snapshot to send; push: weight + state
    comm::Request pull_receive, push_receive, reply_send;
    // Rank 0 only: the end-of-run handshake with this node, and its heartbeats.
    int64_t done_request = 0, alive = 0;
    std::vector<int64_t> done_reply;
    comm::Request done_receive, done_send, alive_receive;
  };
  void loop();
  bool poll_once();
  void absorb_push(const Peer& peer);
  void answer_finished_nodes(double now);
  void post_done_receive(Peer& peer, int rank);
  void post(Peer& peer, int rank);
  void post_alive_receive(Peer& peer, int rank);
  void keep_alive(double now);

  comm::Communicator& comm_;
  std::size_t state_size_;
  std::vector<Peer> peers_;
  EndOfRun end_;  // rank 0: the nodes' end-of-run handshake (the thread's alone)
  mutable std::mutex snapshot_mutex_, inbox_mutex_;
  std::vector<float> snapshot_;
  gossip::Inbox inbox_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> released_{0};
  std::atomic<int64_t> pulls_served_{0}, pushes_received_{0}, bytes_sent_{0};
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  // --survive-worker-loss (all the thread's own once started).
  double heartbeat_s_;
  bool watch_ = false;
  double silent_after_s_ = 0.0;
  std::vector<int> lost_;  // rank 0: the nodes it dropped, in order
  comm::Request alive_send_;
  int64_t alive_token_ = 0;
  double next_alive_ = 0.0;
};

}  // namespace distsgd
