#!/usr/bin/python3
"""fpsolve run with grid.richardson from the command line: the extrapolated snapshots against the exact OU
density (cell averages), the error estimate against the plain run's true error, the start snapshot, the
mass, the extrapolated reference as the fixed point, resume, and the keys' bad input (exit 2, no file).

Usage: test_richardson_cli.py FPSOLVE SOURCE_DIR   (run by ctest)
"""
import json
import math
import os
import sys
import tempfile

import h5py
import numpy as np
from checks import check, finish, fpsolve_runner

fpsolve = sys.argv[1]
run = fpsolve_runner(fpsolve)


# 2-D OU: L = (x^2 + y^2)/2, D = 0.5 I, from N((1, -0.5), 0.1 I): mean m e^-t, variance 0.1 e^-2t + 0.25 (1 - e^-2t).
OU = """
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [96, 96]
[dynamics]
potential = "0.5*(x^2 + y^2)"
noise = 0.5
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.1, 0.0], [0.0, 0.1]] }
[time]
end = 1.0
snapshots = 3
"""

erf = np.vectorize(math.erf)


def exact(x, y, t):
    h = x[1] - x[0]
    v = 0.1 * math.exp(-2 * t) + 0.25 * (1 - math.exp(-2 * t))
    m = np.array([1.0, -0.5]) * math.exp(-t)

    def avg(c, mu):
        return 0.5 * (erf((c + h / 2 - mu) / math.sqrt(2 * v)) - erf((c - h / 2 - mu) / math.sqrt(2 * v))) / h

    return np.outer(avg(x, m[0]), avg(y, m[1]))


with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, "ou.toml")
    with open(cfg, "w") as f:
        f.write(OU)
    plain, extra = os.path.join(tmp, "plain.h5"), os.path.join(tmp, "rich.h5")
    r = run("run", cfg, "-o", plain, "--quiet")
    check(r.returncode == 0, "plain run exits 0: " + r.stderr.strip())
    r = run("run", cfg, "-o", extra, "--set", "grid.richardson=true")
    check(r.returncode == 0, "richardson run exits 0: " + r.stderr.strip())
    check("richardson: coarse grid 2-D, 48x48 cells" in r.stdout, "the report names the coarse grid")
    with h5py.File(plain, "r") as fp, h5py.File(extra, "r") as fr:
        x, y = fr["grid/x"][:], fr["grid/y"][:]
        h2 = (x[1] - x[0]) * (y[1] - y[0])
        check(fr["snapshots/density"].shape == (3, 96, 96), "density keeps the fine grid's shape")
        est = fr["diagnostics/error_estimate"][:]
        check(est.shape == (3,), "one error estimate per snapshot")
        check("error_estimate" not in fp["diagnostics"], "no estimate without grid.richardson")
        check(np.array_equal(fr["snapshots/density"][0], fp["snapshots/density"][0]) and est[0] == 0.0,
              "the start snapshot is the initial density itself, estimate 0")
        for k in (1, 2):
            t = fr["snapshots/time"][k]
            ex = exact(x, y, t)
            e_plain = np.abs(fp["snapshots/density"][k] - ex).sum() * h2
            e_rich = np.abs(fr["snapshots/density"][k] - ex).sum() * h2
            # Second order at 96^2: the plain error is 2e-3; the extrapolation removes the h^2 term.
            check(1e-3 < e_plain < 1e-2, "t=%g: plain L1 %.3e in [1e-3, 1e-2]" % (t, e_plain))
            check(e_rich < e_plain / 25, "t=%g: extrapolated L1 %.3e below 1/25 of the plain %.3e" % (t, e_rich, e_plain))
            check(abs(est[k] / e_plain - 1) < 0.1, "t=%g: estimate %.3e within 10%% of the plain error %.3e" % (t, est[k], e_plain))
            check(abs(fr["diagnostics/mass"][k] - 1) < 1e-12, "t=%g: mass 1 to round-off" % t)
        ref = fr["reference/density"][:]
        check(abs(ref.sum() * h2 - 1) < 1e-12, "extrapolated reference has mass 1")
        check(np.abs(ref - fp["reference/density"][:]).sum() * h2 > 1e-6, "the reference is extrapolated too")

    r = run("inspect", "--json", extra)
    v = json.loads(r.stdout)["verdicts"] if r.returncode == 0 else {}
    check(v.get("final_error_estimate") == float(est[-1]), "inspect --json reports the final error estimate")

    # The extrapolated reference is the run's fixed point.
    r = run("run", cfg, "-o", extra, "--force", "--quiet", "--set", "grid.richardson=true", "--set", "time.end=60")
    with h5py.File(extra, "r") as f:
        l1 = f["diagnostics/l1_to_reference"][-1]
        check(r.returncode == 0 and l1 < 1e-8, "t = 60: L1 to the extrapolated reference %.2e < 1e-8" % l1)

    # Resume: both grids restart from the last snapshot; the file grows by the remaining times.
    r = run("run", cfg, "-o", extra, "--force", "--quiet", "--set", "grid.richardson=true")
    r2 = run("run", "--resume", extra, "--quiet", "--set", "time.end=2.0", "--set", "time.snapshots=5")
    with h5py.File(extra, "r") as f:
        t = f["snapshots/time"][:]
        check(r2.returncode == 0 and list(t) == [0.0, 0.5, 1.0, 1.5, 2.0], "resume appends 1.5 and 2: %s" % t)
        e = np.abs(f["snapshots/density"][-1] - exact(f["grid/x"][:], f["grid/y"][:], 2.0)).sum() * h2
        check(e < 1e-4 and len(f["diagnostics/error_estimate"]) == 5, "resumed extrapolation L1 %.2e < 1e-4" % e)

    # A file with the extrapolation's small negative values can start another run (initial.snapshot).
    g = os.path.join(tmp, "g.h5")
    r = run("run", os.path.join(sys.argv[2], "data", "scenarios", "gibbs-2d.toml"), "-o", g, "--quiet",
            "--set", "grid.richardson=true", "--set", "time.end=0.5", "--set", "time.snapshots=2")
    with h5py.File(g, "r") as f:
        low = f["snapshots/density"][-1].min()
    check(r.returncode == 0 and low < 0, "gibbs-2d extrapolated dips below zero (%.2e)" % low)
    with open(os.path.join(sys.argv[2], "data", "scenarios", "gibbs-2d.toml")) as f:
        text = "\n".join('snapshot = "%s"' % g if line.startswith("gaussian") else line for line in f.read().splitlines())
    cont = os.path.join(tmp, "continue.toml")
    with open(cont, "w") as f:
        f.write(text)
    r = run("run", cont, "-o", os.path.join(tmp, "g2.h5"), "--quiet", "--set", "time.end=0.5", "--set", "time.snapshots=2")
    check(r.returncode == 0, "and starts another run from it: " + r.stderr.strip())

    # Bad input: exit 2, one line, no file.
    for what, args in [
        ("odd cells", ["--set", "grid.cells=[96, 95]"]),
        ("too few cells", ["--set", "grid.cells=[96, 8]"]),
        ("upwind", ["--set", 'dynamics.scheme="upwind"']),
        ("not a boolean", ["--set", "grid.richardson=1"]),
    ]:
        out = os.path.join(tmp, "bad.h5")
        r = run("run", cfg, "-o", out, "--set", "grid.richardson=" + ("1" if what == "not a boolean" else "true"), *args)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and "grid.richardson" in r.stderr and not os.path.exists(out),
              "%s: exit 2, one line naming grid.richardson, no file: %s" % (what, r.stderr.strip()))
    out = os.path.join(tmp, "st.h5")
    r = run("stationary", cfg, "-o", out, "--set", "grid.richardson=true")
    check(r.returncode == 2 and "grid.richardson" in r.stderr and not os.path.exists(out),
          "stationary refuses grid.richardson: " + r.stderr.strip())

finish()
