#pragma once
// Runs a test body on every rank of an in-process group, one thread a rank, as
// mpirun runs it on every process: the comm tests' stand-in for mpirun.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "comm/in_process.hpp"

namespace distsgd::testing {

// A failure (exception) on any rank fails the test, naming the rank. Each
// rank's deadline is `timeout_s`, so that a broken test ends rather than hangs.
inline void run_ranks(int size, const std::function<void(comm::Communicator&)>& body,
                      double timeout_s = 30) {
  auto ranks = comm::make_in_process_group(size);
  std::vector<std::string> failures(static_cast<std::size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    auto& comm = ranks[static_cast<std::size_t>(r)];
    comm.set_timeout(std::chrono::duration<double>(timeout_s));
    threads.emplace_back([&, r] {
      try {
        body(comm);
      } catch (const std::exception& e) {
        failures[static_cast<std::size_t>(r)] = e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int r = 0; r < size; ++r)
    if (!failures[static_cast<std::size_t>(r)].empty())
      ADD_FAILURE() << "rank " << r << ": " << failures[static_cast<std::size_t>(r)];
}

constexpr int kRanks = 16;

}  // namespace distsgd::testing
