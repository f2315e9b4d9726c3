// The test's view of distsgd's side of the interop (ctest interop.torchvision):
// builds a distsgd model from a state dict (the --init-from reader) or from a
// run's final.ckpt (what `distsgd export` reads), runs it in eval mode on an
// input the test wrote, and writes the logits, so the test can compare them
// with torchvision's; optionally writes the model's state dict back (the export
// writer).
//
//   interop_forward (--state-dict FILE --model NAME --shape CxHxW --classes N |
//                    --checkpoint final.ckpt) --input X.f32 --batch B --logits Y.f32
//                   [--export FILE]
// Inputs and logits are raw little-endian float32, NCHW and [B, classes].
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "models/model.hpp"
#include "models/named_state.hpp"
#include "models/state_dict_file.hpp"
#include "train/final_model.hpp"

namespace {

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  return flags;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace distsgd;
  auto flags = parse(argc, argv);
  torch::manual_seed(0);
  FinalModel model;
  if (flags.count("--checkpoint")) {
    model = load_final_model(flags.at("--checkpoint"));
  } else {
    int64_t c = 0, h = 0, w = 0;
    if (std::sscanf(flags.at("--shape").c_str(), "%ldx%ldx%ld", &c, &h, &w) != 3)
      throw std::runtime_error("--shape must be CxHxW");
    model.shape = {c, h, w};
    model.classes = std::stol(flags.at("--classes"));
    model.model = models::make_model(flags.at("--model"), model.shape, model.classes);
    models::load_state_dict_file(*model.model, flags.at("--state-dict"), "--state-dict");
    model.model->eval();
  }
  const int64_t batch = std::stol(flags.at("--batch"));
  auto input = torch::empty({batch, model.shape.channels, model.shape.height, model.shape.width});
  std::ifstream in(flags.at("--input"), std::ios::binary);
  in.read(reinterpret_cast<char*>(input.data_ptr<float>()),
          static_cast<std::streamsize>(input.numel() * sizeof(float)));
  if (!in) throw std::runtime_error("--input holds fewer floats than the batch needs");
  torch::NoGradGuard no_grad;
  const auto logits = model.model->forward(input).contiguous();
  std::ofstream out(flags.at("--logits"), std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()),
            static_cast<std::streamsize>(logits.numel() * sizeof(float)));
  if (flags.count("--export"))
    models::write_state_dict(flags.at("--export"), models::named_state(*model.model));
  int64_t parameters = 0;
  for (const auto& p : model.model->parameters()) parameters += p.numel();
  std::cout << "parameters " << parameters << "\n";
  return 0;
} catch (const std::exception& error) {
  std::cerr << "interop_forward: " << error.what() << "\n";
  return 2;
}
