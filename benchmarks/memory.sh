#!/usr/bin/env bash
# Peak resident memory per cell of `fpsolve run` and `fpsolve stationary` on large grids (issue 19): each case
# under /usr/bin/time, one thread, and the peak beyond a 30 MiB base (binary, libraries, HDF5) per cell.
# A benchmark, not a test: nothing is asserted. docs/performance.md ("Memory per cell") has the figures.
#
#   benchmarks/memory.sh [BUILD_DIR] [--large]     (about 4 minutes on 2 cores; --large adds 3-D 256^3 with auto
#                                                   to its first snapshot, about 2.5 GB and several minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
large=0
for arg in "$@"; do
    case $arg in
        --large) large=1 ;;
        *) build=$arg ;;
    esac
done
fpsolve=$build/bin/fpsolve
[ -x "$fpsolve" ] || { echo "memory.sh: $fpsolve not found: build first (scripts/test.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

# The 2-D scenario's double well, in 3-D with + z^2.
cat > "$work/dw3.toml" <<'EOF'
[grid]
lower = [-2.2, -2.5, -2.5]
upper = [2.2, 2.5, 2.5]
cells = [160, 160, 160]
[dynamics]
potential = "(x^2 - 1)^2 + (y - x/2)^2 + z^2"
noise = 1.0
[initial]
gaussian = { mean = [1.0, 0.5, 0.0], covariance = [[0.02, 0.0, 0.0], [0.0, 0.02, 0.0], [0.0, 0.0, 0.02]] }
[time]
end = 0.5
snapshots = 3
EOF

# case LABEL CELLS COMMAND...: prints peak MiB, B per cell beyond the base, wall seconds.
case_() {
    local label=$1 cells=$2
    shift 2
    /usr/bin/time -f "%M %e" -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
        { echo "$label: failed: $(tail -1 "$work/err")"; return; }
    read -r kb wall < "$work/time"
    awk -v l="$label" -v kb="$kb" -v n="$cells" -v w="$wall" \
        'BEGIN { printf "%-34s %8.0f MiB %7.0f B/cell %8.1f s\n", l, kb / 1024, (kb / 1024 - 30) * 1048576 / n, w }'
}

dw2=data/scenarios/double-well-2d.toml
n2=$((1024 * 1024))
set2=(--set "grid.cells=[1024, 1024]" --set time.end=2 --set time.snapshots=3)
echo "peak resident memory, one thread (per cell: beyond a 30 MiB base)"
for integrator in expm rkc; do
    case_ "2-D 1024^2 $integrator, t = 2" $n2 "$fpsolve" run $dw2 -o "$work/out.h5" --force --quiet \
        "${set2[@]}" --set time.integrator=\"$integrator\"
done
case_ "2-D 1024^2 dopri5, t = 0.002" $n2 "$fpsolve" run $dw2 -o "$work/out.h5" --force --quiet \
    --set "grid.cells=[1024, 1024]" --set time.end=0.002 --set time.snapshots=3 --set time.integrator=\"dopri5\"
for n in 256 512; do
    case_ "2-D ${n}^2 implicit, t = 0.1" $((n * n)) "$fpsolve" run $dw2 -o "$work/out.h5" --force --quiet \
        --set "grid.cells=[$n, $n]" --set time.end=0.1 --set time.snapshots=2 --set time.integrator=\"implicit\"
    case_ "2-D ${n}^2 stationary" $((n * n)) "$fpsolve" stationary $dw2 -o "$work/out.h5" --force --quiet \
        --set "grid.cells=[$n, $n]"
done
case_ "3-D 160^3 expm, t = 0.5" $((160 ** 3)) "$fpsolve" run "$work/dw3.toml" -o "$work/out.h5" --force --quiet \
    --set time.integrator=\"expm\"
if [ $large = 1 ]; then
    case_ "3-D 256^3 auto, first snapshot" $((256 ** 3)) "$fpsolve" run "$work/dw3.toml" -o "$work/out.h5" \
        --force --quiet --set "grid.cells=[256, 256, 256]" --set time.end=0.25 --set time.snapshots=2
fi
