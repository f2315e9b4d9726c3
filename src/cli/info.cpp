#include "cli/info.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "comm/communicator.hpp"
#include "core/runtime_versions.hpp"
#include "models/libtorch_version.hpp"

namespace distsgd::cli {

int print_info() {
  const auto versions =
      runtime_versions(models::libtorch_version(), comm::Environment::library_version());
  fmt::print("distsgd   {}\n", versions.at("distsgd").get<std::string>());
  fmt::print("LibTorch  {} (CUDA available: {})\n", versions.at("libtorch").get<std::string>(),
             torch::cuda::is_available() ? "yes" : "no");
  fmt::print("MPI       {}\n", versions.at("mpi").get<std::string>());
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

}  // namespace distsgd::cli
