#!/usr/bin/env bash
# Builds distsgd with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ (or $SANITIZE_BUILD) and runs every test (unit and MPI) under them.
#   scripts/sanitize-tests.sh            configure, build, run ctest
#   scripts/sanitize-tests.sh --build    configure and build only
#   scripts/sanitize-tests.sh -- ARGS    extra arguments for ctest (e.g. -R mpi)
# The build is slow (every LibTorch translation unit again, -j${JOBS:-1}). Why
# each runtime option below is needed: docs/fuzzing.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SANITIZE_BUILD:-$root/build-asan}
jobs=${JOBS:-1}
build_only=0
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build_only=1 ;;
    --) shift; ctest_args=("$@"); break ;;
    *) echo "usage: $0 [--build] [-- CTEST_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done

# LibTorch and Open MPI are not instrumented: see docs/fuzzing.md.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$root/scripts/install-deps.sh"
start=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDISTSGD_SANITIZE=address,undefined
# The build runs the test binaries (gtest_discover_tests), so it needs the
# options above already.
cmake --build "$build" -j"$jobs"
built=$(date +%s)
echo "sanitize-tests: build took $((built - start)) s"
[ "$build_only" -eq 1 ] && exit 0

cd "$build"
status=0
ctest -j1 --output-on-failure "${ctest_args[@]}" || status=$?
echo "sanitize-tests: ctest took $(($(date +%s) - built)) s, exit status $status"
exit "$status"
