#pragma once
// A distsgd::Problem (the program's model factory and samples) as the trainer's
// RunInputs: the training and test sets as SampleDatasets (checked against
// each other: one sample shape, one class count), the model as a ModuleModel
// whose forward() is checked once to give [batch, num_classes] logits.
#include "distsgd/distsgd.hpp"
#include "train/run_inputs.hpp"

namespace distsgd::library {

// ConfigError for a problem without a model factory or without names. The
// inputs refer to `problem`, which must outlive the run.
RunInputs inputs_for(const Problem& problem);

}  // namespace distsgd::library
