// Request: an MPI request polled with MPI_Test under a deadline.
#include <fmt/format.h>

#include <thread>

#include "comm/mpi_check.hpp"
#include "core/idle_backoff.hpp"
#include "comm/request_impl.hpp"

namespace distsgd::comm {

Request::Request() = default;
Request::Request(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
// A request still pending here is abandoned: a collective cannot be cancelled,
// and after a deadline error the process is about to end anyway.
Request::~Request() = default;

bool Request::test() {
  if (!impl_) throw CommFailure("test() on an empty request");
  if (impl_->done) return true;
  int flag = 0;
  detail::check(MPI_Test(&impl_->request, &flag, MPI_STATUS_IGNORE), impl_->what);
  if (flag) {
    impl_->done = true;
    impl_->finished = Clock::now();
  }
  return impl_->done;
}

void Request::wait() {
  if (!impl_) throw CommFailure("wait() on an empty request");
  // Poll rather than block: MPI's blocking calls have no timeout.
  const auto deadline = Clock::now() + impl_->timeout;
  IdleBackoff idle;
  while (!test()) {
    if (idle.pause() && Clock::now() > deadline) {
      throw CommTimeout(
          fmt::format("timed out after {:.0f} s waiting for {} (rank {} waiting on {})",
                      std::chrono::duration<double>(impl_->timeout).count(), impl_->what,
                      impl_->own_rank, impl_->peers));
    }
  }
}

bool Request::cancel() {
  if (!impl_ || impl_->done) return false;
  MPI_Status status;
  detail::check(MPI_Cancel(&impl_->request), "cancelling " + impl_->what);
  detail::check(MPI_Wait(&impl_->request, &status), "cancelling " + impl_->what);
  impl_->done = true;
  impl_->finished = Clock::now();
  int cancelled = 0;
  MPI_Test_cancelled(&status, &cancelled);
  return cancelled != 0;
}

double Request::elapsed_s() const {
  if (!impl_) return 0.0;
  const auto end = impl_->done ? impl_->finished : Clock::now();
  return std::chrono::duration<double>(end - impl_->started).count();
}

}  // namespace distsgd::comm
