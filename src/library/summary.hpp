#pragma once
// The trainer's result (summary.json on a worker, the method's figures on a
// server, the short summary of a run stopped by a signal) as the library's
// distsgd::Summary.
#include "distsgd/distsgd.hpp"
#include "train/trainer.hpp"

namespace distsgd::library {

Summary summary_of(const TrainResult& result);

}  // namespace distsgd::library
