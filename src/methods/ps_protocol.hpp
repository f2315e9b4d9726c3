#pragma once
// The wire protocol between parameter-server workers and servers: two-sided
// messages, one request and one reply per shard. A message is one float
// buffer: a fixed Header, then the payload.
//
//   kind             request (worker -> server, tag kRequestTag)   reply (tag kReplyTag)
//   push_gradient    step, version, lr + gradient shard            version + new parameter shard
//   elastic          step, version + replica shard                 version + centre before the move
//   pull             step                                          version + parameter shard
//   done             step                                          workers_training (no payload)
//   checkpoint       step, epoch                                   checkpoint, part_bytes, part_crc
//
// Every header field has one meaning; a field a kind does not use is 0.
// A worker has at most one request outstanding per server, so a server needs
// one receive buffer per worker. `done` is a worker's last training request:
// the server answers it at least every heartbeat with the number of workers
// still training (the worker asks again) and with 0 once all have finished
// (the worker sends nothing more), so nothing is left unreceived.
// `checkpoint`: a worker at the end of a checkpoint epoch asks each server for
// its part; the server answers once every worker has asked or finished:
// written (with the part's size and CRC-32) or stopped (a worker finished, so
// there is no checkpoint); meanwhile, at least every heartbeat, wait (ask again).
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
  done = 4,           // this worker has finished; reply with the count still training
  checkpoint = 5,     // write your part of the checkpoint once every worker has asked
};

// The answer to a checkpoint request.
enum class CheckpointAnswer : int64_t { none = 0, wait = 1, stopped = 2, written = 3 };

std::string kind_name(Kind kind);

constexpr int kRequestTag = 7301;
constexpr int kReplyTag = 7302;
// --survive-worker-loss: the lost workers, from the first server to every survivor.
constexpr int kMembershipTag = 7303;

// Trivially copyable (no member initialisers), so it can be copied as bytes.
struct Header {
  int64_t kind;              // a Kind
  int64_t step;              // request: the worker's step; reply: the step of the request answered
  int64_t version;           // push/elastic/pull: request: the server version the worker last
                             // saw; reply: the server's version
  int64_t epoch;             // checkpoint request: the epoch whose checkpoint is asked for
  int64_t workers_training;  // done reply: workers still training (0: all have finished)
  int64_t checkpoint;        // checkpoint reply: a CheckpointAnswer
  int64_t part_bytes;        // checkpoint reply, written: the size of the part file
  int64_t part_crc;          // checkpoint reply, written: its CRC-32
  double lr;                 // push_gradient request: the learning rate of this step
};
static_assert(std::is_trivially_copyable_v<Header>);

constexpr std::size_t kHeaderFloats = sizeof(Header) / sizeof(float);
static_assert(sizeof(Header) % sizeof(float) == 0);

inline Header make_header(Kind kind) {
  Header header{};
  header.kind = static_cast<int64_t>(kind);
  return header;
}

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

// The payload after the header.
inline std::span<const float> payload(std::span<const float> message) {
  return message.subspan(kHeaderFloats);
}

}  // namespace distsgd::ps
