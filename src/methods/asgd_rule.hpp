#pragma once
// How an ASGD server turns a worker's gradient into a step (--asgd-rule).
// Downpour (plain) applies every gradient at the worker's learning rate with
// the user's momentum; with W workers the server then takes W steps where
// synchronous SGD takes one, on gradients up to W - 1 updates old, and the
// asynchrony itself acts as momentum of about 1 - 1/W (Mitliagkas, Zhang,
// Hadjis, Re 2016, "Asynchrony begets momentum"): at the synchronous settings
// (lr 0.05, momentum 0.9) that diverges. The remedies of the literature:
//   - the explicit momentum is max(0, mu - (1 - 1/W)), so that explicit plus
//     implicit momentum is the mu the user asked for (Mitliagkas et al.);
//   - a gradient of staleness tau steps lr / max(1, tau) (Zhang, Gupta, Lian,
//     Liu 2016, "Staleness-aware async-SGD").
// The default is the first alone: measured on cnn / Fashion-MNIST, 1 epoch,
// lr 0.05, momentum 0.9, it beat the staleness-scaled lr with or without it
// at 2, 3 and 4 workers (README, docs/methods.md). By Mitliagkas et al. W
// asynchronous workers at lr already step like lr / W with momentum 1 - 1/W,
// so dividing by the staleness (about W - 1) again shrinks the step twice.
// Pure functions, used by ps::ServerCore (the MPI server and the simulator
// both run it) and by the summaries that report the rule.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace distsgd::ps {

enum class AsgdRule {
  plain,               // Downpour: lr, explicit momentum = --momentum
  momentum,            // lr, --momentum is the effective momentum (the default)
  staleness,           // lr / max(1, tau), explicit momentum = --momentum
  staleness_momentum,  // lr / max(1, tau), --momentum is the effective momentum
};

// The names --asgd-rule takes ("plain", "momentum", "staleness",
// "staleness-momentum"); the parse throws ConfigError naming them for any other.
AsgdRule parse_asgd_rule(std::string_view name);
std::string asgd_rule_name(AsgdRule rule);
// The names, for help text and error messages: "plain, momentum, ...".
std::string asgd_rule_names();

// lr / max(1, staleness): a gradient computed on the current version (0) or
// one update behind (1) gets the full step.
double staleness_scaled_lr(double lr, int64_t staleness);
// max(0, effective - (1 - 1/workers)): the explicit momentum that, with the
// implicit momentum 1 - 1/workers of `workers` asynchronous workers, gives
// `effective`. One worker: `effective` itself.
double compensated_momentum(double effective, int workers);

// Whether `rule` divides the step by the staleness, and whether it takes
// --momentum as the effective momentum.
bool scales_by_staleness(AsgdRule rule);
bool compensates_momentum(AsgdRule rule);

// Under `rule`: the learning rate of a gradient of `staleness`, and the
// explicit momentum of the server's optimizer for `momentum` asked for.
double asgd_step_lr(AsgdRule rule, double lr, int64_t staleness);
double asgd_explicit_momentum(AsgdRule rule, double momentum, int workers);

// summary.json's figures of the rule (the MPI run's and the simulator's):
// asgd_rule, asgd_momentum (asked for), asgd_explicit_momentum (the servers'),
// asgd_implicit_momentum (1 - 1/workers, the estimate of asynchrony's own).
nlohmann::json asgd_rule_figures(AsgdRule rule, double momentum, int workers);

}  // namespace distsgd::ps
