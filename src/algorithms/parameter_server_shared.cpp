// What parameter-server workers and servers share over MPI: the traits, the
// final shards and the statistics of the end.
#include <fmt/format.h>

#include "algorithms/parameter_server.hpp"

namespace distsgd {

MethodTraits ps_traits(PsMethod method, const TrainConfig& config) {
  MethodTraits traits;
  traits.name = method == PsMethod::asgd ? "asgd" : "easgd";
  traits.applies_update = method == PsMethod::asgd;
  traits.evaluation = MethodTraits::Evaluation::worker0;
  traits.stop = MethodTraits::StopAgreement::on_own;
  traits.checkpoints = config.leave_early.empty() ? MethodTraits::Checkpoints::in_parts
                                                  : MethodTraits::Checkpoints::none;
  traits.stale_updates = true;
  return traits;
}

// Every rank gets the servers' final parameters: each server broadcasts its shard.
std::vector<float> gather_final_shards(comm::Communicator& world, const PsLayout& layout,
                                       std::span<const float> own_shard, int own_index) {
  int64_t numel = 0;
  for (const auto& range : layout.shards) numel += range.size;
  std::vector<float> all(static_cast<std::size_t>(numel));
  for (int s = 0; s < layout.servers; ++s) {
    const auto range = layout.shards[static_cast<std::size_t>(s)];
    if (s == own_index) std::copy(own_shard.begin(), own_shard.end(), all.begin() + range.offset);
    world.broadcast(all.data() + range.offset, static_cast<std::size_t>(range.size) * sizeof(float),
                    layout.server_rank(s),
                    fmt::format("final parameters of server rank {}", layout.server_rank(s)));
  }
  return all;
}

nlohmann::json reduce_server_stats(const ps::ServerStats& stats, comm::Communicator& world,
                                   int servers) {
  auto sums = stats.sums();
  auto maxima = stats.maxima();
  world.allreduce(sums.data(), sums.size(), comm::DType::f64, comm::ReduceOp::sum,
                  "server statistics");
  world.allreduce(maxima.data(), maxima.size(), comm::DType::f64, comm::ReduceOp::max,
                  "server statistics (maxima)");
  return ps::ServerStats::figures(sums, maxima, servers);
}

}  // namespace distsgd
