#include "train/stop_agreement.hpp"

#include "core/stop_signal.hpp"

namespace distsgd {

int64_t next_shared_epoch_end(int64_t step, const EpochEnds& ends) {
  const int64_t per_epoch = ends.steps_per_epoch;
  int64_t boundary = (step + per_epoch - 1) / per_epoch * per_epoch;
  while (boundary <= ends.resumed_max_step) boundary += per_epoch;
  return boundary > ends.last_step ? -1 : boundary;
}

bool StopAgreement::after_step() {
  if (mode_ != MethodTraits::StopAgreement::every_step) {
    stopped_by_ = stop_signal();
    return stopped_by_ != 0;
  }
  if (vote_.valid()) {
    vote_.wait();
    vote_ = {};
    if (vote_value_ > 0) {
      stopped_by_ = static_cast<int>(vote_value_);
      return true;
    }
  }
  vote_value_ = stop_signal();
  vote_ = workers_.iallreduce(&vote_value_, 1, comm::DType::i64, comm::ReduceOp::max, "stop vote");
  return false;
}

void StopAgreement::at_epoch_end(int64_t step, const EpochEnds& ends) {
  if (mode_ != MethodTraits::StopAgreement::epoch_end || !ends.meet) return;
  const int64_t boundary = next_shared_epoch_end(step, ends);
  if (boundary < 0) return;
  if (!stopped_by_ && step != boundary) return;
  int64_t vote = stopped_by_ ? stopped_by_ : stop_signal();
  workers_.allreduce(&vote, 1, comm::DType::i64, comm::ReduceOp::max, "stop vote at epoch end");
  if (vote > 0) stopped_by_ = static_cast<int>(vote);
}

void StopAgreement::settle() {
  if (vote_.valid()) vote_.wait();
}

JobStop agree_on_job_stop(comm::Communicator& world, int own_signal, int64_t step) {
  int64_t agreed[2] = {own_signal, world.rank() == 0 ? step : int64_t{0}};
  world.allreduce(agreed, 2, comm::DType::i64, comm::ReduceOp::max, "stop agreement");
  return {static_cast<int>(agreed[0]), agreed[1]};
}

}  // namespace distsgd
