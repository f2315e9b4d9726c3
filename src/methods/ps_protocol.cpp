#include "methods/ps_protocol.hpp"

#include <fmt/format.h>

namespace distsgd::ps {

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::push_gradient:
      return "gradient push";
    case Kind::elastic:
      return "elastic exchange";
    case Kind::pull:
      return "parameter pull";
    case Kind::done:
      return "end-of-training notice";
    case Kind::checkpoint:
      return "checkpoint request";
  }
  return fmt::format("request of unknown kind {}", static_cast<int64_t>(kind));
}

}  // namespace distsgd::ps
