#include "algorithms/make_algorithm.hpp"

#include "algorithms/allreduce.hpp"
#include "core/errors.hpp"

namespace distsgd {

std::vector<std::string> algorithm_names() { return {"allreduce"}; }

std::unique_ptr<Algorithm> make_algorithm(const TrainConfig& config, comm::Communicator& comm) {
  if (config.algo == "allreduce") return std::make_unique<AllReduceSgd>(comm);
  std::string names;
  for (const auto& name : algorithm_names()) names += (names.empty() ? "" : ", ") + name;
  throw ConfigError("unknown --algo '" + config.algo + "' (known: " + names + ")");
}

}  // namespace distsgd
