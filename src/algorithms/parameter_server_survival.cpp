// --survive-worker-loss: after training, every survivor learns which workers
// were lost, and all of them move to a communicator of the survivors, so the
// collectives of the end (final shards, evaluation, summary) go on without
// the lost ones. Open MPI keeps survivors running only under
// `mpirun --enable-recovery`, and never tells them of a loss: the servers find
// it by the deadline (a worker silent past --timeout-s).
#include <fmt/format.h>

#include <algorithm>

#include "algorithms/parameter_server.hpp"
#include "core/errors.hpp"

namespace distsgd {
namespace {

// [count, rank, rank, ...], fixed size so that any list fits a receive.
std::vector<int64_t> encode(const std::vector<int>& lost, int workers) {
  std::vector<int64_t> message(static_cast<std::size_t>(workers) + 1, 0);
  message[0] = static_cast<int64_t>(lost.size());
  std::copy(lost.begin(), lost.end(), message.begin() + 1);
  return message;
}

std::vector<int> decode(const std::vector<int64_t>& message) {
  return {message.begin() + 1, message.begin() + 1 + message[0]};
}

std::vector<int64_t> receive_list(comm::Communicator& world, int workers, int from) {
  std::vector<int64_t> message(static_cast<std::size_t>(workers) + 1);
  world
      .irecv(message.data(), message.size() * sizeof(int64_t), from, ps::kMembershipTag,
             fmt::format("the list of lost workers from server rank {}", from))
      .wait();
  return message;
}

void send_list(comm::Communicator& world, const std::vector<int64_t>& message, int to) {
  world
      .isend(message.data(), message.size() * sizeof(int64_t), to, ps::kMembershipTag,
             fmt::format("the list of lost workers to rank {}", to))
      .wait();
}

}  // namespace

// The first server gathers the other servers' lists, and sends the union to
// the other servers and to every worker it has not lost.
std::vector<int> agree_on_lost_workers(comm::Communicator& world, const PsLayout& layout,
                                       std::vector<int> lost) {
  const int first = layout.server_rank(0);
  if (world.rank() != first) {
    send_list(world, encode(lost, layout.workers), first);
    return decode(receive_list(world, layout.workers, first));
  }
  for (int s = 1; s < layout.servers; ++s) {
    for (int rank : decode(receive_list(world, layout.workers, layout.server_rank(s))))
      if (std::find(lost.begin(), lost.end(), rank) == lost.end()) lost.push_back(rank);
  }
  std::sort(lost.begin(), lost.end());
  const auto message = encode(lost, layout.workers);
  for (int s = 1; s < layout.servers; ++s) send_list(world, message, layout.server_rank(s));
  for (int worker = 0; worker < layout.workers; ++worker)
    if (!std::binary_search(lost.begin(), lost.end(), worker)) send_list(world, message, worker);
  return lost;
}

std::vector<int> receive_lost_workers(comm::Communicator& world, const PsLayout& layout) {
  auto lost = decode(receive_list(world, layout.workers, layout.server_rank(0)));
  if (std::binary_search(lost.begin(), lost.end(), world.rank()))
    throw RuntimeFailure(fmt::format(
        "worker rank {} was declared lost by the servers (silent for more than --timeout-s)",
        world.rank()));
  return lost;
}

void move_to_survivors(comm::Communicator& world, comm::Communicator* workers, PsLayout& layout,
                       const std::vector<int>& lost) {
  if (lost.empty()) return;
  std::vector<int> keep;
  for (int rank = 0; rank < world.size(); ++rank)
    if (!std::binary_search(lost.begin(), lost.end(), rank)) keep.push_back(rank);
  world = world.subset(keep, fmt::format("the {} ranks that survived", keep.size()));
  layout.workers -= static_cast<int>(lost.size());
  // Survivors keep their order and servers stay last, so the layout holds.
  auto split = world.split(workers ? 0 : 1, world.rank(), "surviving workers");
  if (workers) *workers = std::move(split);
}

}  // namespace distsgd
