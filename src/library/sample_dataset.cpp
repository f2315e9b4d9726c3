#include "library/sample_dataset.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/errors.hpp"

namespace distsgd::library {
namespace {

std::string shape_text(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

}  // namespace

SampleDataset::SampleDataset(Samples samples, std::string what, int64_t num_classes)
    : samples_(std::move(samples)), what_(std::move(what)) {
  if (!samples_.get) throw DataError(what_ + ": no get() function to read its samples");
  if (samples_.size < 1)
    throw DataError(fmt::format("{} is empty (size {}): it needs at least one sample", what_,
                                samples_.size));
  const auto first = samples_.get(0);
  const auto& input = first.data;
  if (!input.defined() || input.dim() != 3)
    throw DataError(fmt::format(
        "{}: sample 0's input is {}; it must be a [C, H, W] tensor (e.g. [1, 1, F] for F "
        "features)",
        what_, input.defined() ? shape_text(input) : std::string("undefined")));
  shape_ = {input.size(0), input.size(1), input.size(2)};
  if (num_classes < 0)
    throw DataError(fmt::format("{}: num_classes is {}; it must be >= 1 (0: deduced)", what_,
                                num_classes));
  num_classes_ = num_classes;
  if (num_classes_ == 0) {
    // Deduced: any label is valid while reading them.
    num_classes_ = std::numeric_limits<int64_t>::max();
    const auto all = labels();
    num_classes_ = *std::max_element(all.begin(), all.end()) + 1;
  }
  sample(0);  // checks the first sample's dtype and label
}

int64_t SampleDataset::label_of(const torch::data::Example<>& example, int64_t index) const {
  const auto& target = example.target;
  if (!target.defined() || target.numel() != 1 || target.scalar_type() != torch::kInt64)
    throw DataError(fmt::format(
        "{}: sample {}'s label is {} {}; it must be an int64 scalar (torch::kLong)", what_,
        index, target.defined() ? std::string(c10::toString(target.scalar_type())) : "undefined",
        target.defined() ? shape_text(target) : std::string()));
  const int64_t label = target.item<int64_t>();
  if (label < 0 || label >= num_classes_)
    throw DataError(fmt::format("{}: sample {}'s label {} is outside [0, {}) (num_classes {})",
                                what_, index, label, num_classes_, num_classes_));
  return label;
}

torch::data::Example<> SampleDataset::sample(int64_t index) const {
  auto example = samples_.get(index);
  const auto& input = example.data;
  if (!input.defined() || input.dim() != 3 || input.size(0) != shape_.channels ||
      input.size(1) != shape_.height || input.size(2) != shape_.width)
    throw DataError(fmt::format("{}: sample {}'s input is {}, sample 0's [{}, {}, {}]: every "
                                "sample must have the same shape",
                                what_, index,
                                input.defined() ? shape_text(input) : std::string("undefined"),
                                shape_.channels, shape_.height, shape_.width));
  if (input.scalar_type() != torch::kFloat32)
    throw DataError(fmt::format("{}: sample {}'s input is {}; it must be float32", what_, index,
                                c10::toString(input.scalar_type())));
  label_of(example, index);
  return example;
}

data::Batch SampleDataset::batch(std::span<const int64_t> indices,
                                 std::optional<uint64_t> /*augment_seed*/) const {
  std::vector<torch::Tensor> inputs;
  std::vector<int64_t> targets;
  inputs.reserve(indices.size());
  targets.reserve(indices.size());
  for (const int64_t index : indices) {
    auto example = sample(index);
    targets.push_back(example.target.item<int64_t>());
    inputs.push_back(std::move(example.data));
  }
  data::Batch batch;
  batch.inputs = torch::stack(inputs).contiguous();
  batch.targets = torch::tensor(targets, torch::kInt64);
  return batch;
}

std::vector<int64_t> SampleDataset::labels() const {
  std::vector<int64_t> out(static_cast<std::size_t>(samples_.size));
  for (int64_t i = 0; i < samples_.size; ++i) out[i] = label_of(samples_.get(i), i);
  return out;
}

}  // namespace distsgd::library
