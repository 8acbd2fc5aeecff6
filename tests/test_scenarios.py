"""Every shipped scenario runs (at reduced size where it is slow), and the ones whose outcome is known in
closed form still reach it: pinned figures, so the scenarios cannot rot.

Usage: test_scenarios.py FPSOLVE SOURCE_DIR
"""
import glob
import math
import os
import subprocess
import sys
import tempfile
import tomllib

import h5py
import numpy as np

fpsolve, source = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp()
failures = []


def run(name, *overrides, command="run"):
    out = os.path.join(work, name + ".h5")
    args = [fpsolve, command, os.path.join(source, "data", "scenarios", name + ".toml"), "-o", out, "--force",
            "--quiet"]
    for o in overrides:
        args += ["--set", o]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{name}: exit {r.returncode}: {r.stderr.strip()}")
        return None
    return h5py.File(out, "r")


def check(name, ok, what):
    if not ok:
        failures.append(f"{name}: {what}")


# Pinned outcomes (closed forms in each file's header comment).
f = run("double-well")
if f:
    l1 = f["diagnostics/l1_to_reference"][-1]
    check("double-well", l1 < 3e-6, f"L1 to Gibbs at t = 60 is {l1:.3e}, expected about 1e-6")
    check("double-well", abs(f["diagnostics/mass"][-1] - 1) < 1e-11, "mass drifted")

f = run("brownian", "grid.cells=[48,48]")
if f:
    c = f["diagnostics/covariance"]
    growth = c[-1] - c[0]
    check("brownian", np.abs(growth - 0.5 * 2.0 * np.eye(2)).max() < 1e-6, f"covariance growth {growth.ravel()}")

for conv in ["ito", "stratonovich", "isothermal"]:
    f = run("multiplicative-" + conv)
    if f:
        l1 = f["diagnostics/l1_to_reference"][-1]
        check("multiplicative-" + conv, l1 < 1e-3, f"L1 to its closed form {l1:.3e}")

f = run("ou-correlated")
if f:
    lyap = np.array([[0.19264706, 0.09558824], [0.09558824, 0.20735294]])  # A C + C A^T = D
    err = np.abs(f["diagnostics/covariance"][-1] - lyap).max()
    check("ou-correlated", err < 2e-3, f"covariance vs Lyapunov {err:.3e}")

f = run("absorbing-walls")
if f:
    m, t = f["diagnostics/mass"][:], f["diagnostics/time"][:]
    rate = -math.log(m[-1] / m[-11]) / (t[-1] - t[-11])
    check("absorbing-walls", abs(rate - (0.625 + 0.1 * math.pi ** 2)) < 5e-3, f"decay rate {rate:.4f}")
    # in the slowest mode, outflux = -dM/dt = rate * M
    flux = f["diagnostics/outflux"][-1]
    check("absorbing-walls", abs(flux / m[-1] - rate) < 5e-3, f"outflux / mass {flux / m[-1]:.4f} vs rate {rate:.4f}")

# Every other scenario must at least run (short, coarse) and keep its mass.
pinned = {"double-well", "brownian", "multiplicative-ito", "multiplicative-stratonovich",
          "multiplicative-isothermal", "ou-correlated", "absorbing-walls"}
for path in sorted(glob.glob(os.path.join(source, "data", "scenarios", "*.toml"))):
    name = os.path.basename(path)[:-5]
    if name in pinned:
        continue
    with open(path, "rb") as fh:
        cfg = tomllib.load(fh)
    if set(cfg) - {"title", "parameters", "grid", "dynamics", "initial", "time", "output"}:
        continue  # a scenario of another command (sgd, ...): tested by that command's tests
    cells = cfg["grid"]["cells"]
    coarse = "grid.cells=[" + ",".join(str(max(4, c // 2)) for c in cells) + "]"
    end = cfg.get("time", {}).get("end", 1.0)
    f = run(name, coarse, f"time.end={min(end, 0.5)}", "time.snapshots=3")
    if f:
        check(name, f.attrs["status"] == "complete", "status " + f.attrs["status"])
        absorbing = "absorbing" in list(f["grid"].attrs["boundary"])
        if not absorbing:
            check(name, abs(f["diagnostics/mass"][-1] - 1) < 1e-10, "mass drifted")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("all scenarios ok")
