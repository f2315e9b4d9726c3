// BatchFeed (batch_feed.hpp): one producer thread, a queue bounded by depth.
#include "data/batch_feed.hpp"

namespace distsgd::data {

BatchFeed::BatchFeed(const Dataset& source, int depth) : source_(source), depth_(depth) {
  if (depth_ > 0) worker_ = std::jthread([this] { produce(); });
}

BatchFeed::~BatchFeed() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void BatchFeed::plan(std::vector<BatchRequest> upcoming) {
  {
    std::lock_guard lock(mutex_);
    plan_ = std::move(upcoming);
    next_to_compute_ = 0;
    next_to_hand_ = 0;
    ready_.clear();
    ++generation_;
  }
  changed_.notify_all();
}

void BatchFeed::produce() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] {
      return stopping_ || (next_to_compute_ < plan_.size() &&
                           next_to_compute_ < next_to_hand_ + static_cast<std::size_t>(depth_));
    });
    if (stopping_) return;
    const std::size_t position = next_to_compute_++;
    const BatchRequest request = plan_[position];
    const uint64_t generation = generation_;
    lock.unlock();
    Ready ready{position, {}, nullptr};
    try {
      ready.batch = source_.batch(request.indices, request.seed);
    } catch (...) {
      ready.error = std::current_exception();
    }
    lock.lock();
    if (generation == generation_) ready_.push_back(std::move(ready));
    changed_.notify_all();
  }
}

Batch BatchFeed::batch(std::span<const int64_t> indices,
                       std::optional<uint64_t> augment_seed) const {
  std::unique_lock lock(mutex_);
  const bool planned = depth_ > 0 && next_to_hand_ < plan_.size() &&
                       std::equal(indices.begin(), indices.end(),
                                  plan_[next_to_hand_].indices.begin(),
                                  plan_[next_to_hand_].indices.end()) &&
                       augment_seed == plan_[next_to_hand_].seed;
  Batch out;
  if (planned) {
    const std::size_t position = next_to_hand_;
    changed_.wait(lock, [&] { return !ready_.empty() && ready_.front().position == position; });
    Ready ready = std::move(ready_.front());
    ready_.pop_front();
    ++next_to_hand_;
    changed_.notify_all();
    if (ready.error) std::rethrow_exception(ready.error);
    out = std::move(ready.batch);
  } else {
    lock.unlock();
    out = source_.batch(indices, augment_seed);
    lock.lock();
  }
  replaced_ += out.replaced;
  return out;
}

int64_t BatchFeed::replaced() const {
  std::lock_guard lock(mutex_);
  return replaced_;
}

}  // namespace distsgd::data
