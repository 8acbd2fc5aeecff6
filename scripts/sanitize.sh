#!/usr/bin/env bash
# Builds fpsolve with AddressSanitizer + UndefinedBehaviorSanitizer (FPSOLVE_SANITIZE=ON, -O2 -g, in
# build-sanitize) and runs the whole ctest suite under them. Any ASan report (out-of-bounds, use after
# free, leak) or UBSan report (-fno-sanitize-recover: the first one aborts) fails the test that hit it.
# Usage: scripts/sanitize.sh [BUILD_DIR]      (default: build-sanitize; CXX=clang++ to use clang)
# The Python module is off here: an instrumented extension cannot load into an uninstrumented interpreter
# (its tests run in the plain build), and so is the install test (an outside project cannot link the
# instrumented library).
# Compiler runtimes: g++ 12 brings libasan/libubsan; for clang, libclang-rt-14-dev (on the CI image).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-sanitize}
jobs=${JOBS:-$(nproc)}
scripts/install-deps.sh
start=$(date +%s)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFPSOLVE_SANITIZE=ON -DFPSOLVE_BENCHMARKS=OFF \
    -DFPSOLVE_PYTHON=OFF >/dev/null
cmake --build "$build" -j"$jobs"
built=$(date +%s)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 1800 || status=$?
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s" >&2
exit $status
