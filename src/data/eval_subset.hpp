#pragma once
// The fixed subset of the test set that evaluations during training score
// (--eval-samples): cheap enough to run often, the same samples every time, and
// balanced over the classes so its accuracy estimates the whole set's. The
// final evaluation scores the whole set.
#include <cstdint>
#include <span>
#include <vector>

namespace distsgd::data {

// The indices (ascending) of `count` samples drawn in turn from each class,
// each class's in index order: the first sample of every class, then the
// second of every class, and so on; a class that runs out is passed over.
// labels[i] is sample i's class in [0, num_classes). count <= 0 or count >=
// labels.size(): every index.
std::vector<int64_t> balanced_subset(std::span<const int64_t> labels, int64_t num_classes,
                                     int64_t count);

class Dataset;

// The test indices that --eval-samples `count` asks evaluations during
// training to score: balanced_subset of `test`'s labels, or empty (the whole
// set, as evaluate() reads an empty list) when count is 0 or covers it all.
std::vector<int64_t> evaluation_subset(const Dataset& test, int64_t count);

}  // namespace distsgd::data
