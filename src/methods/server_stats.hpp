#pragma once
// What parameter servers measure: staleness of the updates they apply (server
// version minus the version the worker computed on), how long they held
// replies to enforce --max-staleness, and their update rate. Each server keeps
// its own; figures() turns the job's totals (summed and maximised over every
// rank by the caller, e.g. with two all-reduces) into summary.json's figures.
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace distsgd::ps {

struct ServerStats {
  static constexpr int kBins = 33;  // staleness 0..31, and 32 or more

  std::array<double, kBins> histogram{};
  double staleness_sum = 0.0;
  double staleness_max = 0.0;
  double updates = 0.0;       // gradients applied or elastic moves made
  double requests = 0.0;      // requests received, of every kind
  double replies = 0.0;       // replies sent (every request gets exactly one)
  double held_replies = 0.0;  // replies held back by --max-staleness
  double held_s = 0.0;        // summed time replies were held
  double max_lead = 0.0;      // largest lead (updates ahead of the slowest live worker) at a reply
  double serve_s = 0.0;       // time from the first request to the last worker's end

  void record_staleness(int64_t staleness);

  // What is summed over ranks (histogram, then staleness_sum, updates,
  // requests, replies, held_replies, held_s, update rate) and what is
  // maximised (staleness_max, max_lead, serve_s).
  std::vector<double> sums() const;
  std::vector<double> maxima() const;
  // The job's figures from the summed and maximised vectors: staleness_mean,
  // staleness_max, staleness_histogram, server_updates_per_s (per server,
  // mean over servers), and the counts.
  static nlohmann::json figures(const std::vector<double>& sums, const std::vector<double>& maxima,
                                int servers);
};

}  // namespace distsgd::ps
