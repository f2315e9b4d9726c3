#pragma once
// What every simulated method shares: the settings of the run, the virtual
// clock (events), the network (link queues), the compute model, the real
// model (a GradientSource; none with --timing-only) and the bookkeeping of
// each node's time, the steps taken and the evaluations due.
//
// Drivers (sim_allreduce, sim_parameter_server, sim_gossip) run the method
// cores of src/methods on this clock: the cores decide what is sent and what
// an arrival does; the driver only decides when.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "methods/update_math.hpp"
#include "sim/collective_cost.hpp"
#include "sim/compute_model.hpp"
#include "sim/event_queue.hpp"
#include "sim/gradient_source.hpp"
#include "sim/link_queues.hpp"
#include "sim/network_profile.hpp"

namespace distsgd::sim {

struct SimSettings {
  TrainConfig config;  // the method and its flags, as for `distsgd train`
  int nodes = 1;       // ranks, as mpirun -np counts them (servers included)
  NetworkProfile network = NetworkProfile::parse("free");
  AllreduceAlgorithm allreduce = AllreduceAlgorithm::ring;
  bool link_queues = true;  // false: messages never wait for a busy link
  bool overlap = true;      // false: all-reduce starts after the whole backward pass
  ComputeSettings compute;
  double backward_fraction = 2.0 / 3.0;  // of a step's compute; buckets become ready during it
  double update_s_per_float = 0.0;       // a server applying an update, per float of its shard
  int64_t steps_per_epoch = 1;           // per worker
  int64_t total_steps = 1;               // per worker (epochs, or --max-steps)
  bool timing_only = false;
  bool stop_at_target = false;  // end the run at the first evaluation that reaches the target
  // The model: floats of parameters and statistics, and the gradient buckets
  // of all-reduce in launch (backward) order.
  int64_t numel = 0;
  int64_t buffer_numel = 0;
  std::vector<int64_t> bucket_numels;
};

// Seconds each node spent computing, communicating (sending, or waiting for
// a message or a collective under way) and waiting for other nodes.
struct NodeTimes {
  double compute_s = 0.0, comm_s = 0.0, wait_s = 0.0;
  int64_t steps = 0;
  double finished_s = -1.0;  // when its last step ended; -1 while training
};

// The model an evaluation scores, and figures of the method at that moment
// (gossip: the consensus distance).
struct EvalTarget {
  std::vector<float> params, buffers;
  nlohmann::json figures = nlohmann::json::object();
};

class Cluster {
 public:
  // `source` null: timing only. `lr`: the learning rate at a step.
  Cluster(SimSettings settings, GradientSource* source, std::function<double(int64_t)> lr);

  const SimSettings& settings() const { return settings_; }
  const TrainConfig& config() const { return settings_.config; }
  bool real() const { return source_ != nullptr; }
  GradientSource& source() { return *source_; }
  // Floats of the state each node holds (0 when timing only) and on the wire.
  int64_t state_numel() const { return real() ? settings_.numel : 0; }
  int64_t state_buffer_numel() const { return real() ? settings_.buffer_numel : 0; }
  static double bytes(int64_t floats) { return 4.0 * static_cast<double>(floats); }

  EventQueue& events() { return events_; }
  double now() const { return events_.now(); }
  LinkQueues& network() { return network_; }
  const ComputeModel& compute() const { return compute_; }
  double lr(int64_t step) const { return lr_(step); }
  math::SgdHyper hyper() const;
  BatchId batch(int worker, int64_t step) const;

  // A step of `worker` at `params` (real runs): its gradient into `grad`.
  // Throws RuntimeFailure for a non-finite loss, naming the node and step.
  void gradient(int worker, int64_t step, std::span<const float> params, std::span<float> buffers,
                std::span<float> grad);
  NodeTimes& times(int node) { return times_[static_cast<std::size_t>(node)]; }
  const std::vector<NodeTimes>& all_times() const { return times_; }
  // A worker ended a step at now(); the last one of the run marks it finished.
  void step_done(int worker);
  // The time between the ends of a worker's consecutive steps (the first from 0).
  const std::vector<double>& step_intervals(int worker) const {
    return intervals_[static_cast<std::size_t>(worker)];
  }

  // Whether an evaluation is due once a worker has taken `steps` steps: every
  // --eval-every steps, or at epoch ends when it is 0 (as the engine's
  // trainer), never at the last step (the run's final evaluation follows it),
  // never when timing only.
  bool evaluation_due(int64_t steps) const;
  // Called by a driver when an evaluation is due: for synchronous methods and
  // gossip once every node has reached it, for the parameter-server methods
  // when worker 0 has.
  std::function<void()> on_evaluation;
  void evaluation_point() {
    if (on_evaluation) on_evaluation();
  }

  // The moving averages of the training loss and accuracy (over every step).
  double loss_ema() const { return loss_ema_; }
  double accuracy_ema() const { return accuracy_ema_; }
  int64_t steps() const { return steps_; }

 private:
  SimSettings settings_;
  GradientSource* source_;
  std::function<double(int64_t)> lr_;
  EventQueue events_;
  LinkQueues network_;
  ComputeModel compute_;
  std::vector<NodeTimes> times_;
  std::vector<std::vector<double>> intervals_;
  std::vector<double> last_step_end_;
  int64_t steps_ = 0;
  double loss_ema_ = 0.0, accuracy_ema_ = 0.0;
};

// One simulated method: it schedules its first events in start(), and says
// what an evaluation scores at any moment.
class SimMethod {
 public:
  virtual ~SimMethod() = default;
  virtual void start() = 0;
  virtual EvalTarget evaluation_target() = 0;
  // Figures of the method for summary.json (staleness, traffic, weights).
  virtual nlohmann::json summary() const = 0;
  // Workers among the nodes (the rest serve).
  virtual int workers() const = 0;
};

// The driver of --algo (allreduce, asgd, easgd, gossip-pull, gossip-push);
// ConfigError for another name or a layout the nodes cannot hold.
std::unique_ptr<SimMethod> make_sim_method(Cluster& cluster);
int workers_of(const TrainConfig& config, int nodes);

}  // namespace distsgd::sim
