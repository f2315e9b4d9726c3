#include "train/evaluation.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

namespace distsgd {

EvalResult evaluate(models::Model& model, const data::Dataset& test, comm::Communicator& comm,
                    int64_t batch_size, const torch::Device& device,
                    std::span<const int64_t> samples) {
  const int64_t total = samples.empty() ? test.size() : static_cast<int64_t>(samples.size());
  const int64_t begin = total * comm.rank() / comm.size();
  const int64_t end = total * (comm.rank() + 1) / comm.size();
  // Sums in double: [loss sum, correct, samples].
  double sums[3] = {0.0, 0.0, 0.0};
  {
    torch::NoGradGuard no_grad;
    model.eval();
    std::vector<int64_t> indices;
    for (int64_t start = begin; start < end; start += batch_size) {
      const int64_t stop = std::min(end, start + batch_size);
      indices.resize(static_cast<std::size_t>(stop - start));
      if (samples.empty())
        std::iota(indices.begin(), indices.end(), start);
      else
        std::copy(samples.begin() + start, samples.begin() + stop, indices.begin());
      auto batch = test.batch(indices);
      auto targets = batch.targets.to(device);
      auto logits = model.forward(batch.inputs.to(device));
      sums[0] += torch::nn::functional::cross_entropy(
                     logits, targets,
                     torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                     .item<double>();
      sums[1] += logits.argmax(1).eq(targets).sum().item<double>();
      sums[2] += static_cast<double>(stop - start);
    }
    model.train();
  }
  comm.allreduce(sums, 3, comm::DType::f64, comm::ReduceOp::sum, "evaluation results");
  EvalResult result;
  result.samples = static_cast<int64_t>(sums[2]);
  if (result.samples > 0) {
    result.loss = sums[0] / sums[2];
    result.accuracy = sums[1] / sums[2];
  }
  return result;
}

}  // namespace distsgd
