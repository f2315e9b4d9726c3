#pragma once
// The flags of `distsgd train`, bound to a TrainConfig.
#include <CLI/CLI.hpp>

#include "core/config.hpp"

namespace distsgd::cli {

void add_train_flags(CLI::App& command, TrainConfig& config);

}  // namespace distsgd::cli
