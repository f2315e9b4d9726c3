#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, into build-fuzz/ or $FUZZ_BUILD)
# and runs each for SECONDS_PER_TARGET (default 60) from a copy of its seed
# corpus (fuzz/corpus/<target>/), so the repository is never modified.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#   FUZZ_TARGETS="idx checkpoint" scripts/fuzz.sh 600    only some targets
#   FUZZ_KEEP_CORPUS=DIR scripts/fuzz.sh 3600            keep the grown corpora in DIR/<target>/
# Prints one line per target; exits non-zero, naming the saved input, if any
# target crashes, trips ASan/UBSan, throws something other than DataError, or
# hangs (-timeout). Longer runs and reproducing a crash: docs/fuzzing.md.
set -euo pipefail

seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
targets=(${FUZZ_TARGETS:-idx cifar10 checkpoint image state_dict})

start=$(date +%s)
mkdir -p "$build"
cmake -S "$root/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"${JOBS:-2}" > "$build/build.log" 2>&1 ||
  { cat "$build/build.log" >&2; exit 1; }
echo "fuzz: built $build in $(($(date +%s) - start)) s"

# Scratch space: the corpora the runs grow, and the per-process directories
# where the targets write each input (tmpfs when there is one).
tmp_base=/dev/shm
[ -d "$tmp_base" ] && [ -w "$tmp_base" ] || tmp_base=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$tmp_base/distsgd-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export DISTSGD_FUZZ_TMP=$scratch

failed=0
for target in "${targets[@]}"; do
  binary=$build/fuzz_$target
  seeds=$root/fuzz/corpus/$target
  [ -x "$binary" ] && [ -d "$seeds" ] || { echo "fuzz: no target $target" >&2; exit 2; }
  corpus=$scratch/corpus-$target
  mkdir -p "$corpus"
  cp "$seeds"/* "$corpus"/
  artifacts=$build/artifacts/$target
  mkdir -p "$artifacts"
  log=$build/fuzz-$target.log
  t0=$(date +%s)
  status=0
  # -timeout: an input that takes longer is a hang; -rss_limit_mb: so is
  # memory beyond what any reader should take for a file this small.
  "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" < /dev/null > "$log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$corpus" -type f | wc -l)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $target: ok, ${execs:-?} executions in ${elapsed} s (${rate:-?}/s), coverage ${cov:-?}, corpus $(ls "$seeds" | wc -l) -> $units"
  else
    failed=1
    crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
    echo "fuzz: $target: FAILED (exit $status) after ${elapsed} s, ${execs:-?} executions; input: ${crash:-none saved}; log: $log"
    grep -E -m 5 'ERROR: |runtime error|fuzz: .* threw|SUMMARY' "$log" | sed 's/^/    /' || true
  fi
  if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$FUZZ_KEEP_CORPUS/$target"
    cp -n "$corpus"/* "$FUZZ_KEEP_CORPUS/$target"/ 2>/dev/null || true
  fi
done
echo "fuzz: total $(($(date +%s) - start)) s"
exit "$failed"
