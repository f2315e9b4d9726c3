#include "methods/ps_server_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/errors.hpp"

namespace distsgd::ps {

ServerCore::ServerCore(const ServerSettings& settings, std::vector<float> shard, double start_s)
    : settings_(settings),
      hyper_(settings.hyper),
      params_(std::move(shard)),
      peers_(static_cast<std::size_t>(settings.workers)),
      end_(settings.workers, settings.heartbeat_s) {
  for (auto& p : peers_) p.last_request = start_s;
  if (settings.method == PsMethod::asgd)
    hyper_.momentum =
        asgd_explicit_momentum(settings.asgd_rule, settings.hyper.momentum, settings.workers);
}

bool ServerCore::listening(int worker) const {
  const auto& p = peers_[static_cast<std::size_t>(worker)];
  return !end_.released(worker) && !end_.waiting(worker) && !p.checkpoint_waiting && !p.lost;
}

void ServerCore::close(double now_s) {
  if (first_request_s_) stats_.serve_s = now_s - *first_request_s_;
}

void ServerCore::handle(int worker, std::span<const float> message, double now_s,
                        std::vector<Reply>& out) {
  auto& p = peer(worker);
  const auto header = read_header(message);
  const auto kind = static_cast<Kind>(header.kind);
  if (!first_request_s_) first_request_s_ = now_s;
  p.last_request = now_s;
  p.last_step = header.step;
  p.last_kind = kind;
  ++stats_.requests;
  switch (kind) {
    case Kind::push_gradient:
    case Kind::elastic: {
      if ((kind == Kind::push_gradient) != (settings_.method == PsMethod::asgd) ||
          end_.done(worker))
        throw RuntimeFailure(fmt::format("server rank {}: unexpected {} from worker rank {}",
                                         settings_.rank, kind_name(kind), worker));
      const auto data = payload(message);
      if (data.size() < params_.size())
        throw RuntimeFailure(fmt::format("server rank {}: a {} from worker rank {} of {} values, "
                                         "the shard has {}",
                                         settings_.rank, kind_name(kind), worker, data.size(),
                                         params_.size()));
      update(worker, p, header, data.first(params_.size()), now_s, out);
      return;
    }
    case Kind::pull:
      out.push_back(reply(worker, kind));
      return;
    case Kind::checkpoint:
      if (end_.done(worker))
        throw RuntimeFailure(fmt::format(
            "server rank {}: checkpoint request from worker rank {}, which has finished",
            settings_.rank, worker));
      if (checkpoint_epoch_ >= 0 && header.epoch != checkpoint_epoch_)
        throw RuntimeFailure(fmt::format(
            "server rank {}: worker rank {} asks for the checkpoint of epoch {} while others "
            "wait for the one of epoch {}",
            settings_.rank, worker, header.epoch, checkpoint_epoch_));
      checkpoint_epoch_ = header.epoch;
      p.at_checkpoint = p.checkpoint_waiting = true;
      p.held_since = now_s;
      return;  // answered by progress_checkpoint
    case Kind::done:
      // The first `done` ends this worker's training; later ones wait for the end.
      end_.finished(worker, now_s);
      release_held(now_s, out);  // the slowest live worker may have been this one
      return;
  }
  throw RuntimeFailure(fmt::format("server rank {}: request of unknown kind {} from worker rank {}",
                                   settings_.rank, header.kind, worker));
}

void ServerCore::update(int worker, Peer& p, const Header& header, std::span<const float> payload,
                        double now_s, std::vector<Reply>& out) {
  // The updates this shard has had since the worker read it. Every worker's
  // step updates every shard once, so with several servers each counts the
  // same steps and a gradient has (up to arrival order) one staleness.
  const int64_t staleness = version_ - header.version;
  stats_.record_staleness(staleness);
  if (settings_.method == PsMethod::asgd) {
    math::sgd_step(params_, payload, momentum_, hyper_,
                   asgd_step_lr(settings_.asgd_rule, header.lr, staleness));
  } else {
    // The reply carries the centre before the move, so the worker moves by
    // the same d = alpha * (x - c) as the centre does here.
    p.pending.assign(params_.begin(), params_.end());
    math::elastic_move_centre(params_, payload, settings_.alpha);
  }
  ++version_;
  ++p.clock;
  ++stats_.updates;
  if (settings_.max_staleness && p.clock - slowest_live_clock() > *settings_.max_staleness) {
    p.held = true;
    p.held_since = now_s;
    ++stats_.held_replies;
  } else {
    out.push_back(reply(worker, static_cast<Kind>(header.kind)));
  }
  release_held(now_s, out);
}

Reply ServerCore::reply(int worker, Kind kind) {
  auto& p = peer(worker);
  Reply r{worker, std::vector<float>(kHeaderFloats)};
  auto header = make_header(kind);
  header.step = p.last_step;
  header.version = version_;
  const auto& shard = kind == Kind::elastic ? p.pending : params_;
  r.message.insert(r.message.end(), shard.begin(), shard.end());
  if (kind == Kind::push_gradient || kind == Kind::elastic)
    stats_.max_lead =
        std::max(stats_.max_lead, static_cast<double>(p.clock - slowest_live_clock()));
  write_header(r.message, header);
  ++stats_.replies;
  return r;
}

void ServerCore::release_held(double now_s, std::vector<Reply>& out) {
  if (!settings_.max_staleness) return;
  const int64_t slowest = slowest_live_clock();
  for (int worker = 0; worker < settings_.workers; ++worker) {
    auto& p = peer(worker);
    if (!p.held || p.clock - slowest > *settings_.max_staleness) continue;
    p.held = false;
    stats_.held_s += now_s - p.held_since;
    out.push_back(
        reply(worker, settings_.method == PsMethod::asgd ? Kind::push_gradient : Kind::elastic));
  }
}

// The clock of the slowest worker still training (the bound ignores finished ones).
int64_t ServerCore::slowest_live_clock() const {
  int64_t slowest = std::numeric_limits<int64_t>::max();
  for (int worker = 0; worker < settings_.workers; ++worker)
    if (!end_.done(worker)) slowest = std::min(slowest, peers_[static_cast<std::size_t>(worker)].clock);
  return slowest;
}

void ServerCore::advance(double now_s, std::vector<Reply>& out, std::vector<Dropped>& dropped) {
  progress_checkpoint(now_s, out);
  for (const auto& answer : end_.answers(now_s)) {
    auto header = make_header(Kind::done);
    header.workers_training = answer.training;
    out.push_back(header_reply(answer.member, header));
  }
  check_silent(now_s, dropped);
}

// The checkpoint rendezvous: once every worker still training has asked (so
// none has a request in flight), write this server's part, or, when a worker
// has finished meanwhile, decide there is no checkpoint; answer each asking
// worker with that, and the ones still waiting for others at least every
// heartbeat (they ask again).
void ServerCore::progress_checkpoint(double now_s, std::vector<Reply>& out) {
  if (checkpoint_epoch_ < 0) return;
  if (!checkpoint_answer_) {
    bool everyone = true, someone_finished = false;
    for (int worker = 0; worker < settings_.workers; ++worker) {
      if (end_.done(worker))
        someone_finished = true;
      else if (!peer(worker).at_checkpoint)
        everyone = false;
    }
    if (everyone && (someone_finished || !part_writer_)) {
      checkpoint_answer_ = CheckpointAnswer::stopped;
      checkpoint_digest_ = {};
    } else if (everyone) {
      checkpoint_digest_ = part_writer_(checkpoint_epoch_);
      checkpoint_answer_ = CheckpointAnswer::written;
    }
  }
  bool anyone_left = false;
  for (int worker = 0; worker < settings_.workers; ++worker) {
    auto& p = peer(worker);
    if (p.checkpoint_waiting && checkpoint_answer_) {
      p.at_checkpoint = p.checkpoint_waiting = false;
      out.push_back(checkpoint_reply(worker, *checkpoint_answer_, checkpoint_digest_));
    } else if (p.checkpoint_waiting && now_s - p.held_since >= settings_.heartbeat_s) {
      p.checkpoint_waiting = false;
      out.push_back(checkpoint_reply(worker, CheckpointAnswer::wait, {}));
    }
    anyone_left = anyone_left || p.at_checkpoint;
  }
  if (checkpoint_answer_ && !anyone_left) {
    checkpoint_epoch_ = -1;
    checkpoint_answer_.reset();
  }
}

Reply ServerCore::checkpoint_reply(int worker, CheckpointAnswer answer,
                                   const CheckpointDigest& digest) {
  auto header = make_header(Kind::checkpoint);
  header.checkpoint = static_cast<int64_t>(answer);
  if (answer == CheckpointAnswer::written) {
    header.part_bytes = static_cast<int64_t>(digest.bytes);
    header.part_crc = static_cast<int64_t>(digest.crc);
  }
  return header_reply(worker, header);
}

Reply ServerCore::header_reply(int worker, Header header) {
  header.step = peer(worker).last_step;
  Reply r{worker, std::vector<float>(kHeaderFloats)};
  write_header(r.message, header);
  ++stats_.replies;
  return r;
}

// A worker still training that has sent nothing for the whole deadline is lost
// or stuck: say which, and what it last sent.
void ServerCore::check_silent(double now_s, std::vector<Dropped>& dropped) {
  for (int worker = 0; worker < settings_.workers; ++worker) {
    auto& p = peer(worker);
    if (end_.released(worker) || p.held || end_.waiting(worker) || p.at_checkpoint ||
        now_s - p.last_request <= settings_.silent_after_s)
      continue;
    const auto why = fmt::format(
        "server rank {} has had no request from worker rank {} for {:.0f} s (last: {} of step {})",
        settings_.rank, worker, settings_.silent_after_s,
        p.last_step < 0 ? "none" : kind_name(p.last_kind), p.last_step);
    if (!settings_.survive_worker_loss) throw RuntimeFailure("timed out: " + why);
    p.lost = true;
    end_.drop(worker);
    lost_.push_back(worker);
    dropped.push_back({worker, why});
  }
}

Checkpoint ServerCore::checkpoint_state(int64_t shard_index, const math::Range& range) const {
  Checkpoint state;
  std::vector<int64_t> clocks;
  for (const auto& p : peers_) clocks.push_back(p.clock);
  state.meta = {{"shard", shard_index},
                {"offset", range.offset},
                {"size", range.size},
                {"version", version_},
                {"clocks", clocks}};
  state.tensors["server.shard"] = params_;
  state.tensors["server.momentum"] = momentum_.buffer;
  return state;
}

void ServerCore::restore_state(const Checkpoint& state, int64_t shard_index,
                               const math::Range& range) {
  const auto& meta = state.meta;
  if (meta.at("shard").get<int64_t>() != shard_index ||
      meta.at("offset").get<int64_t>() != range.offset ||
      meta.at("size").get<int64_t>() != range.size || meta.at("clocks").size() != peers_.size())
    throw DataError(fmt::format(
        "the checkpoint's part of server rank {} holds shard {} (offset {}, {} values) for {} "
        "workers; this run has shard {} (offset {}, {} values) for {}",
        settings_.rank, meta.at("shard").dump(), meta.at("offset").dump(), meta.at("size").dump(),
        meta.at("clocks").size(), shard_index, range.offset, range.size, peers_.size()));
  const auto& shard = state.tensors.at("server.shard");
  if (static_cast<int64_t>(shard.size()) != range.size)
    throw DataError(fmt::format("the checkpoint's shard of server rank {} has {} values, not {}",
                                settings_.rank, shard.size(), range.size));
  params_ = shard;
  momentum_.buffer = state.tensors.at("server.momentum");
  version_ = meta.at("version").get<int64_t>();
  for (std::size_t w = 0; w < peers_.size(); ++w)
    peers_[w].clock = meta.at("clocks")[w].get<int64_t>();
}

}  // namespace distsgd::ps
