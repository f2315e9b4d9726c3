// The evaluation subset: balanced over the classes, fixed, within range; and
// the labels a data set reports agree with the targets of its batches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "core/errors.hpp"
#include "data/eval_subset.hpp"
#include "data/synthetic.hpp"

namespace distsgd::data {
namespace {

TEST(BalancedSubset, TakesEachClassInTurn) {
  // Class 0 dominates the first indices; a prefix would be all class 0.
  const std::vector<int64_t> labels = {0, 0, 0, 0, 0, 0, 1, 2, 1, 2, 0, 1};
  EXPECT_EQ(balanced_subset(labels, 3, 3), (std::vector<int64_t>{0, 6, 7}));
  EXPECT_EQ(balanced_subset(labels, 3, 6), (std::vector<int64_t>{0, 1, 6, 7, 8, 9}));
}

TEST(BalancedSubset, PassesOverAClassThatRunsOut) {
  const std::vector<int64_t> labels = {1, 0, 0, 0, 0};
  // Round 1: 1 (class 0), 0 (class 1); class 1 has no more; then 2, 3.
  EXPECT_EQ(balanced_subset(labels, 2, 4), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(BalancedSubset, ZeroOrTooManyMeansEverySample) {
  const std::vector<int64_t> labels = {2, 1, 0};
  EXPECT_EQ(balanced_subset(labels, 3, 0), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(balanced_subset(labels, 3, 7), (std::vector<int64_t>{0, 1, 2}));
}

TEST(BalancedSubset, ALabelOutOfRangeIsNamed) {
  const std::vector<int64_t> labels = {0, 5};
  try {
    balanced_subset(labels, 3, 1);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("test sample 1 has label 5"), std::string::npos) << e.what();
  }
}

TEST(BalancedSubset, SyntheticTestSetIsCoveredEvenly) {
  const auto sets = make_synthetic("cifar", 3);
  const auto labels = sets.test->labels();
  ASSERT_EQ(static_cast<int64_t>(labels.size()), sets.test->size());
  const auto subset = balanced_subset(labels, 10, 500);
  ASSERT_EQ(subset.size(), 500u);
  EXPECT_TRUE(std::is_sorted(subset.begin(), subset.end()));
  EXPECT_EQ(std::adjacent_find(subset.begin(), subset.end()), subset.end());  // no repeats
  std::map<int64_t, int> per_class;
  for (int64_t index : subset) ++per_class[labels[static_cast<std::size_t>(index)]];
  ASSERT_EQ(per_class.size(), 10u);
  for (const auto& [label, count] : per_class) EXPECT_EQ(count, 50) << "class " << label;
  // Fixed: the same subset every time.
  EXPECT_EQ(balanced_subset(sets.test->labels(), 10, 500), subset);
}

TEST(EvaluationSubset, EmptyMeansTheWholeSet) {
  const auto sets = make_synthetic("cifar", 3);
  EXPECT_TRUE(evaluation_subset(*sets.test, 0).empty());
  EXPECT_TRUE(evaluation_subset(*sets.test, sets.test->size()).empty());
  EXPECT_EQ(evaluation_subset(*sets.test, 500), balanced_subset(sets.test->labels(), 10, 500));
}

TEST(DatasetLabels, MatchTheBatchTargets) {
  const auto sets = make_synthetic("cifar", 2);
  const auto labels = sets.test->labels();
  std::vector<int64_t> indices(300);
  std::iota(indices.begin(), indices.end(), int64_t{9700});
  const auto targets = sets.test->batch(indices).targets;
  for (std::size_t k = 0; k < indices.size(); ++k)
    EXPECT_EQ(targets[static_cast<int64_t>(k)].item<int64_t>(),
              labels[static_cast<std::size_t>(indices[k])]);
  // The default (through batch()) agrees with the data set's own.
  const auto& base = static_cast<const Dataset&>(*sets.test);
  EXPECT_EQ(base.Dataset::labels(), labels);
}

}  // namespace
}  // namespace distsgd::data
