#pragma once
// Small helpers shared by the model tests.
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

#include "data/dataset.hpp"
#include "models/model.hpp"

namespace distsgd::models::test_util {

inline const data::SampleShape kMnist{1, 28, 28};
inline const data::SampleShape kCifar{3, 32, 32};
inline const data::SampleShape kImageNet{3, 224, 224};

inline int64_t parameter_count(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

}  // namespace distsgd::models::test_util
