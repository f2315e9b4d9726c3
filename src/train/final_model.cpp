#include "train/final_model.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/errors.hpp"
#include "models/flat_parameters.hpp"
#include "train/checkpoint.hpp"

namespace distsgd {
namespace {

void copy_into(std::span<float> target, const std::vector<float>& source, const char* what,
               const std::string& path, const std::string& model) {
  if (source.size() != target.size())
    throw DataError(fmt::format("{}: holds {} {} values, model {} has {}", path, source.size(),
                                what, model, target.size()));
  std::copy(source.begin(), source.end(), target.begin());
}

}  // namespace

nlohmann::json describe_model(const std::string& name, const data::SampleShape& shape,
                              int64_t classes) {
  return {{"name", name},
          {"input_shape", {shape.channels, shape.height, shape.width}},
          {"classes", classes}};
}

FinalModel load_final_model(const std::string& path) {
  const auto checkpoint = read_checkpoint(path);
  if (!checkpoint.meta.contains("model"))
    throw DataError(path +
                    ": this final.ckpt does not record its model's input shape and classes "
                    "(written by a distsgd before export existed): train again to export");
  FinalModel out;
  try {
    const auto& model = checkpoint.meta.at("model");
    out.name = model.at("name").get<std::string>();
    const auto shape = model.at("input_shape").get<std::vector<int64_t>>();
    if (shape.size() != 3) throw DataError(path + ": the model's input_shape is not [C, H, W]");
    out.shape = {shape[0], shape[1], shape[2]};
    out.classes = model.at("classes").get<int64_t>();
    out.step = checkpoint.meta.value("step", int64_t{0});
  } catch (const nlohmann::json::exception& error) {
    throw DataError(path + ": corrupt model record in the header: " + error.what());
  }
  try {
    out.model = models::make_model(out.name, out.shape, out.classes);
  } catch (const ConfigError& error) {
    throw DataError(path + ": " + error.what());
  }
  const auto params = checkpoint.tensors.find("params");
  const auto buffers = checkpoint.tensors.find("buffers");
  if (params == checkpoint.tensors.end() || buffers == checkpoint.tensors.end())
    throw DataError(path + ": not a final.ckpt (no params or buffers)");
  {
    FlatParameters flat(*out.model);  // the model's tensors become views of its buffers
    copy_into(flat.param_span(), params->second, "parameter", path, out.name);
    copy_into(flat.buffer_span(), buffers->second, "batch-norm statistic", path, out.name);
  }
  torch::NoGradGuard no_grad;
  for (auto& buffer : out.model->named_buffers())
    if (buffer.value().scalar_type() == torch::kInt64) buffer.value().fill_(out.step);
  out.model->eval();
  return out;
}

}  // namespace distsgd
