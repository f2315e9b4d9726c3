#pragma once
// What the simulator predicts for each all-reduce a calibration measured, from
// the profile fitted to the same calibration's ping-pong: the check that the
// all-reduce formulas (collective_cost.hpp) and the fitted lines together
// reproduce the machine, printed by `distsgd calibrate` next to each measured
// time and stored in the calibration file as each series' "predicted" list
// (a field NetworkProfile::parse ignores, so the file format is unchanged).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/calibration_fit.hpp"
#include "sim/collective_cost.hpp"
#include "sim/network_profile.hpp"

namespace distsgd::sim {

struct AllreducePrediction {
  int ranks = 0;
  double bytes = 0.0;
  double measured_s = 0.0;
  // What the engine runs on Open MPI (--allreduce openmpi: tree below 4 ranks or
  // 64 KiB, ring above).
  double engine_s = 0.0;
  // The fastest of ring, tree and halving-doubling, and which it is: what a
  // library choosing its algorithm per size could at best do on this profile.
  double best_s = 0.0;
  AllreduceAlgorithm best = AllreduceAlgorithm::ring;
};

// One prediction per measured point of every series, in the series' order.
std::vector<AllreducePrediction> predict_allreduce(const std::vector<AllreduceSeries>& measured,
                                                   const NetworkProfile& profile);

// (predicted - measured) / measured in percent; NaN when nothing was measured.
double error_percent(double predicted, double measured);

// The "predicted" list of one series: [{"bytes", "measured_s", "engine_s",
// "engine_error_pct", "best", "best_s", "best_error_pct"}, ...] for the
// predictions of `ranks` ranks (an error of a 0 s measurement is null).
nlohmann::json predictions_to_json(const std::vector<AllreducePrediction>& predictions,
                                   int ranks);

// Adds each series' "predicted" list to a calibration file's JSON
// (calibration_to_json's): the file `distsgd calibrate` writes.
void add_predictions(nlohmann::json& calibration_json,
                     const std::vector<AllreducePrediction>& predictions);

}  // namespace distsgd::sim
