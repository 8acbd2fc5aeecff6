"""fpsolve plot: a PNG of the asked pixel size for 1-D, 2-D and 3-D files, the stationary state when a
file has one, an animated GIF with one frame a snapshot, and bad input refused with exit 2, one line
on stderr and no picture written or overwritten.

The module behind it, fpsolve.plot (SOURCE_DIR/python/fpsolve/plot.py), in-process: plot() returns the
Figure for a file path and for result objects of the Python API held in memory (1-D and 2-D runs, a
stationary state), raises ValueError with the command line's text on bad input, and imports nothing
but numpy, h5py, matplotlib and PIL (not the compiled fpsolve._core)."""
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import h5py
import numpy as np
from PIL import Image

fpsolve, source = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="fpsolve-plot-")


def run(*args, expect=0):
    r = subprocess.run([fpsolve, *args], capture_output=True, text=True, cwd=work)
    if r.returncode != expect:
        sys.exit(f"fpsolve {' '.join(args)}: exit {r.returncode}, expected {expect}\n{r.stdout}{r.stderr}")
    return r


def config(name, text):
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(text)
    run("run", path, "-o", os.path.join(work, name + ".h5"), "--quiet")
    return os.path.join(work, name + ".h5")


def check_png(path, size):
    """The picture has the asked size and shows something: many distinct colours, not a blank canvas."""
    assert os.path.getsize(path) > 1000, path
    im = Image.open(path)
    assert im.format == "PNG" and im.size == size, (path, im.format, im.size, size)
    pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    assert colours > 50, (path, colours)
    return colours


one = config("one", """
title = "1-D double well"
[grid]
lower = [-2.0]
upper = [2.0]
cells = [60]
[dynamics]
potential = "(x^2 - 1)^2"
noise = 0.6
[initial]
density = "exp(-(x - 1)^2 / 0.05)"
[time]
end = 1.0
snapshots = 4
""")
two = config("two", """
title = "2-D OU with current"
[grid]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
cells = [16, 12]
[dynamics]
drift = ["-x", "-y"]
noise = 0.5
[initial]
gaussian = { mean = [0.5, 0.0], covariance = [[0.1, 0.0], [0.0, 0.1]] }
[time]
end = 0.5
snapshots = 3
[output]
current = true
""")
three = config("three", """
title = "3-D Langevin"
[grid]
lower = [-2.0, -2.0, -2.0]
upper = [2.0, 2.0, 2.0]
cells = [8, 8, 8]
[dynamics]
potential = "(x^2 + y^2 + z^2)/2"
noise = 0.5
[initial]
gaussian = { mean = [0.5, 0.0, 0.0], covariance = [[0.2, 0.0, 0.0], [0.0, 0.2, 0.0], [0.0, 0.0, 0.2]] }
[time]
end = 0.3
snapshots = 3
""")

# 1-D, 2-D, 3-D at the asked size; the default name is the file's with .png.
size = (480, 240)
run("plot", one)
check_png(os.path.join(work, "one.png"), (1500, 500))
run("plot", two, "-o", os.path.join(work, "two.png"), "--size", "480x240", "--snapshot", "-1")
check_png(os.path.join(work, "two.png"), size)
run("plot", three, "-o", os.path.join(work, "three.png"), "--size", "480x240", "--times", "0.3")
check_png(os.path.join(work, "three.png"), size)

# The stationary state of `fpsolve stationary` (/stationary/density and /stationary/current) is drawn
# when present: the picture differs from the one without it.
stat = os.path.join(work, "stat.h5")
shutil.copy(two, stat)
with h5py.File(stat, "a") as f:
    p = f["snapshots/density"][-1]
    f["stationary/density"] = p
    f["stationary/current"] = f["snapshots/current"][-1]
    f["stationary"].attrs["relaxation_time"] = 0.5
run("plot", stat, "-o", os.path.join(work, "stat.png"), "--size", "480x240")
check_png(os.path.join(work, "stat.png"), size)
a = np.asarray(Image.open(os.path.join(work, "stat.png")).convert("RGB"))
b = np.asarray(Image.open(os.path.join(work, "two.png")).convert("RGB"))
assert np.abs(a.astype(int) - b.astype(int)).sum() > 0

# --animate: one GIF frame per snapshot.
gif = os.path.join(work, "two.gif")
r = run("plot", two, "--animate", gif, "--size", "300x200", "--fps", "4")
im = Image.open(gif)
assert im.format == "GIF" and im.n_frames == 3, (im.format, im.n_frames)
assert not os.path.exists(os.path.join(work, "two-default.png"))
assert "wrote" in r.stdout and gif in r.stdout


def refused(*args, mentions):
    """Exit 2, exactly one line "fpsolve: error: ..." naming the problem."""
    r = run(*args, expect=2)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fpsolve: error: ") and mentions in lines[0], r.stderr
    return lines[0]


# A non-fpsolve HDF5 file, a text file, a missing file: exit 2, no picture.
other = os.path.join(work, "other.h5")
with h5py.File(other, "w") as f:
    f["x"] = np.arange(3.0)
refused("plot", other, mentions="not an fpsolve file")
assert not os.path.exists(os.path.join(work, "other.png"))
text = os.path.join(work, "notes.h5")
with open(text, "w") as f:
    f.write("hello\n")
refused("plot", text, mentions="not an HDF5 file")
refused("plot", os.path.join(work, "missing.h5"), mentions="no such file")

# An existing picture is not overwritten without --force; with --force it is.
png = os.path.join(work, "one.png")
before = open(png, "rb").read()
refused("plot", one, "--size", "480x240", "--snapshot", "0", mentions="--force")
assert open(png, "rb").read() == before
run("plot", one, "--size", "480x240", "--snapshot", "0", "--force")
assert open(png, "rb").read() != before

# Snapshots and times outside the file, a wrong extension: exit 2 before anything is written.
refused("plot", one, "-o", os.path.join(work, "x.png"), "--snapshot", "4", mentions="snapshots 0 to 3")
refused("plot", one, "-o", os.path.join(work, "x.png"), "--times", "7", mentions="--times 7")
refused("plot", one, "--animate", os.path.join(work, "x.mp4"), mentions=".gif")
refused("plot", one, "-o", os.path.join(work, "nofolder", "x.png"), mentions="does not exist")
assert not os.path.exists(os.path.join(work, "x.png"))
assert not [n for n in os.listdir(work) if ".tmp" in n], os.listdir(work)


# ---------------------------------------------------------------------------------- fpsolve.plot in-process
# The source tree's package, without the compiled part (its __init__ tolerates a missing _core).
sys.path.insert(0, os.path.join(source, "python"))
import fpsolve.plot as fplot  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# The module imports only the standard library, numpy, h5py, matplotlib and PIL: never fpsolve._core.
allowed = {"argparse", "math", "operator", "os", "sys", "tomllib", "numpy", "h5py", "matplotlib", "PIL"}
with open(fplot.__file__) as f:
    tree = ast.parse(f.read())
imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
imported |= {("." if n.level else "") + (n.module or "").split(".")[0] for n in ast.walk(tree)
             if isinstance(n, ast.ImportFrom)}
assert imported <= allowed, imported - allowed


def check_figure(fig, axes, png, size=size):
    """A Figure with `axes` axes (panels, colour bars and the two diagnostics panels) and its PNG."""
    assert isinstance(fig, Figure), type(fig)
    assert len(fig.axes) == axes, (png, len(fig.axes), axes)
    check_png(png, size)


# (a) File paths: the figure comes back, the PNG is written (and an existing one overwritten: the
# function has no --force), and bad input raises ValueError with the text the command line prints.
lib = os.path.join(work, "lib")
os.mkdir(lib)
png = os.path.join(lib, "one.png")
with open(png, "w") as f:
    f.write("not a picture")
check_figure(fplot.plot(one, png, size=size), 3, png)  # the density panel, then L1/KL and free energy
check_figure(fplot.plot(two, os.path.join(lib, "two.png"), size="480x240", snapshots=[0, 1, 2]), 3 + 3 + 2,
             os.path.join(lib, "two.png"))  # three heat maps, three colour bars
check_figure(fplot.plot(three, os.path.join(lib, "three.png"), size=size, times=0.3), 3 + 1 + 2,
             os.path.join(lib, "three.png"))  # three slices, one colour bar
check_figure(fplot.plot(stat, os.path.join(lib, "stat.png"), size=size), 3 + 3 + 2,
             os.path.join(lib, "stat.png"))  # first, last snapshot and the stationary state, with colour bars
fig = fplot.plot(one, snapshots=-1)  # no output: nothing written
assert isinstance(fig, Figure) and len(fig.axes) == 3
assert sorted(os.listdir(lib)) == ["one.png", "stat.png", "three.png", "two.png"], os.listdir(lib)


def same_error(call, *cli_args):
    """call() raises ValueError whose text is what `fpsolve plot CLI_ARGS` prints after "fpsolve: error: "."""
    try:
        call()
    except ValueError as e:
        line = refused("plot", *cli_args, mentions="")
        assert line == f"fpsolve: error: {e}", (line, str(e))
        return
    raise AssertionError(f"no ValueError for {cli_args}")


same_error(lambda: fplot.plot(one, snapshots=4), one, "--snapshot", "4")
same_error(lambda: fplot.plot(one, times=[7]), one, "--times", "7")
same_error(lambda: fplot.plot(other), other)
same_error(lambda: fplot.plot(text), text)
same_error(lambda: fplot.plot(one, size=(20, 20)), one, "--size", "20x20")
same_error(lambda: fplot.plot(one, os.path.join(lib, "x.jpg")), one, "-o", os.path.join(lib, "x.jpg"))
assert not os.path.exists(os.path.join(lib, "x.jpg"))


# (b) Result objects in memory, as the Python API returns them (DESIGN §6): built here from closed forms.
def grid(lower, upper, cells, variables):
    centres = [lo + (np.arange(n) + 0.5) * (hi - lo) / n for lo, hi, n in zip(lower, upper, cells)]
    return SimpleNamespace(dims=len(cells), lower=list(lower), upper=list(upper), cells=list(cells),
                           boundary=["reflecting"] * len(cells), variables=list(variables), centres=centres)


def gaussian(g, mean, var):
    """The normalised Gaussian as cell values on grid g ("ij" order), discrete mass 1."""
    axes = np.meshgrid(*g.centres, indexing="ij")
    p = np.exp(-sum((x - m) ** 2 for x, m in zip(axes, mean)) / (2 * var))
    return p / (p.sum() * np.prod([(hi - lo) / n for lo, hi, n in zip(g.lower, g.upper, g.cells)]))


def diagnostics(g, t, densities, reference):
    h = np.prod([(hi - lo) / n for lo, hi, n in zip(g.lower, g.upper, g.cells)])
    d = len(g.cells)
    safe = [np.maximum(p, 1e-300) for p in densities]
    return {"time": t, "mass": np.array([p.sum() * h for p in densities]),
            "mean": np.zeros((len(t), d)), "covariance": np.zeros((len(t), d, d)),
            "entropy": np.array([-(p * np.log(q)).sum() * h for p, q in zip(densities, safe)]),
            "free_energy": np.array([(p * np.log(q / reference)).sum() * h for p, q in zip(densities, safe)]),
            "l1_to_reference": np.array([np.abs(p - reference).sum() * h for p in densities]),
            "kl_to_reference": np.array([(p * np.log(q / reference)).sum() * h for p, q in zip(densities, safe)]),
            "min_density": np.array([p.min() for p in densities])}


def ou_run(g, t, current=False):
    """An OU run dX = -X dt + dW from a Gaussian at 0.8 (on every axis), variance 0.05."""
    mean = [[0.8 * np.exp(-s)] * len(g.cells) for s in t]
    var = [0.5 + (0.05 - 0.5) * np.exp(-2 * s) for s in t]
    density = np.array([gaussian(g, m, v) for m, v in zip(mean, var)])
    reference = gaussian(g, [0.0] * len(g.cells), 0.5)
    j = None
    if current:  # J = mu p - D grad p for the Gaussian: (-x + (x - m)/(2 v)) p on each axis
        axes = np.meshgrid(*g.centres, indexing="ij")
        j = np.array([np.stack([(-x + (x - mm) / (2 * v)) * p for x, mm in zip(axes, m)], axis=-1)
                      for p, m, v in zip(density, mean, var)])
    return SimpleNamespace(kind="run", time=np.asarray(t), density=density, grid=g, reference=reference,
                           current=j, diagnostics=diagnostics(g, np.asarray(t), density, reference),
                           status="complete", config='title = "OU in memory"\n')


t = [0.0, 0.1, 0.3, 1.0, 3.0]
run1 = ou_run(grid([-3.0], [3.0], [80], ["x"]), t)
png = os.path.join(lib, "mem-1d.png")
check_figure(fplot.plot(run1, png, size=size), 3, png)
png = os.path.join(lib, "mem-1d-times.png")
check_figure(fplot.plot(run1, png, size=size, times=[0.0, 1.0], dpi=80), 3, png)
run2 = ou_run(grid([-2.0, -2.5], [2.0, 2.5], [24, 30], ["q", "p"]), t, current=True)
png = os.path.join(lib, "mem-2d.png")
check_figure(fplot.plot(run2, png, size=size), 2 + 2 + 2, png)  # the first and last time, colour bars
png = os.path.join(lib, "mem-2d-three.png")
check_figure(fplot.plot(run2, png, size=size, snapshots=[0, 2, -1]), 3 + 3 + 2, png)
g2 = run2.grid
steady = SimpleNamespace(kind="stationary", grid=g2, density=run2.reference, current=np.zeros((24, 30, 2)),
                         reference=run2.reference, eigenvalues=np.array([-1.0 + 0j, -1.0 + 0j, -2.0 + 0j]),
                         spectral_gap=1.0, relaxation_time=1.0, residual=1e-14)
png = os.path.join(lib, "mem-stationary.png")
check_figure(fplot.plot(steady, png, size=size), 1 + 1 + 1, png)  # heat map, colour bar, the numbers
steady1 = SimpleNamespace(kind="stationary", grid=run1.grid, density=run1.reference, current=np.zeros((80, 1)),
                          reference=run1.reference, eigenvalues=np.array([-1.0 + 0j]), spectral_gap=1.0,
                          relaxation_time=1.0, residual=1e-14)
png = os.path.join(lib, "mem-stationary-1d.png")
check_figure(fplot.plot(steady1, png, size=size), 2, png)

# The in-memory errors name the result; the GIF of a result in memory has one frame a snapshot.
for call, words in [(lambda: fplot.plot(run1, snapshots=5), "--snapshot 5: the run result has snapshots 0 to 4"),
                    (lambda: fplot.plot(steady, times=1.0), "the stationary result: holds no snapshot"),
                    (lambda: fplot.plot(SimpleNamespace(x=1)), "expected the path of an fpsolve file or a result"),
                    (lambda: fplot.plot(SimpleNamespace(**{**vars(run2), "density": run2.density[:, :3]})),
                     "density has shape [5, 3, 30], expected [5, 24, 30]")]:
    try:
        call()
        raise AssertionError(f"no error: {words}")
    except ValueError as e:
        assert words in str(e), (str(e), words)
gif = os.path.join(lib, "mem-2d.gif")
assert fplot.animate(run2, gif, size=(300, 200)) == gif
im = Image.open(gif)
assert im.format == "GIF" and im.n_frames == len(t), (im.format, im.n_frames)
# Without show=True the figures are not pyplot's: nothing accumulates in a loop.
plt = sys.modules.get("matplotlib.pyplot")
assert plt is None or not plt.get_fignums()
assert not [n for n in os.listdir(lib) if ".tmp" in n], os.listdir(lib)

shutil.rmtree(work)
print("plot: 1-D, 2-D, 3-D, stationary, GIF and bad input all as expected; fpsolve.plot.plot() on files "
      "and on results in memory too")
