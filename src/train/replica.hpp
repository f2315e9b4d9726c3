#pragma once
// The state a worker trains, as the pieces of the trainer see it: the model's
// flat parameters, gradients and buffers (models/flat_parameters.hpp) and the
// optimizer's momentum. The run owns both; a Replica is two references, handed
// to the pieces that read or write them (step, evaluator, checkpointer,
// summary) so that none needs the whole run.
#include "algorithms/algorithm.hpp"
#include "methods/update_math.hpp"

namespace distsgd {

class FlatParameters;

struct Replica {
  FlatParameters& flat;
  math::MomentumState& momentum;

  // The views a method's hooks take.
  ReplicaView view() const;
};

}  // namespace distsgd
