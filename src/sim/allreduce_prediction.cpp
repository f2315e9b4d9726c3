#include "sim/allreduce_prediction.hpp"

#include <cmath>
#include <limits>

namespace distsgd::sim {

std::vector<AllreducePrediction> predict_allreduce(const std::vector<AllreduceSeries>& measured,
                                                   const NetworkProfile& profile) {
  constexpr AllreduceAlgorithm kAlgorithms[] = {
      AllreduceAlgorithm::ring, AllreduceAlgorithm::tree, AllreduceAlgorithm::halving_doubling};
  std::vector<AllreducePrediction> out;
  for (const auto& series : measured)
    for (const auto& point : series.points) {
      AllreducePrediction p;
      p.ranks = series.ranks;
      p.bytes = point.bytes;
      p.measured_s = point.seconds;
      p.engine_s = allreduce_s(AllreduceAlgorithm::openmpi, series.ranks, point.bytes, profile);
      p.best_s = std::numeric_limits<double>::infinity();
      // Ties go to the earlier algorithm, so a 2-rank job names the ring.
      for (auto algorithm : kAlgorithms) {
        const double s = allreduce_s(algorithm, series.ranks, point.bytes, profile);
        if (s < p.best_s) p.best_s = s, p.best = algorithm;
      }
      out.push_back(p);
    }
  return out;
}

double error_percent(double predicted, double measured) {
  if (!(measured > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * (predicted - measured) / measured;
}

nlohmann::json predictions_to_json(const std::vector<AllreducePrediction>& predictions,
                                   int ranks) {
  // JSON has no NaN: an error that cannot be computed is null.
  const auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nullptr; };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : predictions) {
    if (p.ranks != ranks) continue;
    out.push_back({{"bytes", p.bytes},
                   {"measured_s", p.measured_s},
                   {"engine_s", p.engine_s},
                   {"engine_error_pct", number(error_percent(p.engine_s, p.measured_s))},
                   {"best", allreduce_algorithm_name(p.best)},
                   {"best_s", p.best_s},
                   {"best_error_pct", number(error_percent(p.best_s, p.measured_s))}});
  }
  return out;
}

void add_predictions(nlohmann::json& calibration_json,
                     const std::vector<AllreducePrediction>& predictions) {
  for (auto& series : calibration_json.at("allreduce"))
    series["predicted"] = predictions_to_json(predictions, series.at("ranks").get<int>());
}

}  // namespace distsgd::sim
