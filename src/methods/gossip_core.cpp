#include "methods/gossip_core.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "methods/update_math.hpp"

namespace distsgd::gossip {
namespace {
// A push is [weight as two floats][state].
constexpr std::size_t kWeightFloats = sizeof(double) / sizeof(float);
}  // namespace

Mode mode_for(const TrainConfig& config) {
  const bool pull = config.algo == "gossip-pull" ||
                    (config.algo == "gossip-pga" && config.gossip_mode == "pull");
  if (pull) return Mode::pull;
  return config.push_mode == "average" ? Mode::push_average : Mode::push_sum;
}

void Inbox::clear() {
  std::fill(sum.begin(), sum.end(), 0.0f);
  weight = 0.0;
  count = 0;
}

NodeCore::NodeCore(const Settings& settings, std::size_t numel)
    : settings_(settings),
      numel_(numel),
      schedule_(settings.topology, settings.rank, settings.nodes, settings.seed),
      state_(settings.mix_momentum ? 2 * numel : numel, 0.0f) {}

std::size_t NodeCore::push_floats() const { return kWeightFloats + state_.size(); }

void NodeCore::load(std::span<const float> params, std::span<const float> momentum) {
  std::copy(params.begin(), params.end(), state_.begin());
  if (!settings_.mix_momentum) return;
  // Before the first step the momentum buffer does not exist yet: zeros.
  auto rest = std::span<float>(state_).subspan(numel_);
  if (momentum.empty())
    std::fill(rest.begin(), rest.end(), 0.0f);
  else
    std::copy(momentum.begin(), momentum.end(), rest.begin());
}

void NodeCore::store(std::span<float> params, std::span<float> momentum) const {
  std::copy_n(state_.begin(), params.size(), params.begin());
  if (settings_.mix_momentum && !momentum.empty())
    std::copy(state_.begin() + static_cast<std::ptrdiff_t>(numel_), state_.end(),
              momentum.begin());
}

// The trainer stepped z = x / w; the numerator follows: x = z * w.
void NodeCore::begin_mixing() {
  if (settings_.mode == Mode::push_sum) math::scale(state_, static_cast<float>(weight_));
}

std::vector<int> NodeCore::next_peers() {
  ++rounds_;
  return schedule_.next(settings_.peers);
}

void NodeCore::mix_pulled(std::span<const std::span<const float>> pulled) {
  math::average_with_peers(state_, pulled);
}

void NodeCore::share(int targets) {
  share_weight_ = 1.0;
  if (settings_.mode != Mode::push_sum) return;
  math::push_sum_share(state_, weight_, targets + 1);
  share_weight_ = weight_;
}

void NodeCore::write_push(std::vector<float>& message) const {
  message.resize(push_floats());
  std::memcpy(message.data(), &share_weight_, sizeof share_weight_);
  std::copy(state_.begin(), state_.end(), message.begin() + kWeightFloats);
}

double NodeCore::push_weight(std::span<const float> message) {
  if (message.size() < kWeightFloats) throw std::invalid_argument("gossip push too short");
  double weight = 0.0;
  std::memcpy(&weight, message.data(), sizeof weight);
  return weight;
}

void NodeCore::add_push(Inbox& inbox, std::span<const float> message) {
  if (message.size() != kWeightFloats + inbox.sum.size())
    throw std::invalid_argument("gossip push of the wrong size");
  const double weight = push_weight(message);
  math::push_sum_absorb(inbox.sum, inbox.weight, message.subspan(kWeightFloats), weight);
  ++inbox.count;
}

void NodeCore::absorb(const Inbox& inbox) {
  if (settings_.mode == Mode::push_sum) {
    if (inbox.count > 0) math::push_sum_absorb(state_, weight_, inbox.sum, inbox.weight);
    math::push_sum_debias(state_, weight_, state_);
    return;
  }
  math::average_with_sum(state_, inbox.sum, inbox.count);
}

void NodeCore::mark_lost(int peer) { schedule_.exclude(peer); }

// Only push-sum has mass to lose: push-average's messages all weigh 1 and
// carry no total that must be kept.
void NodeCore::lose_push(std::span<const float> message) {
  if (settings_.mode == Mode::push_sum) weight_lost_ += push_weight(message);
}

// Counters of traffic start again from zero in a resumed run, on every node
// alike; the schedule continues where it was.
Checkpoint NodeCore::checkpoint_state() const {
  Checkpoint state;
  state.meta = {{"weight", weight_}, {"rounds", rounds_}};
  return state;
}

void NodeCore::restore_state(const Checkpoint& state) {
  weight_ = state.meta.at("weight").get<double>();
  rounds_ = state.meta.at("rounds").get<int64_t>();
  // No node is lost in a run that checkpoints (--survive-worker-loss takes
  // none), so the schedule replays without exclusions.
  schedule_ = PeerSchedule(settings_.topology, settings_.rank, settings_.nodes, settings_.seed);
  for (int64_t round = 0; round < rounds_; ++round) schedule_.next(settings_.peers);
}

}  // namespace distsgd::gossip
