#include "data/eval_subset.hpp"

#include <algorithm>
#include <numeric>

#include "core/errors.hpp"
#include "data/dataset.hpp"

namespace distsgd::data {

std::vector<int64_t> balanced_subset(std::span<const int64_t> labels, int64_t num_classes,
                                     int64_t count) {
  const auto total = static_cast<int64_t>(labels.size());
  std::vector<int64_t> chosen;
  if (count <= 0 || count >= total) {
    chosen.resize(static_cast<std::size_t>(total));
    std::iota(chosen.begin(), chosen.end(), int64_t{0});
    return chosen;
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<std::size_t>(num_classes));
  for (int64_t i = 0; i < total; ++i) {
    const int64_t label = labels[static_cast<std::size_t>(i)];
    if (label < 0 || label >= num_classes)
      throw DataError("test sample " + std::to_string(i) + " has label " + std::to_string(label) +
                      ", outside [0, " + std::to_string(num_classes) + ")");
    by_class[static_cast<std::size_t>(label)].push_back(i);
  }
  chosen.reserve(static_cast<std::size_t>(count));
  for (std::size_t rank = 0; static_cast<int64_t>(chosen.size()) < count; ++rank) {
    for (const auto& members : by_class) {
      if (rank < members.size() && static_cast<int64_t>(chosen.size()) < count)
        chosen.push_back(members[rank]);
    }
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::vector<int64_t> evaluation_subset(const Dataset& test, int64_t count) {
  if (count <= 0 || count >= test.size()) return {};
  return balanced_subset(test.labels(), test.num_classes(), count);
}

}  // namespace distsgd::data
