// main() of the GoogleTest binaries run under mpirun: starts MPI, lets only
// rank 0 print, and fails the job if any rank failed a test.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <memory>

#include "mpi_test_env.hpp"

namespace distsgd::testing {
namespace {
std::unique_ptr<comm::Communicator> g_world;

// Ranks other than 0 print their failures only, prefixed with the rank.
class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, result.file_name() ? result.file_name() : "?",
                   result.line_number(), result.summary());
  }

 private:
  int rank_;
};
}  // namespace

comm::Communicator& world() { return *g_world; }

std::string shared_temp_dir(const std::string& name) {
  std::array<char, 512> path{};
  if (world().rank() == 0) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("distsgd-" + name + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    std::strncpy(path.data(), pattern.c_str(), path.size() - 1);
  }
  world().broadcast(path.data(), path.size(), 0, "scratch directory name");
  return path.data();
}

}  // namespace distsgd::testing

int main(int argc, char** argv) {
  distsgd::comm::Environment environment(&argc, &argv);
  distsgd::testing::g_world =
      std::make_unique<distsgd::comm::Communicator>(environment.world());
  auto& world = *distsgd::testing::g_world;
  world.set_timeout(std::chrono::seconds(120));
  torch::set_num_threads(1);
  ::testing::InitGoogleTest(&argc, argv);
  if (world.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new distsgd::testing::FailurePrinter(world.rank()));
  }
  int64_t failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  world.allreduce(&failed, 1, distsgd::comm::DType::i64, distsgd::comm::ReduceOp::max, "test results");
  if (failed && world.rank() == 0) std::fprintf(stderr, "some rank failed a test\n");
  distsgd::testing::g_world.reset();
  return failed ? 1 : 0;
}
