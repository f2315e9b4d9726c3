#include "core/device_choice.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "core/errors.hpp"

namespace distsgd {

namespace {
std::optional<int> parse_index(const std::string& text) {
  int value = -1;
  const auto* end = text.data() + text.size();
  const auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end || text.empty() || value < 0) return std::nullopt;
  return value;
}
}  // namespace

DeviceRequest parse_device(const std::string& text) {
  if (text == "cpu") return {DeviceRequest::Kind::cpu, std::nullopt};
  if (text == "cuda") return {DeviceRequest::Kind::cuda, std::nullopt};
  if (text == "auto") return {DeviceRequest::Kind::automatic, std::nullopt};
  if (text.rfind("cuda:", 0) == 0) {
    if (const auto index = parse_index(text.substr(5)))
      return {DeviceRequest::Kind::cuda, index};
  }
  throw ConfigError(
      fmt::format("--device must be cpu, cuda, cuda:K (K a GPU number) or auto (got {})", text));
}

std::optional<int> launcher_local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* value = std::getenv(name)) {
      if (const auto rank = parse_index(value)) return rank;
    }
  }
  return std::nullopt;
}

std::string resolve_device(const DeviceRequest& request, int gpu_count,
                           std::optional<int> local_rank) {
  using Kind = DeviceRequest::Kind;
  if (request.kind == Kind::cpu || (request.kind == Kind::automatic && gpu_count <= 0))
    return "cpu";
  if (gpu_count <= 0)
    throw ConfigError(
        "--device cuda: no GPU is usable (this LibTorch build has no CUDA support, or no GPU is "
        "visible); distsgd info says which");
  if (request.index) {
    if (*request.index >= gpu_count)
      throw ConfigError(fmt::format("--device cuda:{}: only {} GPU(s) are visible (cuda:0 to "
                                    "cuda:{})",
                                    *request.index, gpu_count, gpu_count - 1));
    return fmt::format("cuda:{}", *request.index);
  }
  // One GPU per rank of a host; more ranks than GPUs share them round-robin.
  return fmt::format("cuda:{}", local_rank.value_or(0) % gpu_count);
}

}  // namespace distsgd
