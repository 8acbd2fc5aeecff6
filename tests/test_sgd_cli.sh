#!/usr/bin/env bash
# fpsolve sgd at reduced size: the shipped scenarios (plain SGD and heavy ball) run and their numbers stay where
# docs/sgd.md says; bad input is one line on stderr, exit 2, and no file.
# Usage: test_sgd_cli.sh FPSOLVE SOURCE_DIR
set -u
fp=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
scenario="$src/data/scenarios/sgd-diabetes.toml"
small=(--set sgd.chains=20000 --set 'grid.cells=[48,48]' --set 'sgd.sweep_eta=[0.2,0.05]' --set sgd.sweep_chains=20000)

"$fp" sgd "$scenario" -o run.h5 "${small[@]}" > out.txt 2> err.txt || fail "the scenario exits $?: $(cat err.txt)"
[ -f run.h5 ] || fail "no output file"
grep -q "minimum Phi\* = (w, b) = (0.586450, -0.000000)" out.txt || fail "minimum moved: $(grep minimum out.txt)"
# The exact SGD closed form of the variance of w, 3.4937e-02 (docs/sgd.md), and the SDE's 3.2847e-02.
grep -q "exact SGD moments, closed form .* 3.4937e-02" out.txt || fail "exact SGD covariance changed"
grep -q "SDE moments, closed form .* 3.2847e-02" out.txt || fail "SDE covariance changed"
# Chains against the exact form: var w within 4 standard errors (0.035 sqrt(2/20000) = 3.5e-4, heavier tails: 5e-4).
awk '/SGD iterates, k = 100/ { v = $(NF-2); d = v - 0.034937; if (d < 0) d = -d; exit !(d < 2e-3) }' out.txt ||
    fail "SGD var w far from the exact closed form: $(grep 'SGD iterates' out.txt)"
# The sweep: SGD/FP - 1 at eta = 0.05 is O(eta): between 0 and 0.06.
awk '$1 == "0.05" { exit !($(NF-1) > 0 && $(NF-1) < 0.06) }' out.txt || fail "sweep at 0.05: $(grep '^ *0.05 ' out.txt)"

# momentum = 0 is plain SGD: the same report, number for number.
"$fp" sgd "$scenario" -o zero.h5 "${small[@]}" --set sgd.momentum=0 > zero.txt 2> /dev/null || fail "momentum = 0 exits $?"
diff <(grep -v wrote out.txt) <(grep -v wrote zero.txt) > /dev/null || fail "momentum = 0 differs from plain SGD"

# Heavy ball in phase space (w, p), docs/sgd.md: the closed forms are exact numbers, the chains and the FP density
# agree with them within the sampling and grid errors.
momentum="$src/data/scenarios/sgd-diabetes-momentum.toml"
msmall=(--set sgd.chains=20000 --set 'grid.cells=[52,64]' --set 'sgd.sweep_eta=[0.04,0.01]' --set sgd.sweep_chains=20000
        --set sgd.snapshots=5)
"$fp" sgd "$momentum" -o mom.h5 "${msmall[@]}" > mom.txt 2> err.txt || fail "the momentum scenario exits $?: $(cat err.txt)"
grep -q "minimum w\* = (0.586450), L(w\*) = 0.328038" mom.txt || fail "momentum minimum: $(grep minimum mom.txt)"
grep -q "gamma = (1 - beta)/sqrt(eta) = 1)" mom.txt || fail "gamma is not 1: $(grep gamma mom.txt | head -1)"
grep -q "exact heavy-ball moments, closed form .* 3.0506e-02   1.606e-03 3.2112e-02" mom.txt ||
    fail "exact heavy-ball covariance changed: $(grep 'exact heavy-ball' mom.txt)"
grep -q "SDE moments, closed form .* 3.0417e-02   0.000e+00 3.0417e-02" mom.txt || fail "SDE covariance changed"
# Chains against the exact form: var w and var p within 4 standard errors (0.031 sqrt(2.5/20000) = 3.5e-4).
awk '/heavy-ball iterates, k = 200/ { dw = $(NF-2) - 0.030506; dp = $NF - 0.032112; if (dw < 0) dw = -dw;
     if (dp < 0) dp = -dp; exit !(dw < 1.5e-3 && dp < 1.5e-3) }' mom.txt ||
    fail "chains far from the exact heavy-ball form: $(grep 'heavy-ball iterates' mom.txt)"
# The FP density against its own closure: var w within the grid error (2 % at h = 0.29 sd), stationary by t_end.
awk '/Fokker-Planck stationary \(grid\)/ { d = $(NF-2) / 0.030417 - 1; if (d < 0) d = -d; exit !(d < 0.03) }' mom.txt ||
    fail "FP var w far from the SDE closed form: $(grep 'Fokker-Planck stationary' mom.txt)"
grep -q "FP(t_end) to FP stationary: 0.000[0-9]" mom.txt || fail "FP not stationary at t_end"
# The sweep at fixed gamma: the SDE's var p error is O(sqrt(eta)) (exact/SDE - 1 = 0.1269, 0.0557), and the
# chains show it: chains/FP - 1 for p at eta = 0.04 within 0.07 (4 se + grid) of 0.127.
awk '$1 == "0.04" { exit !($NF == "0.1269") }' mom.txt || fail "sweep exact/SDE at 0.04: $(grep '^ *0.04 ' mom.txt)"
awk '$1 == "0.01" { exit !($NF == "0.0557") }' mom.txt || fail "sweep exact/SDE at 0.01: $(grep '^ *0.01 ' mom.txt)"
awk '$1 == "0.04" { d = $(NF-3) - 0.127; if (d < 0) d = -d; exit !(d < 0.07) }' mom.txt ||
    fail "sweep chains/FP at 0.04: $(grep '^ *0.04 ' mom.txt)"
if /usr/bin/python3 -c "import h5py" 2> /dev/null; then
    /usr/bin/python3 - mom.h5 << 'EOF' || fail "the momentum file's /sgd layout"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
s = f["sgd"]
assert s["histogram"].shape == (5, 52, 64), s["histogram"].shape
assert s["mean_fp"].shape == (5, 2) and s["covariance_sgd"].shape == (5, 2, 2)
assert s["loss"].shape == (52,) and s["noise"].shape == (52, 1, 1) and s["minimum"].shape == (1,)
assert s["stationary/fp_density"].shape == (52, 64) and s["sweep/covariance_sgd_exact"].shape == (2, 2, 2)
assert s.attrs["momentum"] == 0.9 and s.attrs["learning_rate"] == 0.01 and abs(s.attrs["friction"] - 1) < 1e-12
assert f["snapshots/density"].shape[1:] == (52, 64)
EOF
fi

check_bad() {  # what: expects exit 2, one line, no file
    local what=$1
    shift
    rm -f bad.h5
    "$fp" sgd "$@" -o bad.h5 > /dev/null 2> err.txt
    local rc=$?
    [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
    [ "$(wc -l < err.txt)" -eq 1 ] || fail "$what: stderr has $(wc -l < err.txt) lines: $(cat err.txt)"
    grep -q "^fpsolve: error: " err.txt || fail "$what: $(cat err.txt)"
    [ ! -e bad.h5 ] || fail "$what: wrote bad.h5"
}
check_bad "unknown model key" "$scenario" --set model.typo=1
check_bad "missing column" "$scenario" --set 'model.features=["nope"]'
check_bad "unstable sweep" "$scenario" --sweep-eta 2.5
check_bad "time.end" "$scenario" --set time.end=3
check_bad "negative rate" "$scenario" --set sgd.learning_rate=-0.1
check_bad "a run config" "$src/data/scenarios/double-well.toml"
check_bad "momentum 1" "$momentum" --set sgd.momentum=1
check_bad "momentum with 2 parameters on 2 axes" "$momentum" --set model.intercept=true --set 'sgd.start=[-0.3,0]'
grep -q "needs 4 axes: the 2 parameters, then their 2 velocities" err.txt || fail "the axes message: $(cat err.txt)"
check_bad "momentum with per-parameter rates" "$momentum" --set sgd.per_parameter=true
check_bad "momentum with two rates" "$momentum" --set 'sgd.learning_rate=[0.01,0.02]'
check_bad "momentum sweep beyond gamma" "$momentum" --sweep-eta 2
check_bad "start with two numbers for one parameter" "$momentum" --set 'sgd.start=[0,0]'
check_bad "start_velocity without momentum" "$scenario" --set 'sgd.start_velocity=[0,0]'
check_bad "no intercept without momentum" "$scenario" --set model.intercept=false --set 'sgd.start=[0.1]'
check_bad "intercept with logistic regression" "$src/data/scenarios/sgd-diabetes-logistic.toml" --set model.intercept=false
"$fp" sgd "$scenario" -o run.h5 "${small[@]}" > /dev/null 2>&1 && fail "overwrote run.h5 without --force"

[ "$failures" -eq 0 ] && echo "test_sgd_cli: all passed"
exit "$failures"
