#pragma once
// The pickle inside a torch.save file (data.pkl), for a state dict: a dict
// (Python's OrderedDict, or the plain dict LibTorch's pickle_save writes) from
// names to tensors, each tensor torch._utils._rebuild_tensor_v2 of a storage
// that the archive holds as <archive>/data/<key>. This reads that subset of
// pickle (protocols 2 to 5) and nothing else: it calls no code and builds no
// object but dicts, lists, tuples, numbers, strings and tensor descriptions.
// The bytes are untrusted: every read is bounds-checked and the value stack,
// memo and nesting are limited. No LibTorch (the fuzzer builds it alone).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distsgd::models {

// The storage classes torch.save names (torch.FloatStorage, ...).
enum class StorageType {
  float32,
  float64,
  float16,
  bfloat16,
  int64,
  int32,
  int16,
  int8,
  uint8,
  boolean
};
// Bytes per element of a storage of `type`.
int64_t element_size(StorageType type);
const char* storage_name(StorageType type);

// One tensor of the state dict, as the pickle describes it. Checked: sizes and
// strides are >= 0, and every element lies inside storage_numel.
struct TensorRecord {
  std::string name;         // the state dict's key
  std::string storage_key;  // its storage: the archive's entry data/<storage_key>
  StorageType type = StorageType::float32;
  int64_t storage_numel = 0;  // elements of the storage, as the pickle declares them
  int64_t offset = 0;         // of the first element, in elements
  std::vector<int64_t> sizes, strides;
};

// The tensors of the state dict pickled in `bytes`, in the pickle's order.
// Throws DataError starting with `what` for a pickle that is truncated or
// malformed, uses an opcode or a global outside the subset, or is not a dict
// of names to tensors (naming the first entry that is not).
std::vector<TensorRecord> parse_state_dict_pickle(std::string_view bytes, const std::string& what);

}  // namespace distsgd::models
