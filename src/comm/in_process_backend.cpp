// The in-process backend: one rank's view of a Group, and its operations,
// each a thin handle on the group's state.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "comm/in_process.hpp"
#include "comm/in_process_group.hpp"

namespace distsgd::comm::in_process {
namespace {

// The longest a waiting thread sleeps between two looks at its deadline.
constexpr auto kLongestSleep = std::chrono::milliseconds(50);

// test() under the group's lock; pause() asleep on its condition variable
// until the state changes.
class Operation : public PendingOperation {
 public:
  Operation(std::shared_ptr<Group> group, int rank, std::string what)
      : group_(std::move(group)), rank_(rank), what_(std::move(what)) {}

  bool test() final {
    auto hold = group_->lock();
    seen_ = group_->version_locked();
    return test_locked();
  }
  bool pause(IdleBackoff&) final {
    auto hold = group_->lock();
    group_->wait_for_change(hold, seen_, kLongestSleep);
    return true;
  }
  int rank() const final { return rank_; }
  const std::string& what() const final { return what_; }
  std::string diagnosis() const final {
    auto hold = group_->lock();
    return diagnosis_locked();
  }

 protected:
  virtual bool test_locked() = 0;
  virtual std::string diagnosis_locked() const = 0;

  std::shared_ptr<Group> group_;
  int rank_;
  std::string what_;

 private:
  uint64_t seen_ = 0;
};

class SendOperation final : public Operation {
 public:
  SendOperation(std::shared_ptr<Group> group, int rank, std::string what, int dest,
                std::shared_ptr<Message> message, bool synchronous)
      : Operation(std::move(group), rank, std::move(what)),
        dest_(dest),
        message_(std::move(message)),
        synchronous_(synchronous) {}

  bool cancel() override {
    auto hold = group_->lock();
    return group_->withdraw_send_locked(dest_, message_);
  }
  void release() override {}  // the message (a copy) stays queued for its receiver

 private:
  bool test_locked() override { return !synchronous_ || message_->matched; }
  std::string diagnosis_locked() const override {
    return fmt::format("rank {} waiting on rank {}", rank_, dest_);
  }

  int dest_;
  std::shared_ptr<Message> message_;
  bool synchronous_;
};

class ReceiveOperation final : public Operation {
 public:
  ReceiveOperation(std::shared_ptr<Group> group, int rank, std::string what, int source,
                   std::shared_ptr<Receive> receive)
      : Operation(std::move(group), rank, std::move(what)),
        source_(source),
        receive_(std::move(receive)) {}
  // Dropped while pending: withdrawn, so that no message is copied into a
  // buffer that may be gone.
  ~ReceiveOperation() override {
    auto hold = group_->lock();
    group_->withdraw_receive_locked(rank_, receive_);
  }

  bool cancel() override {
    auto hold = group_->lock();
    return group_->withdraw_receive_locked(rank_, receive_);
  }
  void release() override {
    throw CommFailure("release() of a receive (" + what_ + "): cancel it instead");
  }

 private:
  bool test_locked() override {
    if (!receive_->done) return false;
    if (!receive_->error.empty()) throw CommFailure(what_ + ": " + receive_->error);
    return true;
  }
  std::string diagnosis_locked() const override {
    return fmt::format("rank {} waiting on rank {}", rank_, source_);
  }

  int source_;
  std::shared_ptr<Receive> receive_;
};

class CollectiveOperation final : public Operation {
 public:
  CollectiveOperation(std::shared_ptr<Group> group, int rank, std::string what, int64_t seq)
      : Operation(std::move(group), rank, std::move(what)), seq_(seq) {}
  ~CollectiveOperation() override {
    if (finished_) return;
    auto hold = group_->lock();
    group_->abandon_locked(rank_, seq_);
  }

  int64_t seq() const { return seq_; }
  bool cancel() override { throw CommFailure("cancel() of a collective (" + what_ + ")"); }
  void release() override { throw CommFailure("release() of a collective (" + what_ + ")"); }
  bool speaks_for_stall() const override {
    auto hold = group_->lock();
    return group_->first_to_join_locked(rank_, seq_);
  }

 private:
  bool test_locked() override {
    if (!finished_) finished_ = group_->collective_done_locked(seq_, error_);
    if (finished_ && !error_.empty()) throw CommFailure(what_ + ": " + error_);
    return finished_;
  }
  std::string diagnosis_locked() const override {
    return group_->collective_diagnosis_locked(rank_, seq_);
  }

  int64_t seq_;
  bool finished_ = false;
  std::string error_;
};

// Waits until every member has arrived at the making of a new group.
class ArrivalOperation final : public Operation {
 public:
  ArrivalOperation(std::shared_ptr<Group> group, int rank, std::string what, std::string name)
      : Operation(std::move(group), rank, std::move(what)), name_(std::move(name)) {}

  bool cancel() override { throw CommFailure("cancel() of " + what_); }
  void release() override { throw CommFailure("release() of " + what_); }

 private:
  bool test_locked() override {
    if (!taken_) taken_ = group_->all_arrived_locked(name_);
    return taken_;
  }
  std::string diagnosis_locked() const override {
    return group_->arrival_diagnosis_locked(name_, rank_);
  }

  std::string name_;
  bool taken_ = false;
};

const char* dtype_name(DType type) {
  switch (type) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i64:
      return "i64";
    case DType::u8:
      return "u8";
  }
  return "?";
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

std::vector<std::byte> copy_of(const void* data, std::size_t bytes) {
  const auto* begin = static_cast<const std::byte*>(data);
  return std::vector<std::byte>(begin, begin + bytes);
}

Part make_part(Kind kind, std::string what, std::string signature) {
  Part part;
  part.kind = kind;
  part.what = std::move(what);
  part.signature = std::move(signature);
  return part;
}

Part gather_part(const void* in, void* out, std::size_t bytes, std::string what,
                 std::string signature) {
  Part part = make_part(Kind::allgather, std::move(what), std::move(signature));
  part.input = copy_of(in, bytes);
  part.output = out;
  part.count = bytes;
  return part;
}

}  // namespace

class InProcessBackend final : public Backend {
 public:
  InProcessBackend(std::shared_ptr<Group> group, int rank)
      : group_(std::move(group)), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return group_->size(); }

  std::unique_ptr<PendingOperation> iallreduce(void* data, std::size_t count, DType type,
                                               ReduceOp op, std::string what) override {
    Part part =
        make_part(Kind::allreduce, std::move(what),
                  fmt::format("all-reduce of {} {} ({})", count, dtype_name(type), op_name(op)));
    part.input = copy_of(data, count * dtype_size(type));
    part.output = data;
    part.count = count;
    part.type = type;
    part.op = op;
    return collective(std::move(part));
  }

  std::unique_ptr<PendingOperation> ibroadcast(void* data, std::size_t bytes, int root,
                                               std::string what) override {
    check_rank(root, what);
    Part part = make_part(Kind::broadcast, std::move(what),
                          fmt::format("broadcast of {} bytes from rank {}", bytes, root));
    if (rank_ == root) part.input = copy_of(data, bytes);
    part.output = data;
    part.count = bytes;
    part.root = root;
    return collective(std::move(part));
  }

  std::unique_ptr<PendingOperation> ibarrier(std::string what) override {
    return collective(make_part(Kind::barrier, std::move(what), "barrier"));
  }

  std::unique_ptr<PendingOperation> iallgather(const void* in, void* out, std::size_t bytes,
                                               std::string what) override {
    return collective(
        gather_part(in, out, bytes, std::move(what), fmt::format("all-gather of {} bytes", bytes)));
  }

  std::unique_ptr<PendingOperation> isend(const void* data, std::size_t bytes, int dest, int tag,
                                          bool synchronous, std::string what) override {
    check_rank(dest, what);
    auto message = group_->send(rank_, dest, tag, data, bytes);
    return std::make_unique<SendOperation>(group_, rank_, std::move(what), dest, std::move(message),
                                           synchronous);
  }

  std::unique_ptr<PendingOperation> irecv(void* data, std::size_t bytes, int source, int tag,
                                          std::string what) override {
    check_rank(source, what);
    auto receive = group_->post_receive(rank_, source, tag, data, bytes);
    return std::make_unique<ReceiveOperation>(group_, rank_, std::move(what), source,
                                              std::move(receive));
  }

  // An all-gather of (color, key) over this group, then every rank of a color
  // takes the same new group, ordered by key (ties: by rank), as MPI_Comm_split.
  std::unique_ptr<Backend> split(int color, int key, const std::string& what,
                                 const WaitLimits& limits) override {
    const int64_t mine[2] = {color, key};
    std::vector<int64_t> all(2 * static_cast<std::size_t>(size()));
    auto gather =
        collective(gather_part(mine, all.data(), sizeof mine, "communicator split " + what,
                               "all-gather of the colours of a split"));
    wait_until_done(*gather, limits);
    std::vector<std::pair<int64_t, int>> order;  // (key, rank) of my colour
    for (int r = 0; r < size(); ++r)
      if (all[2 * static_cast<std::size_t>(r)] == color)
        order.emplace_back(all[2 * static_cast<std::size_t>(r) + 1], r);
    std::sort(order.begin(), order.end());
    std::vector<int> members;
    for (const auto& entry : order) members.push_back(entry.second);
    return make_child(fmt::format("split #{} colour {}", gather->seq(), color), members,
                      "communicator split " + what, limits);
  }

  // Only the members take part (as MPI_Comm_create_group): they meet at an
  // entry named by the list and by how many subsets of it each has made.
  std::unique_ptr<Backend> subset(const std::vector<int>& ranks, const std::string& what,
                                  const WaitLimits& limits) override {
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      check_rank(ranks[i], "communicator of " + what);
      if (i > 0 && ranks[i] <= ranks[i - 1])
        throw CommFailure(fmt::format("communicator of {}: ranks {} are not sorted and distinct",
                                      what, fmt::join(ranks, ",")));
    }
    if (std::find(ranks.begin(), ranks.end(), rank_) == ranks.end())
      throw CommFailure("this rank is not among " + what);
    const int made = group_->count_subset(rank_, ranks);
    return make_child(fmt::format("subset {} #{}", fmt::join(ranks, ","), made), ranks,
                      "communicator of " + what, limits);
  }

 private:
  std::unique_ptr<CollectiveOperation> collective(Part part) {
    std::string what = part.what;
    const int64_t seq = group_->join(rank_, std::move(part));
    return std::make_unique<CollectiveOperation>(group_, rank_, std::move(what), seq);
  }

  std::unique_ptr<Backend> make_child(const std::string& name, const std::vector<int>& members,
                                      std::string what, const WaitLimits& limits) {
    auto child = group_->arrive(name, members, rank_);
    ArrivalOperation arrival(group_, rank_, std::move(what), name);
    wait_until_done(arrival, limits);
    const auto index = std::find(members.begin(), members.end(), rank_) - members.begin();
    return std::make_unique<InProcessBackend>(std::move(child), static_cast<int>(index));
  }

  void check_rank(int rank, const std::string& what) const {
    if (rank < 0 || rank >= size())
      throw CommFailure(
          fmt::format("{}: rank {} is not in this group of {} ranks", what, rank, size()));
  }

  std::shared_ptr<Group> group_;
  int rank_;
};

}  // namespace distsgd::comm::in_process

namespace distsgd::comm {

std::vector<Communicator> make_in_process_group(int size) {
  if (size < 1) throw CommFailure(fmt::format("an in-process group of {} ranks", size));
  auto group = std::make_shared<in_process::Group>(size);
  std::vector<Communicator> ranks;
  ranks.reserve(static_cast<std::size_t>(size));
  for (int rank = 0; rank < size; ++rank)
    ranks.push_back(make_communicator(std::make_unique<in_process::InProcessBackend>(group, rank)));
  return ranks;
}

}  // namespace distsgd::comm
