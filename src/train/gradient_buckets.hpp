#pragma once
// Gradient buckets launched from the backward pass (as DDP's Reducer does).
//
// Parameters are grouped, in reverse order (the order backward produces their
// gradients), into buckets of about `bucket_mb` each. Because the flat gradient
// buffer holds parameters in forward order, each bucket is one contiguous
// range of it. A post-hook on each parameter's gradient accumulator fires once
// that gradient is final; when a bucket's last gradient is in, the bucket goes
// to the algorithm (for example a non-blocking all-reduce) while backward goes
// on. Buckets are handed over strictly in index order, so every rank issues its
// collectives in the same order.
#include <functional>
#include <memory>
#include <vector>

#include "algorithms/algorithm.hpp"
#include "models/flat_parameters.hpp"

namespace torch::autograd {
struct Node;
}

namespace distsgd {

struct BucketRange {
  int64_t offset = 0;  // in the flat buffer, in elements
  int64_t numel = 0;
  std::vector<int> slots;  // parameter slots (indices into FlatParameters::slots())
};

// Reverse-order assignment of parameters of sizes `numels` (forward order) to
// buckets of at least `cap_bytes` (the last one may be smaller). A parameter
// is never split.
std::vector<BucketRange> assign_buckets(const std::vector<int64_t>& numels, int64_t cap_bytes);

class GradientBuckets {
 public:
  using Callback = std::function<void(const GradBucket&)>;
  GradientBuckets(FlatParameters& flat, double bucket_mb, Callback on_ready);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  const std::vector<BucketRange>& buckets() const { return buckets_; }
  // Before each backward pass.
  void begin_step();
  // After backward: hands over any bucket still waiting (parameters that got
  // no gradient this step keep zeros), so every rank launches every bucket.
  void end_backward();

 private:
  void slot_ready(int slot);
  void launch_ready_buckets();

  FlatParameters& flat_;
  Callback on_ready_;
  std::vector<BucketRange> buckets_;
  std::vector<int> bucket_of_slot_;
  std::vector<int> missing_;       // per bucket: gradients not yet final this step
  std::vector<char> slot_done_;    // per slot, this step
  int next_to_launch_ = 0;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
};

}  // namespace distsgd
