#pragma once
// The network of the simulated cluster: what one message costs on one link,
// latency + bytes / bandwidth, possibly with different figures per message
// size (MPI changes protocol with size: eager below some kilobytes, rendezvous
// above, so a calibration fits one line per size range).
//
// The named profiles (one-way MPI latency, effective bandwidth: what a
// ping-pong and osu_bw achieve, not the line rate):
//
//   free      no cost at all: the simulated run measures the methods alone.
//   10gbe     30 us, 9.4 Gbit/s. TCP over 10 GbE carries at most ~9.4-9.5
//             Gbit/s of payload with a 1500-byte MTU (Ethernet, IP and TCP
//             headers take ~5%). Kernel TCP alone can reach ~10 us for one
//             isolated request (Larsen et al., "Architectural Breakdown of
//             End-to-End Latency in a TCP/IP Network", SBAC-PAD 2007); Open MPI's
//             TCP transport between two hosts through a switch usually shows
//             25-50 us half round trips, hence 30 us.
//   25gbe     20 us, 23.5 Gbit/s: the same ~94% TCP efficiency of 25 Gbit/s;
//             a newer NIC and kernel take a little off the latency.
//   100g-ib   1.2 us, 12 GB/s: EDR InfiniBand (ConnectX-4/5) carries 100
//             Gbit/s of data after 64b/66b encoding, 12.5 GB/s; the OSU
//             micro-benchmarks (osu_bw, osu_latency: a window of MPI_Isends,
//             and half a ping-pong round trip) typically show ~12 GB/s and
//             ~1-1.5 us between two hosts through one switch (Dell HPC ran
//             them for "Need for Speed: Comparing FDR and EDR InfiniBand",
//             2016).
//   200g-ib   1.0 us, 24 GB/s: HDR InfiniBand (ConnectX-6), 25 GB/s of data;
//             osu_bw ~24 GB/s, osu_latency ~1 us.
//
// For comparison: Open MPI over a low-latency 40 GbE stack (usNIC) measured
// 1.93 us and 37.2 Gbit/s (93% of line rate) with NetPIPE (Cisco blog, "MPI
// over 40Gb Ethernet", 2014), close to the ~94% assumed above for TCP.
//
// A custom profile: "bw=10Gbit,lat=50us" (both keys, any order). Bandwidth in
// bits per second: bit, kbit, Mbit, Gbit, Tbit (also Bit, b, bps and "/s"
// forms: 10Gb, 10Gbps, 10Gbit/s) or bytes per second: B, kB, MB, GB, TB
// (decimal) and KiB, MiB, GiB, TiB (binary), optionally "/s": 1.25GB.
// Lowercase b is bits and uppercase B bytes. Latency in s, ms, us, ns.
//
// Or the JSON file that `distsgd calibrate` writes (calibration_fit.hpp), chosen
// when the spec names an existing file or ends in ".json".
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace distsgd::sim {

// The cost of one message on one link: latency + bytes / bandwidth.
struct LinkCost {
  double latency_s = 0.0;
  double bandwidth_Bps = 0.0;  // 0: infinite
  // The time from the first byte leaving to the last arriving, with nothing
  // else on the link.
  double seconds(double bytes) const;
  // bytes / bandwidth alone: how long the message occupies a link.
  double transfer_s(double bytes) const;
};

// A cost that holds for messages of at most max_bytes (and more than the
// previous range's max_bytes).
struct SizeRange {
  double max_bytes;
  LinkCost cost;
};

class NetworkProfile {
 public:
  // Ranges sorted by max_bytes, strictly increasing, the last +infinity;
  // latencies >= 0, bandwidths >= 0 (0: infinite), all finite. ConfigError
  // naming the profile otherwise.
  NetworkProfile(std::string name, std::vector<SizeRange> ranges, std::string source);

  // A named profile, a custom "bw=...,lat=..." or a calibration file (see the
  // top of this header). ConfigError naming the spec and what is wrong with
  // it; DataError naming the file for a calibration file that cannot be read,
  // is not valid JSON, or lacks a field.
  static NetworkProfile parse(const std::string& spec);
  // The profiles parse() knows by name.
  static std::vector<std::string> names();

  const std::string& name() const { return name_; }
  // Where the figures come from (a citation, the spec, or the calibration).
  const std::string& source() const { return source_; }
  const std::vector<SizeRange>& ranges() const { return ranges_; }
  // Every message costs nothing.
  bool is_free() const;
  // The cost of the range that holds a message of this size.
  LinkCost cost(double bytes) const;
  double message_s(double bytes) const { return cost(bytes).seconds(bytes); }
  // {"name", "source", "ranges": [{"max_bytes" (null: infinite), "latency_s",
  // "bandwidth_Bps" (null: infinite)}]}.
  nlohmann::json to_json() const;

 private:
  std::string name_;
  std::vector<SizeRange> ranges_;
  std::string source_;
};

}  // namespace distsgd::sim
