#include "train/replica.hpp"

#include "models/flat_parameters.hpp"

namespace distsgd {

ReplicaView Replica::view() const {
  return {flat.param_span(), flat.grad_span(), flat.buffer_span(), momentum.buffer};
}

}  // namespace distsgd
