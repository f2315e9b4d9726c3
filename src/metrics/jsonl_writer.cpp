#include "metrics/jsonl_writer.hpp"

#include "core/errors.hpp"

namespace distsgd::metrics {

JsonlWriter::JsonlWriter(const std::string& path)
    : path_(path), out_(path, std::ios::app), last_flush_(std::chrono::steady_clock::now()) {
  if (!out_) throw RuntimeFailure("cannot open metrics file " + path);
}

void JsonlWriter::write(const nlohmann::json& record) {
  out_ << record.dump() << '\n';
  const auto now = std::chrono::steady_clock::now();
  if (now - last_flush_ > std::chrono::seconds(5)) {
    out_.flush();
    last_flush_ = now;
  }
}

void JsonlWriter::flush() {
  out_.flush();
  if (!out_) throw RuntimeFailure("cannot write metrics file " + path_);
}

}  // namespace distsgd::metrics
