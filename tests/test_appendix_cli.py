"""fpsolve flux and fpsolve sample from the command line: numbers in --json and in /particles, and bad input.

Usage (ctest): test_appendix_cli.py FPSOLVE SOURCE_DIR
"""
import json
import math
import os
import sys
import tempfile

import h5py
import numpy as np
from checks import check, finish, fpsolve_runner

fpsolve, source = sys.argv[1], sys.argv[2]
run = fpsolve_runner(fpsolve)


def bad_input(args, what, path=None):
    r = run(*args)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2, f"{what}: exit {r.returncode}, expected 2 ({r.stderr.strip()})")
    check(len(lines) == 1 and lines[0].startswith("fpsolve: error: "), f"{what}: stderr {r.stderr!r}")
    if path is not None:
        check(not os.path.exists(path), f"{what}: {path} was created")


# ---- flux --json: alpha, the exact Gaussian transfer, the remainder's order, Monte Carlo, the scheme's order
x, sigma = 0.5, 1.0
r = run("flux", "--density", "exp(-x^2/2)/sqrt(2*pi)", "--at", str(x), "--sigma", str(sigma),
        "--dt", "0.04,0.02,0.01", "--particles", "100000", "--seed", "3", "--json")
check(r.returncode == 0, f"flux --json: exit {r.returncode}: {r.stderr}")
j = json.loads(r.stdout)
check(abs(j["alpha"]["value"] - 0.5) < 1e-12, f"alpha = {j['alpha']['value']}")
for i, row in enumerate(j["rows"]):
    dt = row["dt"]
    exact = 0.5 * math.erfc(-x / math.sqrt(2)) - 0.5 * math.erfc(-x / math.sqrt(1 + sigma**2 * dt) / math.sqrt(2))
    check(abs(row["net"] - exact) < 1e-13, f"net at dt={dt}: {row['net']} vs exact {exact}")
    # remainder / next = 1 + c3 dt with c3 = -0.76 for this point (tests/test_appendix.cpp)
    check(abs(row["remainder"] / row["next_term"] - 1) < 1.0 * dt, f"remainder/next at dt={dt}")
    if i > 0:
        check(abs(row["remainder_order"] - 2) < 0.06, f"remainder order {row['remainder_order']} at dt={dt}")
    check(abs(row["monte_carlo"] - row["net"]) < 4 * row["monte_carlo_error"], f"Monte Carlo at dt={dt}")
orders = [row["order"] for row in j["scheme"]["rows"][1:]]
check(all(abs(o - 2) < 0.05 for o in orders), f"scheme face-flux orders {orders}")

# the readable table runs too, in 2-D through an oblique plane
r = run("flux", "--density", "exp(-(x^2+2*y^2)/2)", "--at", "0.4,-0.3", "--normal", "3,4",
        "--noise", "[[1.0,0.3],[0.3,0.5]]", "--dt", "0.02,0.01")
check(r.returncode == 0 and "net" in r.stdout, f"flux 2-D table: {r.returncode} {r.stderr}")

# ---- flux: bad input
bad_input(["flux"], "no density")
bad_input(["flux", "--density", "exp(", "--at", "0"], "expression that does not parse")
bad_input(["flux", "--density", "exp(-q^2)"], "unknown name")
bad_input(["flux", "--density", "1", "--dt", "0"], "dt = 0")
bad_input(["flux", "--density", "1", "--dt", "nan"], "dt = nan")
bad_input(["flux", "--density", "1", "--sigma", "-1"], "negative sigma")
bad_input(["flux", "--density", "x", "--at", "0,0", "--noise", "[[1,2],[3,4]]"], "non-symmetric noise")
bad_input(["flux", "--density", "x", "--at", "0,0", "--noise", "[[1,2],[2,1]]"], "indefinite noise")
bad_input(["flux", "--density", "x", "--at", "0,0", "--normal", "0,0"], "zero normal")
bad_input(["flux", "--density", "x", "--at", "0,0", "--normal", "1,0,0"], "normal of the wrong size")
bad_input(["flux", "--file", "/nonexistent/file.h5"], "missing file")
bad_input(["flux", "--density", "1", "--drift=-x", "--potential", "x^2"], "drift and potential")
bad_input(["flux", "--density", "1", "--particles", "1"], "one particle")

with tempfile.TemporaryDirectory() as tmp:
    # ---- sample: the file holds the usual groups and /particles, within the floor
    out = os.path.join(tmp, "ou.h5")
    cfg = os.path.join(tmp, "ou.toml")
    with open(cfg, "w") as f:
        f.write("""
[grid]
lower = [-3.0]
upper = [4.0]
cells = [70]
[dynamics]
drift = ["-x"]
noise = 0.5
[initial]
gaussian = { mean = [1.5], covariance = [[0.05]] }
[time]
end = 1.0
snapshots = 3
""")
    r = run("sample", cfg, "--particles", "10000", "--seed", "5", "--dt", "0.005", "-o", out, "--quiet")
    check(r.returncode == 0, f"sample: exit {r.returncode}: {r.stderr}")
    with h5py.File(out, "r") as h:
        check(h.attrs["status"] == "complete", "sample status")
        n = h["snapshots/time"].shape[0]
        check(n == 3 and h["particles/time"].shape == (3,), "particle snapshot count")
        check(h["particles/density"].shape == (3, 70), f"particles/density shape {h['particles/density'].shape}")
        dens = h["particles/density"][...]
        mass = dens.sum(axis=1) * 0.1
        check(np.allclose(mass, 1.0, atol=1e-12), f"particle mass {mass}")
        ratio = h["particles/l1_to_pde"][...] / h["particles/l1_floor"][...]
        check(np.all(ratio < 1.6) and np.all(ratio > 0.4), f"L1 / floor = {ratio}")
        l1 = np.abs(dens - h["snapshots/density"][...]).sum(axis=1) * 0.1
        check(np.allclose(l1, h["particles/l1_to_pde"][...], rtol=1e-12), "l1_to_pde is the L1 distance")
        check(h["particles"].attrs["particles"] == 10000, "particles attribute")
    # the same seed gives the same histograms with another thread count
    out2 = os.path.join(tmp, "ou2.h5")
    r = run("sample", cfg, "--particles", "10000", "--seed", "5", "--dt", "0.005", "--threads", "1", "-o", out2, "-q")
    with h5py.File(out, "r") as a, h5py.File(out2, "r") as b:
        check(np.array_equal(a["particles/density"][...], b["particles/density"][...]), "threads change the result")

    # ---- sample: bad input creates or clobbers nothing
    before = open(out, "rb").read()
    bad_input(["sample", cfg, "--particles", "100", "-o", out], "existing output without --force")
    check(open(out, "rb").read() == before, "the existing file was changed")
    fresh = os.path.join(tmp, "fresh.h5")
    bad_input(["sample", cfg, "--particles", "0", "-o", fresh], "zero particles", fresh)
    bad_input(["sample", cfg, "--particles", "100", "--dt", "-1", "-o", fresh], "negative dt", fresh)
    bad_input(["sample", cfg, "--particles", "100", "--set", "dynamics.noise=-1", "-o", fresh], "negative noise", fresh)
    bad_input(["sample", os.path.join(tmp, "none.toml"), "--particles", "100", "-o", fresh], "missing config", fresh)
    bad_input(["sample", cfg, "-o", fresh], "no --particles", fresh)

    # ---- flux from the sample file's snapshot: the file's noise and drift, the scheme at the file's face
    r = run("flux", "--file", out, "--snapshot", "1", "--at", "0.8", "--dt", "0.01,0.005", "--json")
    check(r.returncode == 0, f"flux --file: {r.stderr}")
    j = json.loads(r.stdout)
    check(abs(j["diffusion"][0][0] - 0.5) < 1e-15 and abs(j["drift"][0] + 0.8) < 1e-12, "the file's noise and drift")
    face = j["scheme"]["rows"][0]
    check(abs(face["error"]) < 0.02 * abs(j["scheme"]["formula_rate"]) + 1e-3, f"scheme flux at the file's face {face}")
    bad_input(["flux", "--file", out, "--snapshot", "7"], "snapshot out of range")

finish()
