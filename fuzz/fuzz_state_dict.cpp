// State dict reader (models/zip_entries.hpp, models/state_dict_pickle.hpp):
// the --init-from file. Each input is read as a zip archive (and the pickle of
// any data.pkl in it), and once more as a pickle itself, since almost every
// mutation of an archive stops at an entry's CRC-32 before the pickle is parsed.
#include <cstdint>
#include <string_view>

#include "fuzz_file.hpp"
#include "models/state_dict_pickle.hpp"
#include "models/zip_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace distsgd::models;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  distsgd::fuzz::expect_data_error_only("stored_zip_entries", [&] {
    for (const auto& [name, content] : stored_zip_entries(bytes, "input.pt")) {
      if (name.size() >= 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0)
        parse_state_dict_pickle(content, "input.pt");
    }
  });
  distsgd::fuzz::expect_data_error_only("parse_state_dict_pickle",
                                        [&] { parse_state_dict_pickle(bytes, "input.pkl"); });
  return 0;
}
