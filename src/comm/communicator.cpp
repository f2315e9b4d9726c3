// Communicator: collectives and tagged messages over an MPI communicator,
// each turned into a Request that is waited on under the deadline.
#include "comm/communicator.hpp"

#include <fmt/format.h>

#include <climits>

#include "comm/mpi_check.hpp"
#include "comm/request_impl.hpp"

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

std::size_t dtype_size(DType type) {
  switch (type) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::i64:
      return 8;
    case DType::u8:
      return 1;
  }
  return 0;
}

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Communicator::Communicator(Communicator&&) noexcept = default;
Communicator& Communicator::operator=(Communicator&&) noexcept = default;
Communicator::~Communicator() = default;

int Communicator::rank() const { return impl_->rank; }
int Communicator::size() const { return impl_->size; }

void Communicator::set_timeout(std::chrono::duration<double> timeout) {
  impl_->timeout = std::chrono::duration_cast<Clock::duration>(timeout);
}

void Communicator::set_stall_warning(std::chrono::duration<double> after) {
  impl_->stall_warning = std::chrono::duration_cast<Clock::duration>(after);
}

double Communicator::timeout_s() const {
  return std::chrono::duration<double>(impl_->timeout).count();
}

namespace {
std::unique_ptr<Request::Impl> new_request(const Communicator::Impl& comm, std::string what,
                                           std::string peers) {
  auto request = std::make_unique<Request::Impl>();
  request->what = std::move(what);
  request->peers = std::move(peers);
  request->own_rank = comm.rank;
  request->timeout = comm.timeout;
  request->stall_warning = comm.stall_warning;
  return request;
}

// Collectives are numbered in the order they start, which MPI requires to be
// the same on every rank: the number identifies the operation in stall notices.
std::unique_ptr<Request::Impl> new_collective(Communicator::Impl& comm, std::string what) {
  auto request = new_request(comm, std::move(what), all_ranks(comm.size));
  request->stall = comm.stall;
  request->seq = ++comm.collectives;
  return request;
}
}  // namespace

Request Communicator::iallreduce(void* data, std::size_t count, DType type, ReduceOp op,
                                 const std::string& what) {
  auto request = new_collective(*impl_, "all-reduce of " + what);
  detail::check(MPI_Iallreduce(MPI_IN_PLACE, data, checked_count(count, what), mpi_type(type),
                               mpi_op(op), impl_->comm, &request->request),
                request->what);
  return Request(std::move(request));
}

void Communicator::allreduce(void* data, std::size_t count, DType type, ReduceOp op,
                             const std::string& what) {
  iallreduce(data, count, type, op, what).wait();
}

void Communicator::broadcast(void* data, std::size_t bytes, int root, const std::string& what) {
  auto request = new_collective(*impl_, fmt::format("broadcast of {} from rank {}", what, root));
  detail::check(
      MPI_Ibcast(data, checked_count(bytes, what), MPI_BYTE, root, impl_->comm, &request->request),
      request->what);
  Request(std::move(request)).wait();
}

void Communicator::barrier(const std::string& what) { ibarrier(what).wait(); }

Request Communicator::ibarrier(const std::string& what) {
  auto request = new_collective(*impl_, "barrier " + what);
  detail::check(MPI_Ibarrier(impl_->comm, &request->request), request->what);
  return Request(std::move(request));
}

void Communicator::allgather(const void* in, void* out, std::size_t bytes,
                             const std::string& what) {
  auto request = new_collective(*impl_, "all-gather of " + what);
  const int count = checked_count(bytes, what);
  detail::check(
      MPI_Iallgather(in, count, MPI_BYTE, out, count, MPI_BYTE, impl_->comm, &request->request),
      request->what);
  Request(std::move(request)).wait();
}

namespace {
// MPI_Isend and MPI_Issend take the same arguments.
using SendFunction = int (*)(const void*, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request*);

Request start_send(const Communicator::Impl& comm, SendFunction send, const char* kind,
                   const void* data, std::size_t bytes, int dest, int tag,
                   const std::string& what) {
  auto request = new_request(
      comm,
      what.empty() ? fmt::format("{} of {} bytes to rank {} (tag {})", kind, bytes, dest, tag)
                   : what,
      fmt::format("rank {}", dest));
  detail::check(
      send(data, checked_count(bytes, kind), MPI_BYTE, dest, tag, comm.comm, &request->request),
      request->what);
  return Request(std::move(request));
}
}  // namespace

Request Communicator::isend(const void* data, std::size_t bytes, int dest, int tag,
                            const std::string& what) {
  return start_send(*impl_, MPI_Isend, "send", data, bytes, dest, tag, what);
}

Request Communicator::issend(const void* data, std::size_t bytes, int dest, int tag,
                             const std::string& what) {
  return start_send(*impl_, MPI_Issend, "synchronous send", data, bytes, dest, tag, what);
}

Request Communicator::irecv(void* data, std::size_t bytes, int source, int tag,
                            const std::string& what) {
  auto request = new_request(
      *impl_,
      what.empty() ? fmt::format("receive of {} bytes from rank {} (tag {})", bytes, source, tag)
                   : what,
      fmt::format("rank {}", source));
  detail::check(MPI_Irecv(data, checked_count(bytes, "receive"), MPI_BYTE, source, tag, impl_->comm,
                          &request->request),
                request->what);
  return Request(std::move(request));
}

void Communicator::send(const void* data, std::size_t bytes, int dest, int tag) {
  isend(data, bytes, dest, tag).wait();
}

void Communicator::recv(void* data, std::size_t bytes, int source, int tag) {
  irecv(data, bytes, source, tag).wait();
}

namespace {
// A communicator made from `parent`: errors returned, the parent's deadlines,
// stall notices of its own (collective over the new communicator).
std::unique_ptr<Communicator::Impl> derived(MPI_Comm comm, const Communicator::Impl& parent) {
  auto impl = std::make_unique<Communicator::Impl>();
  impl->comm = comm;
  MPI_Comm_set_errhandler(impl->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(impl->comm, &impl->rank);
  MPI_Comm_size(impl->comm, &impl->size);
  impl->timeout = parent.timeout;
  impl->stall_warning = parent.stall_warning;
  impl->stall = std::make_shared<detail::StallChannel>(impl->comm);
  return impl;
}
}  // namespace

Communicator Communicator::split(int color, int key, const std::string& what) const {
  MPI_Comm comm = MPI_COMM_NULL;
  detail::check(MPI_Comm_split(impl_->comm, color, key, &comm), "communicator split " + what);
  return Communicator(derived(comm, *impl_));
}

Communicator Communicator::subset(const std::vector<int>& ranks, const std::string& what) const {
  MPI_Group all = MPI_GROUP_NULL, some = MPI_GROUP_NULL;
  detail::check(MPI_Comm_group(impl_->comm, &all), "communicator group " + what);
  const int count = checked_count(ranks.size(), what);
  const int result = MPI_Group_incl(all, count, ranks.data(), &some);
  MPI_Group_free(&all);
  detail::check(result, "group of " + what);
  // Only the members take part (MPI_Comm_create_group, not MPI_Comm_create).
  MPI_Comm comm = MPI_COMM_NULL;
  const int created = MPI_Comm_create_group(impl_->comm, some, /*tag=*/7501, &comm);
  MPI_Group_free(&some);
  detail::check(created, "communicator of " + what);
  if (comm == MPI_COMM_NULL) throw CommFailure("this rank is not among " + what);
  return Communicator(derived(comm, *impl_));
}

}  // namespace distsgd::comm
