#!/usr/bin/python3
"""fpsolve stationary from the command line: the file layout (DESIGN §4), Gibbs to round-off, the current that
`run` writes at the Gibbs state (zero to round-off), Kramers' escape, and bad input (exit 2, no file).

Usage: test_stationary.py FPSOLVE SOURCE_DIR   (run by ctest)
"""
import math
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np
from checks import check, finish, fpsolve_runner

fpsolve, source = sys.argv[1], sys.argv[2]
scen = os.path.join(source, "data", "scenarios")
run = fpsolve_runner(fpsolve)


with tempfile.TemporaryDirectory() as tmp:
    # 1. Gibbs on a coupled 2-D potential, reduced grid: the discrete equilibrium is exp(-2L/s) exactly.
    out = os.path.join(tmp, "gibbs.h5")
    r = run("stationary", os.path.join(scen, "gibbs-2d.toml"), "-o", out, "--quiet", "--set", "grid.cells=[48, 40]")
    check(r.returncode == 0, "stationary gibbs-2d exits 0: " + r.stderr.strip())
    with h5py.File(out, "r") as f:
        st = f["stationary"]
        check(f.attrs["status"] == "complete", "status complete")
        check(st["density"].shape == (48, 40), "density shape [cells...]")
        check(st["current"].shape == (48, 40, 2), "current shape [cells..., d]")
        v = np.prod([(f["grid"].attrs["upper"][a] - f["grid"].attrs["lower"][a]) / f["grid"].attrs["cells"][a]
                     for a in range(2)])
        check(abs(st["density"][()].sum() * v - 1) < 1e-13, "mass 1")
        check(st.attrs["l1_to_reference"] < 1e-10, "L1 to Gibbs %.2e < 1e-10" % st.attrs["l1_to_reference"])
        check(st.attrs["max_abs_current"] < 1e-12, "max |J| %.2e < 1e-12" % st.attrs["max_abs_current"])
        check(st.attrs["residual"] < 1e-13, "residual %.2e" % st.attrs["residual"])
        check(st.attrs["spectral_gap"] > 0 and abs(st.attrs["relaxation_time"] * st.attrs["spectral_gap"] - 1) < 1e-12,
              "relaxation time = 1 / gap")
        ev = st["eigenvalues"][()]
        check(ev.shape[1] == 2 and ev[0, 0] == 0 and np.all(ev[:, 0] <= 0), "eigenvalues [k, 2], 0 first, Re <= 0")
        gibbs = st["density"][()]

    # 2. `run` started from the Gibbs state writes /snapshots/current at round-off. The stationary file gets one
    # snapshot (its density at t = 0), so that [initial] snapshot can continue from it.
    start = os.path.join(tmp, "start.h5")
    shutil.copy(out, start)
    with h5py.File(start, "r+") as f:
        for name, row in (("snapshots/time", np.array(0.0)), ("snapshots/density", gibbs)):
            d = f[name]
            d.resize(1, axis=0)
            d[0] = row
    run_out = os.path.join(tmp, "run.h5")
    config = os.path.join(tmp, "gibbs-2d-from-snapshot.toml")  # the scenario without its [initial] Gaussian
    with open(os.path.join(scen, "gibbs-2d.toml")) as src, open(config, "w") as dst:
        dst.write("".join(line for line in src if not line.startswith("gaussian")))
    r = run("run", config, "-o", run_out, "--quiet", "--set", "grid.cells=[48, 40]",
            "--set", 'initial.snapshot="%s"' % start, "--set", "output.current=true", "--set", "time.end=1.0",
            "--set", "time.snapshots=5", "--set", 'time.integrator="dopri5"', "--set", "time.atol=1e-15",
            "--set", "time.rtol=1e-12")  # the default atol 1e-12 would let the steps move p by ~1e-12
    check(r.returncode == 0, "run from the Gibbs state exits 0: " + r.stderr.strip())
    if r.returncode == 0:
        with h5py.File(run_out, "r") as f:
            j = f["snapshots/current"][()]
            scale = np.abs(f["snapshots/density"][()]).max()
            check(j.shape == (5, 48, 40, 2), "run current shape [n, cells..., d]")
            # Face fluxes a p_L - b p_R with a, b ~ D/h ~ 5 and p ~ 1: round-off is ~1e-15 (measured 1.8e-15).
            check(np.abs(j).max() < 1e-12, "run's current at the Gibbs state %.2e < 1e-12" % np.abs(j).max())
            check(np.abs(f["snapshots/density"][-1] - gibbs).max() < 1e-12 * scale, "the Gibbs state stays put")

    # 3. Kramers (reduced grid): escape rate k vs Kramers' k_K = sqrt(32)/(2 pi) e^{-1/eps}, eps = 0.1. Laplace's
    # method gives T k_K = 1 + 3 eps / 8 + O(eps^2) (tests/test_stationary.cpp derives it): |k/k_K - 1 + 3eps/8| < eps^2.
    out = os.path.join(tmp, "kramers.h5")
    r = run("stationary", os.path.join(scen, "kramers.toml"), "-o", out, "--quiet")
    check(r.returncode == 0, "stationary kramers exits 0: " + r.stderr.strip())
    with h5py.File(out, "r") as f:
        st = f["stationary"]
        eps = 0.1
        kk = math.sqrt(32) / (2 * math.pi) * math.exp(-1 / eps)
        rate = st.attrs["escape_rate"]
        check(st.attrs["kind"] == "quasi-stationary", "kind quasi-stationary")
        check(abs(rate / kk - (1 - 3 * eps / 8)) < eps ** 2, "escape rate / Kramers = %.4f" % (rate / kk))
        x = f["grid/x"][()]
        t = st["mfpt"][()]
        ia = np.argmin(abs(x + 1))
        check(abs(t[ia] * rate - 1) < 1e-3, "T(-1) * rate = %.6f" % (t[ia] * rate))
        check(abs(st.attrs["mfpt_from_initial"] / t[ia] - 1) < 1e-3, "MFPT from the initial bump = T(-1)")

    # 4. Bad input: exit 2, one line, no file created or clobbered.
    out = os.path.join(tmp, "bad.h5")
    cases = [
        ("time-dependent drift", ["--set", 'dynamics.drift=["-x*(1+sin(t))", "-y"]']),
        ("unknown [stationary] key", ["--set", "stationary.nope=1"]),
        ("negative eigenvalue count", ["--set", "stationary.eigenvalues=-1"]),
    ]
    for what, extra in cases:
        r = run("stationary", os.path.join(scen, "rotational-ou.toml"), "-o", out, "--quiet",
                "--set", "grid.cells=[16,16]", *extra)
        check(r.returncode == 2 and r.stderr.startswith("fpsolve: error: ") and r.stderr.count("\n") == 1
              and not os.path.exists(out), what + " -> exit 2, one line, no file: " + r.stderr.strip())
    existing = os.path.join(tmp, "gibbs.h5")
    before = os.path.getmtime(existing)
    r = run("stationary", os.path.join(scen, "gibbs-2d.toml"), "-o", existing, "--quiet")
    check(r.returncode == 2 and os.path.getmtime(existing) == before, "existing file not clobbered without --force")

finish()
