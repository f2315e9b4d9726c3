#pragma once
// What the simulator needs from a real model, without knowing LibTorch: the
// gradient of a worker's batch at the parameters that worker holds, and the
// test-set score of a parameter vector. src/train/simulated_training.cpp
// implements it with one model time-multiplexed over every node's flat
// state; unit tests implement it with a closed-form loss.
#include <cstdint>
#include <span>
#include <vector>

namespace distsgd::sim {

struct StepFigures {
  double loss = 0.0;
  double accuracy = 0.0;
};

struct EvalFigures {
  double loss = 0.0;
  double accuracy = 0.0;
};

// Which batch: worker `worker` (of the run's workers), its batch
// `step_in_epoch` of epoch `epoch`; `step` counts its steps from 0.
struct BatchId {
  int worker = 0;
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  int64_t step = 0;
};

class GradientSource {
 public:
  virtual ~GradientSource() = default;
  // Floats of the parameters and of the batch-norm statistics.
  virtual int64_t numel() const = 0;
  virtual int64_t buffer_numel() const = 0;
  // The initial parameters and statistics (every node starts from them, as
  // the engine broadcasts rank 0's).
  virtual std::vector<float> initial_params() const = 0;
  virtual std::vector<float> initial_buffers() const = 0;
  // The gradient of the loss of `batch` at `params` into `grad`; the forward
  // pass updates `buffers` (the worker's statistics) as training does.
  virtual StepFigures gradient(const BatchId& batch, std::span<const float> params,
                               std::span<float> buffers, std::span<float> grad) = 0;
  // The test figures of `params`: on the whole test set (the final
  // evaluation) or on the --eval-samples subset (those during training).
  virtual EvalFigures evaluate(std::span<const float> params, std::span<const float> buffers,
                               bool whole_set) = 0;
};

}  // namespace distsgd::sim
