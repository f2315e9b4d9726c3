#include "methods/ps_worker_core.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/errors.hpp"
#include "methods/update_math.hpp"

namespace distsgd::ps {

WorkerCore::WorkerCore(PsMethod method, PsLayout layout, int tau, float alpha)
    : method_(method),
      layout_(std::move(layout)),
      tau_(tau),
      alpha_(alpha),
      versions_(static_cast<std::size_t>(layout_.servers), 0) {}

bool WorkerCore::elastic_due(int64_t step) const {
  return method_ == PsMethod::easgd && (step + 1) % tau_ == 0;
}

void WorkerCore::write_request(int shard, Kind kind, std::span<const float> full, int64_t step,
                               int64_t epoch, double lr, std::vector<float>& message) const {
  const auto range = layout_.shards[static_cast<std::size_t>(shard)];
  message.resize(kHeaderFloats + (full.empty() ? 0 : static_cast<std::size_t>(range.size)));
  auto header = make_header(kind);
  header.step = step;
  if (kind == Kind::push_gradient || kind == Kind::elastic || kind == Kind::pull)
    header.version = versions_[static_cast<std::size_t>(shard)];
  if (kind == Kind::checkpoint) header.epoch = epoch;
  if (kind == Kind::push_gradient) header.lr = lr;
  write_header(message, header);
  if (!full.empty())
    std::copy_n(full.begin() + range.offset, range.size, message.begin() + kHeaderFloats);
}

Header WorkerCore::read_reply(int shard, Kind kind, std::span<const float> message) {
  const auto header = read_header(message);
  if (header.kind != static_cast<int64_t>(kind))
    throw RuntimeFailure(fmt::format("server rank {} answered a {} with a {}",
                                     layout_.server_rank(shard), kind_name(kind),
                                     kind_name(static_cast<Kind>(header.kind))));
  // The version of the parameters this worker computes on: a pull's reply
  // (evaluation) does not replace them, so it does not count; else the next
  // gradient would look fresher than it is to the staleness rule.
  if (kind == Kind::push_gradient || kind == Kind::elastic)
    versions_[static_cast<std::size_t>(shard)] = header.version;
  return header;
}

void WorkerCore::take_parameters(int shard, std::span<const float> message,
                                 std::span<float> params) const {
  const auto range = layout_.shards[static_cast<std::size_t>(shard)];
  const auto values = payload(message).first(static_cast<std::size_t>(range.size));
  std::copy(values.begin(), values.end(), params.begin() + range.offset);
}

void WorkerCore::take_elastic(int shard, std::span<const float> message,
                              std::span<float> params) const {
  const auto range = layout_.shards[static_cast<std::size_t>(shard)];
  const auto centre = payload(message).first(static_cast<std::size_t>(range.size));
  math::elastic_move_replica(params.subspan(static_cast<std::size_t>(range.offset),
                                            static_cast<std::size_t>(range.size)),
                             centre, alpha_);
}

Checkpoint WorkerCore::checkpoint_state() const {
  Checkpoint state;
  state.meta = {{"versions", versions_}};
  return state;
}

void WorkerCore::restore_state(const Checkpoint& state, int rank) {
  const auto versions = state.meta.at("versions").get<std::vector<int64_t>>();
  if (versions.size() != versions_.size())
    throw DataError(fmt::format("the checkpoint's part of worker rank {} knows {} servers, not {}",
                                rank, versions.size(), versions_.size()));
  versions_ = versions;
}

}  // namespace distsgd::ps
