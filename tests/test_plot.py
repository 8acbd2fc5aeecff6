"""fpsolve plot: a PNG of the asked pixel size for 1-D, 2-D and 3-D files, the stationary state when a
file has one, an animated GIF with one frame a snapshot, and bad input refused with exit 2, one line
on stderr and no picture written or overwritten."""
import os
import shutil
import subprocess
import sys
import tempfile

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

shutil.rmtree(work)
print("plot: 1-D, 2-D, 3-D, stationary, GIF and bad input all as expected")
