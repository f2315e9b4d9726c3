// Environment: MPI_Init_thread / MPI_Finalize for the life of the process.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "comm/communicator.hpp"
#include "comm/mpi_backend.hpp"
#include "comm/mpi_check.hpp"

namespace distsgd::comm {

Environment::Environment(int* argc, char*** argv) {
  int provided = 0;
  detail::check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (provided < MPI_THREAD_MULTIPLE) {
    throw CommFailure(
        "the MPI library does not provide MPI_THREAD_MULTIPLE, which the asynchronous methods "
        "need (Open MPI: build with --enable-mpi-thread-multiple)");
  }
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// A duplicate of MPI_COMM_WORLD (collective: every rank calls it at the same
// point), so distsgd's traffic never mixes with another library's.
Communicator Environment::world() const {
  MPI_Comm comm = MPI_COMM_NULL;
  detail::check(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "MPI_Comm_dup");
  return make_communicator(std::make_unique<MpiBackend>(comm));
}

void Environment::abort(int code) {
  // What this rank printed (the error) must reach the user before the job
  // ends: MPICH's Hydra kills the proxies that forward the ranks' output at
  // once on MPI_Abort and drops what they had not read yet (seen: 2 of 26
  // clear-error tests printed nothing under load). A moment to forward it.
  std::fflush(nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

std::string Environment::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(length));
  while (!version.empty() && (version.back() == '\n' || version.back() == '\0')) version.pop_back();
  return version;
}

void Environment::exit_without_finalize(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

bool Environment::initialized() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  return initialized != 0;
}

}  // namespace distsgd::comm
