#!/usr/bin/env bash
# Builds the libFuzzer target fuzz_config with clang (ASan + UBSan, in build-fuzz) and runs it for a fixed
# number of inputs over config parsing and expression compilation, seeded from data/scenarios/*.toml and
# the kept crashers in tests/fuzz_regressions/, with a dictionary of the config keys.
# A finding stops the run with a non-zero exit; the input is written to build-fuzz/findings/. Fix it, then
# copy the input to tests/fuzz_regressions/ (test_fuzz_regressions runs every file there).
# One process, in-process (no -jobs/-workers: the machine is shared). Usage: scripts/fuzz.sh [RUNS]
# (default 100000; RUNS=0 only builds)
# Needs clang and libFuzzer (clang-14, libclang-rt-14-dev: on the CI image already, and in install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
scripts/install-deps.sh
build=build-fuzz
cxx=$(command -v clang++-14 || command -v clang++)
cc=$(command -v clang-14 || command -v clang)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
      -DFPSOLVE_FUZZ=ON -DFPSOLVE_SANITIZE=ON -DFPSOLVE_TESTS=OFF -DFPSOLVE_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --target fuzz_config -j"${JOBS:-2}"
[ "$runs" -eq 0 ] && exit 0

# The working corpus grows between runs; the seeds are copied in each time.
corpus="$build/corpus"
mkdir -p "$corpus" "$build/findings"
cp data/scenarios/*.toml tests/fuzz_regressions/* "$corpus"/ 2>/dev/null || true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$build/bin/fuzz_config" "$corpus" -runs="$runs" -dict=fuzz/toml.dict -max_len=1024 -timeout=20 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$build/findings/"
