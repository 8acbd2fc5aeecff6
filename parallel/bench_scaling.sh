#!/usr/bin/env bash
# Strong and weak scaling of `fpsolve run` under mpirun (not a test: timings). Brownian motion in 2-D with rk4 at a
# fixed step, so every rank count takes exactly the same steps; OMP_NUM_THREADS=1 (one core per rank). Waiting
# ranks yield (mpi_yield_when_idle), so that their user CPU seconds (summed over ranks) count work, not spinning:
# on a loaded machine wall-clock times measure the other load, CPU seconds still measure the decomposition.
#   strong: CELLS^2 cells on 1..NP ranks;  weak: CELLS^2 cells per rank (the domain grows with the cells, h fixed)
#   io:     the same strong run with 41 snapshots instead of 2: the collective write per snapshot
# Usage: parallel/bench_scaling.sh BUILD/bin/fpsolve [CELLS=512] [NP_MAX=4] [STEPS=200]
set -euo pipefail
fp=$(realpath "$1") cells=${2:-512} npmax=${3:-4} steps=${4:-200}
mpirun=(mpirun --quiet --oversubscribe --mca mpi_yield_when_idle 1)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
export OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# h = 8/512; the rk4 limit for D = 0.5 I is 2.785 / (4 D / h^2) ~ 3.4e-4: dt = 2.5e-4.
config() {  # nx ny lower_x upper_x
  cat <<TOML
[grid]
lower = [$3, -4.0]
upper = [$4, 4.0]
cells = [$1, $2]
[dynamics]
drift = ["0", "0"]
noise = 0.5
[initial]
gaussian = { mean = [0.0, 0.0], covariance = [[0.5, 0.0], [0.0, 0.5]] }
[time]
integrator = "rk4"
dt = 2.5e-4
end = $(awk "BEGIN{print 2.5e-4 * $steps}")
snapshots = 2
TOML
}
run() {  # np config [extra --set]: prints "wall cpu"
  local np=$1 cfg=$2; shift 2
  if [ "$np" -eq 1 ]; then
    /usr/bin/time -f "%e %U %S" -o t.txt "$fp" run "$cfg" -o out.h5 --force --quiet "$@"
  else
    /usr/bin/time -f "%e %U %S" -o t.txt "${mpirun[@]}" -np "$np" "$fp" run "$cfg" -o out.h5 --force --quiet "$@"
  fi
  awk '{printf "%.3f %.3f", $1, $2}' t.txt   # user seconds: work; a yielding rank's waits are sys time
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc --all) cores"
printf "strong scaling, %dx%d cells, %d rk4 steps (%d right-hand sides)\n" "$cells" "$cells" "$steps" $((4 * steps))
printf "  ranks  wall s  speed-up  user s  CPU efficiency  user ns per cell and right-hand side\n"
config "$cells" "$cells" -4.0 4.0 > strong.toml
w1="" c1=""
for np in $(seq 1 "$npmax"); do
  read -r w c <<<"$(run "$np" strong.toml)"
  [ -z "$w1" ] && w1=$w c1=$c
  awk "BEGIN{printf \"  %5d  %6.2f  %8.2f  %5.2f  %14.2f  %6.2f\n\", $np, $w, $w1/$w, $c, $c1/$c, $c*1e9/($cells*$cells*4*$steps)}"
done
printf "weak scaling, %dx%d cells per rank\n" "$cells" "$cells"
printf "  ranks  cells        wall s  user s  CPU efficiency (user s per rank vs 1 rank)\n"
w1="" c1=""
for np in $(seq 1 "$npmax"); do
  nx=$((cells * np))
  config "$nx" "$cells" -4.0 "$(awk "BEGIN{print -4.0 + 8.0 * $np}")" > weak.toml
  read -r w c <<<"$(run "$np" weak.toml)"
  [ -z "$w1" ] && w1=$w c1=$c
  awk "BEGIN{printf \"  %5d  %5dx%-5d  %6.2f  %5.2f  %14.2f\n\", $np, $nx, $cells, $w, $c, $c1*$np/$c}"
done
printf "collective output: 40 extra snapshots of %dx%d cells (%.1f MB each)\n" "$cells" "$cells" "$(awk "BEGIN{print $cells*$cells*8/1e6}")"
printf "  ranks  wall s per snapshot\n"
for np in 1 2; do
  read -r a _ <<<"$(run "$np" strong.toml)"
  read -r b _ <<<"$(run "$np" strong.toml --set time.snapshots=42)"
  awk "BEGIN{printf \"  %5d  %.4f\n\", $np, ($b - $a) / 40}"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
