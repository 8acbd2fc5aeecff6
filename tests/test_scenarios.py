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
    out = os.path.join(work, f"{name}-{command}.h5")  # one file per (scenario, command): h5py keeps them open
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

# Kinetic OU (closed forms in its header): moments by the linear ODEs, the spectrum, Gibbs exact.
f = run("kinetic-ou", "grid.cells=[96,96]", "time.end=2.0", "time.snapshots=5")
if f:
    a = np.array([[0.0, 1.0], [-1.0, -0.5]])
    d = np.diag([0.0, 1.0])
    m, c = np.array([2.0, 0.0]), 0.1 * np.eye(2)
    dt = 1e-4
    for _ in range(int(round(2.0 / dt))):  # RK2 on the moment ODEs (error ~1e-8)
        m1, c1 = m + 0.5 * dt * (a @ m), c + 0.5 * dt * (a @ c + c @ a.T + d)
        m, c = m + dt * (a @ m1), c + dt * (a @ c1 + c1 @ a.T + d)
    em = np.abs(f["diagnostics/mean"][-1] - m).max()
    ec = np.abs(f["diagnostics/covariance"][-1] - c).max()
    # The kinetic form's O(h^2) phase error, h = 0.125: measured 1.8e-2 (mean, amplitude 2), 1.9e-3 (covariance).
    check("kinetic-ou", em < 3e-2 and ec < 4e-3, f"mean error {em:.2e}, covariance error {ec:.2e} at t = 2")
    check("kinetic-ou", abs(f["diagnostics/mass"][-1] - 1) < 1e-12, "mass drifted")
f = run("kinetic-ou", "grid.cells=[96,96]", command="stationary")
if f:
    s = f["stationary"]
    check("kinetic-ou", s.attrs["l1_to_reference"] < 1e-12, f"L1 to Gibbs {s.attrs['l1_to_reference']:.2e}")
    ev = s["eigenvalues"][:4]
    # -0.25 ± 0.968i and -0.5: O(h^2), measured errors 5.5e-3, 6.4e-4 and 9.3e-4 at this size.
    check("kinetic-ou", abs(abs(ev[1][1]) - math.sqrt(1 - 1 / 16)) < 1e-2 and abs(ev[1][0] + 0.25) < 1e-2
          and abs(ev[3][0] + 0.5) < 1e-2, f"eigenvalues {ev.tolist()}")
f = run("kinetic-double-well", "grid.cells=[100,80]", command="stationary")
if f:
    s = f["stationary"]
    check("kinetic-double-well", s.attrs["l1_to_reference"] < 1e-12, f"L1 to Gibbs {s.attrs['l1_to_reference']:.2e}")
    gap = s.attrs["spectral_gap"]
    kramers = 2 * (math.sqrt(0.25 + 4) - 0.5) / 2 * math.sqrt(8) / (2 * math.pi) * math.exp(-2)
    check("kinetic-double-well", abs(gap / kramers - 1) < 0.1, f"spectral gap {gap:.4f} vs 2 x Kramers {kramers:.4f}")

# The 4-D kinetic OU at 20^4 (its shipped 32^4 measured 0.92 %): the covariance by the same moment ODEs.
f = run("kinetic-ou-4d", "grid.cells=[20,20,20,20]")
if f:
    a = np.block([[np.zeros((2, 2)), np.eye(2)], [-np.eye(2), -0.5 * np.eye(2)]])
    d = np.diag([0.0, 0.0, 1.0, 1.0])
    c = 0.3 * np.eye(4)
    dt = 1e-4
    for _ in range(int(round(1.0 / dt))):
        c1 = c + 0.5 * dt * (a @ c + c @ a.T + d)
        c = c + dt * (a @ c1 + c1 @ a.T + d)
    err = np.linalg.norm(f["diagnostics/covariance"][-1] - c) / np.linalg.norm(c)
    # O(h^2) with h = 0.45: measured 3.5e-2 (1.7e-2 at 24^4, 9.2e-3 at 32^4)
    check("kinetic-ou-4d", err < 5e-2, f"covariance error {err:.2e} at t = 1")
    check("kinetic-ou-4d", abs(f["diagnostics/mass"][-1] - 1) < 1e-12, "mass drifted")

# Every other scenario must at least run (short, coarse) and keep its mass.
pinned = {"double-well", "brownian", "multiplicative-ito", "multiplicative-stratonovich",
          "multiplicative-isothermal", "ou-correlated", "absorbing-walls", "kinetic-ou", "kinetic-double-well",
          "kinetic-ou-4d"}
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
