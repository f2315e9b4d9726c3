#include "cli/info.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "comm/communicator.hpp"
#include "comm/mpi_launcher.hpp"
#include "core/runtime_versions.hpp"
#include "models/libtorch_version.hpp"

namespace distsgd::cli {

int print_info(bool launcher_only) {
  if (launcher_only) {
    fmt::print("{}\n", comm::mpi_launcher().one_host_command);
    return 0;
  }
  const auto versions =
      runtime_versions(models::libtorch_version(), comm::Environment::library_version());
  fmt::print("distsgd   {}\n", versions.at("distsgd").get<std::string>());
  fmt::print("LibTorch  {} (CUDA available: {}; GPUs visible: {})\n",
             versions.at("libtorch").get<std::string>(),
             torch::cuda::is_available() ? "yes" : "no", torch::cuda::device_count());
  const auto mpi = comm::mpi_launcher();
  // MPICH's text runs over several lines: indent them under the first.
  std::string mpi_text = versions.at("mpi").get<std::string>();
  for (auto at = mpi_text.find('\n'); at != std::string::npos; at = mpi_text.find('\n', at + 11))
    mpi_text.replace(at, 1, "\n          ");
  fmt::print("MPI       {}: {}\n", mpi.flavour, mpi_text);
  fmt::print("launcher  {}{}\n", mpi.mpiexec,
             mpi.keep_going_flag.empty()
                 ? std::string(" (a lost rank ends the job: --survive-worker-loss is refused)")
                 : fmt::format(" ({} keeps the other ranks going when one is lost)",
                               mpi.keep_going_flag));
  fmt::print("compiler  {}\n", versions.at("compiler").get<std::string>());
  fmt::print("threads   LibTorch intra-op {} (set per rank with --threads), hardware {}\n",
             torch::get_num_threads(), std::thread::hardware_concurrency());
  // Debian's LibTorch calls whichever BLAS the alternatives system points to.
  std::error_code error;
  const auto blas = std::filesystem::canonical("/usr/lib/x86_64-linux-gnu/libblas.so.3", error);
  const char* openblas_threads = std::getenv("OPENBLAS_NUM_THREADS");
  fmt::print("BLAS      {} (OPENBLAS_NUM_THREADS={})\n",
             error ? std::string("unknown") : blas.string(),
             openblas_threads ? openblas_threads : "unset");
  std::istringstream config(at::show_config());
  for (std::string line; std::getline(config, line);)
    if (line.find("LAPACK is") != std::string::npos || line.find("MKL") == 0)
      fmt::print("          {}\n", line);
  return 0;
}

std::string version_text() {
  const auto versions =
      runtime_versions(models::libtorch_version(), comm::Environment::library_version());
  // The MPI's own text can run over several lines (MPICH's does): its first.
  std::string mpi_line = versions.at("mpi").get<std::string>();
  mpi_line = mpi_line.substr(0, mpi_line.find('\n'));
  return fmt::format("distsgd {}\nMPI {} ({})\nLibTorch {}",
                     versions.at("distsgd").get<std::string>(), comm::mpi_launcher().flavour,
                     mpi_line, versions.at("libtorch").get<std::string>());
}

}  // namespace distsgd::cli
