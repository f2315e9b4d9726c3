// A receive whose sender dies in the middle of a large message (2 ranks,
// mpirun --enable-recovery, TCP only): MPI has matched the receive, the rest
// of the message never arrives, and MPI_Cancel + MPI_Wait would block for
// good. Request::abandon() must return at once and leave the rank free to go
// on. Prints "PASS ..." on rank 0 (mpirun exits 0 in this mode whatever
// happens, so ctest matches the output) and exits without MPI_Finalize, as
// the survivors of a lost rank do.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "comm/communicator.hpp"

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kTag = 7100;
constexpr std::size_t kFloats = 64u << 20;  // 256 MB: far past the eager limit

int run(distsgd::comm::Communicator& world) {
  std::vector<float> buffer(kFloats, 1.0f);
  if (world.rank() == 1) {
    world.barrier("start");
    auto send = world.isend(buffer.data(), buffer.size() * sizeof(float), 0, kTag, "big message");
    // A few calls into MPI send the start of the message; then no more
    // progress (the rest would be sent from inside MPI calls), and death.
    for (int i = 0; i < 20; ++i) {
      send.test();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    raise(SIGKILL);
  }
  auto receive = world.irecv(buffer.data(), buffer.size() * sizeof(float), 1, kTag, "big message");
  world.barrier("start");
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    if (receive.test()) {
      std::printf("FAIL: the message from the dying rank completed\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto start = Clock::now();
  receive.abandon();
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  if (took > 5.0) {
    std::printf("FAIL: abandon() took %.1f s\n", took);
    return 1;
  }
  // The rank goes on: a message to itself still flows.
  int in = 0, out = 7;
  auto self_receive = world.irecv(&in, sizeof in, 0, kTag + 1, "self");
  world.isend(&out, sizeof out, 0, kTag + 1, "self").wait();
  self_receive.wait();
  std::printf("%s: abandon() returned after %.2f s; the rank goes on\n", in == 7 ? "PASS" : "FAIL",
              took);
  return in == 7 ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  distsgd::comm::Environment environment(&argc, &argv);
  auto world = environment.world();
  if (world.size() != 2) {
    std::fprintf(stderr, "run with 2 ranks\n");
    return 2;
  }
  const int code = run(world);
  std::fflush(stdout);
  distsgd::comm::Environment::exit_without_finalize(code);
}
