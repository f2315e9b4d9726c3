#pragma once
// The loader's prefetch: a Dataset in front of another that computes the
// batches the trainer will ask for next on a background thread, at most
// `depth` ahead, while the current step trains.
//
// The trainer hands it the plan of what it will ask (plan(): its epoch's
// batches from the step it is at, the resumed one included); batch() then
// returns the planned batch that was computed ahead when the request is the
// next of the plan, and computes it itself otherwise. A batch is a pure
// function of (indices, seed), so what comes back is the same whether it was
// prefetched or not, and an error (a bad image) surfaces at the step that
// asks for that batch, not earlier. depth 0: no thread, every batch computed
// when asked. The counts of replaced samples are summed over the batches
// handed out (not those computed ahead and never asked for).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/dataset.hpp"

namespace distsgd::data {

struct BatchRequest {
  std::vector<int64_t> indices;
  std::optional<uint64_t> seed;
  bool operator==(const BatchRequest&) const = default;
};

class BatchFeed final : public Dataset {
 public:
  // `source` must outlive the feed.
  BatchFeed(const Dataset& source, int depth);
  ~BatchFeed() override;
  BatchFeed(const BatchFeed&) = delete;
  BatchFeed& operator=(const BatchFeed&) = delete;

  int64_t size() const override { return source_.size(); }
  SampleShape shape() const override { return source_.shape(); }
  int64_t num_classes() const override { return source_.num_classes(); }
  std::vector<int64_t> labels() const override { return source_.labels(); }
  // Not to be called from several threads at once (the trainer's thread asks).
  Batch batch(std::span<const int64_t> indices,
              std::optional<uint64_t> augment_seed = std::nullopt) const override;

  // Replaces the plan: what was computed ahead for the old one is dropped.
  void plan(std::vector<BatchRequest> upcoming);
  int64_t replaced() const;

 private:
  void produce();

  const Dataset& source_;
  const int depth_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<BatchRequest> plan_;
  std::size_t next_to_compute_ = 0;  // into plan_
  mutable std::size_t next_to_hand_ = 0;
  struct Ready {
    std::size_t position;
    Batch batch;
    std::exception_ptr error;
  };
  mutable std::deque<Ready> ready_;
  uint64_t generation_ = 0;  // bumped by plan(): batches of an old plan are dropped
  bool stopping_ = false;
  mutable int64_t replaced_ = 0;
  std::jthread worker_;  // last: started after, and joined before, the state above
};

}  // namespace distsgd::data
