#include "methods/periodic_average.hpp"

#include <stdexcept>

namespace distsgd::hybrid {

LocalSgdSchedule::LocalSgdSchedule(int local_steps, int64_t post_local_after_epochs)
    : local_steps_(local_steps), post_local_after_(post_local_after_epochs) {
  if (local_steps < 1) throw std::invalid_argument("local steps must be at least 1");
  if (post_local_after_epochs < 0)
    throw std::invalid_argument("the synchronous phase cannot be negative");
}

bool LocalSgdSchedule::local_step_done() {
  if (++since_average_ < local_steps_) return false;
  since_average_ = 0;
  return true;
}

}  // namespace distsgd::hybrid
