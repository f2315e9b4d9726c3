#pragma once
// The flags of `distsgd simulate` beyond those of `distsgd train`.
#include <CLI/CLI.hpp>

#include "train/simulated_training.hpp"

namespace distsgd::cli {

void add_simulate_flags(CLI::App& command, SimulateOptions& options);

}  // namespace distsgd::cli
