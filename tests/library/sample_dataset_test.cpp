// The data adapter: a torch::data dataset as the trainer's data::Dataset.
#include "library/sample_dataset.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.hpp"
#include "library/library_test_util.hpp"

namespace distsgd::library {
namespace {

using testing::SignDataset;

// The message of the DataError that `make` throws ("" when it throws none).
template <typename F>
std::string data_error(F make) {
  try {
    make();
  } catch (const DataError& error) {
    return error.what();
  }
  return "";
}

// A dataset whose get() is whatever the test says.
Samples samples(int64_t size, std::function<torch::data::Example<>(int64_t)> get) {
  return Samples{size, std::move(get)};
}

TEST(SampleDataset, BatchStacksTheTorchDatasetsExamplesInIndexOrder) {
  SignDataset torch_set(20);
  SampleDataset set(samples_of(torch_set), "the training set");
  const std::vector<int64_t> indices{7, 0, 19, 7};
  const auto batch = set.batch(indices);
  ASSERT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{4, 1, 2, 3}));
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const auto example = torch_set.get(static_cast<std::size_t>(indices[k]));
    EXPECT_TRUE(torch::equal(batch.inputs[static_cast<int64_t>(k)], example.data));
    EXPECT_EQ(batch.targets[static_cast<int64_t>(k)].item<int64_t>(),
              example.target.item<int64_t>());
  }
  EXPECT_EQ(batch.targets.scalar_type(), torch::kInt64);
}

TEST(SampleDataset, DeducesTheShapeAndTheClassCountAndListsTheLabels) {
  SignDataset torch_set(50);
  SampleDataset set(samples_of(torch_set), "the training set");
  EXPECT_EQ(set.size(), 50);
  EXPECT_EQ(set.shape().channels, 1);
  EXPECT_EQ(set.shape().height, 2);
  EXPECT_EQ(set.shape().width, 3);
  EXPECT_EQ(set.num_classes(), 2);
  const auto labels = set.labels();
  ASSERT_EQ(labels.size(), 50u);
  for (int64_t i = 0; i < 50; ++i)
    EXPECT_EQ(labels[static_cast<std::size_t>(i)], torch_set.get(i).target.item<int64_t>());
  // Given, the class count is taken as it is (more classes than labels seen).
  EXPECT_EQ(SampleDataset(samples_of(torch_set), "x", 7).num_classes(), 7);
}

TEST(SampleDataset, AnEmptySetOrNoGetIsADataError) {
  const auto empty = data_error([] {
    SampleDataset(samples(0, [](int64_t) { return torch::data::Example<>{}; }), "the test set");
  });
  EXPECT_NE(empty.find("the test set is empty"), std::string::npos) << empty;
  const auto no_get = data_error([] { SampleDataset(Samples{10, {}}, "the training set"); });
  EXPECT_NE(no_get.find("no get()"), std::string::npos) << no_get;
}

TEST(SampleDataset, AFloatLabelIsADataErrorNamingTheSample) {
  const auto message = data_error([] {
    SampleDataset(samples(4, [](int64_t) {
                    return torch::data::Example<>{torch::zeros({1, 2, 2}), torch::tensor(1.0f)};
                  }),
                  "the training set");
  });
  EXPECT_NE(message.find("the training set: sample 0's label is Float"), std::string::npos)
      << message;
  EXPECT_NE(message.find("int64"), std::string::npos) << message;
}

TEST(SampleDataset, AnInputThatIsNotCHWOrNotFloat32IsADataError) {
  const auto flat = data_error([] {
    SampleDataset(samples(4, [](int64_t) {
                    return torch::data::Example<>{torch::zeros({6}), torch::tensor(int64_t{0})};
                  }),
                  "the training set");
  });
  EXPECT_NE(flat.find("sample 0's input is [6]; it must be a [C, H, W] tensor"),
            std::string::npos)
      << flat;
  const auto doubles = data_error([] {
    SampleDataset(samples(4, [](int64_t) {
                    return torch::data::Example<>{torch::zeros({1, 2, 2}, torch::kFloat64),
                                                  torch::tensor(int64_t{0})};
                  }),
                  "the training set");
  });
  EXPECT_NE(doubles.find("sample 0's input is Double; it must be float32"), std::string::npos)
      << doubles;
}

TEST(SampleDataset, ASampleOfAnotherShapeStopsTheBatchThatHoldsIt) {
  SampleDataset set(samples(4,
                            [](int64_t i) {
                              return torch::data::Example<>{
                                  torch::zeros({1, 2, i == 2 ? 3 : 2}), torch::tensor(int64_t{1})};
                            }),
                    "the training set");
  const std::vector<int64_t> fine{0, 1, 3}, bad{1, 2};
  EXPECT_NO_THROW(set.batch(fine));
  const auto message = data_error([&] { set.batch(bad); });
  EXPECT_NE(message.find("sample 2's input is [1, 2, 3], sample 0's [1, 2, 2]"),
            std::string::npos)
      << message;
}

TEST(SampleDataset, ALabelOutsideTheClassesIsADataError) {
  SampleDataset set(samples(4,
                            [](int64_t i) {
                              return torch::data::Example<>{torch::zeros({1, 1, 1}),
                                                            torch::tensor(i == 3 ? 5 : int64_t{1})};
                            }),
                    "the test set", 3);
  const std::vector<int64_t> bad{3};
  const auto message = data_error([&] { set.batch(bad); });
  EXPECT_NE(message.find("the test set: sample 3's label 5 is outside [0, 3)"), std::string::npos)
      << message;
}

}  // namespace
}  // namespace distsgd::library
