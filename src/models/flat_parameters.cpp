#include "models/flat_parameters.hpp"

#include <torch/torch.h>

#include "core/errors.hpp"

namespace distsgd {

std::span<float> FlatParameters::span_of(torch::Tensor& tensor) {
  if (!tensor.defined() || tensor.numel() == 0) return {};
  if (!tensor.device().is_cpu() || tensor.scalar_type() != torch::kFloat32 || !tensor.is_contiguous())
    throw RuntimeFailure("flat buffer is not a contiguous float32 CPU tensor");
  return {tensor.data_ptr<float>(), static_cast<std::size_t>(tensor.numel())};
}

FlatParameters::FlatParameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  const auto named = module.named_parameters(/*recurse=*/true);
  if (named.is_empty()) throw ConfigError("model has no parameters");
  const auto options = named.values().front().options().requires_grad(false);

  int64_t total = 0;
  for (const auto& item : named) {
    if (item.value().scalar_type() != torch::kFloat32)
      throw ConfigError("parameter " + item.key() + " is not float32");
    slots_.push_back({item.key(), total, item.value().numel(), item.value()});
    total += item.value().numel();
  }
  params_ = torch::empty({total}, options);
  grads_ = torch::zeros({total}, options);
  for (auto& slot : slots_) {
    auto param_view = params_.narrow(0, slot.offset, slot.numel).view(slot.parameter.sizes());
    param_view.copy_(slot.parameter);
    slot.parameter.set_data(param_view);
    slot.parameter.mutable_grad() = grads_.narrow(0, slot.offset, slot.numel).view(slot.parameter.sizes());
  }

  // Floating-point buffers (running mean and variance) get a flat buffer too, so
  // that methods can average them like parameters; integer ones (batch counts) stay.
  int64_t buffer_total = 0;
  std::vector<torch::Tensor> float_buffers;
  for (auto& buffer : module.buffers(/*recurse=*/true)) {
    if (buffer.scalar_type() != torch::kFloat32) continue;
    float_buffers.push_back(buffer);
    buffer_total += buffer.numel();
  }
  buffers_ = torch::empty({buffer_total}, options);
  int64_t offset = 0;
  for (auto& buffer : float_buffers) {
    auto view = buffers_.narrow(0, offset, buffer.numel()).view(buffer.sizes());
    view.copy_(buffer);
    buffer.set_data(view);
    offset += buffer.numel();
  }
}

}  // namespace distsgd
