#include "methods/server_stats.hpp"

#include <algorithm>
#include <stdexcept>

namespace distsgd::ps {

void ServerStats::record_staleness(int64_t staleness) {
  const auto bin = std::clamp<int64_t>(staleness, 0, kBins - 1);
  histogram[static_cast<std::size_t>(bin)] += 1.0;
  staleness_sum += static_cast<double>(staleness);
  staleness_max = std::max(staleness_max, static_cast<double>(staleness));
}

std::vector<double> ServerStats::sums() const {
  std::vector<double> sums(histogram.begin(), histogram.end());
  const double rate = serve_s > 0 ? updates / serve_s : 0.0;
  for (double value : {staleness_sum, updates, requests, replies, held_replies, held_s, rate})
    sums.push_back(value);
  return sums;
}

std::vector<double> ServerStats::maxima() const { return {staleness_max, max_lead, serve_s}; }

nlohmann::json ServerStats::figures(const std::vector<double>& sums,
                                    const std::vector<double>& maxima, int servers) {
  if (sums.size() != kBins + 7 || maxima.size() != 3)
    throw std::invalid_argument("ServerStats::figures: vectors of the wrong size");
  const double* totals = sums.data() + kBins;
  double samples = 0.0;
  std::vector<int64_t> counts;
  for (int i = 0; i < kBins; ++i) {
    samples += sums[static_cast<std::size_t>(i)];
    counts.push_back(static_cast<int64_t>(sums[static_cast<std::size_t>(i)]));
  }
  while (counts.size() > 1 && counts.back() == 0) counts.pop_back();
  return {{"servers", servers},
          {"staleness_mean", samples > 0 ? totals[0] / samples : 0.0},
          {"staleness_max", maxima[0]},
          {"staleness_histogram", counts},
          {"staleness_histogram_note",
           "count of updates by staleness 0, 1, ...; the last bin of 33 is >= 32"},
          {"server_updates", totals[1]},
          {"server_requests", totals[2]},
          {"server_replies", totals[3]},
          {"held_replies", totals[4]},
          {"held_s", totals[5]},
          {"server_updates_per_s", servers > 0 ? totals[6] / servers : 0.0},
          {"max_lead", maxima[1]},
          {"serve_s", maxima[2]}};
}

}  // namespace distsgd::ps
