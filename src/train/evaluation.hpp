#pragma once
// Test-set evaluation shared over ranks: each rank scores its own slice of the
// test set and the counts are summed, so evaluation costs 1/N of the set per
// rank and every rank gets the same figures.
#include "comm/communicator.hpp"
#include "data/dataset.hpp"
#include "models/model.hpp"
#include "train/eval_result.hpp"

namespace distsgd {

// Collective over `comm`: every rank must call it with the same arguments.
// max_samples > 0 evaluates on the first max_samples test samples only.
EvalResult evaluate(models::Model& model, const data::Dataset& test, comm::Communicator& comm,
                    int64_t batch_size, const torch::Device& device, int64_t max_samples = 0);

}  // namespace distsgd
