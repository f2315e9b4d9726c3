#include "sim/sim_parameter_server.hpp"

#include <algorithm>
#include <limits>

#include "methods/heartbeat.hpp"
#include "methods/server_stats.hpp"

namespace distsgd::sim {

SimParameterServer::SimParameterServer(Cluster& cluster, PsMethod method)
    : cluster_(cluster),
      method_(method),
      wire_(make_ps_layout(cluster.settings().numel, cluster.settings().nodes,
                           cluster.config().servers)),
      state_(make_ps_layout(cluster.state_numel(), cluster.settings().nodes,
                            cluster.config().servers)),
      heartbeat_s_(heartbeat_interval_s(cluster.config().timeout_s)) {}

void SimParameterServer::start() {
  const auto& config = cluster_.config();
  std::vector<float> initial;
  std::vector<float> buffers;
  if (cluster_.real()) {
    initial = cluster_.source().initial_params();
    buffers = cluster_.source().initial_buffers();
  }
  const float alpha = easgd_alpha(config.easgd_beta, wire_.workers);
  workers_.resize(static_cast<std::size_t>(wire_.workers));
  for (auto& worker : workers_) {
    worker.params = initial;
    worker.grad.assign(initial.size(), 0.0f);
    worker.buffers = buffers;
    worker.core.emplace(method_, state_, static_cast<int>(config.tau), alpha);
  }
  ps::ServerSettings settings;
  settings.method = method_;
  settings.workers = wire_.workers;
  settings.hyper = cluster_.hyper();
  settings.alpha = alpha;
  settings.asgd_rule = ps::parse_asgd_rule(config.asgd_rule);
  settings.max_staleness = config.max_staleness;
  settings.heartbeat_s = heartbeat_s_;
  // No node of the virtual cluster is ever lost: a worker waiting long for a
  // busy server is not silent.
  settings.silent_after_s = std::numeric_limits<double>::infinity();
  servers_.resize(static_cast<std::size_t>(wire_.servers));
  for (int s = 0; s < wire_.servers; ++s) {
    settings.rank = wire_.server_rank(s);
    const auto range = state_.shards[static_cast<std::size_t>(s)];
    servers_[static_cast<std::size_t>(s)].core.emplace(
        settings,
        std::vector<float>(initial.begin() + range.offset,
                           initial.begin() + range.offset + range.size),
        0.0);
  }
  for (int w = 0; w < wire_.workers; ++w) cluster_.events().at(0.0, [this, w] { begin_step(w); });
}

void SimParameterServer::begin_step(int w) {
  auto& worker = workers_[static_cast<std::size_t>(w)];
  const auto time = cluster_.compute().step(w, worker.step);
  if (cluster_.real()) cluster_.gradient(w, worker.step, worker.params, worker.buffers, worker.grad);
  cluster_.times(w).compute_s += time.total();
  cluster_.events().after(time.total(), [this, w] { end_compute(w); });
}

void SimParameterServer::end_compute(int w) {
  auto& worker = workers_[static_cast<std::size_t>(w)];
  if (method_ == PsMethod::asgd) {
    exchange(w, ps::Kind::push_gradient, worker.grad);
    return;
  }
  if (cluster_.real())
    math::sgd_step(worker.params, worker.grad, worker.momentum, cluster_.hyper(),
                   cluster_.lr(worker.step));
  if (worker.core->elastic_due(worker.step))
    exchange(w, ps::Kind::elastic, worker.params);
  else
    complete_step(w);
}

void SimParameterServer::complete_step(int w) {
  auto& worker = workers_[static_cast<std::size_t>(w)];
  cluster_.step_done(w);
  ++worker.step;
  const auto& settings = cluster_.settings();
  if (w == 0 && cluster_.evaluation_due(worker.step)) cluster_.evaluation_point();
  if (worker.step < settings.total_steps)
    begin_step(w);
  else
    exchange(w, ps::Kind::done, {});
}

double SimParameterServer::wire_floats(int shard, ps::Kind kind) const {
  const bool payload = kind == ps::Kind::push_gradient || kind == ps::Kind::elastic;
  return static_cast<double>(ps::kHeaderFloats) +
         (payload ? static_cast<double>(wire_.shards[static_cast<std::size_t>(shard)].size) : 0.0);
}

void SimParameterServer::exchange(int w, ps::Kind kind, std::span<const float> full,
                                  const std::vector<char>& to) {
  auto& worker = workers_[static_cast<std::size_t>(w)];
  worker.exchanging = kind;
  worker.awaiting.assign(static_cast<std::size_t>(wire_.servers), 0);
  worker.sent_s = cluster_.now();
  const auto& settings = cluster_.settings();
  for (int s = 0; s < wire_.servers; ++s) {
    if (!to.empty() && !to[static_cast<std::size_t>(s)]) continue;
    worker.awaiting[static_cast<std::size_t>(s)] = 1;
    std::vector<float> message;
    worker.core->write_request(s, kind, full, worker.step, worker.step / settings.steps_per_epoch,
                               cluster_.lr(std::min(worker.step, settings.total_steps - 1)),
                               message);
    const double arrival = cluster_.network().send(w, wire_.server_rank(s),
                                                   Cluster::bytes(1) * wire_floats(s, kind),
                                                   cluster_.now());
    const bool update = kind == ps::Kind::push_gradient || kind == ps::Kind::elastic;
    const double cost =
        update ? settings.update_s_per_float *
                     static_cast<double>(wire_.shards[static_cast<std::size_t>(s)].size)
               : 0.0;
    cluster_.events().at(arrival, [this, s, w, cost, message = std::move(message)]() mutable {
      arrive_at_server(s, w, std::move(message), cost);
    });
  }
}

// One request at a time: a request arriving at a busy server waits its turn.
void SimParameterServer::arrive_at_server(int s, int w, std::vector<float> message,
                                          double cost_s) {
  auto& server = servers_[static_cast<std::size_t>(s)];
  const double start = std::max(cluster_.now(), server.busy_until);
  server.busy_until = start + cost_s;
  auto& times = cluster_.times(wire_.server_rank(s));
  times.compute_s += cost_s;
  cluster_.events().at(start, [this, s, w, message = std::move(message)] {
    serve(s, w, message);
  });
}

void SimParameterServer::serve(int s, int w, const std::vector<float>& message) {
  auto& server = servers_[static_cast<std::size_t>(s)];
  std::vector<ps::Reply> replies;
  std::vector<ps::Dropped> dropped;
  const double now = cluster_.now();
  server.core->handle(w, message, now, replies);
  server.core->advance(now, replies, dropped);
  send_replies(s, replies, server.busy_until);
  if (!server.ticking && !server.core->finished() &&
      static_cast<ps::Kind>(ps::read_header(message).kind) == ps::Kind::done) {
    server.ticking = true;
    cluster_.events().after(heartbeat_s_, [this, s] { tick(s); });
  }
}

// The heartbeat of a server with finished workers waiting: answers them.
void SimParameterServer::tick(int s) {
  auto& server = servers_[static_cast<std::size_t>(s)];
  std::vector<ps::Reply> replies;
  std::vector<ps::Dropped> dropped;
  server.core->advance(cluster_.now(), replies, dropped);
  send_replies(s, replies, std::max(cluster_.now(), server.busy_until));
  if (server.core->finished())
    server.ticking = false;
  else
    cluster_.events().after(heartbeat_s_, [this, s] { tick(s); });
}

void SimParameterServer::send_replies(int s, std::vector<ps::Reply>& replies, double at) {
  auto& server = servers_[static_cast<std::size_t>(s)];
  if (server.core->finished() && !server.closed) {
    server.core->close(at);
    server.closed = true;
  }
  for (auto& reply : replies) {
    const auto kind = static_cast<ps::Kind>(ps::read_header(reply.message).kind);
    const bool payload =
        kind == ps::Kind::push_gradient || kind == ps::Kind::elastic || kind == ps::Kind::pull;
    const double floats =
        static_cast<double>(ps::kHeaderFloats) +
        (payload ? static_cast<double>(wire_.shards[static_cast<std::size_t>(s)].size) : 0.0);
    const double arrival =
        cluster_.network().send(wire_.server_rank(s), reply.worker, Cluster::bytes(1) * floats, at);
    const int w = reply.worker;
    cluster_.events().at(arrival, [this, w, s, message = std::move(reply.message)]() mutable {
      arrive_at_worker(w, s, std::move(message));
    });
  }
  replies.clear();
}

void SimParameterServer::arrive_at_worker(int w, int s, std::vector<float> message) {
  auto& worker = workers_[static_cast<std::size_t>(w)];
  const auto kind = worker.exchanging;
  const auto header = worker.core->read_reply(s, kind, message);
  if (kind == ps::Kind::push_gradient && cluster_.real())
    worker.core->take_parameters(s, message, worker.params);
  if (kind == ps::Kind::elastic && cluster_.real())
    worker.core->take_elastic(s, message, worker.params);
  worker.awaiting[static_cast<std::size_t>(s)] = 0;
  if (kind == ps::Kind::done) {
    if (worker.again.empty()) worker.again.assign(static_cast<std::size_t>(wire_.servers), 0);
    worker.again[static_cast<std::size_t>(s)] = header.workers_training > 0;
  }
  if (std::find(worker.awaiting.begin(), worker.awaiting.end(), 1) != worker.awaiting.end()) return;
  if (kind == ps::Kind::done) {
    // Ask again the servers that still count workers in training.
    if (std::find(worker.again.begin(), worker.again.end(), 1) != worker.again.end()) {
      const auto again = worker.again;
      exchange(w, ps::Kind::done, {}, again);
    }
    return;
  }
  const double waited = cluster_.now() - worker.sent_s;
  cluster_.times(w).comm_s += waited;
  ++worker.exchanges;
  worker.exchange_s += waited;
  complete_step(w);
}

EvalTarget SimParameterServer::evaluation_target() {
  EvalTarget target;
  if (!cluster_.real()) return target;
  for (const auto& server : servers_) {
    const auto shard = server.core->shard();
    target.params.insert(target.params.end(), shard.begin(), shard.end());
  }
  // Worker 0's statistics while training; at the end, the workers' mean (as
  // the engine's workers average them when they finish).
  target.buffers = workers_.front().buffers;
  const bool finished = std::all_of(workers_.begin(), workers_.end(), [&](const Worker& worker) {
    return worker.step >= cluster_.settings().total_steps;
  });
  if (finished && workers_.size() > 1 && !target.buffers.empty()) {
    std::fill(target.buffers.begin(), target.buffers.end(), 0.0f);
    for (const auto& worker : workers_)
      for (std::size_t i = 0; i < target.buffers.size(); ++i) target.buffers[i] += worker.buffers[i];
    math::scale(target.buffers, 1.0f / static_cast<float>(workers_.size()));
  }
  return target;
}

nlohmann::json SimParameterServer::summary() const {
  std::vector<double> sums, maxima;
  for (const auto& server : servers_) {
    const auto s = server.core->stats().sums();
    const auto m = server.core->stats().maxima();
    if (sums.empty()) {
      sums = s;
      maxima = m;
      continue;
    }
    for (std::size_t i = 0; i < s.size(); ++i) sums[i] += s[i];
    for (std::size_t i = 0; i < m.size(); ++i) maxima[i] = std::max(maxima[i], m[i]);
  }
  auto figures = ps::ServerStats::figures(sums, maxima, wire_.servers);
  int64_t exchanges = 0;
  double exchange_s = 0.0;
  for (const auto& worker : workers_) {
    exchanges += worker.exchanges;
    exchange_s += worker.exchange_s;
  }
  figures["worker_exchanges"] = exchanges;
  figures["worker_exchange_mean_s"] = exchanges > 0 ? exchange_s / static_cast<double>(exchanges) : 0.0;
  if (method_ == PsMethod::asgd)
    figures.update(ps::asgd_rule_figures(ps::parse_asgd_rule(cluster_.config().asgd_rule),
                                         cluster_.hyper().momentum, wire_.workers));
  if (method_ == PsMethod::easgd) {
    figures["easgd_alpha"] = cluster_.config().easgd_beta / wire_.workers;
    figures["tau"] = cluster_.config().tau;
  }
  figures["max_staleness_bound"] = cluster_.config().max_staleness
                                       ? nlohmann::json(*cluster_.config().max_staleness)
                                       : nullptr;
  return figures;
}

}  // namespace distsgd::sim
