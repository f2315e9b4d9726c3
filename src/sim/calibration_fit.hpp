#pragma once
// A calibration: the message times measured on a real machine (`distsgd
// calibrate`), the lines fitted to them, and the JSON file that records both
// (which NetworkProfile::parse reads back). Pure: no MPI, no clock.
//
// The file:
//   {"kind": "distsgd-calibration", "version": 1,
//    "ranks": R,                        // ranks of the measuring job
//    "mpi": "Open MPI v4.1.4 ...",       // the library measured
//    "ranges": [{"max_bytes": x | null (infinite), "latency_s": .., "bandwidth_Bps": ..}],
//    "pingpong": [[bytes, seconds], ...],            // one-way: half a round trip
//    "allreduce": [{"ranks": n, "points": [[bytes, seconds], ...],
//                   "predicted": [...]}, ...]}  // written by calibrate, not read:
//                                               // sim/allreduce_prediction.hpp
// Other fields are ignored (room for additions without a new version).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/network_profile.hpp"

namespace distsgd::sim {

// One measured time: the one-way time of a message (half a ping-pong round
// trip), or the time of a whole all-reduce of `bytes`.
struct Measurement {
  double bytes;
  double seconds;
};

// Least-squares fit of seconds = latency + bytes / bandwidth within each size
// range. `boundaries` (bytes, strictly increasing, > 0) cut the sizes into
// boundaries.size() + 1 ranges: (0, b0], (b0, b1], ..., (b_last, inf), as
// NetworkProfile::cost looks them up. Each range needs points of at least two
// distinct sizes (ConfigError naming the range otherwise). A negative fitted
// latency is clamped to 0 (and the slope refitted through the origin); a slope
// <= 0, a time that does not grow with size, gives an infinite bandwidth (0)
// and the mean time as the latency. Exact for points on a line.
std::vector<SizeRange> fit_ranges(const std::vector<Measurement>& points,
                                  const std::vector<double>& boundaries);

// A size as the calibration names it: "512 B", "64 KiB", "1.5 MiB".
std::string bytes_label(double bytes);

// The all-reduce times measured on one rank count.
struct AllreduceSeries {
  int ranks = 0;
  std::vector<Measurement> points;
};

struct Calibration {
  int ranks = 0;
  std::string mpi;
  std::vector<SizeRange> ranges;
  std::vector<Measurement> pingpong;
  std::vector<AllreduceSeries> allreduce;
};

nlohmann::json calibration_to_json(const Calibration& calibration);
// DataError naming `file` and the field for a wrong kind or version, a missing
// field, a field of the wrong type, or ranges that do not make a profile.
Calibration calibration_from_json(const nlohmann::json& json, const std::string& file);

}  // namespace distsgd::sim
