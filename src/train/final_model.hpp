#pragma once
// The model a run ended with, rebuilt from its final.ckpt (checkpoint.hpp):
// what `distsgd export` writes as a state dict. final.ckpt holds the flat
// parameters and batch-norm statistics; rebuilding needs the architecture, the
// input shape and the class count, which its header records under "model"
// (describe_model()).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.hpp"
#include "models/model.hpp"

namespace distsgd {

// {"name", "input_shape": [C, H, W], "classes"}: what final.ckpt records of its model.
nlohmann::json describe_model(const std::string& name, const data::SampleShape& shape,
                              int64_t classes);

struct FinalModel {
  std::shared_ptr<models::Model> model;  // in eval mode
  std::string name;
  data::SampleShape shape;
  int64_t classes = 0;
  int64_t step = 0;  // the steps the run trained (per worker)
};

// Rebuilds the model of the final.ckpt at `path`, with its parameters and
// batch-norm statistics. final.ckpt holds no batch counts: num_batches_tracked
// is set to the run's steps, what PyTorch would have counted on one worker.
// DataError naming `path` for a damaged file, one written before the model
// was recorded, or values that do not fit the model it names.
FinalModel load_final_model(const std::string& path);

}  // namespace distsgd
