#pragma once
// Which MPI this binary is linked against, and how that MPI starts a job.
//
// distsgd builds against any MPI; the MPI code (src/comm/mpi_*.cpp) is compiled
// once per MPI a build holds (cmake/mpi_flavours.cmake), so these answers are
// facts of the compiled <mpi.h> and of the launcher CMake found beside it, not
// guesses from the environment.
#include <string>

namespace distsgd::comm {

struct MpiLauncher {
  std::string flavour;  // "Open MPI", "MPICH", "Intel MPI", "MVAPICH" or "MPI" (other)
  std::string mpiexec;  // the launcher of that MPI (an absolute path when CMake found one)
  // The command that starts N ranks on this host, ending where "-np N" goes:
  // the launcher plus what that MPI needs to put more ranks than cores on one
  // host without pinning them all to one core, and to pass
  // OPENBLAS_NUM_THREADS on (Open MPI: --oversubscribe --bind-to none -x ...,
  // and --allow-run-as-root when run as root; MPICH's Hydra does all of that
  // by default).
  std::string one_host_command;
  // The launcher flag that keeps the other ranks running when one dies, which
  // --survive-worker-loss needs: Open MPI's --enable-recovery. Empty where
  // this MPI has none that works (MPICH: measured, docs/mpi.md) or none that
  // has been measured; distsgd then refuses --survive-worker-loss.
  std::string keep_going_flag;
  // The flag that names a file of hosts: Open MPI's --hostfile, Hydra's -f.
  std::string hostfile_flag = "-hostfile";
};

MpiLauncher mpi_launcher();

// Throws ConfigError when this MPI's launcher cannot keep the other ranks
// running after one is lost (keep_going_flag empty), which
// --survive-worker-loss needs; the message names the MPI and the flag that
// would do it. Called by `distsgd train` and the library's Session::train.
void require_survivable_launcher();

}  // namespace distsgd::comm
