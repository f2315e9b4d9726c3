// Dataset's default labels(): the targets of every sample, a chunk at a time.
#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "data/dataset.hpp"

namespace distsgd::data {

std::vector<int64_t> Dataset::labels() const {
  constexpr int64_t kChunk = 256;
  std::vector<int64_t> out(static_cast<std::size_t>(size()));
  std::vector<int64_t> indices;
  for (int64_t start = 0; start < size(); start += kChunk) {
    const int64_t stop = std::min(size(), start + kChunk);
    indices.resize(static_cast<std::size_t>(stop - start));
    std::iota(indices.begin(), indices.end(), start);
    const auto targets = batch(indices).targets.to(torch::kInt64).contiguous();
    std::copy_n(targets.data_ptr<int64_t>(), stop - start, out.begin() + start);
  }
  return out;
}

}  // namespace distsgd::data
