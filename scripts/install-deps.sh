#!/usr/bin/env bash
# Installs every Debian package that building, testing and running distsgd
# needs. Idempotent: does nothing when all are present. Non-interactive.
set -euo pipefail

packages=(
  build-essential cmake
  libtorch-dev libopenblas0-pthread
  libopenmpi-dev openmpi-bin
  libmpich-dev mpich  # the second MPI: the MPI tests run under both (docs/mpi.md)
  libgtest-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev zlib1g-dev
  dataset-fashion-mnist
  python3-matplotlib
  libturbojpeg0-dev libpng-dev  # image folders: JPEG and PNG decoding
  python3-torchvision python3-pil  # PyTorch interop tests, the loader benchmark's baseline
  chromium  # headless: the report.html test
  clang libclang-rt-14-dev  # libFuzzer, for scripts/fuzz.sh
  slurm-wlm  # tests/slurm: a real one-node Slurm (slurmctld, slurmd, srun)
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
