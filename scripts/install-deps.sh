#!/usr/bin/env bash
# Installs the Debian packages fpsolve needs, only those that are missing. Idempotent.
# Usage: scripts/install-deps.sh [--mpi]   (as root, or with sudo available)
#   --mpi  also what -DFPSOLVE_MPI=ON needs: Open MPI, parallel HDF5, Boost.MPI (odeint's MPI backend),
#          hypre (the distributed implicit steps and steady states).
#          The serial build keeps using the serial HDF5 (CMakeLists.txt asks for it explicitly).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libboost-dev libhdf5-dev hdf5-tools catch2
  libtomlplusplus-dev libmuparser-dev libcli11-dev libspectra-dev nlohmann-json3-dev
  python3-h5py python3-matplotlib python3-numpy python3-pil
  # the Python module fpsolve (pybind11, for /usr/bin/python3) and its pytest tests
  pybind11-dev python3-pybind11 python3-dev python3-pytest
  # scripts/fuzz.sh (libFuzzer) and scripts/sanitize.sh with CXX=clang++: clang and its sanitizer runtimes
  # (already on the CI image; listed so a fresh machine gets them too)
  clang-14 libclang-rt-14-dev
)
if [ "${1:-}" = "--mpi" ]; then
  packages+=(openmpi-bin libopenmpi-dev libhdf5-openmpi-dev libboost-mpi-dev libhypre-dev)
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--mpi]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
