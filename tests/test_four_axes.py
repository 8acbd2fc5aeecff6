"""A 4-D run through the command line: the HDF5 layout (DESIGN §4, /grid/w for the fourth axis), no XDMF
companion, `fpsolve inspect` (text and --json) and `fpsolve plot` (2-D marginals, --slices, --animate)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from PIL import Image

fpsolve, source = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="fpsolve-4d-")


def run(*args):
    r = subprocess.run([fpsolve, *args], capture_output=True, text=True, cwd=work)
    if r.returncode != 0:
        sys.exit(f"fpsolve {' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


config = os.path.join(work, "kinetic.toml")
with open(config, "w") as f:
    f.write("""
title = "4-D kinetic OU"
[grid]
lower = [-4.0, -4.0, -4.0, -4.0]
upper = [4.0, 4.0, 4.0, 4.0]
cells = [10, 8, 12, 10]
boundary = ["reflecting", "periodic", "reflecting", "reflecting"]
variables = ["x", "y", "vx", "vy"]
[dynamics]
drift = ["vx", "vy", "-x - 0.5*vx", "-y - 0.5*vy"]
noise = [0.0, 0.0, 1.0, 1.0]
scheme = "upwind"  # positive on cells this coarse (the layout, not the accuracy, is checked here)
[initial]
gaussian = { mean = [1.0, 0.0, 0.0, 0.0], covariance = 0.4 }
[time]
end = 0.2
snapshots = 3
[output]
current = true
""")
out = os.path.join(work, "kinetic.h5")
# A stale companion from an earlier 3-D file of the same name must not survive: it would describe other data.
with open(os.path.join(work, "kinetic.xdmf"), "w") as f:
    f.write("<Xdmf/>\n")
run("run", config, "-o", out, "--quiet")

cells = [10, 8, 12, 10]
with h5py.File(out, "r") as f:
    assert f.attrs["status"] == "complete"
    g = f["grid"]
    assert g.attrs["dims"] == 4
    assert list(g.attrs["cells"]) == cells
    assert list(g.attrs["variables"]) == ["x", "y", "vx", "vy"]
    assert list(g.attrs["boundary"]) == ["reflecting", "periodic", "reflecting", "reflecting"]
    assert sorted(k for k in g.keys()) == ["w", "x", "y", "z"], list(g.keys())
    for name, n in zip("xyzw", cells):
        h = 8.0 / n
        assert np.allclose(g[name][:], -4.0 + h * (np.arange(n) + 0.5)), name
    s = f["snapshots"]
    assert s["density"].shape == (3, *cells)
    assert s["density"].chunks == (1, *cells)
    assert s["current"].shape == (3, *cells, 4)
    d = f["diagnostics"]
    assert d["mean"].shape == (3, 4) and d["covariance"].shape == (3, 4, 4)
    v = np.prod([8.0 / n for n in cells])
    p = s["density"][2]
    assert abs(p.sum() * v - 1.0) < 1e-12 and abs(d["mass"][2] - 1.0) < 1e-12
    # "ij" order on four axes: the mean of vx from the array is the diagnostic's.
    mean_vx = (p.sum(axis=(0, 1, 3)) * g["z"][:]).sum() * v / (p.sum() * v)
    assert abs(mean_vx - d["mean"][2][2]) < 1e-12, (mean_vx, d["mean"][2])
    cov = d["covariance"][2]
    assert np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0)
    # mean x' = vx: x starts at 1 with vx = 0 and moves little by t = 0.2; vx turns negative (force -x).
    assert d["mean"][2][2] < -0.1 and abs(d["mean"][2][0] - 1.0) < 0.05, d["mean"][2]
assert not os.path.exists(os.path.join(work, "kinetic.xdmf")), "XDMF cannot describe 4-D: no companion expected"

# inspect: every axis with its name, bounds and cells; --json with four entries per axis key.
r = run("inspect", out)
assert "grid: 4-D" in r.stdout, r.stdout
for name in ["x in [-4, 4], 10 cells", "y in [-4, 4], 8 cells, periodic", "vx in [-4, 4], 12 cells",
             "vy in [-4, 4], 10 cells"]:
    assert name in r.stdout, (name, r.stdout)
assert "snapshots: 3" in r.stdout
j = json.loads(run("inspect", out, "--json").stdout)
assert j["grid"]["dims"] == 4 and j["grid"]["cells"] == cells and j["grid"]["variables"] == ["x", "y", "vx", "vy"]
assert j["verdicts"]["final_mass"] == j["verdicts"]["final_mass"] and abs(j["verdicts"]["final_mass"] - 1.0) < 1e-12


def check_png(path, size):
    im = Image.open(path)
    assert im.format == "PNG" and im.size == size, (path, im.size)
    assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 50, path
    return np.asarray(im.convert("RGB")).astype(int)


# plot: six 2-D marginals by default, slices through the densest cell with --slices (a different picture).
run("plot", out, "--size", "900x450")
marginals = check_png(os.path.join(work, "kinetic.png"), (900, 450))
run("plot", out, "-o", os.path.join(work, "slices.png"), "--size", "900x450", "--slices")
slices = check_png(os.path.join(work, "slices.png"), (900, 450))
assert np.abs(marginals - slices).sum() > 0
gif = os.path.join(work, "kinetic.gif")
run("plot", out, "--animate", gif, "--size", "300x200")
assert Image.open(gif).n_frames == 3

# The module in-process: one panel per pair of axes (6), one colour bar, two diagnostics panels; the
# marginal over (x, vx) is the density summed over y and vy times their spacings.
sys.path.insert(0, os.path.join(source, "python"))
import fpsolve.plot as fplot  # noqa: E402

fig = fplot.plot(out, size=(900, 450))
assert len(fig.axes) == 6 + 1 + 2, len(fig.axes)
titles = [ax.get_title() for ax in fig.axes[:6]]
assert all("marginal" in t for t in titles), titles
assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes[:6]] == [
    ("x", "y"), ("x", "vx"), ("x", "vy"), ("y", "vx"), ("y", "vy"), ("vx", "vy")]
src = fplot.FpsolveFile(out)
p = src.snapshot(2)
plane, where = fplot.plane(src, p, 0, 2, slices=False)
assert plane.shape == (10, 12) and where == ""
assert abs(plane.sum() * (8.0 / 10) * (8.0 / 12) - 1.0) < 1e-12  # a marginal keeps the mass
plane, where = fplot.plane(src, p, 0, 2, slices=True)
at = np.unravel_index(np.argmax(p), p.shape)
assert np.array_equal(plane, p[:, at[1], :, at[3]]) and where.startswith("y = ") and ", vy = " in where
src.close()
fig = fplot.plot(out, size=(900, 450), slices=True)
titles = [ax.get_title() for ax in fig.axes[:6]]
assert "slice vx = " in titles[0] and "slice y = " in titles[1] and "slice x = " in titles[5], titles

shutil.rmtree(work)
print("4-D: /grid/w, 5-D snapshots, 4x4 covariance, no XDMF, inspect and plot (marginals, slices, GIF) as expected")
