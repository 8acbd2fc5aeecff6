#!/usr/bin/env bash
# fpsolve run under mpirun -np N against the same run on one process: the files must hold the same groups,
# datasets, shapes and attributes (the chunks follow the rank blocks), and the same numbers to 1e-12
# (relative to each dataset's largest value); implicit runs and fpsolve stationary (hypre's iterative solves)
# to their solver tolerance.
# Then bad input under MPI: exit 2, one line on stderr, no file.
# The 1-D periodic case takes rk4: its cut periodic axis differs from the serial run by round-off in the
# wrap-around face, which can flip an adaptive step decision (parallel/decomposition.hpp).
# Usage: test_mpi_runs.sh FPSOLVE SOURCE_DIR NP      ($FPSOLVE_SERIAL: a serial build's binary for the reference)
set -euo pipefail
fp=$1 src=$2 np=$3
serial=${FPSOLVE_SERIAL:-$fp}
compare="/usr/bin/python3 $src/parallel/tests/compare_h5.py"
mpirun=(mpirun --quiet --oversubscribe -np "$np")   # --quiet: without it mpirun adds its own notice of a non-zero exit
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export OMP_NUM_THREADS=1

cat > periodic.toml <<'TOML'
title = "1-D periodic tilted potential"
[grid]
lower = [0.0]
upper = [1.0]
cells = [61]
boundary = "periodic"
[dynamics]
potential = "0.2*cos(2*pi*x) - 0.7*x"
noise = 0.3
[initial]
density = "1 + 0.5*sin(2*pi*x)"
[time]
end = 0.5
snapshots = 6
TOML
cat > diffusion3d.toml <<'TOML'
title = "3-D diffusion with drift and correlated noise"
[grid]
lower = [-1.5, -1.5, -1.5]
upper = [1.5, 1.5, 1.5]
cells = [14, 12, 10]
[dynamics]
drift = ["-x", "-y + 0.2*x", "-z"]
noise = [[0.3, 0.05, 0.0], [0.05, 0.3, 0.04], [0.0, 0.04, 0.3]]
[initial]
gaussian = { mean = [0.2, 0.0, -0.1], covariance = [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]] }
[time]
end = 0.2
snapshots = 3
TOML
# Kinetic OU in phase space: no diffusion along x, whose faces read two cells upstream (two ghost layers along x).
# 128 x 40 cells: cutting x (4 x 40 ghost cells per cut) is cheaper than cutting v (2 x 128), so x is cut.
cat > kinetic.toml <<'TOML'
title = "kinetic Ornstein-Uhlenbeck: transport-only x"
[grid]
lower = [-6.0, -6.0]
upper = [6.0, 6.0]
cells = [128, 40]
variables = ["x", "v"]
[dynamics]
drift = ["v", "-x - 0.5*v"]
noise = [[0, 0], [0, 1]]
[initial]
gaussian = { mean = [1.0, 0.5], covariance = [[0.4, 0.1], [0.1, 0.3]] }
[time]
end = 0.5
snapshots = 3
integrator = "dopri5"
TOML
# The kinetic form (its Gibbs-exact scheme) on a double well, so the force varies; a box that holds the motion.
sed -e 's|^drift = .*|kinetic = { potential = "(x^2 - 1)^2", friction = 1.0, temperature = 0.5 }|' -e '/^noise = /d' \
  -e 's|^title = .*|title = "kinetic double well, kinetic form"|' -e 's|^lower = .*|lower = [-2.5, -4.0]|' \
  -e 's|^upper = .*|upper = [2.5, 4.0]|' -e 's|^gaussian = .*|gaussian = { mean = [-1.0, 0.5], covariance = 0.05 }|' \
  kinetic.toml > kinetic-form.toml

scen=$src/data/scenarios
# name | config | overrides
cases=(
  "double-well-2d|$scen/double-well-2d.toml|time.end=0.3 time.snapshots=4"
  "double-well-2d-rkc|$scen/double-well-2d.toml|time.end=0.3 time.snapshots=4 time.integrator=\"rkc\""
  "double-well-2d-expm|$scen/double-well-2d.toml|time.end=0.3 time.snapshots=4 time.integrator=\"expm\" time.rtol=1e-10"
  "ou-correlated|$scen/ou-correlated.toml|time.end=0.3 time.snapshots=4 output.current=true"
  "periodic|periodic.toml|time.integrator=\"rk4\""
  "diffusion3d|diffusion3d.toml|time.integrator=\"cash_karp54\""
  "absorbing|$scen/absorbing-walls.toml|time.end=0.3 time.snapshots=4"
  "multiplicative|$scen/multiplicative-stratonovich.toml|time.end=0.2 time.snapshots=3 time.integrator=\"rk4\""
  "kinetic-ou|kinetic.toml|output.current=true"
  "kinetic-form|kinetic-form.toml|output.current=true"
)
# Implicit TR-BDF2: hypre's iterative solves (1e-4 rtol) against the serial sparse LU, so the files agree to the
# tolerance, not to round-off: 10 rtol (a step decision near err = 1 may flip).
implicit=(
  "double-well-2d-implicit|$scen/double-well-2d.toml|time.end=0.3 time.snapshots=4 time.integrator=\"implicit\" time.rtol=1e-6"
  "ou-correlated-implicit|$scen/ou-correlated.toml|time.end=0.3 time.snapshots=4 time.integrator=\"implicit\" time.rtol=1e-6 output.current=true"
  "periodic-implicit|periodic.toml|time.integrator=\"implicit\" time.rtol=1e-6"
  "absorbing-implicit|$scen/absorbing-walls.toml|time.end=0.1 time.snapshots=3 time.integrator=\"implicit\" time.rtol=1e-6"
)
# fpsolve stationary: hypre (GMRES/BoomerAMG, refined once) against the sparse LU: densities, currents, spectra,
# MFPT and their attributes to 1e-8 relative, residuals both below 1e-10. Non-equilibrium problems, so that the
# current is not round-off; 4096 cells take Arnoldi, the 1-D ones the dense QR; absorbing walls the MFPT.
stationary=(
  "two-temperatures-stationary|$scen/two-temperatures.toml|"
  "ou-correlated-stationary|$scen/ou-correlated.toml|grid.cells=[40,40]"
  "periodic-stationary|periodic.toml|"
  "absorbing-stationary|$scen/absorbing-walls.toml|"
  "kinetic-ou-stationary|kinetic.toml|grid.cells=[80,24] stationary.eigenvalues=2"
  "kinetic-form-stationary|kinetic-form.toml|grid.cells=[80,24] stationary.eigenvalues=2"
)
status=0
compare_case() {  # command name config overrides tolerance-options...
  local command=$1 name=$2 config=$3 overrides=$4
  shift 4
  local sets=()
  for o in $overrides; do sets+=(--set "$o"); done
  "$serial" "$command" "$config" -o "$name-serial.h5" --quiet "${sets[@]}"
  local start=$SECONDS
  "${mpirun[@]}" "$fp" "$command" "$config" -o "$name-np$np.h5" --quiet "${sets[@]}"
  echo "== $name, np = $np ($((SECONDS - start)) s)"
  $compare "$name-serial.h5" "$name-np$np.h5" "$@" || status=1
}
for c in "${cases[@]}"; do
  IFS='|' read -r name config overrides <<<"$c"
  compare_case run "$name" "$config" "$overrides" --rtol 1e-12
done
for c in "${implicit[@]}"; do
  IFS='|' read -r name config overrides <<<"$c"
  compare_case run "$name" "$config" "$overrides" --rtol 1e-5
done
for c in "${stationary[@]}"; do
  IFS='|' read -r name config overrides <<<"$c"
  compare_case stationary "$name" "$config" "$overrides" --rtol 1e-8 --solver-tol 1e-10
done

# initial.snapshot under MPI: each rank reads its block of the file's last snapshot.
sed 's|^density = .*|snapshot = "periodic-serial.h5"|' periodic.toml > from-snapshot.toml
"$serial" run from-snapshot.toml -o from-snapshot-serial.h5 --quiet --set 'time.integrator="rk4"'
"${mpirun[@]}" "$fp" run from-snapshot.toml -o from-snapshot-np$np.h5 --quiet --set 'time.integrator="rk4"'
echo "== from-snapshot, np = $np"
$compare from-snapshot-serial.h5 from-snapshot-np$np.h5 --rtol 1e-12 || status=1

# --resume under MPI: a run to t = 0.2 continued to 0.3 equals the uninterrupted serial run. rk4's fixed steps
# restart at every snapshot time, so stopping at one changes nothing; the stored config after the --set
# overrides is the serial run's, so even the attributes agree.
dw=(--set 'time.integrator="rk4"')
"$serial" run "$scen/double-well-2d.toml" -o resume-serial.h5 --quiet "${dw[@]}" --set time.end=0.3 --set time.snapshots=4
"${mpirun[@]}" "$fp" run "$scen/double-well-2d.toml" -o resume-np$np.h5 --quiet "${dw[@]}" --set time.end=0.2 \
  --set time.snapshots=3
"${mpirun[@]}" "$fp" run --resume resume-np$np.h5 --quiet --set time.end=0.3 --set time.snapshots=4
echo "== resumed double-well-2d, np = $np"
$compare resume-serial.h5 resume-np$np.h5 --rtol 1e-12 || status=1

# No room (a file-size limit stands in for a full disk): rank 0 checks before each snapshot and every rank
# stops as the serial run does: exit 1, one line on stderr, status "failed: ...", the earlier snapshots
# readable. The TCP transport: the shared-memory transport's backing file would itself pass the limit.
cat > room.toml <<'TOML'
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [200, 200]
[dynamics]
potential = "0.5*(x^2+y^2)"
noise = 1.0
[initial]
density = "exp(-x^2-y^2)"
[time]
end = 0.02
snapshots = 30
integrator = "rk4"
TOML
set +e
(ulimit -f 4096; "${mpirun[@]}" --mca btl self,tcp "$fp" run room.toml -o room.h5 --quiet 2>room.err)
rc=$?
set -e
if [ "$rc" -ne 1 ] || [ "$(grep -c . room.err)" -ne 1 ] || ! grep -q "file-size limit" room.err; then
  echo "FAILED (no room): exit $rc:"; cat room.err; status=1
fi
/usr/bin/python3 - <<'PY' || status=1
import h5py, numpy as np
with h5py.File("room.h5", "r") as f:
    assert f.attrs["status"].startswith("failed: the next snapshot would pass the file-size limit"), f.attrs["status"]
    d = f["snapshots/density"][()]
    assert 1 <= len(d) < 30 and len(f["snapshots/time"]) == len(d), len(d)
    mass = d.sum(axis=(1, 2)) * 0.03**2
    assert np.abs(mass - 1).max() < 1e-10, mass
    print(f"no room: exit 1, one line, {len(d)} snapshots kept, status {f.attrs['status'][:40]}...")
PY

# Interrupts. Open MPI's mpirun, sent SIGINT or SIGTERM itself, records exit code 1 for the job before any rank
# reports (and SIGKILLs the ranks 1 s after passing them SIGTERM), so its code is not fpsolve's; the file must
# still say "interrupted" and hold every snapshot written. A signal that reaches the ranks (SIGUSR1 to mpirun,
# which it forwards, or SIGINT to any one rank: the ranks agree to stop) ends the run with exit 130.
# interrupt HOW EXPECTED_CODES: start a long run, signal it once snapshots are being written, check the file.
interrupt() {
  local how=$1 codes=$2
  rm -f long.h5
  "${mpirun[@]}" "$fp" run room.toml -o long.h5 --quiet --set 'grid.cells=[80, 80]' --set time.end=200 \
    --set time.snapshots=20001 2>long.err &
  local pid=$! size=0 waited=0
  # the file grows by a snapshot at a time once the run is under way
  while [ "$waited" -lt 600 ]; do
    size=$(stat -c %s long.h5 2>/dev/null || echo 0)
    [ "$size" -gt 300000 ] && break
    sleep 0.1; waited=$((waited + 1))
  done
  case $how in
    mpirun-*) kill -"${how#mpirun-}" "$pid" ;;
    rank-INT) kill -INT "$(pgrep -P "$pid" | head -1)" ;;
  esac
  set +e; wait "$pid"; local rc=$?; set -e
  if ! [[ " $codes " == *" $rc "* ]]; then echo "FAILED (interrupt, $how): exit $rc, expected $codes"; cat long.err; status=1; fi
  HOW=$how RC=$rc /usr/bin/python3 - <<'PY' || status=1
import os, h5py, numpy as np
with h5py.File("long.h5", "r") as f:
    st, d = f.attrs["status"], f["snapshots/density"][()]
    assert st == "interrupted", st
    assert len(d) >= 1 and len(f["snapshots/time"]) == len(d) == len(f["diagnostics/mass"]), len(d)
    mass = d.sum(axis=(1, 2)) * (6.0 / 80) ** 2
    assert np.abs(mass - 1).max() < 1e-10, mass
    print(f"interrupt ({os.environ['HOW']}): exit {os.environ['RC']}, status {st}, {len(d)} snapshots readable")
PY
}
if [ "$np" -gt 1 ]; then
  interrupt mpirun-USR1 "130"
  interrupt rank-INT "130"
  interrupt mpirun-INT "1 130"
  interrupt mpirun-TERM "1 130"
fi

# Bad input: every rank finds it; one line from rank 0, exit 2, no file.
check_bad() {
  local what=$1; shift
  set +e
  "${mpirun[@]}" "$fp" "$@" 2>err.txt >out.txt
  local rc=$?
  set -e
  local lines
  lines=$(grep -c . err.txt || true)
  if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q "^fpsolve: error: " err.txt || [ -e bad.h5 ]; then
    echo "FAILED ($what): exit $rc, $lines stderr lines:"; cat err.txt; status=1
  else
    echo "bad input ($what): exit 2, one line: $(cat err.txt)"
  fi
  rm -f bad.h5
}
check_bad "unknown key" run periodic.toml -o bad.h5 --set grid.colour=1
check_bad "bad expression" run periodic.toml -o bad.h5 --set 'dynamics.potential="cos(("'
check_bad "negative initial density" run periodic.toml -o bad.h5 --set 'initial.density="sin(2*pi*x)"'
check_bad "stationary, time-dependent drift" stationary periodic.toml -o bad.h5 --set 'dynamics.potential="0.2*cos(2*pi*x) - 0.7*x*t"'
check_bad "stationary, unknown key" stationary periodic.toml -o bad.h5 --set stationary.colour=1
if [ "$np" -gt 1 ]; then
  check_bad "sample (serial on rank 0), bad particle count" sample periodic.toml -o bad.h5 --particles 0
  # The serial commands run on rank 0 and every rank exits with its code: inspect prints once, sample writes
  # its file.
  set +e
  "${mpirun[@]}" "$fp" inspect "resume-serial.h5" >inspect.txt 2>err.txt
  rc_inspect=$?
  "${mpirun[@]}" "$fp" sample periodic.toml -o sample-np$np.h5 --particles 200 --quiet >/dev/null 2>>err.txt
  rc_sample=$?
  set -e
  if [ "$rc_inspect" -ne 0 ] || [ "$(grep -c "snapshots" inspect.txt)" -lt 1 ] || [ "$rc_sample" -ne 0 ] ||
     [ ! -s "sample-np$np.h5" ]; then
    echo "FAILED: serial commands under mpirun: inspect exit $rc_inspect, sample exit $rc_sample"; cat err.txt; status=1
  else
    echo "inspect and sample under mpirun -np $np: exit 0, run on rank 0"
  fi
  # A file written by one process is refused under mpirun (parallel HDF5's filtered writes hung on it), untouched.
  cp resume-serial.h5 resume-copy.h5
  before=$(md5sum < resume-copy.h5)
  set +e; timeout 120 "${mpirun[@]}" "$fp" run --resume resume-copy.h5 --quiet --set time.end=0.4 2>err.txt; rc=$?; set -e
  if [ "$rc" -ne 2 ] || [ "$(grep -c . err.txt)" -ne 1 ] || [ "$(md5sum < resume-copy.h5)" != "$before" ]; then
    echo "FAILED: resuming a serially written file under mpirun: exit $rc"; cat err.txt; status=1
  else
    echo "resume of a serially written file under mpirun: exit 2, file unchanged: $(cat err.txt)"
  fi
  # expm needs detailed balance: a rotational drift breaks it on every block; the tilted ring only around the
  # cycle of ranks (each cut piece is a chain, balanced by itself)
  check_bad "expm, rotational drift" run "$scen/rotational-ou.toml" -o bad.h5 --set 'time.integrator="expm"' \
    --set 'grid.cells=[40, 40]'
  check_bad "expm, current around the cut ring" run periodic.toml -o bad.h5 --set 'time.integrator="expm"'
fi
touch exists.h5
set +e; "${mpirun[@]}" "$fp" run periodic.toml -o exists.h5 --quiet 2>err.txt; rc=$?; set -e
if [ "$rc" -ne 2 ] || [ -s exists.h5 ]; then echo "FAILED: an existing file was overwritten without --force (exit $rc)"; status=1; fi
exit $status
