#include "methods/asgd_rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "core/errors.hpp"

namespace distsgd::ps {
namespace {
constexpr std::array<std::pair<AsgdRule, std::string_view>, 4> kRules{{
    {AsgdRule::plain, "plain"},
    {AsgdRule::momentum, "momentum"},
    {AsgdRule::staleness, "staleness"},
    {AsgdRule::staleness_momentum, "staleness-momentum"},
}};
}  // namespace

AsgdRule parse_asgd_rule(std::string_view name) {
  for (const auto& [rule, known] : kRules)
    if (known == name) return rule;
  throw ConfigError(fmt::format("--asgd-rule must be one of {} (got '{}')", asgd_rule_names(), name));
}

std::string asgd_rule_name(AsgdRule rule) {
  for (const auto& [known, name] : kRules)
    if (known == rule) return std::string(name);
  throw std::logic_error("asgd_rule_name: unknown rule");
}

std::string asgd_rule_names() {
  std::string names;
  for (const auto& [rule, name] : kRules) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

double staleness_scaled_lr(double lr, int64_t staleness) {
  return lr / static_cast<double>(std::max<int64_t>(1, staleness));
}

double compensated_momentum(double effective, int workers) {
  if (workers < 1) throw std::invalid_argument("compensated_momentum: workers must be >= 1");
  const double implicit = 1.0 - 1.0 / static_cast<double>(workers);
  return std::max(0.0, effective - implicit);
}

bool scales_by_staleness(AsgdRule rule) {
  return rule == AsgdRule::staleness || rule == AsgdRule::staleness_momentum;
}

bool compensates_momentum(AsgdRule rule) {
  return rule == AsgdRule::momentum || rule == AsgdRule::staleness_momentum;
}

double asgd_step_lr(AsgdRule rule, double lr, int64_t staleness) {
  return scales_by_staleness(rule) ? staleness_scaled_lr(lr, staleness) : lr;
}

double asgd_explicit_momentum(AsgdRule rule, double momentum, int workers) {
  return compensates_momentum(rule) ? compensated_momentum(momentum, workers) : momentum;
}

nlohmann::json asgd_rule_figures(AsgdRule rule, double momentum, int workers) {
  return {{"asgd_rule", asgd_rule_name(rule)},
          {"asgd_momentum", momentum},
          {"asgd_explicit_momentum", asgd_explicit_momentum(rule, momentum, workers)},
          {"asgd_implicit_momentum", 1.0 - 1.0 / static_cast<double>(workers)}};
}

}  // namespace distsgd::ps
