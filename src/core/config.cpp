#include "core/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/device_choice.hpp"
#include "core/errors.hpp"

namespace distsgd {

#define DISTSGD_CONFIG_FIELDS(X)                                                                  \
  X(algo)                                                                                         \
  X(servers)                                                                                      \
  X(max_staleness) X(asgd_rule) X(tau) X(easgd_beta) X(topology) X(gossip_peers) X(push_mode)     \
      X(gossip_momentum) X(local_steps) X(post_local_after) X(average_momentum) X(global_every)  \
          X(gossip_mode) X(straggler) X(straggler_random) X(leave_early) X(inject_nan)          \
              X(survive_worker_loss) X(model) X(dataset)                                        \
          X(data_dir) X(synthetic_shape) X(augment) X(epochs) X(batch_size) X(lr) X(momentum)     \
              X(nesterov) X(weight_decay) X(lr_schedule) X(lr_decay_epochs) X(lr_decay)           \
                  X(warmup_epochs) X(lr_scaling) X(max_steps) X(eval_every) X(eval_batch_size)    \
                      X(eval_samples) X(evaluations) X(target_accuracy) X(checkpoint_every) X(log_dir) X(resume) \
                          X(stop_after_epoch) X(quiet) X(seed) X(threads) X(device) X(timeout_s) X(stall_warn_s) X(nan_policy) \
                              X(bucket_mb) X(image_size) X(loader_threads) X(bad_images) X(timeline) X(init_from)

namespace {
template <typename T>
void put(nlohmann::json& json, const char* key, const T& value) {
  json[key] = value;
}
template <typename T>
void put(nlohmann::json& json, const char* key, const std::optional<T>& value) {
  json[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}
template <typename T>
void get(const nlohmann::json& json, const char* key, T& value) {
  if (json.contains(key)) value = json.at(key).get<T>();
}
template <typename T>
void get(const nlohmann::json& json, const char* key, std::optional<T>& value) {
  if (!json.contains(key)) return;
  if (json.at(key).is_null())
    value.reset();
  else
    value = json.at(key).get<T>();
}
// "RANK:VALUE" with an integer rank >= 0 and a finite number; nullopt when empty.
std::optional<TrainConfig::RankValue> parse_rank_value(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  const auto colon = text.find(':');
  TrainConfig::RankValue parsed;
  std::size_t used_rank = 0, used_value = 0;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    const std::string rank = text.substr(0, colon), value = text.substr(colon + 1);
    parsed.rank = std::stoi(rank, &used_rank);
    parsed.value = std::stod(value, &used_value);
    if (used_rank != rank.size() || used_value != value.size())
      throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("{} must be RANK:VALUE, for example 1:4 (got '{}')", flag, text));
  }
  if (parsed.rank < 0 || !std::isfinite(parsed.value))
    throw ConfigError(fmt::format("{} must be RANK:VALUE with RANK >= 0 (got '{}')", flag, text));
  return parsed;
}
}  // namespace

std::optional<TrainConfig::RankValue> TrainConfig::straggler_spec() const {
  return parse_rank_value(straggler, "--straggler");
}

std::optional<TrainConfig::RankValue> TrainConfig::leave_early_spec() const {
  return parse_rank_value(leave_early, "--leave-early");
}

std::optional<TrainConfig::RankValue> TrainConfig::inject_nan_spec() const {
  return parse_rank_value(inject_nan, "--inject-nan");
}

std::optional<TrainConfig::RandomDelay> TrainConfig::straggler_random_spec() const {
  if (straggler_random.empty()) return std::nullopt;
  const auto colon = straggler_random.find(':');
  RandomDelay delay;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t used_p = 0, used_ms = 0;
    const std::string p = straggler_random.substr(0, colon),
                      ms = straggler_random.substr(colon + 1);
    delay.probability = std::stod(p, &used_p);
    delay.ms = std::stod(ms, &used_ms);
    if (used_p != p.size() || used_ms != ms.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ConfigError("--straggler-random must be P:MS, for example 0.1:200 (got '" +
                      straggler_random + "')");
  }
  if (!(delay.probability >= 0 && delay.probability <= 1) ||
      !(delay.ms >= 0 && std::isfinite(delay.ms)))
    throw ConfigError("--straggler-random needs P in [0, 1] and MS >= 0 (got '" + straggler_random +
                      "')");
  return delay;
}

std::optional<NanPolicy> parse_nan_policy(const std::string& name) {
  if (name == "stop") return NanPolicy::stop;
  if (name == "skip") return NanPolicy::skip;
  return std::nullopt;
}

int64_t TrainConfig::eval_interval(int64_t run_steps) const {
  if (eval_every > 0 || evaluations == 0) return eval_every;
  return std::max<int64_t>(1, run_steps / evaluations);
}

NanPolicy TrainConfig::nan_policy_kind() const {
  const auto policy = parse_nan_policy(nan_policy);
  if (!policy) throw ConfigError("--nan-policy must be stop or skip (got '" + nan_policy + "')");
  return *policy;
}

nlohmann::json TrainConfig::to_json() const {
  nlohmann::json json;
#define X(field) put(json, #field, field);
  DISTSGD_CONFIG_FIELDS(X)
#undef X
  return json;
}

TrainConfig TrainConfig::from_json(const nlohmann::json& json) {
  TrainConfig config;
#define X(field) get(json, #field, config.field);
  DISTSGD_CONFIG_FIELDS(X)
#undef X
  return config;
}

void TrainConfig::validate() const {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw ConfigError(message);
  };
  require(epochs >= 1, fmt::format("--epochs must be at least 1 (got {})", epochs));
  require(batch_size >= 1, fmt::format("--batch-size must be at least 1 (got {})", batch_size));
  require(std::isfinite(lr) && lr >= 0,
          fmt::format("--lr must be a finite number >= 0 (got {})", lr));
  require(momentum >= 0 && momentum < 1,
          fmt::format("--momentum must be in [0, 1) (got {})", momentum));
  require(!nesterov || momentum > 0, "--nesterov needs --momentum > 0");
  require(std::isfinite(weight_decay) && weight_decay >= 0,
          fmt::format("--weight-decay must be >= 0 (got {})", weight_decay));
  require(lr_schedule == "step" || lr_schedule == "cosine",
          "--lr-schedule must be step or cosine (got " + lr_schedule + ")");
  require(lr_decay > 0 && lr_decay <= 1,
          fmt::format("--lr-decay must be in (0, 1] (got {})", lr_decay));
  for (std::size_t i = 0; i < lr_decay_epochs.size(); ++i) {
    require(lr_decay_epochs[i] >= 1 && (i == 0 || lr_decay_epochs[i] > lr_decay_epochs[i - 1]),
            "--lr-decay-epochs must be increasing epoch numbers >= 1");
  }
  require(std::isfinite(warmup_epochs) && warmup_epochs >= 0,
          "--warmup-epochs must be a finite number >= 0");
  require(lr_scaling == "none" || lr_scaling == "linear" || lr_scaling == "sqrt" ||
              lr_scaling == "inverse",
          "--lr-scaling must be none, linear, sqrt or inverse (got " + lr_scaling + ")");
  require(!max_steps || *max_steps >= 1, "--max-steps must be at least 1");
  require(eval_every >= 0, "--eval-every must be >= 0");
  require(eval_batch_size >= 1, "--eval-batch-size must be at least 1");
  require(eval_samples >= 0, "--eval-samples must be >= 0");
  require(evaluations >= 0, "--evaluations must be >= 0");
  require(!target_accuracy || (*target_accuracy > 0 && *target_accuracy <= 1),
          "--target-accuracy must be in (0, 1]");
  require(checkpoint_every >= 0, "--checkpoint-every must be >= 0");
  require(!stop_after_epoch || (*stop_after_epoch >= 1 && *stop_after_epoch <= epochs),
          "--stop-after-epoch must be between 1 and --epochs");
  require(threads >= 1, fmt::format("--threads must be at least 1 (got {})", threads));
  parse_device(device);  // throws, naming the value, on one that is not a device
  require(std::isfinite(timeout_s) && timeout_s > 0, "--timeout-s must be a finite number > 0");
  require(std::isfinite(stall_warn_s) && stall_warn_s >= 0,
          "--stall-warn-s must be a finite number >= 0 (0: no warnings)");
  nan_policy_kind();  // throws on an unknown name
  require(std::isfinite(bucket_mb) && bucket_mb > 0 && bucket_mb <= 1e6,
          "--bucket-mb must be in (0, 1e6]");
  require(!log_dir.empty(), "--log-dir must not be empty");
  require(image_size >= 1 && image_size <= 4096,
          fmt::format("--image-size must be in [1, 4096] (got {})", image_size));
  require(loader_threads >= 0 && loader_threads <= 256,
          fmt::format("--loader-threads must be in [0, 256] (got {})", loader_threads));
  require(bad_images == "error" || bad_images == "skip",
          "--bad-images must be error or skip (got '" + bad_images + "')");
  require(init_from.empty() || resume.empty(),
          "--init-from and --resume exclude each other (--resume restores the whole run)");
  require(servers >= 1, fmt::format("--servers must be at least 1 (got {})", servers));
  require(!max_staleness || *max_staleness >= 0, "--max-staleness must be >= 0");
  // The names of methods/asgd_rule.cpp (core cannot include methods).
  require(asgd_rule == "plain" || asgd_rule == "momentum" || asgd_rule == "staleness" ||
              asgd_rule == "staleness-momentum",
          "--asgd-rule must be one of plain, momentum, staleness, staleness-momentum (got '" +
              asgd_rule + "')");
  require(tau >= 1, fmt::format("--tau must be at least 1 (got {})", tau));
  require(topology == "random" || topology == "ring" || topology == "exponential",
          "unknown --topology '" + topology + "' (known: random, ring, exponential)");
  require(gossip_peers >= 1,
          fmt::format("--gossip-peers must be at least 1 (got {})", gossip_peers));
  require(push_mode == "sum" || push_mode == "average",
          "--push-mode must be sum or average (got " + push_mode + ")");
  require(!gossip_momentum || momentum > 0, "--gossip-momentum needs --momentum > 0");
  require(local_steps >= 1, fmt::format("--local-steps must be at least 1 (got {})", local_steps));
  require(post_local_after >= 0,
          fmt::format("--post-local-after must be >= 0 epochs (got {})", post_local_after));
  require(!average_momentum || momentum > 0, "--average-momentum needs --momentum > 0");
  require(global_every >= 1,
          fmt::format("--global-every must be at least 1 (got {})", global_every));
  require(gossip_mode == "pull" || gossip_mode == "push",
          "--gossip-mode must be pull or push (got " + gossip_mode + ")");
  require(std::isfinite(easgd_beta) && easgd_beta > 0 && easgd_beta <= 1,
          fmt::format("--easgd-beta must be in (0, 1] (got {})", easgd_beta));
  if (const auto slow = straggler_spec())
    require(slow->value >= 1, fmt::format("--straggler factor must be >= 1 (got '{}')", straggler));
  straggler_random_spec();  // throws on a malformed value
  require(!survive_worker_loss || algo == "asgd" || algo == "easgd" || algo == "gossip-pull" ||
              algo == "gossip-push",
          "--survive-worker-loss is implemented for --algo asgd, easgd, gossip-pull and "
          "gossip-push (got " + algo + ")");
  if (const auto nan = inject_nan_spec())
    require(nan->value >= 0 && nan->value == std::floor(nan->value),
            fmt::format("--inject-nan step must be a whole number >= 0 (got '{}')", inject_nan));
  if (const auto leave = leave_early_spec())
    require(leave->value >= 1 && leave->value == std::floor(leave->value),
            fmt::format("--leave-early steps must be a whole number >= 1 (got '{}')", leave_early));
}

}  // namespace distsgd
