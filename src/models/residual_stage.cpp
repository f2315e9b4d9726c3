#include "models/residual_stage.hpp"

#include <torch/torch.h>

#include <stdexcept>

#include "models/basic_block.hpp"
#include "models/bottleneck_block.hpp"

namespace distsgd::models {

int64_t block_expansion(BlockKind kind) {
  return kind == BlockKind::kBottleneck ? BottleneckImpl::kExpansion : 1;
}

torch::nn::Sequential make_stage(BlockKind kind, int64_t in_channels, int64_t width, int64_t blocks,
                                 int64_t stride, Shortcut shortcut) {
  if (kind == BlockKind::kBottleneck && shortcut != Shortcut::kProjection) {
    throw std::invalid_argument("bottleneck blocks take projection shortcuts only");
  }
  const int64_t out_channels = width * block_expansion(kind);
  torch::nn::Sequential stage;
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t in = i == 0 ? in_channels : out_channels;
    const int64_t s = i == 0 ? stride : 1;
    if (kind == BlockKind::kBottleneck) {
      stage->push_back(Bottleneck(in, width, s));
    } else {
      stage->push_back(BasicBlock(in, width, s, shortcut));
    }
  }
  return stage;
}

}  // namespace distsgd::models
