#pragma once
// What one evaluation on the test set scored (evaluation.hpp computes it; the
// evaluator and the run summary keep and report it, without LibTorch).
#include <cstdint>

namespace distsgd {

struct EvalResult {
  double accuracy = 0.0;
  double loss = 0.0;
  int64_t samples = 0;
};

}  // namespace distsgd
