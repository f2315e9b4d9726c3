// gossip-pga's periodic exact average (Chen et al. 2021), a part of GossipSgd.
#include <chrono>

#include "algorithms/gossip.hpp"
#include "core/timeline.hpp"
#include "methods/update_math.hpp"

namespace distsgd {

// Pushes still in flight carry part of the mass, so they are taken in first
// (settle: a collective that waits until every push sent has arrived). The
// mean is then of the whole mass: push-sum's sum(w_i z_i) / sum(w_i) (the
// other modes weigh every node 1), of the momentum buffers too when they are
// mixed. Every node holds the mean with weight 1, as at the start, and a
// pulling node publishes it at once.
void GossipSgd::global_average(ReplicaView replica) {
  const auto begin = std::chrono::steady_clock::now();
  timeline::Span span("global average", "gossip");
  if (mode_ != gossip::Mode::pull) settle(replica);
  double weight = core_->weight();
  const bool momentum = config_.gossip_momentum && !replica.momentum.empty();
  for (auto values : {replica.params, momentum ? replica.momentum : std::span<float>()}) {
    if (values.empty()) continue;
    math::scale(values, static_cast<float>(weight));
    world_.allreduce(values.data(), values.size(), comm::DType::f32, comm::ReduceOp::sum,
                     "the global average of the models");
  }
  world_.allreduce(&weight, 1, comm::DType::f64, comm::ReduceOp::sum, "the total push-sum weight");
  math::scale(replica.params, static_cast<float>(1.0 / weight));
  if (momentum) math::scale(replica.momentum, static_cast<float>(1.0 / weight));
  core_->reset_weight();
  core_->load(replica.params, replica.momentum);
  if (mode_ == gossip::Mode::pull) service_->publish(core_->state());
  ++global_averages_;
  global_average_s_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

}  // namespace distsgd
