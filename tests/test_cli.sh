#!/usr/bin/env bash
# The command line contract (DESIGN §2): exit codes, one-line errors, no output created or clobbered on
# bad input, --force, --set, interrupts (exit 130, file valid with every snapshot written so far).
# Usage: test_cli.sh FPSOLVE SOURCE_DIR
set -u
fp=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

cat > base.toml <<'TOML'
title = "cli test"
[grid]
lower = [-2.0]
upper = [2.0]
cells = [40]
[dynamics]
potential = "x^2"
noise = 0.5
[initial]
density = "exp(-(x-0.5)^2)"
[time]
end = 0.5
snapshots = 3
TOML

# expect_bad NAME ARGS...: exit 2, exactly one stderr line "fpsolve: error: ...", no out.h5 created.
expect_bad() {
    local name=$1
    shift
    rm -f out.h5
    "$fp" "$@" >stdout.txt 2>stderr.txt
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2 ($(cat stderr.txt))"
    [ "$(wc -l <stderr.txt)" -eq 1 ] || fail "$name: stderr has $(wc -l <stderr.txt) lines"
    grep -q '^fpsolve: error: ' stderr.txt || fail "$name: stderr is not 'fpsolve: error: ...': $(cat stderr.txt)"
    [ ! -e out.h5 ] || fail "$name: out.h5 was created"
}

expect_bad "no command"
expect_bad "unknown command" frobnicate
grep -q 'unknown command "frobnicate"; the commands are run, ' stderr.txt || fail "unknown command: $(cat stderr.txt)"
expect_bad "unknown option before the command" --frobnicate
grep -q 'unknown option "--frobnicate"' stderr.txt || fail "unknown option: $(cat stderr.txt)"
expect_bad "missing config" run
expect_bad "config not found" run nonexistent.toml -o out.h5
printf 'grid = [\n' >broken.toml
expect_bad "TOML syntax" run broken.toml -o out.h5
expect_bad "unknown key" run base.toml -o out.h5 --set grid.colour=1
expect_bad "unknown table" run base.toml -o out.h5 --set extra.x=1
expect_bad "wrong type" run base.toml -o out.h5 --set 'grid.cells="many"'
expect_bad "non-finite" run base.toml -o out.h5 --set 'grid.upper=[inf]'
expect_bad "zero cells" run base.toml -o out.h5 --set 'grid.cells=[0]'
expect_bad "fractional cells" run base.toml -o out.h5 --set 'grid.cells=[10.5]'
expect_bad "lower >= upper" run base.toml -o out.h5 --set 'grid.lower=[2.0]'
expect_bad "axes disagree" run base.toml -o out.h5 --set 'grid.cells=[10,10]'
expect_bad "bad boundary" run base.toml -o out.h5 --set 'grid.boundary="sticky"'
expect_bad "noise not PSD" run base.toml -o out.h5 --set 'dynamics.noise=-0.1'
expect_bad "noise expression not PSD" run base.toml -o out.h5 --set 'dynamics.noise="x"'
expect_bad "noise not symmetric" run base.toml -o out.h5 --set 'grid.lower=[-1,-1]' --set 'grid.upper=[1,1]' \
    --set 'grid.cells=[8,8]' --set 'dynamics.noise=[[1.0, 0.2],[0.3, 1.0]]'
expect_bad "negative initial density" run base.toml -o out.h5 --set 'initial.density="x"'
expect_bad "zero mass" run base.toml -o out.h5 --set 'initial.density="0"'
expect_bad "expression syntax" run base.toml -o out.h5 --set 'dynamics.potential="x^2 +"'
expect_bad "unknown name" run base.toml -o out.h5 --set 'dynamics.potential="x^2 + b"'
expect_bad "potential and drift" run base.toml -o out.h5 --set 'dynamics.drift=["-x"]'
expect_bad "bad convention" run base.toml -o out.h5 --set 'dynamics.convention="ito-ish"'
expect_bad "bad integrator" run base.toml -o out.h5 --set 'time.integrator="euler"'
expect_bad "rk4 beyond stability" run base.toml -o out.h5 --set 'time.integrator="rk4"' --set time.dt=1.0
sed -e 's/^potential = .*/drift = ["1 + cos(x)"]/' -e 's/^cells = .*/cells = [40]\nboundary = "periodic"/' base.toml >ring.toml
expect_bad "expm with a circulating current" run ring.toml -o out.h5 --set 'time.integrator="expm"'
grep -q "detailed balance" stderr.txt || fail "expm on a ring: the error does not name detailed balance"
"$fp" run ring.toml -o out.h5 >/dev/null 2>&1 || fail "ring.toml does not run with the default integrator"
rm -f out.h5
expect_bad "expm with time-dependent dynamics" run base.toml -o out.h5 --set 'time.integrator="expm"' \
    --set 'dynamics.potential="x^2 * (1 + t)"'
# expm on a potential: runs, and says so
"$fp" run base.toml -o out.h5 --set 'time.integrator="expm"' >stdout.txt 2>stderr.txt ||
    fail "expm on a potential: exit $? ($(cat stderr.txt))"
grep -q "expm" stdout.txt || fail "expm on a potential: stdout does not name expm: $(cat stdout.txt)"
rm -f out.h5
expect_bad "negative end" run base.toml -o out.h5 --set time.end=-1
expect_bad "times not increasing" run base.toml -o out.h5 --set 'time.times=[0.0, 0.2, 0.1]'
expect_bad "too much memory" run base.toml -o out.h5 --set 'grid.cells=[1000000000000]'
expect_bad "bad --set" run base.toml -o out.h5 --set nonsense
expect_bad "output folder missing" run base.toml -o no/such/dir/out.h5
expect_bad "inspect non-HDF5" inspect base.toml
expect_bad "inspect missing" inspect nothing.h5
expect_bad "snapshot file missing" run base.toml -o out.h5 --set 'initial.snapshot="nothing.h5"' \
    --set 'initial.density=1' # two initial forms at once is bad input too

# A good run; then no clobbering without --force.
"$fp" run base.toml -o good.h5 --quiet || fail "good run exited $?"
before=$(md5sum good.h5)
"$fp" run base.toml -o good.h5 --quiet 2>stderr.txt
rc=$?
[ $rc -eq 2 ] || fail "overwrite without --force exited $rc"
[ "$(md5sum good.h5)" = "$before" ] || fail "good.h5 was changed without --force"
"$fp" run base.toml -o good.h5 --quiet --force || fail "--force run exited $?"
"$fp" inspect good.h5 --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="complete" and d["snapshots"]==3, d' \
    || fail "inspect --json"

# Continue from the last snapshot of an earlier file.
grep -v '^density' base.toml >cont.toml
"$fp" run cont.toml -o cont.h5 --quiet --set 'initial.snapshot="good.h5"' || fail "initial.snapshot run"
expect_bad "snapshot on another grid" run cont.toml -o out.h5 --set 'initial.snapshot="good.h5"' --set 'grid.cells=[41]'

# Interrupt: SIGINT mid-run gives exit 130, status "interrupted", and every written snapshot readable.
cat > long.toml <<'TOML'
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [160, 160]
[dynamics]
potential = "(x^2-1)^2 + y^2"
noise = 0.4
[time]
end = 1000.0
snapshots = 100001
integrator = "dopri5"
TOML
"$fp" run long.toml -o long.h5 --quiet &
pid=$!
for _ in $(seq 50); do
    sleep 0.2
    n=$(/usr/bin/python3 -c 'import h5py; print(len(h5py.File("long.h5","r",swmr=True)["snapshots/time"]))' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 2 ] && break
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted run exited $rc, expected 130"
/usr/bin/python3 - <<'PY' || fail "interrupted file"
import h5py, numpy as np
f = h5py.File("long.h5", "r")
assert f.attrs["status"] == "interrupted", f.attrs["status"]
n = len(f["snapshots/time"])
d = f["snapshots/density"]
assert n >= 2 and d.shape[0] >= n, (n, d.shape)
h = (6.0 / 160) ** 2
for k in range(n):
    assert abs(d[k].sum() * h - 1.0) < 1e-10
PY

# Live reading while the writer runs (SWMR), then SIGKILL: every completed snapshot stays readable.
"$fp" run long.toml -o killed.h5 --quiet --force &
pid=$!
for _ in $(seq 50); do
    sleep 0.2
    n=$("$fp" inspect killed.h5 --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"])' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 3 ] && break
done
[ "${n:-0}" -ge 3 ] || fail "inspect could not read a file being written (saw ${n:-0} snapshots)"
kill -KILL $pid
wait $pid 2>/dev/null
/usr/bin/python3 - <<'PY' || fail "file of a killed writer"
import h5py
f = h5py.File("killed.h5", "r", swmr=True)
n = len(f["snapshots/time"])
d = f["snapshots/density"]
h = (6.0 / 160) ** 2
assert n >= 3
for k in range(n):
    assert abs(d[k].sum() * h - 1.0) < 1e-10, k
PY
"$fp" inspect killed.h5 >/dev/null || fail "inspect of a killed writer's file"

# Resume: a run stopped early and resumed equals an uninterrupted one within the tolerance (rtol 1e-8).
"$fp" run base.toml -o full.h5 --quiet --set time.end=1.0 --set time.snapshots=11 || fail "full run"
"$fp" run base.toml -o half.h5 --quiet --set time.end=0.5 --set time.snapshots=6 || fail "half run"
"$fp" run --resume half.h5 --quiet --set time.end=1.0 --set time.snapshots=11 || fail "resume exited $?"
/usr/bin/python3 - <<'PY' || fail "resumed run differs"
import h5py, numpy as np
a, b = h5py.File("full.h5", "r"), h5py.File("half.h5", "r")
assert b.attrs["status"] == "complete"
assert np.allclose(a["snapshots/time"][:], b["snapshots/time"][:], rtol=0, atol=1e-14)
pa, pb = a["snapshots/density"][:], b["snapshots/density"][:]
err = np.abs(pa - pb).max() / np.abs(pa).max()
assert err < 1e-6, err
assert len(b["diagnostics/mass"]) == 11
PY
# Resume after an interrupt appends to the same file and completes it; a second resume has nothing to do.
# (two more snapshot intervals of 0.01 after wherever the interrupt fell)
last=$(/usr/bin/python3 -c 'import h5py; print(round(h5py.File("long.h5","r")["snapshots/time"][-1], 6))')
end=$(/usr/bin/python3 -c "print(round($last + 0.02, 6))")
count=$(/usr/bin/python3 -c "print(int(round($end / 0.01)) + 1)")
"$fp" run --resume long.h5 --quiet --set time.end="$end" --set time.snapshots="$count" || fail "resume after interrupt"
/usr/bin/python3 -c "import h5py; f=h5py.File('long.h5','r'); assert f.attrs['status']=='complete'; assert abs(f['snapshots/time'][-1]-$end)<1e-9" \
    || fail "resumed interrupted file is not complete"
"$fp" run --resume long.h5 --quiet --set time.end="$end" --set time.snapshots="$count" || fail "resume with nothing left to do"
expect_bad "resume of a missing file" run --resume nothing.h5
expect_bad "resume with a new grid" run --resume half.h5 --set 'grid.cells=[80]'

# Running out of room (a file-size limit stands in for a full disk): exit 1, status failed, earlier
# snapshots intact and the file opens normally.
cat > room.toml <<'TOML'
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [64, 64]
[dynamics]
drift = ["-x", "-y"]
noise = 0.4
[initial]
density = "exp(-(x-1)^2-y^2)"
[time]
end = 1.0
snapshots = 200
TOML
(ulimit -f 1024; "$fp" run room.toml -o room.h5 --quiet 2>room.err)
rc=$?
[ $rc -eq 1 ] || fail "disk full: exit $rc, expected 1"
grep -q "file-size limit" room.err || fail "disk full: message was $(cat room.err)"
/usr/bin/python3 - <<'PY' || fail "file after disk full"
import h5py
f = h5py.File("room.h5", "r")
assert f.attrs["status"].startswith("failed:"), f.attrs["status"]
n = len(f["snapshots/time"])
assert n >= 2, n
for k in range(n):
    assert abs(f["snapshots/density"][k].sum() * (6 / 64) ** 2 - 1) < 1e-10
PY

# Unwritable place: exit 1 with the path in the message.
"$fp" run base.toml -o /proc/fpsolve-test.h5 --quiet 2>err.txt
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 2 ] || fail "unwritable path: exit $rc"
grep -q "/proc/fpsolve-test.h5" err.txt || fail "unwritable path: message was $(cat err.txt)"

# Numerical failure: central differences at cell Peclet numbers far above 2 oscillate below zero.
"$fp" run base.toml -o neg.h5 --quiet --set 'dynamics.scheme="central"' --set dynamics.noise=0.0005 \
    --set 'dynamics.potential="4*x"' --set 'initial.density="exp(-(x-1)^2/0.001)"' 2>neg.err
rc=$?
[ $rc -eq 1 ] || fail "negative density: exit $rc, expected 1"
grep -q "went negative" neg.err || fail "negative density: message was $(cat neg.err)"
/usr/bin/python3 -c 'import h5py; s=h5py.File("neg.h5","r").attrs["status"]; assert s.startswith("failed: the density went negative"), s' \
    || fail "negative density: status"

if [ $failures -ne 0 ]; then
    echo "$failures failures"
    exit 1
fi
echo "all CLI checks passed"
