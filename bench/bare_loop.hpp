#pragma once
// The reference of the step-time benchmark: the same cnn trained by a plain
// LibTorch loop (torch::nn, torch::optim::SGD), with no distsgd code at all.
#include <vector>

namespace bench {

// Wall seconds of each of `steps` steps (after `warmup` untimed ones) of the
// reference cnn with batch `batch_size` on 1x28x28 inputs, 10 classes.
std::vector<double> bare_libtorch_step_times(int batch_size, int warmup, int steps);

}  // namespace bench
