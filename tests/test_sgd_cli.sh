#!/usr/bin/env bash
# fpsolve sgd at reduced size: the shipped scenario runs and its numbers stay where docs/sgd.md says; bad input
# is one line on stderr, exit 2, and no file.
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
"$fp" sgd "$scenario" -o run.h5 "${small[@]}" > /dev/null 2>&1 && fail "overwrote run.h5 without --force"

[ "$failures" -eq 0 ] && echo "test_sgd_cli: all passed"
exit "$failures"
