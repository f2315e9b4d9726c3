#pragma once
// The rules of one gossiping node (gossip-pull, push-sum, push-average), with
// no MPI, no threads and no clock: whom to talk to next, what a pull is
// answered with, what a push carries, how what arrives is mixed in. The MPI
// driver (algorithms/gossip.cpp and its communication thread) and a simulator
// call the same code.
//
// The node's mixing state is its parameters, followed by its momentum buffer
// when momentum is mixed too (--gossip-momentum). Each step:
//   load(params, momentum)        the trainer has stepped params (push-sum: z)
//   begin_mixing()                push-sum: back to the numerator, x = z * w
//   [round_due(step)]             every --tau steps one round:
//     pull: peers = next_peers(); fetch their published state(); mix_pulled()
//     push: peers = next_peers() minus busy ones; share(k); each peer gets
//           write_push() (it adds it to its inbox with add_push())
//   absorb(inbox)                 push modes: take in what arrived
//   store(params, momentum)       push-sum: params = z = x / w
//
// --survive-worker-loss: mark_lost(peer) takes a lost node out of the
// schedule; a push to it that will never be taken is counted with
// lose_push(). Push-sum then: the lost node's (x, w), and the shares of the
// pushes lost on their way to it, are gone, so the survivors' total weight is
// below the number of nodes; but from then on the survivors exchange mass only
// among themselves, so their sum(x) and sum(w) are conserved and every
// survivor's z = x / w converges to sum(x) / sum(w) over the survivors: a
// consistent average of the survivors' numerators (their weighted average
// sum(w z) / sum(w), which is what the evaluation scores). Pushes from the
// lost node that had arrived count as the survivors' mass; those that had not
// are lost with it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/checkpoint_record.hpp"
#include "core/config.hpp"
#include "methods/topology.hpp"

namespace distsgd::gossip {

enum class Mode { pull, push_sum, push_average };
// The mode of a gossip method's flags: gossip-pull; gossip-push with
// --push-mode; gossip-pga with --gossip-mode (and --push-mode for push).
Mode mode_for(const TrainConfig& config);

struct Settings {
  Mode mode = Mode::pull;
  int peers = 1;  // --gossip-peers per round
  int tau = 1;    // a round every tau steps
  bool mix_momentum = false;
  std::string topology = "random";
  int rank = 0, nodes = 2;
  uint64_t seed = 0;
};

// What pushes have brought in since they were last taken: their sum and
// summed weight, and how many there were.
struct Inbox {
  std::vector<float> sum;
  double weight = 0.0;
  int count = 0;
  explicit Inbox(std::size_t size = 0) : sum(size, 0.0f) {}
  void clear();
};

class NodeCore {
 public:
  NodeCore(const Settings& settings, std::size_t numel);

  const Settings& settings() const { return settings_; }
  // Floats of the mixing state (a pull answer; a push carries push_floats()).
  std::size_t state_size() const { return state_.size(); }
  std::size_t push_floats() const;

  void load(std::span<const float> params, std::span<const float> momentum);
  void store(std::span<float> params, std::span<float> momentum) const;
  void begin_mixing();
  bool round_due(int64_t step) const { return (step + 1) % settings_.tau == 0; }

  // The peers of the next round (advances the schedule; counts the round).
  std::vector<int> next_peers();
  // Pull: x = (x + p_1 + ... + p_r) / (r + 1) over the states pulled.
  void mix_pulled(std::span<const std::span<const float>> pulled);
  // The state a pull is answered with (and what this node publishes).
  std::span<const float> state() const { return state_; }
  // Push: keep 1/(targets + 1) of (x, w) (push-sum; average mode keeps x).
  void share(int targets);
  // The push message for each target of this round: [weight][state].
  void write_push(std::vector<float>& message) const;
  // Adds a push message to `inbox` (the receiving side, any thread's).
  static void add_push(Inbox& inbox, std::span<const float> message);
  // Takes in what arrived: push-sum x += sum, w += weight, then z = x / w;
  // average mode x = (x + sum) / (count + 1).
  void absorb(const Inbox& inbox);

  double weight() const { return settings_.mode == Mode::push_sum ? weight_ : 1.0; }
  // After an exact global average (gossip-pga) every node holds the mean:
  // its push-sum weight is 1 again, as at the start.
  void reset_weight() { weight_ = 1.0; }
  int64_t rounds() const { return rounds_; }
  int64_t pushes_sent() const { return pushes_sent_; }
  void count_push() { ++pushes_sent_; }

  // --survive-worker-loss (see above).
  void mark_lost(int peer);
  bool lost(int peer) const { return schedule_.excluded(peer); }
  // A push message (write_push) that will never be taken: its weight is lost.
  void lose_push(std::span<const float> message);
  // The push-sum weight of the pushes lost so far (0 in the other modes).
  double weight_lost() const { return weight_lost_; }
  // The push-sum weight a push message carries.
  static double push_weight(std::span<const float> message);

  // Weight and place in the peer schedule; restore replays the schedule.
  Checkpoint checkpoint_state() const;
  void restore_state(const Checkpoint& state);

 private:
  Settings settings_;
  std::size_t numel_;
  PeerSchedule schedule_;
  std::vector<float> state_;
  double weight_ = 1.0;
  double share_weight_ = 1.0;  // the weight a push of this round carries
  int64_t rounds_ = 0, pushes_sent_ = 0;
  double weight_lost_ = 0.0;  // --survive-worker-loss: in pushes to lost nodes
};

}  // namespace distsgd::gossip
