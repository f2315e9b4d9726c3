#include "models/state_dict_file.hpp"

#include <fmt/format.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/errors.hpp"
#include "models/state_dict_pickle.hpp"
#include "models/zip_entries.hpp"

namespace distsgd::models {
namespace {

torch::ScalarType dtype_of(StorageType type) {
  switch (type) {
    case StorageType::float32:
      return torch::kFloat32;
    case StorageType::float64:
      return torch::kFloat64;
    case StorageType::float16:
      return torch::kFloat16;
    case StorageType::bfloat16:
      return torch::kBFloat16;
    case StorageType::int64:
      return torch::kInt64;
    case StorageType::int32:
      return torch::kInt32;
    case StorageType::int16:
      return torch::kInt16;
    case StorageType::int8:
      return torch::kInt8;
    case StorageType::uint8:
      return torch::kUInt8;
    case StorageType::boolean:
      return torch::kBool;
  }
  return torch::kFloat32;
}

std::string read_whole(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw DataError(path + ": cannot open state dict: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// The archive's one top-level folder: torch.save names it after the file,
// LibTorch "archive"; the pickle is <folder>/data.pkl.
std::string archive_folder(const std::map<std::string, std::string_view>& entries,
                           const std::string& path) {
  std::string folder;
  for (const auto& [name, content] : entries) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash) == "/data.pkl") {
      if (!folder.empty()) throw DataError(path + ": the archive holds two pickles (data.pkl)");
      folder = name.substr(0, slash);
    }
  }
  if (folder.empty())
    throw DataError(path + ": a zip archive without data.pkl: not a file of torch.save");
  return folder;
}

}  // namespace

NamedTensors read_state_dict(const std::string& path) {
  const std::string bytes = read_whole(path);
  const auto entries = stored_zip_entries(bytes, path);
  const auto folder = archive_folder(entries, path);
  const auto records = parse_state_dict_pickle(entries.at(folder + "/data.pkl"), path);
  NamedTensors tensors;
  std::set<std::string> seen;
  for (const auto& record : records) {
    if (!seen.insert(record.name).second)
      throw DataError(path + ": the state dict names " + record.name + " twice");
    const auto entry = entries.find(folder + "/data/" + record.storage_key);
    if (entry == entries.end())
      throw DataError(fmt::format("{}: the storage of {} (data/{}) is missing from the archive",
                                  path, record.name, record.storage_key));
    const int64_t size = element_size(record.type);
    if (static_cast<uint64_t>(record.storage_numel) > entry->second.size() / size ||
        entry->second.size() % size != 0 ||
        entry->second.size() / size != static_cast<uint64_t>(record.storage_numel))
      throw DataError(fmt::format(
          "{}: the storage of {} (data/{}) has {} bytes, its {} of {} "
          "elements needs {}",
          path, record.name, record.storage_key, entry->second.size(), storage_name(record.type),
          record.storage_numel, static_cast<uint64_t>(record.storage_numel) * size));
    // A copy: the entry's bytes need not be aligned for the element type.
    auto storage =
        torch::empty({record.storage_numel}, torch::TensorOptions().dtype(dtype_of(record.type)));
    if (record.storage_numel > 0)
      std::memcpy(storage.data_ptr(), entry->second.data(), entry->second.size());
    tensors.emplace_back(record.name,
                         storage.as_strided(record.sizes, record.strides, record.offset)
                             .clone(torch::MemoryFormat::Contiguous));
  }
  return tensors;
}

void write_state_dict(const std::string& path, const NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  // Each tensor with a storage of its own: a view of the flat parameter
  // buffer would take the whole buffer into the file.
  for (const auto& [name, tensor] : tensors)
    dict.insert(name, tensor.detach().to(torch::kCPU).clone(torch::MemoryFormat::Contiguous));
  const auto bytes = torch::jit::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

}  // namespace distsgd::models
