// --device: parsing, the launcher's local rank, and the GPU each rank gets;
// GPU counts are given, so every case runs without a GPU.
#include "core/device_choice.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/errors.hpp"

namespace distsgd {
namespace {

using Kind = DeviceRequest::Kind;

std::string message_of(const std::string& text) {
  try {
    parse_device(text);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(DeviceChoice, ParsesEveryForm) {
  EXPECT_EQ(parse_device("cpu").kind, Kind::cpu);
  EXPECT_EQ(parse_device("auto").kind, Kind::automatic);
  const auto any = parse_device("cuda");
  EXPECT_EQ(any.kind, Kind::cuda);
  EXPECT_FALSE(any.index.has_value());
  const auto third = parse_device("cuda:3");
  EXPECT_EQ(third.kind, Kind::cuda);
  EXPECT_EQ(third.index, 3);
}

TEST(DeviceChoice, RefusesWhatIsNotADeviceNamingIt) {
  for (const std::string bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "CPU", ""}) {
    const auto message = message_of(bad);
    EXPECT_NE(message.find("--device must be cpu, cuda, cuda:K"), std::string::npos) << bad;
    EXPECT_NE(message.find("(got " + bad + ")"), std::string::npos) << message;
  }
}

TEST(DeviceChoice, CpuAndAutoWithoutGpusTrainOnTheCpu) {
  EXPECT_EQ(resolve_device(parse_device("cpu"), 4, 1), "cpu");
  EXPECT_EQ(resolve_device(parse_device("auto"), 0, 1), "cpu");
}

TEST(DeviceChoice, EachRankOfAHostTakesItsOwnGpu) {
  EXPECT_EQ(resolve_device(parse_device("cuda"), 4, 0), "cuda:0");
  EXPECT_EQ(resolve_device(parse_device("cuda"), 4, 3), "cuda:3");
  EXPECT_EQ(resolve_device(parse_device("auto"), 4, 2), "cuda:2");
  // More ranks than GPUs: they share them round-robin (two ranks on one GPU).
  EXPECT_EQ(resolve_device(parse_device("cuda"), 2, 3), "cuda:1");
  EXPECT_EQ(resolve_device(parse_device("cuda"), 1, 1), "cuda:0");
  // No launcher: the first GPU.
  EXPECT_EQ(resolve_device(parse_device("cuda"), 2, std::nullopt), "cuda:0");
  // cuda:K whatever the rank.
  EXPECT_EQ(resolve_device(parse_device("cuda:1"), 2, 0), "cuda:1");
}

TEST(DeviceChoice, CudaWithoutAUsableGpuIsAClearError) {
  try {
    resolve_device(parse_device("cuda"), 0, 0);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("no GPU is usable"), std::string::npos)
        << error.what();
  }
  try {
    resolve_device(parse_device("cuda:2"), 2, 0);
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("only 2 GPU(s) are visible"), std::string::npos)
        << error.what();
  }
}

TEST(DeviceChoice, LocalRankComesFromWhicheverLauncherSetIt) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    unsetenv(name);
  EXPECT_FALSE(launcher_local_rank().has_value());
  setenv("SLURM_LOCALID", "5", 1);
  EXPECT_EQ(launcher_local_rank(), 5);
  setenv("MPI_LOCALRANKID", "2", 1);  // Hydra's, ahead of Slurm's
  EXPECT_EQ(launcher_local_rank(), 2);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
  EXPECT_EQ(launcher_local_rank(), 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "junk", 1);  // unreadable: the next one
  EXPECT_EQ(launcher_local_rank(), 2);
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    unsetenv(name);
}

}  // namespace
}  // namespace distsgd
