#pragma once
// The MPI backend: a Backend over one MPI communicator, and a PendingOperation
// over one MPI request (polled with MPI_Test). Private to src/comm/.
//
// Beyond the contract of transport.hpp: MPI errors become CommFailure carrying
// MPI_Error_string; a collective waited on for over a second is announced to
// the peers on a duplicate communicator (StallChannel), so that a stall
// warning or a timeout says which ranks are in it and which are missing.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "comm/mpi_stall_channel.hpp"
#include "comm/transport.hpp"

namespace distsgd::comm {

class MpiOperation final : public PendingOperation {
 public:
  // `peers`: who is waited for ("rank 3", "ranks 0-3"). A collective has its
  // stall channel and its number; a message has neither.
  MpiOperation(std::string what, std::string peers, int own_rank,
               std::shared_ptr<detail::StallChannel> stall = nullptr, int64_t seq = 0);

  ~MpiOperation() override;
  MpiOperation(const MpiOperation&) = delete;
  MpiOperation& operator=(const MpiOperation&) = delete;

  MPI_Request* request() { return &request_; }
  // A copy of `bytes` of `data` that the operation owns until it completes
  // (the send buffer of an all-reduce that is not in place).
  const void* keep_copy(const void* data, std::size_t bytes);

  bool test() override;
  void still_waiting(Clock::duration waited, const WaitLimits& limits) override;
  bool cancel() override;
  void release() override;
  void abandon() override;
  int rank() const override { return own_rank_; }
  const std::string& what() const override { return what_; }
  std::string diagnosis() const override;
  bool speaks_for_stall() const override;

 private:
  // MPI_Cancel, then polls until the request is finished or `limit` passes;
  // the status when it finished.
  std::optional<MPI_Status> cancel_within(Clock::duration limit);

  MPI_Request request_ = MPI_REQUEST_NULL;
  std::byte* copy_ = nullptr;  // see keep_copy; leaked if the operation is abandoned pending
  std::string what_, peers_;
  int own_rank_ = 0;
  std::shared_ptr<detail::StallChannel> stall_;
  int64_t seq_ = 0;
  bool announced_ = false;
  Clock::time_point last_notice_poll_{};
};

class MpiBackend final : public Backend {
 public:
  // Takes `comm` (errors returned; freed on destruction) and makes its stall
  // channel (collective over `comm`).
  explicit MpiBackend(MPI_Comm comm);
  ~MpiBackend() override;
  MpiBackend(const MpiBackend&) = delete;
  MpiBackend& operator=(const MpiBackend&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::unique_ptr<PendingOperation> iallreduce(void* data, std::size_t count, DType type,
                                               ReduceOp op, std::string what) override;
  std::unique_ptr<PendingOperation> ibroadcast(void* data, std::size_t bytes, int root,
                                               std::string what) override;
  std::unique_ptr<PendingOperation> ibarrier(std::string what) override;
  std::unique_ptr<PendingOperation> iallgather(const void* in, void* out, std::size_t bytes,
                                               std::string what) override;
  std::unique_ptr<PendingOperation> isend(const void* data, std::size_t bytes, int dest, int tag,
                                          bool synchronous, std::string what) override;
  std::unique_ptr<PendingOperation> irecv(void* data, std::size_t bytes, int source, int tag,
                                          std::string what) override;
  std::unique_ptr<Backend> split(int color, int key, const std::string& what,
                                 const WaitLimits& limits) override;
  std::unique_ptr<Backend> subset(const std::vector<int>& ranks, const std::string& what,
                                  const WaitLimits& limits) override;

 private:
  std::unique_ptr<MpiOperation> new_collective(std::string what);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::shared_ptr<detail::StallChannel> stall_;
  int64_t collectives_ = 0;  // started so far: every rank numbers them alike
};

}  // namespace distsgd::comm
