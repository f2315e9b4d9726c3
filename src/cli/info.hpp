#pragma once
#include <string>

namespace distsgd::cli {
// `distsgd info`: prints the MPI this binary is linked against (flavour,
// library version, launcher), LibTorch and whether CUDA is usable, the
// compiler, threads and BLAS; returns 0. Needs no MPI job (MPI is not started).
// `launcher_only` (--launcher): the one-host launch command alone
// (comm::MpiLauncher::one_host_command), for scripts and tests.
int print_info(bool launcher_only = false);
// `distsgd --version`: distsgd's version, then its MPI and LibTorch, one a line.
std::string version_text();
}  // namespace distsgd::cli
