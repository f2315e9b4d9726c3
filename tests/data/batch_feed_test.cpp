// BatchFeed, the loader's prefetch: planned batches are computed ahead on its
// thread, at most `depth` ahead; what is handed out is what the source would
// give; an error surfaces with the batch that has it; a request off the plan
// is computed on the spot; replaced samples are counted when handed out.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/errors.hpp"
#include "data/batch_feed.hpp"

namespace distsgd::data {
namespace {

// A data set whose sample i is the value i + seed, and which counts its calls
// and the thread they come from; index 13 is a bad image (DataError), and a
// batch with index 7 in it reports one replaced sample.
class CountingSet final : public Dataset {
 public:
  int64_t size() const override { return 100; }
  SampleShape shape() const override { return {1, 1, 1}; }
  int64_t num_classes() const override { return 2; }
  Batch batch(std::span<const int64_t> indices,
              std::optional<uint64_t> seed = std::nullopt) const override {
    ++calls;
    if (std::this_thread::get_id() != caller) ++off_thread;
    Batch batch{torch::empty({static_cast<int64_t>(indices.size()), 1, 1, 1}),
                torch::zeros({static_cast<int64_t>(indices.size())}, torch::kInt64)};
    for (std::size_t k = 0; k < indices.size(); ++k) {
      if (indices[k] == 13) throw DataError("img13.jpg: bad");
      if (indices[k] == 7) ++batch.replaced;
      batch.inputs[static_cast<int64_t>(k)].fill_(static_cast<double>(indices[k]) +
                                                  static_cast<double>(seed.value_or(0)));
    }
    return batch;
  }
  mutable std::atomic<int> calls{0}, off_thread{0};
  std::thread::id caller = std::this_thread::get_id();
};

std::vector<BatchRequest> plan_of(std::initializer_list<std::vector<int64_t>> batches) {
  std::vector<BatchRequest> plan;
  uint64_t seed = 100;
  for (const auto& indices : batches) plan.push_back({indices, seed++});
  return plan;
}

// Waits (without a time bound on correctness) until `done`, polling.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

TEST(BatchFeed, PrefetchesAtMostDepthAheadAndHandsOutTheSameBatches) {
  CountingSet source;
  BatchFeed feed(source, 2);
  const auto plan = plan_of({{1, 2}, {3, 4}, {5, 6}, {8, 9}});
  feed.plan(plan);
  ASSERT_TRUE(eventually([&] { return source.calls == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(source.calls, 2) << "computed more than depth batches ahead";
  for (const auto& request : plan) {
    const auto batch = feed.batch(request.indices, request.seed);
    EXPECT_TRUE(torch::equal(batch.inputs, source.batch(request.indices, request.seed).inputs));
  }
  // Every planned batch came from the feed's thread (the direct calls above
  // for the comparison are on this one: 4 of them).
  EXPECT_EQ(source.off_thread, 4);
}

TEST(BatchFeed, RequestOffThePlanIsComputedHere) {
  CountingSet source;
  BatchFeed feed(source, 2);
  feed.plan(plan_of({{1, 2}}));
  const auto batch = feed.batch(std::vector<int64_t>{1, 2}, 999);  // another seed
  EXPECT_EQ(batch.inputs[0].item<float>(), 1000.0f);
  BatchFeed direct(source, 0);  // depth 0: no thread at all
  const int before = source.off_thread;
  direct.plan(plan_of({{4}}));
  EXPECT_EQ(direct.batch(std::vector<int64_t>{4}, 100).inputs[0].item<float>(), 104.0f);
  EXPECT_EQ(source.off_thread, before);
}

TEST(BatchFeed, ErrorSurfacesWithItsBatchAndCountsOnlyHandedOut) {
  CountingSet source;
  BatchFeed feed(source, 2);
  const auto plan = plan_of({{7, 1}, {2, 3}, {13, 4}, {5, 6}});
  feed.plan(plan);
  EXPECT_EQ(feed.batch(plan[0].indices, plan[0].seed).replaced, 1);
  EXPECT_NO_THROW(feed.batch(plan[1].indices, plan[1].seed));
  EXPECT_THROW(feed.batch(plan[2].indices, plan[2].seed), DataError);
  EXPECT_EQ(feed.replaced(), 1);
  // A new plan (the next epoch, or a resumed position) drops what was ahead.
  const auto next = plan_of({{7, 8}, {7, 9}});
  feed.plan(next);
  EXPECT_EQ(feed.batch(next[0].indices, next[0].seed).inputs[1].item<float>(), 108.0f);
  EXPECT_EQ(feed.replaced(), 2);
}

}  // namespace
}  // namespace distsgd::data
