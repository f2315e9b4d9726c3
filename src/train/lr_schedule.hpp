#pragma once
// The learning rate at each step: an optional linear warm-up, then step decay
// or cosine decay, from a base rate optionally scaled by the number of workers
// (the linear scaling rule of Goyal et al. 2017).
#include <cstdint>

#include "core/config.hpp"

namespace distsgd {

class LrSchedule {
 public:
  LrSchedule(const TrainConfig& config, int workers, int64_t steps_per_epoch);
  double at(int64_t step) const;
  double base() const { return base_; }

 private:
  TrainConfig config_;
  double base_;
  int64_t steps_per_epoch_;
};

}  // namespace distsgd
