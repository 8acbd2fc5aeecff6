#!/usr/bin/env bash
# Installs the Debian packages fpsolve needs, only those that are missing. Idempotent.
# Usage: scripts/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libboost-dev libhdf5-dev hdf5-tools catch2
  libtomlplusplus-dev libmuparser-dev libcli11-dev libspectra-dev nlohmann-json3-dev
  python3-h5py python3-matplotlib python3-numpy python3-pil
  # scripts/fuzz.sh (libFuzzer) and scripts/sanitize.sh with CXX=clang++: clang and its sanitizer runtimes
  # (already on the CI image; listed so a fresh machine gets them too)
  clang-14 libclang-rt-14-dev
)

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
