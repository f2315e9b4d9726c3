// Communicator: the value handle over a Backend. It names each operation for
// errors and turns it into a Request waited on under the deadlines; what the
// network does is the backend's.
#include "comm/communicator.hpp"

#include <fmt/format.h>

#include "comm/handles.hpp"

namespace distsgd::comm {

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

Communicator make_communicator(std::unique_ptr<Backend> backend, const WaitLimits& limits) {
  auto impl = std::make_unique<Communicator::Impl>();
  impl->rank = backend->rank();
  impl->size = backend->size();
  impl->backend = std::move(backend);
  impl->limits = limits;
  return Communicator(std::move(impl));
}

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Communicator::Communicator(Communicator&&) noexcept = default;
Communicator& Communicator::operator=(Communicator&&) noexcept = default;
Communicator::~Communicator() = default;

int Communicator::rank() const { return impl_->rank; }
int Communicator::size() const { return impl_->size; }

void Communicator::set_timeout(std::chrono::duration<double> timeout) {
  impl_->limits.timeout = std::chrono::duration_cast<Clock::duration>(timeout);
}

void Communicator::set_stall_warning(std::chrono::duration<double> after) {
  impl_->limits.stall_warning = std::chrono::duration_cast<Clock::duration>(after);
}

double Communicator::timeout_s() const {
  return std::chrono::duration<double>(impl_->limits.timeout).count();
}

namespace {
// The clock starts before the backend does, as it did when MPI was all there was.
template <typename Start>
Request start(const Communicator::Impl& comm, Start&& start_operation) {
  auto request = std::make_unique<Request::Impl>();
  request->limits = comm.limits;
  request->op = start_operation(*comm.backend);
  return Request(std::move(request));
}
}  // namespace

Request Communicator::iallreduce(void* data, std::size_t count, DType type, ReduceOp op,
                                 const std::string& what) {
  return start(*impl_, [&](Backend& b) {
    return b.iallreduce(data, count, type, op, "all-reduce of " + what);
  });
}

void Communicator::allreduce(void* data, std::size_t count, DType type, ReduceOp op,
                             const std::string& what) {
  iallreduce(data, count, type, op, what).wait();
}

void Communicator::broadcast(void* data, std::size_t bytes, int root, const std::string& what) {
  start(*impl_, [&](Backend& b) {
    return b.ibroadcast(data, bytes, root, fmt::format("broadcast of {} from rank {}", what, root));
  }).wait();
}

void Communicator::barrier(const std::string& what) { ibarrier(what).wait(); }

Request Communicator::ibarrier(const std::string& what) {
  return start(*impl_, [&](Backend& b) { return b.ibarrier("barrier " + what); });
}

void Communicator::allgather(const void* in, void* out, std::size_t bytes,
                             const std::string& what) {
  start(*impl_, [&](Backend& b) {
    return b.iallgather(in, out, bytes, "all-gather of " + what);
  }).wait();
}

namespace {
std::string send_name(const char* kind, std::size_t bytes, int dest, int tag,
                      const std::string& what) {
  return what.empty() ? fmt::format("{} of {} bytes to rank {} (tag {})", kind, bytes, dest, tag)
                      : what;
}
}  // namespace

Request Communicator::isend(const void* data, std::size_t bytes, int dest, int tag,
                            const std::string& what) {
  return start(*impl_, [&](Backend& b) {
    return b.isend(data, bytes, dest, tag, false, send_name("send", bytes, dest, tag, what));
  });
}

Request Communicator::issend(const void* data, std::size_t bytes, int dest, int tag,
                             const std::string& what) {
  return start(*impl_, [&](Backend& b) {
    return b.isend(data, bytes, dest, tag, true,
                   send_name("synchronous send", bytes, dest, tag, what));
  });
}

Request Communicator::irecv(void* data, std::size_t bytes, int source, int tag,
                            const std::string& what) {
  return start(*impl_, [&](Backend& b) {
    return b.irecv(
        data, bytes, source, tag,
        what.empty() ? fmt::format("receive of {} bytes from rank {} (tag {})", bytes, source, tag)
                     : what);
  });
}

void Communicator::send(const void* data, std::size_t bytes, int dest, int tag) {
  isend(data, bytes, dest, tag).wait();
}

void Communicator::recv(void* data, std::size_t bytes, int source, int tag) {
  irecv(data, bytes, source, tag).wait();
}

// A derived communicator keeps its parent's deadlines.
Communicator Communicator::split(int color, int key, const std::string& what) const {
  return make_communicator(impl_->backend->split(color, key, what, impl_->limits), impl_->limits);
}

Communicator Communicator::subset(const std::vector<int>& ranks, const std::string& what) const {
  return make_communicator(impl_->backend->subset(ranks, what, impl_->limits), impl_->limits);
}

}  // namespace distsgd::comm
