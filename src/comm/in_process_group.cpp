// Group: message matching, collectives and the making of new groups, each
// completed under the mutex by the rank whose call makes it possible.
#include "comm/in_process_group.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

namespace distsgd::comm::in_process {
namespace {

template <typename T>
T reduce(T a, T b, ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return static_cast<T>(a + b);  // u8 wraps, as MPI_UINT8_T does
    case ReduceOp::max:
      return std::max(a, b);
    case ReduceOp::min:
      return std::min(a, b);
  }
  return a;
}

// acc[i] = acc[i] op in[i]; memcpy per element: the buffers hold bytes.
template <typename T>
void combine(std::byte* acc, const std::byte* in, std::size_t count, ReduceOp op) {
  for (std::size_t i = 0; i < count; ++i) {
    T a, b;
    std::memcpy(&a, acc + i * sizeof(T), sizeof(T));
    std::memcpy(&b, in + i * sizeof(T), sizeof(T));
    a = reduce(a, b, op);
    std::memcpy(acc + i * sizeof(T), &a, sizeof(T));
  }
}

void combine(std::byte* acc, const std::byte* in, std::size_t count, DType type, ReduceOp op) {
  switch (type) {
    case DType::f32:
      return combine<float>(acc, in, count, op);
    case DType::f64:
      return combine<double>(acc, in, count, op);
    case DType::i64:
      return combine<int64_t>(acc, in, count, op);
    case DType::u8:
      return combine<uint8_t>(acc, in, count, op);
  }
}

void copy_out(void* to, const std::vector<std::byte>& from) {
  if (to != nullptr && !from.empty()) std::memcpy(to, from.data(), from.size());
}

}  // namespace

Group::Group(int size) : size_(size), members_(static_cast<std::size_t>(size)) {}

void Group::changed_locked() {
  ++version_;
  changed_.notify_all();
}

void Group::wait_for_change(std::unique_lock<std::mutex>& lock, uint64_t seen,
                            Clock::duration most) {
  changed_.wait_for(lock, most, [&] { return version_ != seen; });
}

void Group::deliver_locked(Receive& receive, Message& message) {
  if (message.bytes.size() > receive.capacity)
    receive.error = fmt::format(
        "a message of {} bytes from rank {} (tag {}) is larger than the receive buffer of {} bytes",
        message.bytes.size(), message.source, message.tag, receive.capacity);
  else
    copy_out(receive.buffer, message.bytes);
  receive.done = true;
  message.matched = true;
}

// Both queues are searched from the front: the first message of a source and
// tag meets the first receive of them, so messages never overtake each other.
std::shared_ptr<Message> Group::send(int source, int dest, int tag, const void* data,
                                     std::size_t bytes) {
  auto message = std::make_shared<Message>();
  message->source = source;
  message->tag = tag;
  const auto* begin = static_cast<const std::byte*>(data);
  message->bytes.assign(begin, begin + bytes);
  auto hold = lock();
  auto& posted = members_[static_cast<std::size_t>(dest)].posted;
  const auto match = std::find_if(posted.begin(), posted.end(), [&](const auto& receive) {
    return receive->source == source && receive->tag == tag;
  });
  if (match == posted.end()) {
    members_[static_cast<std::size_t>(dest)].unexpected.push_back(message);
    return message;
  }
  deliver_locked(**match, *message);
  posted.erase(match);
  changed_locked();
  return message;
}

std::shared_ptr<Receive> Group::post_receive(int dest, int source, int tag, void* buffer,
                                             std::size_t capacity) {
  auto receive = std::make_shared<Receive>();
  receive->source = source;
  receive->tag = tag;
  receive->buffer = buffer;
  receive->capacity = capacity;
  auto hold = lock();
  auto& member = members_[static_cast<std::size_t>(dest)];
  const auto match = std::find_if(
      member.unexpected.begin(), member.unexpected.end(),
      [&](const auto& message) { return message->source == source && message->tag == tag; });
  if (match == member.unexpected.end()) {
    member.posted.push_back(receive);
    return receive;
  }
  deliver_locked(*receive, **match);
  member.unexpected.erase(match);
  changed_locked();  // a synchronous send waits for this
  return receive;
}

bool Group::withdraw_send_locked(int dest, const std::shared_ptr<Message>& message) {
  if (message->matched) return false;
  auto& queue = members_[static_cast<std::size_t>(dest)].unexpected;
  queue.erase(std::remove(queue.begin(), queue.end(), message), queue.end());
  return true;
}

bool Group::withdraw_receive_locked(int dest, const std::shared_ptr<Receive>& receive) {
  if (receive->done) return false;
  auto& queue = members_[static_cast<std::size_t>(dest)].posted;
  queue.erase(std::remove(queue.begin(), queue.end(), receive), queue.end());
  return true;
}

int64_t Group::join(int rank, Part part) {
  auto hold = lock();
  const int64_t seq = ++members_[static_cast<std::size_t>(rank)].collectives;
  Collective& c = collectives_[seq];
  if (c.parts.empty()) {
    c.parts.resize(static_cast<std::size_t>(size_));
    c.joined.assign(static_cast<std::size_t>(size_), false);
  }
  c.parts[static_cast<std::size_t>(rank)] = std::move(part);
  c.joined[static_cast<std::size_t>(rank)] = true;
  if (++c.joins == size_) complete_locked(seq, c);
  return seq;
}

// The last rank to join computes the result (in rank order, so every rank gets
// the same bits) and writes it into every rank's buffer still waiting.
void Group::complete_locked(int64_t seq, Collective& c) {
  c.complete = true;
  changed_locked();
  const Part& first = c.parts.front();
  for (std::size_t r = 1; r < c.parts.size(); ++r) {
    if (c.parts[r].signature == first.signature) continue;
    c.error = fmt::format(
        "collective #{} differs between ranks: rank 0 started {} ({}), rank {} started {} ({}); "
        "collectives must start in the same order on every rank",
        seq, first.what, first.signature, r, c.parts[r].what, c.parts[r].signature);
    return;
  }
  switch (first.kind) {
    case Kind::allreduce: {
      std::vector<std::byte> result = first.input;
      for (std::size_t r = 1; r < c.parts.size(); ++r)
        combine(result.data(), c.parts[r].input.data(), first.count, first.type, first.op);
      for (const Part& part : c.parts) copy_out(part.output, result);
      return;
    }
    case Kind::broadcast: {
      const auto root = static_cast<std::size_t>(first.root);
      for (std::size_t r = 0; r < c.parts.size(); ++r)
        if (r != root) copy_out(c.parts[r].output, c.parts[root].input);
      return;
    }
    case Kind::barrier:
      return;
    case Kind::allgather: {
      std::vector<std::byte> result;
      result.reserve(first.count * c.parts.size());
      for (const Part& part : c.parts)
        result.insert(result.end(), part.input.begin(), part.input.end());
      for (const Part& part : c.parts) copy_out(part.output, result);
      return;
    }
  }
}

bool Group::collective_done_locked(int64_t seq, std::string& error) {
  const auto it = collectives_.find(seq);
  if (it == collectives_.end() || !it->second.complete) return false;
  error = it->second.error;
  if (++it->second.finished == size_) collectives_.erase(it);
  return true;
}

void Group::abandon_locked(int rank, int64_t seq) {
  const auto it = collectives_.find(seq);
  if (it == collectives_.end()) return;
  it->second.parts[static_cast<std::size_t>(rank)].output = nullptr;
  if (++it->second.finished == size_) collectives_.erase(it);
}

std::string Group::collective_diagnosis_locked(int rank, int64_t seq) const {
  const auto it = collectives_.find(seq);
  std::vector<int> joined;
  std::vector<std::string> missing;
  for (int r = 0; r < size_; ++r) {
    if (it != collectives_.end() && it->second.joined[static_cast<std::size_t>(r)]) {
      joined.push_back(r);
      continue;
    }
    const int64_t started = members_[static_cast<std::size_t>(r)].collectives;
    missing.push_back(started == 0 ? fmt::format("rank {} (has started no collective)", r)
                                   : fmt::format("rank {} (its last collective: #{})", r, started));
  }
  return fmt::format(
      "rank {} waiting on {} (collective #{}); joined: {}; not joined: {}", rank,
      size_ == 1 ? std::string("rank 0") : fmt::format("ranks 0-{}", size_ - 1), seq,
      detail::rank_list(joined),
      missing.empty() ? std::string("none") : fmt::format("{}", fmt::join(missing, ", ")));
}

bool Group::first_to_join_locked(int rank, int64_t seq) const {
  const auto it = collectives_.find(seq);
  if (it == collectives_.end()) return true;
  const auto& joined = it->second.joined;
  return std::find(joined.begin(), joined.end(), true) - joined.begin() == rank;
}

int Group::count_subset(int rank, const std::vector<int>& ranks) {
  auto hold = lock();
  return ++members_[static_cast<std::size_t>(rank)].subsets[ranks];
}

std::shared_ptr<Group> Group::arrive(const std::string& name, const std::vector<int>& members,
                                     int rank) {
  auto hold = lock();
  Child& child = children_[name];
  if (!child.group) {
    child.group = std::make_shared<Group>(static_cast<int>(members.size()));
    child.members = members;
    child.arrived.assign(members.size(), false);
  } else if (child.members != members) {
    throw CommFailure(fmt::format("{}: rank {} asks for ranks {}, another member for ranks {}",
                                  name, rank, fmt::join(members, ","),
                                  fmt::join(child.members, ",")));
  }
  const auto index =
      static_cast<std::size_t>(std::find(members.begin(), members.end(), rank) - members.begin());
  if (!child.arrived[index]) {
    child.arrived[index] = true;
    if (++child.arrivals == static_cast<int>(members.size())) changed_locked();
  }
  return child.group;
}

bool Group::all_arrived_locked(const std::string& name) {
  const auto it = children_.find(name);
  if (it == children_.end()) return true;
  Child& child = it->second;
  if (child.arrivals < static_cast<int>(child.members.size())) return false;
  if (++child.taken == static_cast<int>(child.members.size())) children_.erase(it);
  return true;
}

std::string Group::arrival_diagnosis_locked(const std::string& name, int rank) const {
  const auto it = children_.find(name);
  if (it == children_.end()) return fmt::format("rank {} making a communicator", rank);
  std::vector<int> arrived, missing;
  for (std::size_t i = 0; i < it->second.members.size(); ++i)
    (it->second.arrived[i] ? arrived : missing).push_back(it->second.members[i]);
  return fmt::format("rank {} waiting on {} to make a communicator; arrived: {}; not arrived: {}",
                     rank, detail::rank_list(it->second.members), detail::rank_list(arrived),
                     detail::rank_list(missing));
}

}  // namespace distsgd::comm::in_process
