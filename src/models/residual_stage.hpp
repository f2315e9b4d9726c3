#pragma once
// One stage of a ResNet: a run of residual blocks of one kind at one width,
// the first of which takes the stride and the change of width. resnet.cpp
// stacks stages; the blocks are basic_block.hpp and bottleneck_block.hpp.
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

#include "models/shortcut.hpp"

namespace distsgd::models {

enum class BlockKind {
  kBasic,       // two 3x3 convolutions; output = width channels (resnet18, resnet20)
  kBottleneck,  // 1x1, 3x3, 1x1; output = 4 * width channels (resnet50)
};

// Channels a block of `kind` outputs per unit of width: 1 or 4.
int64_t block_expansion(BlockKind kind);

// `blocks` (>= 1) blocks of `kind` at `width`, taking in_channels in and
// giving width * block_expansion(kind) out; registered as "0", "1", ... so
// their parameters are named layerN.<i>.* as torchvision names them.
// Bottleneck blocks take only projection shortcuts (std::invalid_argument
// otherwise: a wrong spec in resnet.cpp, not bad user input).
torch::nn::Sequential make_stage(BlockKind kind, int64_t in_channels, int64_t width, int64_t blocks,
                                 int64_t stride, Shortcut shortcut);

}  // namespace distsgd::models
