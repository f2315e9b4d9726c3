// Gradient buckets: the assignment of parameters to buckets, and the hand-over
// from inside backward (every bucket once, in index order, with final gradients).
#include "train/gradient_buckets.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "models/flat_parameters.hpp"

namespace distsgd {
namespace {

// ------------------------------------------------------------- assign_buckets

void check_assignment(const std::vector<int64_t>& numels, int64_t cap_bytes,
                      const std::vector<BucketRange>& buckets) {
  std::vector<int64_t> offsets(numels.size());
  int64_t total = 0;
  for (std::size_t i = 0; i < numels.size(); ++i) {
    offsets[i] = total;
    total += numels[i];
  }
  if (numels.empty()) {
    EXPECT_TRUE(buckets.empty());
    return;
  }
  ASSERT_FALSE(buckets.empty());
  // Reverse order: the slots, read bucket after bucket, are n-1, n-2, ..., 0,
  // so every slot is in exactly one bucket, and the ranges tile [0, total)
  // from the end.
  int next_slot = static_cast<int>(numels.size()) - 1;
  int64_t covered_from = total;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    SCOPED_TRACE("bucket " + std::to_string(b));
    const auto& bucket = buckets[b];
    ASSERT_FALSE(bucket.slots.empty());
    int64_t numel = 0;
    for (int slot : bucket.slots) {
      ASSERT_EQ(slot, next_slot);
      --next_slot;
      numel += numels[slot];
    }
    EXPECT_EQ(bucket.numel, numel);
    EXPECT_EQ(bucket.offset, offsets[bucket.slots.back()]);
    EXPECT_EQ(bucket.offset + bucket.numel, covered_from);
    covered_from = bucket.offset;

    const int64_t bytes = numel * static_cast<int64_t>(sizeof(float));
    if (b + 1 < buckets.size()) {
      EXPECT_GE(bytes, cap_bytes);
    }
    // Closed as soon as it reached the cap: without its last-added parameter
    // (the lowest slot) it was still under it.
    const int64_t before_last =
        bytes - numels[bucket.slots.back()] * static_cast<int64_t>(sizeof(float));
    EXPECT_LT(before_last, cap_bytes);
  }
  EXPECT_EQ(next_slot, -1);
  EXPECT_EQ(covered_from, 0);
}

TEST(AssignBuckets, SmallExample) {
  // Reverse: 40 (160 B), +30 (280 B >= 200): closed; 20 + 10 (120 B): the last, smaller one.
  const std::vector<int64_t> numels = {10, 20, 30, 40};
  const auto buckets = assign_buckets(numels, 200);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].slots, (std::vector<int>{3, 2}));
  EXPECT_EQ(buckets[0].offset, 30);
  EXPECT_EQ(buckets[0].numel, 70);
  EXPECT_EQ(buckets[1].slots, (std::vector<int>{1, 0}));
  EXPECT_EQ(buckets[1].offset, 0);
  EXPECT_EQ(buckets[1].numel, 30);
  check_assignment(numels, 200, buckets);
}

TEST(AssignBuckets, RandomSizesAndCaps) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = std::uniform_int_distribution<int>(1, 30)(rng);
    std::vector<int64_t> numels(n);
    for (auto& numel : numels) numel = std::uniform_int_distribution<int64_t>(1, 5000)(rng);
    for (int64_t cap : {int64_t{1}, int64_t{4}, int64_t{1000}, int64_t{20000}, int64_t{1} << 40}) {
      SCOPED_TRACE("trial " + std::to_string(trial) + " cap " + std::to_string(cap));
      const auto buckets = assign_buckets(numels, cap);
      check_assignment(numels, cap, buckets);
      if (cap <= 4) {
        EXPECT_EQ(buckets.size(), numels.size());  // one parameter each
      }
      if (cap == int64_t{1} << 40) {
        EXPECT_EQ(buckets.size(), 1u);
      }
    }
  }
}

TEST(AssignBuckets, HugeParameterIsNeverSplit) {
  const auto single = assign_buckets({1'000'000}, 1000);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].numel, 1'000'000);
  EXPECT_EQ(single[0].offset, 0);
  EXPECT_EQ(single[0].slots, std::vector<int>{0});

  // 1000 floats reach the 4000-byte cap alone; the huge one gets its own bucket.
  const std::vector<int64_t> numels = {1000, 1'000'000, 1000};
  const auto buckets = assign_buckets(numels, 4000);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[1].slots, std::vector<int>{1});
  EXPECT_EQ(buckets[1].offset, 1000);
  EXPECT_EQ(buckets[1].numel, 1'000'000);
  check_assignment(numels, 4000, buckets);
}

TEST(AssignBuckets, NoParametersNoBuckets) { EXPECT_TRUE(assign_buckets({}, 100).empty()); }

// ------------------------------------------------------------ GradientBuckets

// What a callback saw when it fired.
struct Fired {
  int index = 0;
  int64_t offset = 0;
  const float* data = nullptr;
  std::size_t size = 0;
  std::vector<float> values;  // the bucket's gradients at that moment
  std::vector<float> all;     // the whole gradient buffer at that moment
};

GradientBuckets::Callback recorder(std::vector<Fired>& fired, FlatParameters& flat) {
  return [&fired, &flat](const GradBucket& bucket) {
    auto grads = flat.grad_span();
    fired.push_back({bucket.index, bucket.offset, bucket.grads.data(), bucket.grads.size(),
                     std::vector<float>(bucket.grads.begin(), bucket.grads.end()),
                     std::vector<float>(grads.begin(), grads.end())});
  };
}

torch::nn::Sequential make_mlp() {
  torch::manual_seed(17);
  // Parameters (forward order): w0 96, b0 16, w1 256, b1 16, w2 64, b2 4.
  return torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::ReLU(),
                               torch::nn::Linear(16, 16), torch::nn::ReLU(),
                               torch::nn::Linear(16, 4));
}

// 200 bytes: exactly one Linear layer a bucket (w2+b2 = 272 B, w1+b1 = 1088 B, w0+b0 = 448 B).
constexpr double kLayerBucketMb = 200.0 / (1024.0 * 1024.0);

std::vector<float> span_values(std::span<float> span, int64_t offset, int64_t numel) {
  auto part = span.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(numel));
  return {part.begin(), part.end()};
}

bool all_zero(const std::vector<float>& values, int64_t offset, int64_t numel) {
  for (int64_t i = offset; i < offset + numel; ++i)
    if (values[i] != 0.0f) return false;
  return true;
}

TEST(GradientBuckets, BucketsFollowAssignBuckets) {
  auto mlp = make_mlp();
  FlatParameters flat(*mlp);
  GradientBuckets buckets(flat, kLayerBucketMb, [](const GradBucket&) {});
  std::vector<int64_t> numels;
  for (const auto& slot : flat.slots()) numels.push_back(slot.numel);
  const auto expected = assign_buckets(numels, 200);
  ASSERT_EQ(buckets.buckets().size(), 3u);
  for (std::size_t b = 0; b < expected.size(); ++b) {
    EXPECT_EQ(buckets.buckets()[b].offset, expected[b].offset);
    EXPECT_EQ(buckets.buckets()[b].numel, expected[b].numel);
    EXPECT_EQ(buckets.buckets()[b].slots, expected[b].slots);
  }
  // Bucket 0 is the last layer (slots 4 and 5).
  EXPECT_EQ(buckets.buckets()[0].slots, (std::vector<int>{5, 4}));
  EXPECT_EQ(buckets.buckets()[0].offset, flat.slots()[4].offset);
  EXPECT_EQ(buckets.buckets()[0].numel, 68);
}

TEST(GradientBuckets, EveryBucketFiresOnceInOrderWithFinalGradients) {
  auto mlp = make_mlp();
  auto reference =
      torch::nn::Sequential(std::dynamic_pointer_cast<torch::nn::SequentialImpl>(mlp->clone()));
  FlatParameters flat(*mlp);
  std::vector<Fired> fired;
  GradientBuckets buckets(flat, kLayerBucketMb, recorder(fired, flat));
  const auto& ranges = buckets.buckets();
  ASSERT_EQ(ranges.size(), 3u);

  torch::manual_seed(23);
  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    fired.clear();
    buckets.begin_step();
    flat.zero_grads();
    for (auto& p : reference->parameters()) p.mutable_grad() = torch::Tensor();
    const auto input = torch::randn({8, 6});
    mlp->forward(input).pow(2).sum().backward();
    reference->forward(input).pow(2).sum().backward();

    // All buckets fired inside backward, each once, in index order.
    ASSERT_EQ(fired.size(), 3u);
    buckets.end_backward();  // nothing left to hand over
    ASSERT_EQ(fired.size(), 3u);
    for (int b = 0; b < 3; ++b) {
      SCOPED_TRACE("bucket " + std::to_string(b));
      const auto& f = fired[b];
      EXPECT_EQ(f.index, b);
      EXPECT_EQ(f.offset, ranges[b].offset);
      // The span is the flat buffer itself, not a copy.
      EXPECT_EQ(f.data, flat.grads().data_ptr<float>() + ranges[b].offset);
      EXPECT_EQ(static_cast<int64_t>(f.size), ranges[b].numel);
      // What the callback saw is final: equal to the gradients after backward ...
      EXPECT_EQ(f.values, span_values(flat.grad_span(), ranges[b].offset, ranges[b].numel));
      EXPECT_FALSE(all_zero(f.values, 0, static_cast<int64_t>(f.values.size())));
    }
    // ... which are the true gradients.
    const auto ref_params = reference->parameters();
    for (std::size_t i = 0; i < flat.slots().size(); ++i) {
      const auto& slot = flat.slots()[i];
      EXPECT_TRUE(torch::allclose(flat.grads().narrow(0, slot.offset, slot.numel),
                                  ref_params[i].grad().reshape({-1}), 1e-5, 1e-6))
          << slot.name;
    }
    // Bucket 0 (the last layer) went out while backward was still going: the
    // first layer's gradients were not computed yet.
    EXPECT_TRUE(all_zero(fired[0].all, ranges[2].offset, ranges[2].numel));
  }
}

TEST(GradientBuckets, OneBigBucketFiresOnceAfterAllGradients) {
  auto mlp = make_mlp();
  FlatParameters flat(*mlp);
  std::vector<Fired> fired;
  GradientBuckets buckets(flat, 25.0, recorder(fired, flat));
  ASSERT_EQ(buckets.buckets().size(), 1u);
  EXPECT_EQ(buckets.buckets()[0].offset, 0);
  EXPECT_EQ(buckets.buckets()[0].numel, flat.numel());
  torch::manual_seed(29);
  mlp->forward(torch::randn({4, 6})).sum().backward();
  buckets.end_backward();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].values, span_values(flat.grad_span(), 0, flat.numel()));
}

struct WithUnusedImpl : torch::nn::Module {
  WithUnusedImpl()
      : first(register_module("first", torch::nn::Linear(5, 8))),
        unused(register_module("unused", torch::nn::Linear(8, 8))),
        last(register_module("last", torch::nn::Linear(8, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return last(torch::relu(first(x))); }
  torch::nn::Linear first;
  torch::nn::Linear unused;
  torch::nn::Linear last;
};
TORCH_MODULE(WithUnused);

TEST(GradientBuckets, EndBackwardHandsOverBucketsWithoutGradients) {
  torch::manual_seed(31);
  WithUnused net;
  FlatParameters flat(*net);
  std::vector<Fired> fired;
  // 100 bytes: last (27 floats), unused (72), first (48): one layer a bucket.
  GradientBuckets buckets(flat, 100.0 / (1024.0 * 1024.0), recorder(fired, flat));
  const auto& ranges = buckets.buckets();
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[1].slots, (std::vector<int>{3, 2}));  // the unused layer

  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    fired.clear();
    buckets.begin_step();
    flat.zero_grads();
    net->forward(torch::randn({4, 5})).sum().backward();
    // Bucket 1 never completes, so bucket 2 must wait for it: strict order.
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0].index, 0);

    buckets.end_backward();
    ASSERT_EQ(fired.size(), 3u);
    EXPECT_EQ(fired[1].index, 1);
    EXPECT_EQ(fired[2].index, 2);
    EXPECT_TRUE(all_zero(fired[1].values, 0, ranges[1].numel));
    EXPECT_FALSE(all_zero(fired[2].values, 0, ranges[2].numel));
    EXPECT_EQ(fired[2].values, span_values(flat.grad_span(), ranges[2].offset, ranges[2].numel));

    buckets.end_backward();  // a second call hands nothing over again
    EXPECT_EQ(fired.size(), 3u);
  }
}

TEST(GradientBuckets, NoCallbackAfterDestruction) {
  auto mlp = make_mlp();
  FlatParameters flat(*mlp);
  int calls = 0;
  {
    GradientBuckets buckets(flat, kLayerBucketMb, [&calls](const GradBucket&) { ++calls; });
    mlp->forward(torch::randn({2, 6})).sum().backward();
    EXPECT_EQ(calls, 3);
  }
  flat.zero_grads();
  mlp->forward(torch::randn({2, 6})).sum().backward();
  EXPECT_EQ(calls, 3);
  EXPECT_GT(flat.grads().abs().sum().item<double>(), 0.0);  // gradients still in the buffer
}

}  // namespace
}  // namespace distsgd
