#pragma once
// TrainConfig, every setting of a training run, is part of the library's
// contract and defined in include/distsgd/train_config.hpp; code inside src/
// includes it (with the whole of nlohmann::json, which its to_json() returns)
// through this header.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "distsgd/train_config.hpp"

namespace distsgd {

// --nan-policy by name; nullopt for a name that is neither.
std::optional<NanPolicy> parse_nan_policy(const std::string& name);

}  // namespace distsgd
