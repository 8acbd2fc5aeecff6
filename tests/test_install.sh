#!/usr/bin/env bash
# The installed package, used from outside the tree: `cmake --install` into a temporary prefix; the consumer
# project examples/consumer finds it with find_package(fpsolve CONFIG REQUIRED), builds and runs (its own
# checks against the OU closed forms); an outside Python process imports the installed package and runs; the
# installed binary finds its plotting module.
# Usage: test_install.sh FPSOLVE SOURCE_DIR     (the build folder is the one above FPSOLVE's bin/)
set -u
fp=$1
src=$2
build=$(cd "$(dirname "$fp")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cmake --install "$build" --prefix "$work/prefix" > install.txt 2>&1 || fail "cmake --install: $(tail -3 install.txt)"
for f in bin/fpsolve include/fpsolve/fpsolve.hpp lib/libfpsolve.a lib/cmake/fpsolve/fpsolveConfig.cmake \
    lib/cmake/fpsolve/fpsolveConfigVersion.cmake; do
    [ -f "prefix/$f" ] || fail "not installed: $f"
done

# C++: an outside CMake project.
if cmake -S "$src/examples/consumer" -B consumer -DCMAKE_PREFIX_PATH="$work/prefix" > consumer.txt 2>&1 &&
    cmake --build consumer >> consumer.txt 2>&1; then
    consumer/ou_relaxation 100 > ou.txt 2>&1 || fail "the consumer's checks: $(cat ou.txt)"
    grep -q "stationary: L1 to Gibbs" ou.txt || fail "the consumer printed no result"
else
    fail "the consumer project does not build: $(tail -5 consumer.txt)"
fi
# docs/cpp.md's project (its ```cmake block with project(relax) and its ```cpp program), as written there.
mkdir -p docs-cpp
awk '/^```cmake$/ {on = 1; next} /^```$/ {on = 0} on' "$src/docs/cpp.md" > docs-cpp/CMakeLists.txt
awk '/^```cpp$/ {on = 1; next} /^```$/ {on = 0} on' "$src/docs/cpp.md" > docs-cpp/relax.cpp
grep -q "project(relax" docs-cpp/CMakeLists.txt && grep -q "int main" docs-cpp/relax.cpp ||
    fail "docs/cpp.md lost its example project"
if cmake -S docs-cpp -B docs-cpp/build -DCMAKE_PREFIX_PATH="$work/prefix" > docs-cpp.txt 2>&1 &&
    cmake --build docs-cpp/build >> docs-cpp.txt 2>&1; then
    docs-cpp/build/relax > relax.txt 2>&1 || fail "docs/cpp.md's program: $(cat relax.txt)"
    grep -q "^complete with" relax.txt || fail "docs/cpp.md's program printed: $(cat relax.txt)"
else
    fail "docs/cpp.md's project does not build: $(tail -5 docs-cpp.txt)"
fi

# A version the package does not satisfy is refused by find_package.
mkdir -p old && cat > old/CMakeLists.txt <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(old LANGUAGES CXX)
find_package(fpsolve 9.0 CONFIG REQUIRED)
CMAKE
cmake -S old -B old-build -DCMAKE_PREFIX_PATH="$work/prefix" > old.txt 2>&1 && fail "find_package(fpsolve 9.0) succeeded"

# Python: the installed package from a process outside the tree.
site=$(ls -d "$work"/prefix/lib/python3*/dist-packages 2>/dev/null | head -1)
if [ -z "$site" ] || [ ! -f "$site/fpsolve/__init__.py" ]; then
    fail "no Python package under prefix/lib/python3*/dist-packages"
elif ls "$site"/fpsolve/_core*.so > /dev/null 2>&1; then
    PYTHONPATH="$site" /usr/bin/python3 - "$src" > py.txt 2>&1 <<'PY' || fail "the installed Python package: $(cat py.txt)"
import sys, fpsolve
assert fpsolve.__file__.startswith(sys.path[1]) or "dist-packages" in fpsolve.__file__, fpsolve.__file__
r = fpsolve.run(sys.argv[1] + "/data/scenarios/double-well.toml", overrides={"grid.cells": [100], "time.end": 1.0})
assert r.status == "complete" and r.density.shape[1] == 100, r
print("python ok", fpsolve.__file__, r.diagnostics["mass"][-1])
PY
    grep -q "python ok .*dist-packages" py.txt || fail "the package was not the installed one: $(cat py.txt)"
fi

# The installed binary runs and plots.
"$work/prefix/bin/fpsolve" run "$src/data/scenarios/double-well.toml" -o dw.h5 --quiet --set 'grid.cells=[100]' \
    --set time.end=1 || fail "the installed binary's run"
FPSOLVE_SOURCE= "$work/prefix/bin/fpsolve" plot dw.h5 -o dw.png --quiet || fail "the installed binary's plot"
[ -s dw.png ] || fail "no picture from the installed binary"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
