#include "cli/export.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/errors.hpp"
#include "models/named_state.hpp"
#include "train/final_model.hpp"

namespace distsgd::cli {
namespace {

// Where the ResNets' names and shapes are torchvision's, and how to load them.
std::string how_to_load(const FinalModel& final) {
  const bool torchvision = final.name == "resnet18" || final.name == "resnet50";
  if (!torchvision) return "distsgd's own names; load into the same architecture";
  const auto constructor =
      fmt::format("torchvision.models.{}(num_classes={})", final.name, final.classes);
  // models/resnet.cpp: the ImageNet stem from 64 pixels up.
  if (final.shape.height >= 64 && final.shape.channels == 3)
    return "torchvision's names and shapes: load_state_dict into " + constructor;
  if (final.shape.height >= 64)
    return fmt::format(
        "torchvision's names; {} after model.conv1 = torch.nn.Conv2d({}, 64, 7, 2, "
        "3, bias=False)",
        constructor, final.shape.channels);
  return fmt::format(
      "torchvision's names, CIFAR stem: {} after model.conv1 = torch.nn.Conv2d({}, "
      "64, 3, 1, 1, bias=False); model.maxpool = torch.nn.Identity()",
      constructor, final.shape.channels);
}

}  // namespace

CLI::App* add_export_command(CLI::App& app, ExportOptions& options) {
  auto* command = app.add_subcommand(
      "export",
      "Write a run's final model (RUN_DIR/final.ckpt) as a PyTorch state dict (torch.load; "
      "torchvision's names for resnet18/resnet50)");
  command->add_option("run", options.run, "The run's --log-dir (or its final.ckpt)")->required();
  command->add_option("--out", options.out, "The state dict file to write, e.g. model.pt")
      ->required();
  return command;
}

int run_export(const ExportOptions& options) {
  namespace fs = std::filesystem;
  const std::string path =
      fs::is_directory(options.run) ? (fs::path(options.run) / "final.ckpt").string() : options.run;
  if (!fs::exists(path))
    throw DataError(path +
                    ": no such file (export takes a run's --log-dir, which holds "
                    "final.ckpt once the run has finished)");
  const auto final = load_final_model(path);
  const auto state = models::named_state(*final.model);
  models::write_state_dict(options.out, state);
  int64_t parameters = 0;
  for (const auto& parameter : final.model->parameters()) parameters += parameter.numel();
  fmt::print(
      "distsgd: wrote {} ({} parameters, {} tensors, {} classes, input {}x{}x{}, after {} "
      "steps) to {}: {}\n",
      final.name, parameters, state.size(), final.classes, final.shape.channels, final.shape.height,
      final.shape.width, final.step, options.out, how_to_load(final));
  return 0;
}

}  // namespace distsgd::cli
