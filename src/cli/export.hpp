#pragma once
// `distsgd export RUN_DIR --out FILE`: the final model of a run (RUN_DIR/final.ckpt,
// or a final.ckpt given itself) as a PyTorch state dict that torch.load reads.
// resnet18 and resnet50 carry torchvision's names and shapes (with the
// ImageNet stem, taken for inputs of 64 pixels or more: load_state_dict into
// torchvision.models.resnet18(num_classes=N), strict); the other models
// distsgd's own names. See docs/interop.md.
#include <CLI/CLI.hpp>
#include <string>

namespace distsgd::cli {

struct ExportOptions {
  std::string run;  // the run's --log-dir, or its final.ckpt
  std::string out;
};

// The `export` subcommand of `app`, its flags bound to `options`.
CLI::App* add_export_command(CLI::App& app, ExportOptions& options);

// Writes the state dict and says what it wrote. Returns the exit status: 0,
// or 2 for a run without a readable final.ckpt (printed); 1 when the output
// cannot be written.
int run_export(const ExportOptions& options);

}  // namespace distsgd::cli
