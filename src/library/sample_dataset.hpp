#pragma once
// The library's data (distsgd::Samples: get(i) -> Example<input, label>) as
// the data::Dataset the trainer draws batches from. The samples are read
// through get() each time a batch needs them (nothing is copied up front), so
// a data set of any size costs only what the program itself holds.
//
// The constructor checks what it can from the first sample and the size, and
// every batch checks the samples it stacks, so a sample that breaks the
// contract of Samples stops the run with a DataError naming the set ("the
// training set", "the test set"), the index and what is wrong, instead of a
// shape error deep inside LibTorch.
#include <cstdint>
#include <string>

#include "data/dataset.hpp"
#include "distsgd/distsgd.hpp"

namespace distsgd::library {

class SampleDataset : public data::Dataset {
 public:
  // `what` names the set in errors. num_classes 0: one more than the largest
  // label (reading every label). DataError for an empty set, a missing get(),
  // or a first sample whose input is not float32 [C, H, W] or whose label is
  // not an int64 scalar in [0, num_classes).
  SampleDataset(Samples samples, std::string what, int64_t num_classes = 0);

  int64_t size() const override { return samples_.size; }
  data::SampleShape shape() const override { return shape_; }
  int64_t num_classes() const override { return num_classes_; }
  // Stacks get(i) for i in `indices`; the augmentation seed is ignored (a
  // program augments in its own get() if it wants to).
  data::Batch batch(std::span<const int64_t> indices,
                    std::optional<uint64_t> augment_seed = std::nullopt) const override;
  std::vector<int64_t> labels() const override;

 private:
  // The sample at `index`, checked: its input float32 of shape_, its label.
  torch::data::Example<> sample(int64_t index) const;
  int64_t label_of(const torch::data::Example<>& example, int64_t index) const;

  Samples samples_;
  std::string what_;
  data::SampleShape shape_;
  int64_t num_classes_ = 0;
};

}  // namespace distsgd::library
