#pragma once
// --device: which device a rank trains on.
//
//   cpu       the CPU
//   cuda      one GPU per rank: the rank's local rank (its place among the
//             ranks of its host, as the launcher says) modulo the GPUs visible
//   cuda:K    GPU K, whatever the rank
//   auto      cuda when a GPU is visible, else cpu
//
// No LibTorch here: the caller says how many GPUs are visible
// (torch::cuda::device_count()), so the choice is a pure function, tested
// without a GPU.
#include <optional>
#include <string>

namespace distsgd {

struct DeviceRequest {
  enum class Kind { cpu, cuda, automatic };
  Kind kind = Kind::cpu;
  std::optional<int> index;  // cuda:K
};

// Parses a --device value; ConfigError naming the value when it is none of the
// forms above.
DeviceRequest parse_device(const std::string& text);

// This process's local rank as the launcher sets it: Open MPI's
// OMPI_COMM_WORLD_LOCAL_RANK, MPICH's (Hydra's) MPI_LOCALRANKID, Slurm's
// SLURM_LOCALID; nothing when none is set (one process, no launcher).
std::optional<int> launcher_local_rank();

// The device to train on, as torch::Device takes it ("cpu", "cuda:1").
// ConfigError for cuda or cuda:K when `gpu_count` GPUs cannot give one.
std::string resolve_device(const DeviceRequest& request, int gpu_count,
                           std::optional<int> local_rank);

}  // namespace distsgd
