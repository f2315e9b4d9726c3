// Synchronous all-reduce SGD through the real trainer, on 1, 2 or 4 ranks
// (ctest starts this binary under mpirun with each count).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "methods/update_math.hpp"
#include "models/flat_parameters.hpp"
#include "data/dataset.hpp"
#include "models/model.hpp"
#include "mpi_test_env.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"

namespace distsgd {
namespace {

using testing::world;

TrainConfig small_config(const std::string& log_dir) {
  TrainConfig config;
  config.model = "cnn";
  config.batch_size = 16;
  config.lr = 0.1;
  config.momentum = 0.9;
  config.weight_decay = 1e-4;
  config.epochs = 1;
  config.checkpoint_every = 0;
  config.quiet = true;
  config.eval_batch_size = 2000;
  config.log_dir = log_dir;
  config.seed = 7;
  return config;
}

// One step on N ranks with batch B equals one step on one process with batch
// N*B over the union of the N shards' first batches.
TEST(AllReduceTrain, OneStepEqualsLargeBatchStepOnOneProcess) {
  auto config = small_config(testing::shared_temp_dir("onestep"));
  config.max_steps = 1;
  train(config, world());
  const int n = world().size();

  // The reference: same initial weights, the union batch, plain SGD.
  torch::manual_seed(config.seed);
  auto data = data::load_datasets({config.dataset, config.data_dir, config.synthetic_shape, config.seed});
  auto model = models::make_model(config.model, data.train->shape(), data.train->num_classes());
  FlatParameters flat(*model);
  std::vector<int64_t> union_indices;
  for (int r = 0; r < n; ++r) {
    const auto shard = data::shard_for_epoch(data.train->size(), r, n, config.seed, 0);
    union_indices.insert(union_indices.end(), shard.begin(), shard.begin() + config.batch_size);
  }
  auto batch = data.train->batch(union_indices);
  auto loss = torch::nn::functional::cross_entropy(model->forward(batch.inputs), batch.targets);
  loss.backward();
  math::MomentumState momentum;
  math::sgd_step(flat.param_span(), flat.grad_span(), momentum,
                 {config.momentum, config.weight_decay, config.nesterov}, config.lr);

  const auto trained = read_checkpoint(config.log_dir + "/final.ckpt").tensors.at("params");
  ASSERT_EQ(trained.size(), flat.param_span().size());
  const float difference = math::max_abs_difference(trained, flat.param_span());
  EXPECT_LE(difference, 1e-5f) << "on " << n << " ranks";
  // And the step did move the parameters (the comparison is not vacuous).
  std::vector<float> initial(flat.param_span().size());
  {
    torch::manual_seed(config.seed);
    auto fresh = models::make_model(config.model, data.train->shape(), data.train->num_classes());
    FlatParameters fresh_flat(*fresh);
    std::copy(fresh_flat.param_span().begin(), fresh_flat.param_span().end(), initial.begin());
  }
  EXPECT_GT(math::max_abs_difference(trained, initial), 1e-4f);
}

TEST(AllReduceTrain, ReplicasBitwiseIdenticalAfter50Steps) {
  auto config = small_config(testing::shared_temp_dir("identical"));
  config.max_steps = 50;
  const auto result = train(config, world());
  EXPECT_EQ(result.summary.at("max_param_divergence").get<double>(), 0.0);
  EXPECT_EQ(result.summary.at("steps").get<int64_t>(), 50);
  EXPECT_EQ(result.summary.at("nodes").get<int>(), world().size());
  // Training happened: far better than chance (0.1) after 50 steps.
  EXPECT_GT(result.summary.at("final_test_accuracy").get<double>(), 0.3);
}

TEST(AllReduceTrain, BatchNormModelsStayIdenticalAndBuffersAreAveraged) {
  auto config = small_config(testing::shared_temp_dir("resnet"));
  config.model = "resnet20";
  config.max_steps = 3;
  config.eval_batch_size = 500;
  const auto result = train(config, world());
  EXPECT_EQ(result.summary.at("max_param_divergence").get<double>(), 0.0);
  // Running statistics differ per rank during training; they are averaged at
  // the end, so every rank ends with the same ones.
  EXPECT_EQ(result.summary.at("max_buffer_divergence").get<double>(), 0.0);
}

}  // namespace
}  // namespace distsgd
