#pragma once
// Test-set evaluation shared over ranks: each rank scores its own slice of the
// test set and the counts are summed, so evaluation costs 1/N of the set per
// rank and every rank gets the same figures.
#include <span>

#include "comm/communicator.hpp"
#include "data/dataset.hpp"
#include "models/model.hpp"
#include "train/eval_result.hpp"

namespace distsgd {

// Collective over `comm`: every rank must call it with the same arguments.
// `samples`: the test indices to score (data::balanced_subset's); empty: the
// whole test set.
EvalResult evaluate(models::Model& model, const data::Dataset& test, comm::Communicator& comm,
                    int64_t batch_size, const torch::Device& device,
                    std::span<const int64_t> samples = {});

}  // namespace distsgd
