// The parameter-server cores (server request handler and worker steps) run as
// a small cluster inside one test process: up to 16 workers and 2 servers,
// messages delivered in a seeded random order on a virtual clock, no MPI and
// no threads. The invariants are those the MPI engine relies on.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "core/random.hpp"
#include "methods/ps_server_core.hpp"
#include "methods/ps_worker_core.hpp"
#include "methods/update_math.hpp"

namespace distsgd::ps {
namespace {

constexpr int64_t kDim = 12;

// Worker w's gradient at x: x - target_w, a quadratic with its own minimum.
std::vector<float> gradient(int worker, std::span<const float> x) {
  std::vector<float> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    g[i] = x[i] - static_cast<float>(worker + 1) * 0.1f * static_cast<float>(i % 3);
  return g;
}

struct Cluster {
  struct Worker {
    std::vector<float> x;
    math::MomentumState momentum;  // EASGD's local optimizer
    std::optional<WorkerCore> core;
    int64_t step = 0, steps = 0;
    Kind waiting_for = Kind::pull;
    int replies_due = 0;
    bool released = false;
    std::vector<std::vector<float>> replies;  // per server, the last reply
    int64_t max_lead_seen = 0;
  };
  struct Message {
    int from;
    std::vector<float> data;
  };

  PsMethod method;
  PsLayout layout;
  std::vector<Worker> workers;
  std::vector<ServerCore> servers;
  std::vector<std::deque<Message>> to_server;
  SplitMix64 random{17};
  double now = 0.0;
  double lr = 0.05;
  int tau = 1;
  std::vector<int> slowness;  // a worker acts only every slowness[w]-th time it is picked

  Cluster(PsMethod m, int nworkers, int nservers, int64_t steps, ServerSettings base = {})
      : method(m), layout(make_ps_layout(kDim, nworkers + nservers, nservers)) {
    std::vector<float> start(kDim);
    for (int64_t i = 0; i < kDim; ++i) start[static_cast<std::size_t>(i)] = 0.5f - 0.1f * i;
    base.method = m;
    base.workers = nworkers;
    base.alpha = easgd_alpha(0.9, nworkers);
    for (int s = 0; s < nservers; ++s) {
      const auto range = layout.shards[static_cast<std::size_t>(s)];
      base.rank = layout.server_rank(s);
      servers.emplace_back(base, std::vector<float>(start.begin() + range.offset,
                                                    start.begin() + range.offset + range.size),
                           0.0);
    }
    to_server.resize(static_cast<std::size_t>(nservers));
    workers.resize(static_cast<std::size_t>(nworkers));
    for (auto& w : workers) {
      w.x = start;
      w.core.emplace(m, layout, tau, base.alpha);
      w.steps = steps;
      w.replies.resize(static_cast<std::size_t>(nservers));
    }
    slowness.assign(static_cast<std::size_t>(nworkers), 1);
  }

  void send_all(int w, Kind kind, std::span<const float> full) {
    auto& worker = workers[static_cast<std::size_t>(w)];
    for (int s = 0; s < layout.servers; ++s) {
      Message message{w, {}};
      worker.core->write_request(s, kind, full, worker.step, 0, lr, message.data);
      to_server[static_cast<std::size_t>(s)].push_back(std::move(message));
    }
    worker.waiting_for = kind;
    worker.replies_due = layout.servers;
  }

  void deliver(const Reply& reply, int server) {
    auto& worker = workers[static_cast<std::size_t>(reply.worker)];
    ASSERT_GT(worker.replies_due, 0) << "a reply nobody asked for, to worker " << reply.worker;
    const auto header = worker.core->read_reply(server, worker.waiting_for, reply.message);
    worker.replies[static_cast<std::size_t>(server)] = reply.message;
    if (--worker.replies_due > 0) return;
    // Every server has answered: the worker goes on.
    if (worker.waiting_for == Kind::push_gradient) {
      for (int s = 0; s < layout.servers; ++s)
        worker.core->take_parameters(s, worker.replies[static_cast<std::size_t>(s)], worker.x);
      ++worker.step;
    } else if (worker.waiting_for == Kind::elastic) {
      for (int s = 0; s < layout.servers; ++s)
        worker.core->take_elastic(s, worker.replies[static_cast<std::size_t>(s)], worker.x);
      ++worker.step;
    } else if (worker.waiting_for == Kind::done) {
      (void)header;
      bool all_zero = true;
      for (const auto& r : worker.replies) all_zero = all_zero && read_header(r).workers_training == 0;
      if (all_zero)
        worker.released = true;
      else
        send_all(reply.worker, Kind::done, {});  // ask again
    }
  }

  // A worker with nothing in flight takes its next step (or says it is done).
  void act(int w) {
    auto& worker = workers[static_cast<std::size_t>(w)];
    if (worker.replies_due > 0 || worker.released) return;
    if (worker.step >= worker.steps) return send_all(w, Kind::done, {});
    const auto g = gradient(w, worker.x);
    if (method == PsMethod::asgd) return send_all(w, Kind::push_gradient, g);
    math::sgd_step(worker.x, g, worker.momentum, {0.5, 0.0, false}, lr);
    if (worker.core->elastic_due(worker.step)) return send_all(w, Kind::elastic, worker.x);
    ++worker.step;
  }

  void serve_one(int s) {
    auto& queue = to_server[static_cast<std::size_t>(s)];
    if (queue.empty()) return;
    auto message = std::move(queue.front());
    queue.pop_front();
    std::vector<Reply> out;
    servers[static_cast<std::size_t>(s)].handle(message.from, message.data, now, out);
    for (const auto& reply : out) deliver(reply, s);
  }

  void advance_servers() {
    for (int s = 0; s < layout.servers; ++s) {
      std::vector<Reply> out;
      std::vector<Dropped> dropped;
      servers[static_cast<std::size_t>(s)].advance(now, out, dropped);
      for (const auto& reply : out) deliver(reply, s);
    }
  }

  bool all_released() const {
    for (const auto& w : workers)
      if (!w.released) return false;
    return true;
  }

  // Runs until every worker is released; returns the iterations taken.
  int64_t run(int64_t limit = 2'000'000) {
    int64_t iterations = 0;
    while (!all_released() && iterations++ < limit) {
      now += 0.001;
      const auto pick = random.below(workers.size() + to_server.size());
      if (pick < workers.size()) {
        if (random.below(static_cast<uint64_t>(slowness[pick])) == 0) act(static_cast<int>(pick));
      } else {
        serve_one(static_cast<int>(pick - workers.size()));
      }
      advance_servers();
    }
    return iterations;
  }
};

TEST(PsCores, AsgdWithOneWorkerIsPlainSgdWithMomentumBitForBit) {
  ServerSettings settings;
  settings.hyper = {0.9, 1e-3, false};
  Cluster cluster(PsMethod::asgd, 1, 2, 25, settings);
  cluster.run();
  ASSERT_TRUE(cluster.all_released());
  std::vector<float> x(kDim);
  for (int64_t i = 0; i < kDim; ++i) x[static_cast<std::size_t>(i)] = 0.5f - 0.1f * i;
  math::MomentumState momentum;
  for (int step = 0; step < 25; ++step)
    math::sgd_step(x, gradient(0, x), momentum, settings.hyper, cluster.lr);
  EXPECT_EQ(cluster.workers[0].x, x);
  for (const auto& server : cluster.servers) {
    EXPECT_EQ(server.version(), 25);
    EXPECT_EQ(server.stats().staleness_max, 0.0);
  }
}

TEST(PsCores, SixteenWorkersTwoServersEveryRequestAnsweredOnceAndStalenessFromTheOrder) {
  Cluster cluster(PsMethod::asgd, 16, 2, 20);
  cluster.run();
  ASSERT_TRUE(cluster.all_released());
  for (const auto& server : cluster.servers) {
    EXPECT_TRUE(server.finished());
    EXPECT_EQ(server.version(), 16 * 20);  // one update per push
    EXPECT_EQ(server.stats().updates, 16 * 20);
    EXPECT_EQ(server.stats().requests, server.stats().replies);
    double counted = 0;
    for (double bin : server.stats().histogram) counted += bin;
    EXPECT_EQ(counted, 16 * 20);
    // 16 workers interleaved: most updates were computed on old parameters.
    EXPECT_GT(server.stats().staleness_sum / counted, 1.0);
    EXPECT_LT(server.stats().staleness_max, 16 * 20);
  }
  // Converged towards the mean of the targets: the gradient of the average
  // objective is small at the servers' parameters.
  std::vector<float> average(kDim, 0.0f);
  for (int w = 0; w < 16; ++w) {
    const auto g = gradient(w, cluster.workers[0].x);
    for (int64_t i = 0; i < kDim; ++i) average[static_cast<std::size_t>(i)] += g[static_cast<std::size_t>(i)] / 16;
  }
  for (float value : average) EXPECT_LT(std::abs(value), 0.05f);
}

TEST(PsCores, StalenessBoundHoldsAFastWorkerToTheSlowOne) {
  ServerSettings settings;
  settings.max_staleness = 1;
  Cluster bounded(PsMethod::asgd, 4, 1, 30, settings);
  bounded.slowness[0] = 8;  // worker 0 acts an eighth as often
  bounded.run();
  ASSERT_TRUE(bounded.all_released());
  const auto& stats = bounded.servers[0].stats();
  EXPECT_LE(stats.max_lead, 1.0);
  EXPECT_GT(stats.held_replies, 0.0);
  EXPECT_GT(stats.held_s, 0.0);
  EXPECT_EQ(stats.requests, stats.replies);

  Cluster free(PsMethod::asgd, 4, 1, 30);
  free.slowness[0] = 8;
  free.run();
  EXPECT_GT(free.servers[0].stats().max_lead, 1.0);
  EXPECT_EQ(free.servers[0].stats().held_replies, 0.0);
}

TEST(PsCores, EasgdElasticMovesConserveReplicasPlusCentre) {
  Cluster cluster(PsMethod::easgd, 16, 2, 10);
  cluster.lr = 0.0;  // no local steps: only elastic moves, which conserve the sum
  std::vector<double> before(kDim, 0.0);
  for (const auto& w : cluster.workers)
    for (int64_t i = 0; i < kDim; ++i) before[static_cast<std::size_t>(i)] += w.x[static_cast<std::size_t>(i)];
  for (int s = 0; s < 2; ++s) {
    const auto range = cluster.layout.shards[static_cast<std::size_t>(s)];
    const auto shard = cluster.servers[static_cast<std::size_t>(s)].shard();
    for (int64_t i = 0; i < range.size; ++i) before[static_cast<std::size_t>(range.offset + i)] += shard[static_cast<std::size_t>(i)];
  }
  // Spread the replicas so that the moves have something to do.
  for (int w = 0; w < 16; ++w)
    for (int64_t i = 0; i < kDim; ++i) {
      const float shift = 0.01f * static_cast<float>(w - 8);
      cluster.workers[static_cast<std::size_t>(w)].x[static_cast<std::size_t>(i)] += shift;
    }
  cluster.run();
  ASSERT_TRUE(cluster.all_released());
  std::vector<double> after(kDim, 0.0);
  for (const auto& w : cluster.workers)
    for (int64_t i = 0; i < kDim; ++i) after[static_cast<std::size_t>(i)] += w.x[static_cast<std::size_t>(i)];
  for (int s = 0; s < 2; ++s) {
    const auto range = cluster.layout.shards[static_cast<std::size_t>(s)];
    const auto shard = cluster.servers[static_cast<std::size_t>(s)].shard();
    for (int64_t i = 0; i < range.size; ++i) after[static_cast<std::size_t>(range.offset + i)] += shard[static_cast<std::size_t>(i)];
  }
  // The shifts sum to -0.08 per element over 16 workers.
  for (int64_t i = 0; i < kDim; ++i) EXPECT_NEAR(after[static_cast<std::size_t>(i)], before[static_cast<std::size_t>(i)] - 0.08, 1e-4);
  EXPECT_EQ(cluster.servers[0].stats().updates, 16 * 10);
  EXPECT_GT(cluster.servers[0].stats().staleness_sum, 0.0);
}

// A request: the header, and a payload of the shard's size when it carries one.
std::vector<float> request(Kind kind, int64_t step, int64_t epoch = 0, std::size_t floats = 0) {
  std::vector<float> message(kHeaderFloats + floats, 0.0f);
  auto header = make_header(kind);
  header.step = step;
  header.epoch = epoch;
  write_header(message, header);
  return message;
}

ServerCore small_server(int workers, bool survive = false) {
  ServerSettings settings;
  settings.workers = workers;
  settings.rank = workers;
  settings.heartbeat_s = 1.0;
  settings.silent_after_s = 10.0;
  settings.survive_worker_loss = survive;
  return ServerCore(settings, std::vector<float>(4, 1.0f), 0.0);
}

TEST(PsServerCore, CheckpointIsWrittenOnceEveryWorkerHasAskedAndWaitersHearEveryHeartbeat) {
  auto server = small_server(3);
  int writes = 0;
  server.set_part_writer([&](int64_t epoch) {
    ++writes;
    EXPECT_EQ(epoch, 2);
    return CheckpointDigest{1234, 0xabcd};
  });
  std::vector<Reply> out;
  std::vector<Dropped> dropped;
  server.handle(0, request(Kind::checkpoint, 50, 2), 0.0, out);
  server.handle(1, request(Kind::checkpoint, 50, 2), 0.2, out);
  server.advance(0.5, out, dropped);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(server.listening(0)) << "a second request while the first is unanswered";
  server.advance(1.0, out, dropped);  // worker 0 has waited a heartbeat: ask again
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].worker, 0);
  EXPECT_EQ(read_header(out[0].message).checkpoint, static_cast<int64_t>(CheckpointAnswer::wait));
  EXPECT_TRUE(server.listening(0));
  out.clear();
  server.handle(0, request(Kind::checkpoint, 50, 2), 1.1, out);
  server.handle(2, request(Kind::checkpoint, 50, 2), 1.2, out);
  server.advance(1.2, out, dropped);
  EXPECT_EQ(writes, 1);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& reply : out) {
    const auto header = read_header(reply.message);
    EXPECT_EQ(header.checkpoint, static_cast<int64_t>(CheckpointAnswer::written));
    EXPECT_EQ(header.part_bytes, 1234);
    EXPECT_EQ(header.part_crc, 0xabcd);
  }
  EXPECT_EQ(server.stats().requests, 4.0);
  EXPECT_EQ(server.stats().replies, 4.0);
}

TEST(PsServerCore, AFinishedWorkerMeansNoCheckpoint) {
  auto server = small_server(2);
  server.set_part_writer([](int64_t) -> CheckpointDigest {
    ADD_FAILURE() << "wrote a part although a worker had finished";
    return {};
  });
  std::vector<Reply> out;
  std::vector<Dropped> dropped;
  server.handle(0, request(Kind::checkpoint, 9, 1), 0.0, out);
  server.handle(1, request(Kind::done, 9), 0.0, out);
  server.advance(0.0, out, dropped);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].worker, 0);
  EXPECT_EQ(read_header(out[0].message).checkpoint, static_cast<int64_t>(CheckpointAnswer::stopped));
}

TEST(PsServerCore, ASilentWorkerEndsTheRunNamingItOrIsDroppedWhenSurvivable) {
  auto strict = small_server(2);
  std::vector<Reply> out;
  std::vector<Dropped> dropped;
  strict.handle(0, request(Kind::pull, 3), 5.0, out);
  strict.advance(9.0, out, dropped);  // nobody silent for 10 s yet
  try {
    strict.advance(10.5, out, dropped);
    FAIL() << "worker 1 silent past the deadline went unnoticed";
  } catch (const RuntimeFailure& error) {
    EXPECT_NE(std::string(error.what()).find("no request from worker rank 1"), std::string::npos)
        << error.what();
  }

  auto survivor = small_server(2, /*survive=*/true);
  survivor.handle(0, request(Kind::pull, 3), 5.0, out);
  survivor.advance(10.5, out, dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].worker, 1);
  EXPECT_EQ(survivor.lost(), std::vector<int>{1});
  EXPECT_FALSE(survivor.listening(1));
  EXPECT_EQ(survivor.live_workers(), 1);
  out.clear();
  survivor.handle(0, request(Kind::done, 4), 11.0, out);
  survivor.advance(11.0, out, dropped);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(read_header(out[0].message).workers_training, 0);
  EXPECT_TRUE(survivor.finished());
}

TEST(PsServerCore, RequestsTheProtocolDoesNotAllowAreRefused) {
  auto server = small_server(2);  // ASGD
  std::vector<Reply> out;
  EXPECT_THROW(server.handle(0, request(Kind::elastic, 0, 0, 4), 0.0, out), RuntimeFailure);
  EXPECT_THROW(server.handle(0, request(Kind::push_gradient, 0, 0, 2), 0.0, out), RuntimeFailure)
      << "a payload shorter than the shard";
  EXPECT_THROW(server.handle(0, request(static_cast<Kind>(42), 0), 0.0, out), RuntimeFailure);
  server.handle(1, request(Kind::checkpoint, 0, 1), 0.0, out);
  EXPECT_THROW(server.handle(0, request(Kind::checkpoint, 0, 2), 0.0, out), RuntimeFailure)
      << "two checkpoints at once";
}

TEST(PsServerCore, CheckpointStateRoundTripsAndRefusesAnotherShard) {
  auto server = small_server(2);
  std::vector<Reply> out;
  auto push = request(Kind::push_gradient, 0, 0, 4);
  auto header = read_header(push);
  header.lr = 0.5;
  write_header(push, header);
  std::fill(push.begin() + kHeaderFloats, push.end(), 1.0f);
  server.handle(0, push, 0.0, out);
  const auto state = server.checkpoint_state(0, {0, 4});
  auto restored = small_server(2);
  restored.restore_state(state, 0, {0, 4});
  EXPECT_EQ(restored.version(), 1);
  EXPECT_EQ(std::vector<float>(restored.shard().begin(), restored.shard().end()),
            std::vector<float>(server.shard().begin(), server.shard().end()));
  EXPECT_THROW(restored.restore_state(state, 1, {4, 4}), DataError);
}

TEST(PsWorkerCore, AReplyOfAnotherKindNamesTheServer) {
  WorkerCore worker(PsMethod::asgd, make_ps_layout(8, 3, 2), 1, 0.5f);
  std::vector<float> reply(kHeaderFloats + 4);
  write_header(reply, make_header(Kind::pull));
  try {
    worker.read_reply(1, Kind::push_gradient, reply);
    FAIL();
  } catch (const RuntimeFailure& error) {
    EXPECT_NE(std::string(error.what()).find("server rank 2 answered a gradient push with a "
                                             "parameter pull"),
              std::string::npos)
        << error.what();
  }
}

TEST(PsWorkerCore, RequestsCarryTheirShardAndOnlyTheirFields) {
  WorkerCore worker(PsMethod::asgd, make_ps_layout(5, 3, 2), 1, 0.5f);
  const std::vector<float> grads = {1, 2, 3, 4, 5};
  std::vector<float> message;
  worker.write_request(1, Kind::push_gradient, grads, 7, 0, 0.25, message);
  ASSERT_EQ(message.size(), kHeaderFloats + 2);  // shard 1 is [3, 5)
  EXPECT_EQ(message[kHeaderFloats], 4.0f);
  const auto header = read_header(message);
  EXPECT_EQ(header.step, 7);
  EXPECT_EQ(header.lr, 0.25);
  EXPECT_EQ(header.epoch, 0);
  worker.write_request(0, Kind::checkpoint, {}, 7, 3, 0.25, message);
  EXPECT_EQ(message.size(), kHeaderFloats);
  EXPECT_EQ(read_header(message).epoch, 3);
  EXPECT_EQ(read_header(message).lr, 0.0);
  WorkerCore easgd(PsMethod::easgd, make_ps_layout(5, 3, 2), 3, 0.5f);
  EXPECT_FALSE(easgd.elastic_due(0));
  EXPECT_TRUE(easgd.elastic_due(2));
  EXPECT_FALSE(worker.elastic_due(2)) << "ASGD never exchanges elastically";
}

}  // namespace
}  // namespace distsgd::ps
