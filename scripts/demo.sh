#!/usr/bin/env bash
# Installs what is missing, builds fpsolve in Release and runs the default scenario: a Langevin double well
# relaxing to its Gibbs density. Prints how close the final density got.
# Usage: scripts/demo.sh [BUILD_DIR]     (default: build; the result goes to double-well.h5)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target fpsolve
"$build"/bin/fpsolve run data/scenarios/double-well.toml -o double-well.h5 --force
"$build"/bin/fpsolve inspect double-well.h5
