"""The HDF5 layout of a run, read as another tool would (h5py), against DESIGN §4."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

fpsolve, source = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp()
config = os.path.join(work, "c.toml")
with open(config, "w") as f:
    f.write("""
title = "layout"
[grid]
lower = [-2.0, -1.0]
upper = [2.0, 1.5]
cells = [20, 10]
boundary = ["reflecting", "absorbing"]
variables = ["a", "b"]
[dynamics]
drift = ["-a", "-b"]
noise = [[0.5, 0.1], [0.1, 0.4]]
[initial]
gaussian = { mean = [0.2, 0.1], covariance = [[0.1, 0.0], [0.0, 0.05]] }
[time]
times = [0.1, 0.2, 0.4]
[output]
current = true
""")
out = os.path.join(work, "o.h5")
subprocess.run([fpsolve, "run", config, "-o", out, "--quiet"], check=True)
f = h5py.File(out, "r")
assert f.attrs["format"] == "fpsolve"
assert f.attrs["format_version"] == 1
assert f.attrs["status"] == "complete"
assert "[grid]" in f.attrs["config"]
g = f["grid"]
assert g.attrs["dims"] == 2
assert list(g.attrs["cells"]) == [20, 10]
assert list(g.attrs["boundary"]) == ["reflecting", "absorbing"]
assert list(g.attrs["variables"]) == ["a", "b"]
assert np.allclose(g["x"][:], -2.0 + 0.2 * (np.arange(20) + 0.5))
assert np.allclose(g["y"][:], -1.0 + 0.25 * (np.arange(10) + 0.5))
s = f["snapshots"]
assert list(s["time"][:]) == [0.1, 0.2, 0.4]          # t = 0 was not asked for
assert s["density"].shape == (3, 20, 10)
assert s["density"].chunks == (1, 20, 10)
assert s["density"].compression == "gzip"
assert s["current"].shape == (3, 20, 10, 2)
d = f["diagnostics"]
v = 0.2 * 0.25
for k in range(3):
    assert abs(s["density"][k].sum() * v - d["mass"][k]) < 1e-14
assert d["mean"].shape == (3, 2) and d["covariance"].shape == (3, 2, 2)
# absorbing walls: mass leaves, the outflux is recorded and positive
assert d["mass"][2] < d["mass"][0] < 1.0
assert np.all(d["outflux"][:] > 0)
# "ij" order: density[k, i, j] is at (x_i, y_j): the mean along x from the array matches the diagnostic
p = s["density"][2]
mx = (p.sum(axis=1) * g["x"][:]).sum() / p.sum()
assert abs(mx - d["mean"][2][0]) < 1e-12
assert "reference" not in f  # absorbing walls: no stationary density
print("layout ok")
