// MpiBackend: collectives and tagged messages over an MPI communicator, each
// started as a non-blocking MPI call and handed back as an MpiOperation.
#include "comm/mpi_backend.hpp"

#include <fmt/format.h>

#include <climits>

#include "comm/mpi_check.hpp"

namespace distsgd::comm {
namespace {

MPI_Datatype mpi_type(DType type) {
  switch (type) {
    case DType::f32:
      return MPI_FLOAT;
    case DType::f64:
      return MPI_DOUBLE;
    case DType::i64:
      return MPI_INT64_T;
    case DType::u8:
      return MPI_UINT8_T;
  }
  throw CommFailure("unknown data type");
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  throw CommFailure("unknown reduction");
}

int checked_count(std::size_t count, const std::string& what) {
  if (count > static_cast<std::size_t>(INT_MAX))
    throw CommFailure(
        fmt::format("{}: {} elements is more than one MPI call can carry", what, count));
  return static_cast<int>(count);
}

std::string all_ranks(int size) {
  return size == 1 ? "rank 0" : fmt::format("ranks 0-{}", size - 1);
}

}  // namespace

MpiBackend::MpiBackend(MPI_Comm comm) : comm_(comm) {
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  stall_ = std::make_shared<detail::StallChannel>(comm_);
}

MpiBackend::~MpiBackend() {
  stall_.reset();  // frees its communicator before MPI_Finalize
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

// Collectives are numbered in the order they start, which MPI requires to be
// the same on every rank: the number identifies the operation in stall notices.
std::unique_ptr<MpiOperation> MpiBackend::new_collective(std::string what) {
  return std::make_unique<MpiOperation>(std::move(what), all_ranks(size_), rank_, stall_,
                                        ++collectives_);
}

std::unique_ptr<PendingOperation> MpiBackend::iallreduce(void* data, std::size_t count, DType type,
                                                         ReduceOp op, std::string what) {
  auto request = new_collective(std::move(what));
  // Open MPI's non-blocking all-reduce (libnbc) runs an in-place all-reduce
  // as a binomial reduce and broadcast, 2 log2(N) whole-vector messages per
  // rank; given a separate send buffer it runs a ring from 4 ranks and 64 KiB
  // up, 2 (N-1)/N of the vector (coll/libnbc/nbc_iallreduce.c). The copy
  // costs one pass over the bucket.
  const void* send = MPI_IN_PLACE;
  if (size_ >= 4) send = request->keep_copy(data, count * dtype_size(type));
  detail::check(MPI_Iallreduce(send, data, checked_count(count, request->what()), mpi_type(type),
                               mpi_op(op), comm_, request->request()),
                request->what());
  return request;
}

std::unique_ptr<PendingOperation> MpiBackend::ibroadcast(void* data, std::size_t bytes, int root,
                                                         std::string what) {
  auto request = new_collective(std::move(what));
  detail::check(MPI_Ibcast(data, checked_count(bytes, request->what()), MPI_BYTE, root, comm_,
                           request->request()),
                request->what());
  return request;
}

std::unique_ptr<PendingOperation> MpiBackend::ibarrier(std::string what) {
  auto request = new_collective(std::move(what));
  detail::check(MPI_Ibarrier(comm_, request->request()), request->what());
  return request;
}

std::unique_ptr<PendingOperation> MpiBackend::iallgather(const void* in, void* out,
                                                         std::size_t bytes, std::string what) {
  auto request = new_collective(std::move(what));
  const int count = checked_count(bytes, request->what());
  detail::check(
      MPI_Iallgather(in, count, MPI_BYTE, out, count, MPI_BYTE, comm_, request->request()),
      request->what());
  return request;
}

std::unique_ptr<PendingOperation> MpiBackend::isend(const void* data, std::size_t bytes, int dest,
                                                    int tag, bool synchronous, std::string what) {
  auto request =
      std::make_unique<MpiOperation>(std::move(what), fmt::format("rank {}", dest), rank_);
  // MPI_Isend and MPI_Issend take the same arguments.
  auto* send = synchronous ? MPI_Issend : MPI_Isend;
  detail::check(send(data, checked_count(bytes, synchronous ? "synchronous send" : "send"),
                     MPI_BYTE, dest, tag, comm_, request->request()),
                request->what());
  return request;
}

std::unique_ptr<PendingOperation> MpiBackend::irecv(void* data, std::size_t bytes, int source,
                                                    int tag, std::string what) {
  auto request =
      std::make_unique<MpiOperation>(std::move(what), fmt::format("rank {}", source), rank_);
  detail::check(MPI_Irecv(data, checked_count(bytes, "receive"), MPI_BYTE, source, tag, comm_,
                          request->request()),
                request->what());
  return request;
}

// New communicators are made with MPI's blocking calls, as before the seam:
// `limits` does not bound them.
std::unique_ptr<Backend> MpiBackend::split(int color, int key, const std::string& what,
                                           const WaitLimits&) {
  MPI_Comm comm = MPI_COMM_NULL;
  detail::check(MPI_Comm_split(comm_, color, key, &comm), "communicator split " + what);
  return std::make_unique<MpiBackend>(comm);
}

std::unique_ptr<Backend> MpiBackend::subset(const std::vector<int>& ranks, const std::string& what,
                                            const WaitLimits&) {
  MPI_Group all = MPI_GROUP_NULL, some = MPI_GROUP_NULL;
  detail::check(MPI_Comm_group(comm_, &all), "communicator group " + what);
  const int count = checked_count(ranks.size(), what);
  const int result = MPI_Group_incl(all, count, ranks.data(), &some);
  MPI_Group_free(&all);
  detail::check(result, "group of " + what);
  // Only the members take part (MPI_Comm_create_group, not MPI_Comm_create).
  MPI_Comm comm = MPI_COMM_NULL;
  const int created = MPI_Comm_create_group(comm_, some, /*tag=*/7501, &comm);
  MPI_Group_free(&some);
  detail::check(created, "communicator of " + what);
  if (comm == MPI_COMM_NULL) throw CommFailure("this rank is not among " + what);
  return std::make_unique<MpiBackend>(comm);
}

}  // namespace distsgd::comm
