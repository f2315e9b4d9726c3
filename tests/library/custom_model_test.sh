#!/usr/bin/env bash
# library.custom_model: distsgd's installed package in use. Installs the build
# BUILD into BUILD/library-test/prefix, configures and builds EXAMPLE
# (examples/custom_model, a project outside the source tree) against it with
# find_package(distsgd), and trains it under mpirun with every method, each
# of which must reach the accuracy the example checks (--min-accuracy 0.9; an
# untrained model scores about 0.2) and print it.
#   custom_model_test.sh BUILD EXAMPLE [COMPILER_LAUNCHER]
set -euo pipefail

build=$(cd "$1" && pwd)
example=$(cd "$2" && pwd)
launcher=${3:-}
work=$build/library-test
prefix=$work/prefix
# A clean configure each time: a cached MPI or distsgd location would hide a
# broken package (ccache keeps the rebuild cheap).
rm -rf "$prefix" "$work/runs" "$work/example-build"
mkdir -p "$work"

# The archive must be current before it is installed (ctest may run before a
# full build has finished in an edited tree; a no-op when it is up to date).
cmake --build "$build" --target distsgd_package > "$work/build-library.log" 2>&1 ||
  { cat "$work/build-library.log" >&2; exit 1; }
cmake --install "$build" --prefix "$prefix" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; exit 1; }
for file in include/distsgd/distsgd.hpp include/distsgd/train_config.hpp include/distsgd/errors.hpp \
            lib/libdistsgd.a lib/cmake/distsgd/distsgdConfig.cmake \
            lib/cmake/distsgd/distsgdConfigVersion.cmake lib/cmake/distsgd/distsgdTargets.cmake; do
  [ -f "$prefix/$file" ] || { echo "library test: $file is not installed in $prefix" >&2; exit 1; }
done
# Only the public headers are installed: the example cannot reach src/.
if [ -e "$prefix/include/core" ] || [ -e "$prefix/include/distsgd/core" ]; then
  echo "library test: internal headers were installed" >&2; exit 1
fi

configure=(-S "$example" -B "$work/example-build" -DCMAKE_BUILD_TYPE=Release
           -DCMAKE_PREFIX_PATH="$prefix")
[ -n "$launcher" ] && configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
cmake "${configure[@]}" > "$work/configure-example.log" 2>&1 ||
  { cat "$work/configure-example.log" >&2; exit 1; }
cmake --build "$work/example-build" > "$work/build-example.log" 2>&1 ||
  { cat "$work/build-example.log" >&2; exit 1; }
echo "library test: built $work/example-build/custom_model against $prefix"

export OPENBLAS_NUM_THREADS=1
# The launcher of the MPI the package was built with, as distsgd itself uses it
# (`distsgd info --launcher`: Open MPI's mpirun with its one-host flags).
read -r -a mpi_launcher < <("$build/distsgd" info --launcher)
failed=0
# Every method (about 2 s a run); parameter-server methods (asgd, easgd) need
# a rank more: the last one serves. DISTSGD_LIBRARY_TEST_RUNS="ALGO:NP ...":
# other runs.
runs="allreduce:2 asgd:3 easgd:3 gossip-pull:2 gossip-push:2 local-sgd:2 gossip-pga:2"
for run in ${DISTSGD_LIBRARY_TEST_RUNS:-$runs}; do
  algo=${run%%:*} np=${run##*:}
  log=$work/$algo.log
  if ! timeout 300 "${mpi_launcher[@]}" -np "$np" \
      "$work/example-build/custom_model" --algo "$algo" --log-dir "$work/runs/$algo" \
      --min-accuracy 0.9 > "$log" 2>&1; then
    echo "library test: $algo on $np ranks failed:" >&2; cat "$log" >&2; failed=1; continue
  fi
  line=$(grep '^custom_model: ' "$log" || true)
  accuracy=$(sed -n 's/.*test accuracy \([0-9.]*\).*/\1/p' <<< "$line")
  # The example checks the accuracy itself; the test checks that it said so,
  # and that rank 0 wrote the run's summary.json as `distsgd train` does.
  if [ -z "$accuracy" ] || ! /usr/bin/python3 - "$accuracy" "$work/runs/$algo/summary.json" "$algo" <<'PY'
import json, sys
accuracy, path, algo = float(sys.argv[1]), sys.argv[2], sys.argv[3]
summary = json.load(open(path))
ok = (accuracy >= 0.9 and summary["algo"] == algo and summary["model"] == "tiny-cnn"
      and summary["dataset"] == "stripes" and abs(summary["final_test_accuracy"] - accuracy) < 1e-3)
sys.exit(0 if ok else 1)
PY
  then
    echo "library test: $algo on $np ranks: no accuracy >= 0.9 or a summary.json that disagrees:" >&2
    cat "$log" >&2; failed=1; continue
  fi
  echo "library test: $line"
done
exit $failed
