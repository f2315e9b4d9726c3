#pragma once
namespace distsgd::cli {
// `distsgd info`: prints LibTorch and MPI versions, threads and BLAS; returns 0.
int print_info();
}  // namespace distsgd::cli
