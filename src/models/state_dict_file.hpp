#pragma once
// State dict files as PyTorch writes and reads them: torch.save(model.state_dict(), FILE)
// in Python, torch.load(FILE) back. The format is a zip archive (zip_entries.hpp) of a
// pickle (state_dict_pickle.hpp) and one entry per storage.
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace distsgd::models {

// Names and tensors, in state-dict order.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The tensors of the state dict in `path`, each contiguous on the CPU with
// the dtype of its storage. The file is untrusted: DataError naming `path` and
// what is wrong (not a zip archive, truncated, a storage missing or shorter
// than its tensors, a name twice, not a dict of tensors).
NamedTensors read_state_dict(const std::string& path);

// Writes `tensors` to `path` (atomically) with LibTorch's pickle_save, as a dict
// that Python's torch.load returns and load_state_dict takes.
// RuntimeFailure naming `path` when it cannot be written.
void write_state_dict(const std::string& path, const NamedTensors& tensors);

}  // namespace distsgd::models
