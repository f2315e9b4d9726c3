// mpi_launcher(): read off the <mpi.h> this file is compiled against.
#include "comm/mpi_launcher.hpp"

#include <fmt/format.h>
#include <mpi.h>
#include <unistd.h>

#include "core/errors.hpp"

// Set by cmake/mpi_flavours.cmake to the launcher found beside this MPI.
#ifndef DISTSGD_MPIEXEC
#define DISTSGD_MPIEXEC "mpiexec"
#endif

namespace distsgd::comm {

MpiLauncher mpi_launcher() {
  MpiLauncher launcher;
  launcher.mpiexec = DISTSGD_MPIEXEC;
  launcher.one_host_command = launcher.mpiexec;
#if defined(OMPI_MAJOR_VERSION)
  launcher.flavour = "Open MPI";
  // Open MPI refuses more ranks than cores, binds each rank to a core by
  // default (all ranks of an oversubscribed host then share few cores) and
  // passes no environment variable it is not told to.
  launcher.one_host_command += " --oversubscribe --bind-to none -x OPENBLAS_NUM_THREADS";
  if (geteuid() == 0) launcher.one_host_command += " --allow-run-as-root";
  launcher.keep_going_flag = "--enable-recovery";
  launcher.hostfile_flag = "--hostfile";
#elif defined(I_MPI_VERSION)
  launcher.flavour = "Intel MPI";  // what its launcher does at a lost rank is not measured
  launcher.hostfile_flag = "-f";
#elif defined(MVAPICH2_VERSION) || defined(MVAPICH_VERSION)
  launcher.flavour = "MVAPICH";  // not measured either
  launcher.hostfile_flag = "-f";
#elif defined(MPICH_VERSION)
  // Hydra: no binding, oversubscription allowed and the whole environment
  // passed to every rank, by default. No way to keep going after a lost rank
  // (measured with Debian's MPICH 4.0.2, ch4:ucx; docs/mpi.md): Hydra kills
  // every rank, -disable-auto-cleanup included, and with
  // MPIR_CVAR_ENABLE_FT=1 a survivor dies at its next call touching the lost
  // rank (an assertion in ch4, or UCX's fatal error mid-message).
  launcher.flavour = "MPICH";
  launcher.hostfile_flag = "-f";
#else
  launcher.flavour = "MPI";
#endif
  return launcher;
}

void require_survivable_launcher() {
  const auto launcher = mpi_launcher();
  if (!launcher.keep_going_flag.empty()) return;
  throw ConfigError(fmt::format(
      "--survive-worker-loss needs an MPI whose launcher keeps the other ranks running when one "
      "is lost (Open MPI's mpirun --enable-recovery); with {} a lost rank ends the whole job "
      "(docs/mpi.md)",
      launcher.flavour));
}

}  // namespace distsgd::comm
