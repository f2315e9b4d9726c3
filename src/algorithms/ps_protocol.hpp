#pragma once
// The wire protocol between parameter-server workers and servers: two-sided
// messages, one request and one reply per shard. A message is one float buffer:
// a fixed header, then the payload (a shard of gradients, parameters or the
// centre variable).
//
//   worker -> server (tag kRequestTag)  header{kind, version, step, lr} + payload
//   server -> worker (tag kReplyTag)    header{kind, version}           + shard
//
// A worker has at most one request outstanding per server, so a server needs
// one receive buffer per worker. `done` is the last request of a worker; the
// server answers it with an empty reply, so nothing is left unreceived.
//
// `checkpoint` (header only): a worker at the end of a checkpoint epoch asks
// each server for its part (request: version = the epoch). The server answers
// once every worker has asked or finished: version = the size of the part file
// it wrote and step = its CRC-32, or version = kCheckpointStopped when a worker
// has finished (stopped by a signal) so there is no checkpoint; meanwhile, at
// least every heartbeat, version = kCheckpointWait (ask again), so a worker
// waiting for a slow one keeps its deadline.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace distsgd::ps {

enum class Kind : int64_t {
  push_gradient = 1,  // ASGD: apply this gradient, reply with the new parameters
  elastic = 2,        // EASGD: reply with the centre, then move it towards this replica
  pull = 3,           // reply with the current parameters (evaluation)
  done = 4,           // this worker has finished; reply with an empty acknowledgement
  checkpoint = 5,     // write your part of the checkpoint once every worker has asked
};

constexpr int64_t kCheckpointWait = -1;
constexpr int64_t kCheckpointStopped = -2;

std::string kind_name(Kind kind);

constexpr int kRequestTag = 7301;
constexpr int kReplyTag = 7302;
// --survive-worker-loss: the lost workers, from the first server to every survivor.
constexpr int kMembershipTag = 7303;

// Trivially copyable (no member initialisers), so it can be copied as bytes.
struct Header {
  int64_t kind;
  int64_t version;  // request: the version the worker last saw; reply: the server's version (done:
                    // workers still training)
  int64_t step;     // the worker's step (for messages and metrics)
  double lr;        // ASGD: the learning rate of this step (the worker's schedule)
};
static_assert(std::is_trivially_copyable_v<Header>);

constexpr std::size_t kHeaderFloats = sizeof(Header) / sizeof(float);
static_assert(sizeof(Header) % sizeof(float) == 0);

inline void write_header(std::span<float> message, const Header& header) {
  if (message.size() < kHeaderFloats) throw std::logic_error("ps message shorter than its header");
  std::memcpy(message.data(), &header, sizeof(Header));
}

inline Header read_header(std::span<const float> message) {
  if (message.size() < kHeaderFloats) throw std::logic_error("ps message shorter than its header");
  Header header{};
  std::memcpy(&header, message.data(), sizeof(Header));
  return header;
}

}  // namespace distsgd::ps
