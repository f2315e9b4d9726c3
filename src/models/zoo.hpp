#pragma once
// The constructors behind make_model(), one per architecture. Internal to
// src/models/: callers go through make_model(), which checks the shape and the
// class count and then initialises the weights once for every model alike.
#include <cstdint>
#include <memory>

#include "data/dataset.hpp"
#include "models/model.hpp"

namespace distsgd::models {

std::shared_ptr<Model> make_mlp(const data::SampleShape& shape, int64_t num_classes);
std::shared_ptr<Model> make_cnn(const data::SampleShape& shape, int64_t num_classes);
std::shared_ptr<Model> make_resnet20(const data::SampleShape& shape, int64_t num_classes);
std::shared_ptr<Model> make_resnet18(const data::SampleShape& shape, int64_t num_classes);
std::shared_ptr<Model> make_resnet50(const data::SampleShape& shape, int64_t num_classes);

}  // namespace distsgd::models
