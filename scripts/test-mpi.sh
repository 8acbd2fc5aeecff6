#!/usr/bin/env bash
# Builds fpsolve with MPI (-DFPSOLVE_MPI=ON, Release, warnings as errors) in its own directory and runs the
# MPI tests: the decomposed runs against one process, to 1e-12 (parallel/tests/).
# Usage: scripts/test-mpi.sh [BUILD_DIR] [CTEST_LABEL]     (defaults: build-mpi, mpi = np 1, 2 and 3; CI: np2)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mpi}
label=${2:-mpi}
scripts/install-deps.sh --mpi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFPSOLVE_WERROR=ON -DFPSOLVE_MPI=ON -DFPSOLVE_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fpsolve test_distributed
ctest --test-dir "$build" --output-on-failure -L "$label" --timeout 600
