// The parameter-server drivers (ParameterServerWorker, ParameterServer) on 16
// in-process ranks, one thread each, as mpirun would run them: 14 workers and
// 2 servers train a quadratic through the real drivers and cores. Every
// request is answered exactly once, every push is one update on each server,
// and every worker ends with the servers' final parameters.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "algorithms/parameter_server.hpp"
#include "comm/in_process_ranks.hpp"
#include "methods/update_math.hpp"

namespace distsgd {
namespace {

using testing::kRanks;
using testing::run_ranks;

constexpr std::size_t kSize = 40;

struct Outcome {
  std::mutex mutex;
  std::vector<std::vector<float>> finals;  // per worker: the model it evaluates at the end
  nlohmann::json summary;                  // rank 0's
};

void train(comm::Communicator& world, PsMethod method, int servers, int steps, Outcome& outcome) {
  TrainConfig config;
  config.servers = servers;
  config.momentum = 0.5;
  config.timeout_s = 60;
  config.tau = 2;
  const int workers = world.size() - servers;
  const bool is_worker = world.rank() < workers;
  auto group = world.split(is_worker ? 0 : 1, world.rank(), "workers");
  std::vector<float> params(kSize, 1.0f), grads(kSize), buffers;
  ReplicaView replica{params, grads, buffers, {}};
  if (!is_worker) {
    ParameterServer server(method, config, world);
    server.start(replica);
    server.serve({});
    server.finish();
    server.summary();
    return;
  }
  ParameterServerWorker worker(method, config, world, group);
  worker.start(replica);
  math::MomentumState momentum;
  for (int step = 0; step < steps; ++step) {
    for (std::size_t i = 0; i < kSize; ++i)
      grads[i] = params[i] - static_cast<float>(world.rank() % 3) * 0.1f;
    const StepInfo info{step, 0, 0.05};
    worker.before_step(replica, info);
    if (!worker.traits().applies_update)
      math::sgd_step(params, grads, momentum, {0.5, 0.0, false}, info.lr);
    worker.after_step(replica, info);
  }
  worker.finish(replica);
  std::vector<float> evaluated(kSize);
  const auto target = worker.prepare_evaluation(replica, {evaluated, {}, {}, {}});
  EXPECT_TRUE(target.uses_out);
  auto summary = worker.summary();
  std::lock_guard lock(outcome.mutex);
  outcome.finals.push_back(evaluated);
  if (world.rank() == 0) outcome.summary = summary;
}

TEST(ParameterServerInProcess, AsgdFourteenWorkersTwoServers) {
  Outcome outcome;
  run_ranks(kRanks, [&](comm::Communicator& world) { train(world, PsMethod::asgd, 2, 30, outcome); });
  ASSERT_EQ(outcome.finals.size(), 14u);
  for (const auto& final : outcome.finals) EXPECT_EQ(final, outcome.finals.front());
  const auto& figures = outcome.summary;
  EXPECT_EQ(figures.at("server_updates").get<double>(), 2 * 14 * 30);  // each push, on each server
  EXPECT_EQ(figures.at("server_requests"), figures.at("server_replies"));
  EXPECT_GT(figures.at("staleness_mean").get<double>(), 0.0) << "14 workers never overlapped";
  // The servers moved the model from its start of all ones.
  EXPECT_GT(math::max_abs_difference(outcome.finals.front(), std::vector<float>(kSize, 1.0f)), 0.1f);
}

TEST(ParameterServerInProcess, EasgdFourteenWorkersTwoServersExchangeEveryTauSteps) {
  Outcome outcome;
  run_ranks(kRanks, [&](comm::Communicator& world) { train(world, PsMethod::easgd, 2, 20, outcome); });
  ASSERT_EQ(outcome.finals.size(), 14u);
  for (const auto& final : outcome.finals) EXPECT_EQ(final, outcome.finals.front());
  const auto& figures = outcome.summary;
  EXPECT_EQ(figures.at("server_updates").get<double>(), 2 * 14 * 20 / 2);  // tau 2
  EXPECT_EQ(figures.at("server_requests"), figures.at("server_replies"));
  EXPECT_DOUBLE_EQ(figures.at("easgd_alpha").get<double>(), 0.9 / 14);
}

}  // namespace
}  // namespace distsgd
