#pragma once
// Turns MPI return codes into CommFailure. Private to src/comm/.
#include <mpi.h>

#include <string>

#include "comm/communicator.hpp"

namespace distsgd::comm::detail {

inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

inline void check(int code, const std::string& what) {
  if (code != MPI_SUCCESS) throw CommFailure(what + " failed: " + mpi_error_string(code));
}

}  // namespace distsgd::comm::detail
