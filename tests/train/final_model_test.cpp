// final.ckpt -> the model (train/final_model.hpp), as distsgd export reads it.
#include "train/final_model.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.hpp"
#include "models/flat_parameters.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"

namespace distsgd {
namespace {

Checkpoint final_checkpoint_of(models::Model& model, const data::SampleShape& shape) {
  FlatParameters flat(model);
  Checkpoint checkpoint;
  checkpoint.meta = {{"step", 17}, {"epoch", 1}, {"model", describe_model("resnet20", shape, 10)}};
  const auto params = flat.param_span();
  const auto buffers = flat.buffer_span();
  checkpoint.tensors["params"] = {params.begin(), params.end()};
  checkpoint.tensors["buffers"] = {buffers.begin(), buffers.end()};
  return checkpoint;
}

TEST(FinalModel, RebuildsTheModelWithItsParametersAndStatistics) {
  testing::TempDir dir;
  const data::SampleShape shape{3, 32, 32};
  torch::manual_seed(5);
  auto trained = models::make_model("resnet20", shape, 10);
  {
    torch::NoGradGuard no_grad;
    for (auto& buffer : trained->buffers())
      if (buffer.is_floating_point()) buffer.uniform_(0.5, 1.5);
  }
  write_checkpoint(dir.file("final.ckpt"), final_checkpoint_of(*trained, shape));
  const auto final = load_final_model(dir.file("final.ckpt"));
  EXPECT_EQ(final.name, "resnet20");
  EXPECT_EQ(final.classes, 10);
  EXPECT_EQ(final.step, 17);
  EXPECT_EQ(final.shape.height, 32);
  trained->eval();
  const auto input = torch::randn({2, 3, 32, 32});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(final.model->forward(input), trained->forward(input)));
  for (const auto& buffer : final.model->named_buffers())
    if (buffer.value().scalar_type() == torch::kInt64)
      EXPECT_EQ(buffer.value().item<int64_t>(), 17) << buffer.key();
}

TEST(FinalModel, AnOlderFinalCheckpointOrOneOfAnotherSizeIsANamedDataError) {
  testing::TempDir dir;
  const data::SampleShape shape{3, 32, 32};
  torch::manual_seed(5);
  auto model = models::make_model("resnet20", shape, 10);
  auto checkpoint = final_checkpoint_of(*model, shape);
  auto older = checkpoint;
  older.meta.erase("model");
  write_checkpoint(dir.file("older.ckpt"), older);
  try {
    load_final_model(dir.file("older.ckpt"));
    ADD_FAILURE() << "an older final.ckpt was read";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("does not record its model"), std::string::npos)
        << error.what();
  }
  checkpoint.tensors["params"].pop_back();
  write_checkpoint(dir.file("short.ckpt"), checkpoint);
  try {
    load_final_model(dir.file("short.ckpt"));
    ADD_FAILURE() << "a final.ckpt one parameter short was read";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(dir.file("short.ckpt")), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("parameter values, model resnet20 has"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace distsgd
