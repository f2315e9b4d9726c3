#pragma once
// A model's parameters and gradients, each in one contiguous float32 buffer.
//
// The tensors LibTorch trains become views into these buffers (set_data for the
// parameters, mutable_grad() for the gradients), so every method sends, averages
// and mixes one buffer, or contiguous buckets of it, with no per-step gather or
// scatter. Gradients must be zeroed in place (zero_grads()), never reset to
// undefined, or LibTorch would allocate fresh gradient tensors outside the buffer.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <span>
#include <string>
#include <vector>

namespace distsgd {

class FlatParameters {
 public:
  // Where one parameter tensor lives in the flat buffers.
  struct Slot {
    std::string name;
    int64_t offset = 0;
    int64_t numel = 0;
    torch::Tensor parameter;  // the module's parameter (a view into params())
  };

  // Moves `module`'s parameters (in parameters() order) and its floating-point
  // buffers (batch-norm running statistics) into flat buffers on `module`'s device.
  explicit FlatParameters(torch::nn::Module& module);

  const std::vector<Slot>& slots() const { return slots_; }
  int64_t numel() const { return params_.numel(); }

  torch::Tensor& params() { return params_; }
  torch::Tensor& grads() { return grads_; }
  // Floating-point module buffers (may be empty); synchronised by some methods.
  torch::Tensor& buffers() { return buffers_; }

  std::span<float> param_span() { return span_of(params_); }
  std::span<float> grad_span() { return span_of(grads_); }
  std::span<float> buffer_span() { return span_of(buffers_); }

  void zero_grads() { grads_.zero_(); }

  static std::span<float> span_of(torch::Tensor& tensor);

 private:
  std::vector<Slot> slots_;
  torch::Tensor params_;
  torch::Tensor grads_;
  torch::Tensor buffers_;
};

}  // namespace distsgd
