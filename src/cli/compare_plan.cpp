#include "cli/compare_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "algorithms/make_algorithm.hpp"
#include "cli/train_flags.hpp"
#include "core/errors.hpp"

namespace distsgd::cli {

TrainConfig parse_train_args(const std::vector<std::string>& args) {
  CLI::App app("train");
  TrainConfig config;
  add_train_flags(app, config);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them back to front
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    throw ConfigError(fmt::format("compare: train flags: {}", error.what()));
  }
  config.validate();
  return config;
}

std::string why_impossible(const std::string& algo, int nodes,
                           const std::vector<std::string>& train_args,
                           const std::string& straggler) {
  auto config = parse_train_args(train_args);
  config.algo = algo;
  if (!straggler.empty()) config.straggler = straggler;
  try {
    config.validate();
    role_for(config, 0, nodes);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

std::vector<PlannedRun> plan_runs(const CompareOptions& options) {
  std::vector<PlannedRun> runs;
  std::vector<std::string> variants = {""};
  if (!options.straggler.empty()) variants.push_back(options.straggler);
  for (int nodes : options.nodes) {
    for (const auto& algo : options.algos) {
      auto args = options.args_for(algo);
      args.insert(args.begin(), {"--algo", algo});
      // The comparison measures training: no checkpoints unless asked for
      // (an asynchronous method's checkpoint is a meeting of its workers,
      // which would tie a fast worker to a straggler once an epoch).
      if (std::find(args.begin(), args.end(), "--checkpoint-every") == args.end())
        args.insert(args.end(), {"--checkpoint-every", "0"});
      // A curve, however short the run: evaluations spread over it, unless a
      // cadence was asked for.
      if (std::find(args.begin(), args.end(), "--eval-every") == args.end() &&
          std::find(args.begin(), args.end(), "--evaluations") == args.end())
        args.insert(args.end(), {"--evaluations", std::to_string(kDefaultEvaluations)});
      for (int repeat = 1; repeat <= options.repeat; ++repeat) {
        for (const auto& straggler : variants) {
          PlannedRun run;
          run.algo = algo;
          run.nodes = nodes;
          run.repeat = repeat;
          run.straggler = straggler;
          run.train_args = args;
          if (!straggler.empty())
            run.train_args.insert(run.train_args.end(), {"--straggler", straggler});
          run.name = fmt::format("{}-n{}-r{}{}", algo, nodes, repeat,
                                 straggler.empty() ? "" : "-straggler");
          run.skip_reason = why_impossible(algo, nodes, args, straggler);
          runs.push_back(std::move(run));
        }
      }
    }
  }
  return runs;
}

}  // namespace distsgd::cli
