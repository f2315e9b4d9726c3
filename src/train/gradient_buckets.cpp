#include "train/gradient_buckets.hpp"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

namespace distsgd {

std::vector<BucketRange> assign_buckets(const std::vector<int64_t>& numels, int64_t cap_bytes) {
  std::vector<BucketRange> buckets;
  std::vector<int64_t> offsets(numels.size());
  int64_t total = 0;
  for (std::size_t i = 0; i < numels.size(); ++i) {
    offsets[i] = total;
    total += numels[i];
  }
  BucketRange current;
  int64_t bytes = 0;
  for (int i = static_cast<int>(numels.size()) - 1; i >= 0; --i) {
    current.slots.push_back(i);
    current.offset = offsets[i];
    current.numel += numels[i];
    bytes += numels[i] * static_cast<int64_t>(sizeof(float));
    if (bytes >= cap_bytes) {
      buckets.push_back(std::move(current));
      current = BucketRange{};
      bytes = 0;
    }
  }
  if (!current.slots.empty()) buckets.push_back(std::move(current));
  return buckets;
}

GradientBuckets::GradientBuckets(FlatParameters& flat, double bucket_mb, Callback on_ready)
    : flat_(flat), on_ready_(std::move(on_ready)) {
  std::vector<int64_t> numels;
  for (const auto& slot : flat.slots()) numels.push_back(slot.numel);
  buckets_ = assign_buckets(numels, std::max<int64_t>(1, static_cast<int64_t>(bucket_mb * 1024 * 1024)));
  bucket_of_slot_.assign(numels.size(), 0);
  for (std::size_t b = 0; b < buckets_.size(); ++b)
    for (int slot : buckets_[b].slots) bucket_of_slot_[slot] = static_cast<int>(b);

  for (std::size_t i = 0; i < flat.slots().size(); ++i) {
    // The accumulator node must be kept alive: the parameter holds it weakly.
    auto accumulator = torch::autograd::impl::grad_accumulator(flat.slots()[i].parameter);
    const int slot = static_cast<int>(i);
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [this, slot](const torch::autograd::variable_list& outputs,
                     const torch::autograd::variable_list&) {
          slot_ready(slot);
          return outputs;
        }));
    accumulators_.push_back(std::move(accumulator));
  }
  begin_step();
}

GradientBuckets::~GradientBuckets() = default;

void GradientBuckets::begin_step() {
  missing_.resize(buckets_.size());
  for (std::size_t b = 0; b < buckets_.size(); ++b)
    missing_[b] = static_cast<int>(buckets_[b].slots.size());
  slot_done_.assign(bucket_of_slot_.size(), 0);
  next_to_launch_ = 0;
}

void GradientBuckets::slot_ready(int slot) {
  if (slot_done_[slot]) return;  // a second accumulation in one step: already counted
  slot_done_[slot] = 1;
  --missing_[bucket_of_slot_[slot]];
  launch_ready_buckets();
}

void GradientBuckets::launch_ready_buckets() {
  auto grads = flat_.grad_span();
  while (next_to_launch_ < static_cast<int>(buckets_.size()) && missing_[next_to_launch_] == 0) {
    const auto& range = buckets_[next_to_launch_];
    on_ready_(GradBucket{next_to_launch_, range.offset,
                         grads.subspan(static_cast<std::size_t>(range.offset),
                                       static_cast<std::size_t>(range.numel))});
    ++next_to_launch_;
  }
}

void GradientBuckets::end_backward() {
  for (auto& missing : missing_) missing = 0;
  launch_ready_buckets();
}

}  // namespace distsgd
