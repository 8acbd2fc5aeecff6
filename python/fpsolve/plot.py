#!/usr/bin/python3
"""Pictures of an fpsolve HDF5 file (DESIGN §4): what `fpsolve plot` runs.

Command line (`fpsolve plot` runs it with PYTHONPATH at the folder that holds the fpsolve package):

    python3 -m fpsolve.plot OUT.h5 [-o FILE.png] [--snapshot K | --times T ...] [--animate FILE.gif]
                            [--slices] [--size WxH] [--fps F] [--force] [--quiet]

From Python, on a file or on a result of the Python API (DESIGN §6), without the compiled part:

    from fpsolve.plot import plot, animate
    fig = plot("dw.h5", "dw.png")                       # returns the matplotlib Figure
    fig = plot(fpsolve.run("dw.toml"), times=[0, 1, 5])  # in memory; nothing written without output
    animate(fpsolve.load("dw.h5"), "dw.gif")

1-D: the density at several times over the reference (stationary closed form) density.
2-D: heat maps of the density with the reference as contour lines and the probability current J as
     stream lines (when the file has currents); the steady state of `fpsolve stationary` when present.
3-D and 4-D: one panel per pair of axes (3 in 3-D, 6 in 4-D), each the 2-D marginal density (the density
     summed over the other axes times their spacings), or with --slices (slices=True) the plane through the
     densest cell; the reference likewise. Axes are labelled with the variable names.
Every picture ends with a diagnostics panel: L1 and KL distance to the reference on a log scale, and
the free energy F = sum (L + T ln p) p V, which falls monotonically to its Gibbs value.
--animate writes the evolution as an animated GIF (matplotlib's PillowWriter); in 3-D and 4-D its frames show
the first two axes (marginal, or the slice through each frame's densest cell).

Exit codes: 0 success, 1 failure while plotting, 2 bad input (one line "fpsolve: error: ..." on
stderr; no file is created or overwritten), 3 this Python lacks h5py, numpy, matplotlib or PIL.
The library functions raise instead: InputError (a ValueError, with the text the command line prints)
for bad input, MissingModule (an ImportError) for a missing module.

This module imports nothing from the package's compiled part (fpsolve._core): numpy, h5py (only to
read files), matplotlib (once the input has been checked) and PIL (for GIFs).
"""
import argparse
import math
import operator
import os
import sys

__all__ = ["plot", "animate", "main", "InputError", "MissingModule", "Source", "FpsolveFile", "FpsolveResult"]

DESCRIPTION = "Pictures of an fpsolve HDF5 file (DESIGN §4): what `fpsolve plot` runs."
PICTURE_KINDS = [".png", ".pdf", ".svg"]
DEFAULT_SIZE = (1500, 500)
DEFAULT_DPI = 100
AXIS_DATASETS = "xyzw"  # /grid/x, /grid/y, /grid/z, /grid/w: the centres of axes 0 to 3 (DESIGN §4)


class InputError(ValueError):
    """Bad input; the command line prints it after "fpsolve: error: " and exits 2."""


class MissingModule(ImportError):
    """This Python lacks a module the pictures need; the command line prints it and exits 3."""


def missing_module(e, debian="python3-h5py python3-matplotlib python3-numpy"):
    return MissingModule(f"{sys.executable} cannot import {e.name} (Debian: {debian})", name=e.name)


def fail(code, what):
    """The command line's one error line; returns the exit code."""
    print(f"fpsolve: error: {what}", file=sys.stderr)
    return code


try:
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    if __name__ == "__main__":
        sys.exit(fail(3, missing_module(e)))
    raise missing_module(e) from e
try:
    import h5py
except ImportError as e:  # pragma: no cover
    if __name__ == "__main__":
        sys.exit(fail(3, missing_module(e)))
    h5py, _h5py_missing = None, missing_module(e)  # results in memory draw without it

# matplotlib is slow to import: it is loaded once the input has been checked.
mpl = Figure = Line2D = None


def load_matplotlib(headless):
    """Imports matplotlib; `headless` (the command line) selects the Agg backend, the library keeps the
    user's. Raises MissingModule."""
    global mpl, Figure, Line2D
    try:
        import matplotlib

        if headless:
            matplotlib.use("Agg")
        from matplotlib.figure import Figure as figure_class
        from matplotlib.lines import Line2D as line2d
    except ImportError as e:  # pragma: no cover
        raise missing_module(e) from e
    mpl, Figure, Line2D = matplotlib, figure_class, line2d


# ---------------------------------------------------------------------------------------------- reading


def config_title(config, fallback):
    """The `title` of a config given as TOML text or as a dict; `fallback` when there is none."""
    if isinstance(config, bytes):
        config = config.decode()
    try:
        if isinstance(config, dict):
            title = config.get("title", "")
        else:
            import tomllib

            title = tomllib.loads(config).get("title", "")
        return str(title) or fallback
    except Exception:
        return fallback


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


class Source:
    """What a picture needs of an fpsolve result: the interface every drawing function uses.

    Two implementations: FpsolveFile (an HDF5 file, densities read one snapshot at a time) and
    FpsolveResult (a result object of the Python API, in memory). Attributes:

        name        how messages name it: the path, or "the run result"
        label       the tag in the picture's title: the file's base name (also a result's `output`), or "in memory"
        title       the config's title; status: "complete", "running", ... ("" when unknown)
        dims        1 to 4; lower, upper: float arrays [d]; cells: ints [d]; variables: names [d]
        centres     one array of cell centres an axis
        times       [n] snapshot times (empty when there are none)
        density     [n, cells...] (array or h5py dataset) or None; current [n, cells..., d] or None
        reference   [cells...] or None
        stationary  [cells...] or None; stationary_current [cells..., d] or None
        stationary_attrs  the numbers of the steady state (residual, spectral_gap, ...), a dict
        diagnostics dict of arrays keyed by the §4 names (time, mass, l1_to_reference, ...)
    """

    name = label = title = status = ""
    dims = 0
    times = np.zeros(0)
    density = current = reference = stationary = stationary_current = None
    stationary_attrs = {}
    diagnostics = {}

    def snapshot(self, k):
        return np.asarray(self.density[k])

    def snapshot_current(self, k):
        return None if self.current is None else np.asarray(self.current[k])

    def extent(self, a, b):
        return [self.lower[a], self.upper[a], self.lower[b], self.upper[b]]

    def close(self):
        pass

    def _check_contents(self):
        if self.density is None and self.stationary is None:
            raise InputError(f"{self.name}: holds no snapshot and no stationary state to plot")


class FpsolveFile(Source):
    """An fpsolve HDF5 file (DESIGN §4)."""

    def __init__(self, path):
        self.path = self.name = path
        self.label = os.path.basename(path)
        self.h5 = None
        if h5py is None:
            raise _h5py_missing
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder, not an fpsolve file")
        try:
            is_hdf5 = h5py.is_hdf5(path)
        except OSError:
            is_hdf5 = False
        if not is_hdf5:
            raise InputError(f"{path}: not an HDF5 file")
        try:
            self.h5 = h5py.File(path, "r")
        except OSError as e:
            raise InputError(f"{path}: cannot open ({e}); a writer that was killed leaves it locked: h5clear -s {path}")
        try:
            self._read()
        except BaseException:
            self.close()
            raise

    def _read(self):
        path = self.path
        fmt = self.h5.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != "fpsolve":
            raise InputError(f'{path}: not an fpsolve file (no format = "fpsolve" attribute)')
        try:
            g = self.h5["grid"]
            self.dims = int(np.asarray(g.attrs["dims"]).reshape(-1)[0])
            if self.dims not in (1, 2, 3, 4):
                raise InputError(f"{path}: /grid dims is {self.dims}, expected 1, 2, 3 or 4")
            self.lower = np.asarray(g.attrs["lower"], dtype=float)
            self.upper = np.asarray(g.attrs["upper"], dtype=float)
            self.cells = [int(c) for c in np.asarray(g.attrs["cells"])]
            self.variables = [text(v) for v in g.attrs["variables"]]
            self.centres = [np.asarray(g[AXIS_DATASETS[a]]) for a in range(self.dims)]
            snaps = self.h5.get("snapshots")
            self.times = np.asarray(snaps["time"]) if snaps is not None and "time" in snaps else np.zeros(0)
            self.density = snaps["density"] if len(self.times) else None
            self.current = snaps["current"] if len(self.times) and "current" in snaps else None
            self.reference = np.asarray(self.h5["reference/density"]) if "reference/density" in self.h5 else None
            st = self.h5.get("stationary")
            self.stationary = np.asarray(st["density"]) if st is not None and "density" in st else None
            self.stationary_current = np.asarray(st["current"]) if st is not None and "current" in st else None
            self.stationary_attrs = dict(st.attrs) if st is not None else {}
            self.diagnostics = {k: np.asarray(v) for k, v in self.h5["diagnostics"].items()} if "diagnostics" in self.h5 else {}
            self.status = text(self.h5.attrs.get("status", ""))
        except InputError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise InputError(f"{path}: damaged fpsolve file ({e})")
        self.title = config_title(self.h5.attrs.get("config", ""), os.path.basename(path))
        self._check_contents()

    def close(self):
        if self.h5 is not None:
            self.h5.close()
            self.h5 = None


# The scalars of a stationary result drawn in its panel: the attributes `fpsolve stationary` writes.
STATIONARY_FACTS = ("kind", "residual", "spectral_gap", "relaxation_time", "max_abs_current", "l1_to_reference",
                    "reference_kind", "escape_rate", "mfpt_from_initial")


class FpsolveResult(Source):
    """A result object of the Python API (DESIGN §6): fpsolve.run, fpsolve.stationary or fpsolve.load.

    A run result (kind "run") has time [n], density [n, cells...], grid, diagnostics (dict), reference
    ([cells...] or None), current ([n, cells..., d] or None), status; a stationary one (kind
    "stationary") has density [cells...], current [cells..., d], spectral_gap, relaxation_time, residual.
    The grid has dims, lower, upper, cells, variables and centres (one array an axis).
    """

    def __init__(self, result):
        kind = getattr(result, "kind", None)
        if kind is None:
            kind = "run" if hasattr(result, "time") else "stationary" if hasattr(result, "spectral_gap") else None
        if kind not in ("run", "stationary") or not hasattr(result, "grid") or not hasattr(result, "density"):
            raise InputError(f"expected the path of an fpsolve file or a result of fpsolve.run, fpsolve.stationary "
                             f"or fpsolve.load, got {type(result).__name__}")
        self.result = result
        self.name = f"the {kind} result"
        output = getattr(result, "output", None)  # the file the run wrote or was loaded from, if any
        has_file = isinstance(output, (str, bytes, os.PathLike))
        self.label = os.path.basename(os.fsdecode(output)) if has_file else "in memory"
        self._read_grid(result.grid)
        cells = tuple(self.cells)
        try:
            if kind == "run":
                self.times = np.asarray(result.time, dtype=float).reshape(-1)
                n = len(self.times)
                if n:
                    self.density = self._array(result.density, "density", (n, *cells))
                    self.current = self._array(getattr(result, "current", None), "current", (n, *cells, self.dims))
                steady = getattr(result, "stationary", None)  # a loaded file with a steady state
                if steady is not None and getattr(steady, "density", None) is not None:
                    self._read_stationary(steady, cells)
            else:
                self._read_stationary(result, cells)
            self.reference = self._array(getattr(result, "reference", None), "reference", cells)
            self.diagnostics = {str(k): np.asarray(v) for k, v in (getattr(result, "diagnostics", None) or {}).items()}
        except (TypeError, ValueError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"{self.name}: damaged result ({e})")
        self.status = text(getattr(result, "status", "") or "")
        title = getattr(result, "title", None)
        self.title = str(title) if title else config_title(getattr(result, "config", None) or "", f"fpsolve.{kind}")
        self._check_contents()

    def _read_grid(self, g):
        try:
            self.dims = int(np.asarray(g.dims).reshape(-1)[0])
            if self.dims not in (1, 2, 3, 4):
                raise InputError(f"{self.name}: grid dims is {self.dims}, expected 1, 2, 3 or 4")
            self.lower = np.asarray(g.lower, dtype=float).reshape(-1)
            self.upper = np.asarray(g.upper, dtype=float).reshape(-1)
            self.cells = [int(c) for c in np.asarray(g.cells).reshape(-1)]
            variables = getattr(g, "variables", None)
            self.variables = [text(v) for v in variables] if variables is not None else list(AXIS_DATASETS[: self.dims])
            self.centres = [np.asarray(c, dtype=float).reshape(-1) for c in g.centres]
        except InputError:
            raise
        except (AttributeError, IndexError, TypeError, ValueError) as e:
            raise InputError(f"{self.name}: incomplete grid ({e})")
        lengths = [len(self.lower), len(self.upper), len(self.cells), len(self.variables), len(self.centres)]
        if any(n != self.dims for n in lengths) or any(len(c) != n for c, n in zip(self.centres, self.cells)):
            raise InputError(f"{self.name}: grid with dims {self.dims} has lower, upper, cells, variables, centres "
                             f"of lengths {lengths} and centres of {[len(c) for c in self.centres]} points")

    def _array(self, value, what, shape):
        if value is None:
            return None
        value = np.asarray(value, dtype=float)
        if value.shape != shape:
            raise InputError(f"{self.name}: {what} has shape {list(value.shape)}, expected {list(shape)}")
        return value

    def _read_stationary(self, st, cells):
        self.stationary = self._array(st.density, "stationary density", cells)
        self.stationary_current = self._array(getattr(st, "current", None), "stationary current", (*cells, self.dims))
        self.stationary_attrs = {}
        for key in STATIONARY_FACTS:
            value = getattr(st, key, None)
            if key == "kind" and value in ("run", "stationary"):
                continue  # the Python result's type, not the file's "stationary" / "quasi-stationary"
            if isinstance(value, (str, bytes)):
                self.stationary_attrs[key] = text(value)
            elif value is not None and np.ndim(value) == 0 and np.isrealobj(value) and np.isfinite(value):
                self.stationary_attrs[key] = float(value)  # (a result may hold NaN where a file has no attribute)


def open_source(source):
    """(Source, whether we opened it): a Source as it is, a path as an FpsolveFile, else a result object."""
    if isinstance(source, Source):
        return source, False
    if isinstance(source, (str, bytes, os.PathLike)):
        return FpsolveFile(os.fsdecode(source)), True
    return FpsolveResult(source), False


def pick_snapshots(f, snapshots=None, times=None):
    """Indices of the snapshots to draw: `snapshots` (indices, negative from the end), or those nearest
    `times`, or a default spread."""
    n = len(f.times)
    if snapshots and times:
        raise InputError("argument --times: not allowed with argument --snapshot")
    if n == 0:
        if snapshots or times:
            raise InputError(f"{f.name}: holds no snapshot (only a stationary state)")
        return []
    if snapshots:
        picked = []
        for s in snapshots:
            k = s + n if s < 0 else s
            if not 0 <= k < n:
                raise InputError(f"--snapshot {s}: {f.name} has snapshots 0 to {n - 1}")
            if k not in picked:
                picked.append(k)
        return picked
    if times:
        t0, t1 = f.times[0], f.times[-1]
        slack = 1e-9 * max(1.0, abs(t1 - t0))
        picked = []
        for t in times:
            if not (t0 - slack <= t <= t1 + slack):
                raise InputError(f"--times {t:g}: {f.name} has snapshots from t = {t0:g} to {t1:g}")
            k = int(np.argmin(np.abs(f.times - t)))
            if k not in picked:
                picked.append(k)
        return picked
    if f.dims > 1:
        return sorted({0, n - 1})
    # 1-D: t = 0, the last time, and up to four between, spread on a log scale of time because
    # relaxation is exponential.
    picked = {0, n - 1}
    positive = f.times[f.times > f.times[0]]
    if len(positive) > 1:
        for t in np.geomspace(positive[0], positive[-1], 6)[1:-1]:
            picked.add(int(np.argmin(np.abs(np.log(np.maximum(f.times, 1e-300)) - math.log(t)))))
    return sorted(picked)


# ---------------------------------------------------------------------------------------------- drawing


def axis_label(f, a):
    return f.variables[a]


def draw_diagnostics(f, ax_dist, ax_free):
    """L1 and KL to the reference (log scale); free energy, or entropy when there is no free energy."""
    d = f.diagnostics
    t = d.get("time", f.times)
    drew = False
    if "l1_to_reference" in d:
        ax_dist.semilogy(t, np.where(d["l1_to_reference"] > 0, d["l1_to_reference"], np.nan), "o-", ms=3,
                         label=r"L1 to reference $\|p - p_\infty\|_1$")
        drew = True
    if "kl_to_reference" in d:
        ax_dist.semilogy(t, np.where(d["kl_to_reference"] > 0, d["kl_to_reference"], np.nan), "s-", ms=3,
                         label=r"KL$(p \,\|\, p_\infty)$")
        drew = True
    if not drew and f.density is not None and len(f.times) > 1 and f.density.size <= 2e7:
        # No closed form: how fast the density still moves, ||p(t_k) - p(t_{k-1})||_1 / dt.
        h = np.prod((f.upper - f.lower) / np.asarray(f.cells))
        prev = f.snapshot(0)
        change = []
        for k in range(1, len(f.times)):
            cur = f.snapshot(k)
            change.append(np.abs(cur - prev).sum() * h / max(f.times[k] - f.times[k - 1], 1e-300))
            prev = cur
        change = np.asarray(change)
        ax_dist.semilogy(f.times[1:], np.where(change > 0, change, np.nan), "o-", ms=3,
                         label=r"$\|p(t_k) - p(t_{k-1})\|_1 / \Delta t$")
        ax_dist.text(0.02, 0.02, "no closed-form reference", transform=ax_dist.transAxes, fontsize=8, color="0.4")
        ax_dist.set_title("approach to a steady state")
        drew = True
    else:
        ax_dist.set_title("distance to the stationary density")
    if drew:
        ax_dist.legend(fontsize=8, loc="upper right")
    else:
        ax_dist.text(0.5, 0.5, "no reference", transform=ax_dist.transAxes, ha="center", va="center")
    ax_dist.grid(True, which="major", alpha=0.3)
    ax_dist.tick_params(labelbottom=False)

    fe = d.get("free_energy")
    if fe is not None and np.isfinite(fe).any():
        ax_free.plot(t, fe, "o-", ms=3, color="C2", label=r"free energy $\sum (L + T \ln p)\, p\, V$")
    elif "entropy" in d:
        ax_free.plot(t, d["entropy"], "o-", ms=3, color="C3", label=r"entropy $-\sum p \ln p\, V$")
    if ax_free.lines:
        ax_free.legend(fontsize=8, loc="best")
    ax_free.set_xlabel("t")
    ax_free.grid(True, alpha=0.3)


def add_diagnostics(fig, spec):
    sub = spec.subgridspec(2, 1, hspace=0.08, height_ratios=[3, 2])
    ax_dist = fig.add_subplot(sub[0])
    ax_free = fig.add_subplot(sub[1], sharex=ax_dist)
    return ax_dist, ax_free


def time_colours(ks):
    cmap = mpl.colormaps["viridis"]
    return [cmap(0.9 * i / max(len(ks) - 1, 1)) for i in range(len(ks))]


def plot_1d(f, ks, fig, spec):
    ax = fig.add_subplot(spec)
    x = f.centres[0]
    for k, c in zip(ks, time_colours(ks)):
        ax.plot(x, f.snapshot(k), color=c, lw=1.6, label=f"t = {f.times[k]:.4g}")
    if f.stationary is not None:
        ax.plot(x, f.stationary, ":", color="C3", lw=2.2, label="stationary (fpsolve stationary)")
    if f.reference is not None:
        ax.plot(x, f.reference, "--", color="k", lw=1.4, label="reference (closed form)")
    ax.set_xlabel(axis_label(f, 0))
    ax.set_ylabel("density p")
    ax.set_xlim(f.lower[0], f.upper[0])
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("density over the reference density")


def aspect(f, a, b):
    r = (f.upper[b] - f.lower[b]) / (f.upper[a] - f.lower[a])
    return "equal" if 1 / 3 <= r <= 3 else "auto"


def heat_map(f, ax, field, a, b, title, reference=None, current=None, vmax=None):
    """field[i, j] at (centre_a[i], centre_b[j]); drawn with axis a horizontal."""
    im = ax.imshow(field.T, origin="lower", extent=f.extent(a, b), cmap="magma", aspect=aspect(f, a, b),
                   interpolation="nearest", vmin=0, vmax=vmax)
    handles = []
    if reference is not None and np.max(reference) > 0:
        levels = np.max(reference) * np.array([0.05, 0.2, 0.4, 0.6, 0.8])
        ax.contour(f.centres[a], f.centres[b], reference.T, levels=levels, colors="c", linewidths=0.9)
        handles.append(Line2D([], [], color="c", lw=0.9, label="reference"))
    if current is not None:
        u, v = current[..., 0].T, current[..., 1].T
        speed = np.hypot(u, v)
        if np.max(speed) > 0:
            # No stream lines where almost no mass moves: there J is round-off and its direction noise.
            faint = speed < 0.02 * np.max(speed)
            u, v = np.ma.array(u, mask=faint), np.ma.array(v, mask=faint)
            ax.streamplot(f.centres[a], f.centres[b], u, v, color="w", density=1.0, arrowsize=0.8,
                          linewidth=0.4 + 1.6 * speed / np.max(speed))
            handles.append(Line2D([], [], color="w", lw=1.2, label="current J"))
    if handles:
        leg = ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.4, facecolor="0.3", labelcolor="w")
        leg.get_frame().set_edgecolor("none")
    ax.set_xlabel(axis_label(f, a))
    ax.set_ylabel(axis_label(f, b))
    ax.set_xlim(f.lower[a], f.upper[a])
    ax.set_ylim(f.lower[b], f.upper[b])
    ax.set_title(title, fontsize=10)
    return im


def plot_2d(f, ks, fig, spec):
    panels = [("snapshot", k) for k in ks]
    if f.stationary is not None:
        panels.append(("stationary", None))
    elif not panels:
        panels.append(("reference", None))
    sub = spec.subgridspec(1, len(panels), wspace=0.35)
    for i, (kind, k) in enumerate(panels):
        ax = fig.add_subplot(sub[i])
        if kind == "snapshot":
            im = heat_map(f, ax, f.snapshot(k), 0, 1, f"density at t = {f.times[k]:.4g}", f.reference,
                          f.snapshot_current(k))
        elif kind == "stationary":
            extra = f.stationary_attrs.get("relaxation_time")
            title = "stationary state" + (f" (relaxation time {float(extra):.3g})" if extra is not None else "")
            im = heat_map(f, ax, f.stationary, 0, 1, title, f.reference, f.stationary_current)
        else:
            im = heat_map(f, ax, f.reference, 0, 1, "reference (closed form)")
        fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)


def densest_cell(field):
    """The multi-index of the largest value of `field` (the first of equals)."""
    return np.unravel_index(int(np.argmax(field)), np.shape(field))


def plane(f, field, a, b, slices, at=None):
    """Field [cells...] over axes a < b: the marginal density (the sum over the other axes times their spacings,
    so that it integrates to the mass), or with `slices` the plane through cell `at` (default: field's densest).
    Returns (array [n_a, n_b], the other axes' values of the slice as text, "" for a marginal)."""
    others = tuple(c for c in range(f.dims) if c not in (a, b))
    if not slices:
        volume = float(np.prod([(f.upper[c] - f.lower[c]) / f.cells[c] for c in others]))
        return np.sum(field, axis=others) * volume, ""
    at = densest_cell(field) if at is None else at
    where = ", ".join(f"{f.variables[c]} = {f.centres[c][at[c]]:.3g}" for c in others)
    return field[tuple(slice(None) if c in (a, b) else at[c] for c in range(f.dims))], where


def plot_nd(f, ks, fig, spec, slices=False):
    """3-D and 4-D: one heat map per pair of axes (3 or 6) of the last snapshot given (or the stationary state),
    on one colour scale: marginals, or slices through the densest cell."""
    k = ks[-1] if ks else None
    field = f.snapshot(k) if k is not None else f.stationary
    label = f"t = {f.times[k]:.4g}" if k is not None else "stationary"
    at = densest_cell(field)
    pairs = [(a, b) for a in range(f.dims) for b in range(a + 1, f.dims)]
    planes = [plane(f, field, a, b, slices, at) for a, b in pairs]
    refs = [plane(f, f.reference, a, b, slices, at)[0] if f.reference is not None else None for a, b in pairs]
    vmax = max(float(np.max(p)) for p, _ in planes)
    rows = 1 if len(pairs) <= 3 else 2
    columns = -(-len(pairs) // rows)
    sub = spec.subgridspec(rows, columns, wspace=0.4, hspace=0.5)
    for i, ((a, b), (p, where), ref) in enumerate(zip(pairs, planes, refs)):
        ax = fig.add_subplot(sub[i // columns, i % columns])
        title = f"{label}, slice {where}" if slices else f"{label}, marginal"
        im = heat_map(f, ax, p, a, b, title, ref, vmax=vmax)
    fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)


def figure(size, dpi, pyplot=False):
    """A figure of size[0] x size[1] pixels at `dpi`: a bare Figure (no pyplot state, no window), or with
    `pyplot` one that pyplot manages, for plt.show()."""
    figsize = (size[0] / dpi, size[1] / dpi)
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, dpi=dpi)
    return Figure(figsize=figsize, dpi=dpi)


def draw_stationary_facts(f, ax):
    """For a file with a steady state and no time series: the numbers `fpsolve stationary` stored."""
    ax.axis("off")
    lines = ["steady state (fpsolve stationary)", ""]
    for key, value in sorted(f.stationary_attrs.items()):
        value = np.asarray(value).reshape(-1)
        text = ", ".join(f"{float(v):.4g}" if np.issubdtype(value.dtype, np.number) else str(v) for v in value)
        lines.append(f"{key.replace('_', ' ')}: {text}")
    if f.reference is not None and f.stationary is not None:
        h = np.prod((f.upper - f.lower) / np.asarray(f.cells))
        lines.append(f"L1 to reference (here): {np.abs(f.stationary - f.reference).sum() * h:.3g}")
    ax.text(0.02, 0.95, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=10, family="monospace")


def draw(f, ks, size, dpi, pyplot=False, slices=False):
    """The picture of snapshots `ks` of source `f`: the densities, then the diagnostics panel."""
    fig = figure(size, dpi, pyplot)
    has_diag = True
    widths = {1: [3, 2], 2: [3 if len(ks) + 1 > 2 else 2.4, 1.2], 3: [3.4, 1.1], 4: [3.4, 1.1]}[f.dims]
    gs = fig.add_gridspec(1, 2 if has_diag else 1, width_ratios=widths if has_diag else None, wspace=0.18,
                          left=0.05, right=0.98, bottom=0.12, top=0.86)
    if f.dims <= 2:
        {1: plot_1d, 2: plot_2d}[f.dims](f, ks, fig, gs[0])
    else:
        plot_nd(f, ks, fig, gs[0], slices)
    if f.diagnostics and len(f.times) > 0:
        draw_diagnostics(f, *add_diagnostics(fig, gs[1]))
    else:
        draw_stationary_facts(f, fig.add_subplot(gs[1]))
    status = "" if f.status in ("complete", "") else f"  [status: {f.status}]"
    fig.suptitle(f"{f.title}  ({f.label}){status}", fontsize=12)
    return fig


# ---------------------------------------------------------------------------------------------- animation


def write_animation(f, out, size, dpi, fps, max_frames, slices=False):
    """The evolution of source `f` as an animated GIF `out`: one frame a snapshot, at most `max_frames`."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    n = len(f.times)
    if n == 0:
        raise InputError(f"--animate: {f.name} holds no snapshot to animate")
    frames = list(range(n)) if n <= max_frames else sorted(set(np.linspace(0, n - 1, max_frames).round().astype(int)))
    fig = figure((size[0] * 2 // 3 if f.dims == 1 else size[1] * 6 // 5, size[1]), dpi)
    ax = fig.add_subplot(1, 1, 1)
    if f.dims == 1:
        x = f.centres[0]
        top = max(float(np.max(f.snapshot(k))) for k in frames)
        if f.reference is not None:
            ax.plot(x, f.reference, "--", color="k", lw=1.4, label="reference (closed form)")
            top = max(top, float(np.max(f.reference)))
        (line,) = ax.plot(x, f.snapshot(0), color="C0", lw=1.8, label="density p")
        ax.set_xlim(f.lower[0], f.upper[0])
        ax.set_ylim(0, 1.05 * top)
        ax.set_xlabel(axis_label(f, 0))
        ax.set_ylabel("density p")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")

        def field(k):
            return f.snapshot(k)

        def update(k):
            line.set_ydata(field(k))
            ax.set_title(f"{f.title}: t = {f.times[k]:.4g}")
            return (line,)
    else:
        # 2-D: the density; 3-D and 4-D: over the first two axes, the marginal or the slice through the frame's
        # densest cell (the reference: its marginal, or its slice through its own densest cell).
        def field(k):
            p = f.snapshot(k)
            return (p, "") if f.dims == 2 else plane(f, p, 0, 1, slices)

        ref = f.reference if f.dims == 2 or f.reference is None else plane(f, f.reference, 0, 1, slices)[0]
        # The colour scale follows each frame (a narrow start would leave every later frame black).
        im = heat_map(f, ax, field(0)[0], 0, 1, "", ref)
        fig.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
        quiver = None
        if f.current is not None and f.dims == 2:
            step = [max(1, c // 16) for c in f.cells]
            X, Y = np.meshgrid(f.centres[0][:: step[0]], f.centres[1][:: step[1]], indexing="ij")
            arrow = 1.2 * min(step[a] * (f.upper[a] - f.lower[a]) / f.cells[a] for a in range(2))

            def arrows(k):
                # Directions, with lengths relative to the frame's strongest current; none where J is faint.
                j = f.snapshot_current(k)[:: step[0], :: step[1]]
                u, v = j[..., 0], j[..., 1]
                speed = np.hypot(u, v)
                top = max(float(np.max(speed)), 1e-300)
                keep = speed >= 0.05 * top
                return np.where(keep, u / top, np.nan), np.where(keep, v / top, np.nan)

            quiver = ax.quiver(X, Y, *arrows(frames[0]), color="w", alpha=0.85, angles="xy", scale_units="xy",
                               scale=1.0 / arrow, width=0.004)

        def update(k):
            p, where = field(k)
            im.set_data(p.T)
            im.set_clim(0.0, max(float(np.max(p)), 1e-300))
            if quiver is not None:
                quiver.set_UVC(*arrows(k))
            where = f", {where}" if where else ("" if f.dims == 2 else ", marginal")
            ax.set_title(f"{f.title}: t = {f.times[k]:.4g}{where}", fontsize=10)
            return (im,)

    update(frames[0])
    fig.tight_layout()
    anim = FuncAnimation(fig, update, frames=frames, blit=False)
    anim.save(out, writer=PillowWriter(fps=fps), dpi=dpi)


# ---------------------------------------------------------------------------------------------- output


def parse_size(s):
    """WIDTHxHEIGHT in pixels, 50 to 10000 a side (argparse's type for --size)."""
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, got {s!r}")
    return checked_size(w, h, s, argparse.ArgumentTypeError)


def checked_size(w, h, shown, error):
    if not (50 <= w <= 10000 and 50 <= h <= 10000):
        raise error(f"expected 50 to 10000 pixels a side, got {shown!r}")
    return (w, h)


def library_size(size):
    """The library's size: (width, height) or "WxH"; the command line's message on an error."""
    try:
        if isinstance(size, str):
            return parse_size(size)
        try:
            w, h = (int(v) for v in size)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, got {size!r}")
        return checked_size(w, h, f"{w}x{h}", argparse.ArgumentTypeError)
    except argparse.ArgumentTypeError as e:
        raise InputError(f"argument --size: {e}")


def check_output(path, force, kinds):
    ext = os.path.splitext(path)[1].lower()
    if ext not in kinds:
        raise InputError(f"{path}: expected a file name ending in {' or '.join(kinds)}")
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise InputError(f"{path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder, not a file")
    if os.path.exists(path) and not force:
        raise InputError(f"{path}: exists; use --force to overwrite it or -o to write elsewhere")


def check_not_input(f, output):
    if isinstance(f, FpsolveFile) and os.path.abspath(output) == os.path.abspath(f.path):
        raise InputError(f"{f.path}: is the input; choose another output name")


def save_atomically(path, write):
    """write(tmp) then rename over `path`: an error leaves no half-written picture and the old one intact."""
    root, ext = os.path.splitext(path)
    tmp = f"{root}.tmp{os.getpid()}{ext}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_picture(fig, path, dpi):
    save_atomically(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=os.path.splitext(path)[1][1:].lower()))


def require_pil():
    try:
        import PIL  # noqa: F401  (PillowWriter needs it)
    except ImportError:
        raise MissingModule(f"{sys.executable} cannot import PIL, needed by --animate (Debian: python3-pil)",
                            name="PIL")


def as_list(value, convert):
    if value is None:
        return None
    if np.ndim(value) == 0:
        return [convert(value)]
    return [convert(v) for v in np.asarray(value).reshape(-1)]


def snapshot_index(k):
    try:
        return operator.index(k)
    except TypeError:
        raise InputError(f"--snapshot {k!r}: expected a whole number") from None


# ---------------------------------------------------------------------------------------------- library


def plot(source, output=None, *, snapshots=None, times=None, size=DEFAULT_SIZE, dpi=DEFAULT_DPI, show=False,
         slices=False):
    """Draws an fpsolve result and returns the matplotlib Figure (the picture of `fpsolve plot`).

    source     the path of an fpsolve HDF5 file (DESIGN §4), or a result object of the Python API
               (fpsolve.run, fpsolve.stationary, fpsolve.load; DESIGN §6), or a Source
    output     None (draw only), or a picture to write: .png, .pdf or .svg. It is written atomically
               (a failure leaves no half-written file and the old one intact) and an existing file is
               overwritten (the command line refuses unless --force)
    snapshots  an index or a list of indices of the snapshots to draw (from 0; -1 is the last), or
    times      a time or a list of times: the snapshots nearest them are drawn; with neither, a spread
               of the snapshots (1-D: the first, the last and up to four between on a log scale of time;
               2-D to 4-D: the first and the last; 3-D and 4-D draw the last one given)
    size       (width, height) in pixels of the picture, or "WxH"; 50 to 10000 a side
    dpi        dots per inch: the picture keeps `size`, a larger dpi draws larger text and lines
    show       also show the figure with matplotlib.pyplot.show() (the figure is then one pyplot
               manages); without it the Figure is not registered with pyplot: it needs no display,
               and it is freed when no longer referenced
    slices     3-D and 4-D: slices through the densest cell instead of 2-D marginals (the --slices of
               `fpsolve plot`)

    Raises InputError (a ValueError, with the text `fpsolve plot` prints after "fpsolve: error: ") for
    bad input: a missing, non-HDF5 or non-fpsolve file, a snapshot or time the source does not have, a
    bad size or output name; MissingModule (an ImportError) when matplotlib (or h5py, for a file) is
    missing. Nothing is written on an error.
    """
    size = library_size(size)
    if dpi < 10:
        raise InputError("--dpi must be at least 10, --fps positive and --max-frames at least 1")
    snapshots = as_list(snapshots, snapshot_index)
    times = as_list(times, float)
    f, opened = open_source(source)
    try:
        ks = pick_snapshots(f, snapshots, times)
        if output is not None:
            output = os.fsdecode(output)
            check_output(output, True, PICTURE_KINDS)
            check_not_input(f, output)
        load_matplotlib(headless=False)
        fig = draw(f, ks, size, dpi, pyplot=show, slices=slices)
        if output is not None:
            save_picture(fig, output, dpi)
    finally:
        if opened:
            f.close()
    if show:
        import matplotlib.pyplot as plt

        plt.show()
    return fig


def animate(source, output, *, size=DEFAULT_SIZE, dpi=DEFAULT_DPI, fps=8.0, max_frames=80, slices=False):
    """Writes the evolution of a run as an animated GIF `output` (the --animate of `fpsolve plot`).

    source is a path or a result object as for plot(); one frame a snapshot, at most `max_frames`
    (spread evenly), `fps` frames a second. size: the pixel height of the frames and, for 1-D, two
    thirds of the width (2-D to 4-D frames are 6/5 of the height wide; 3-D and 4-D frames show the first two
    axes, the marginal or with `slices` the slice through the densest cell). The GIF is written atomically
    and overwrites an existing file. Returns `output`. Raises as plot() does (MissingModule also for
    PIL).
    """
    size = library_size(size)
    if dpi < 10 or not fps > 0 or max_frames < 1:
        raise InputError("--dpi must be at least 10, --fps positive and --max-frames at least 1")
    output = os.fsdecode(output)
    f, opened = open_source(source)
    try:
        if len(f.times) == 0:
            raise InputError(f"--animate: {f.name} holds no snapshot to animate")
        check_output(output, True, [".gif"])
        check_not_input(f, output)
        require_pil()
        load_matplotlib(headless=False)
        save_atomically(output, lambda tmp: write_animation(f, tmp, size, dpi, fps, int(max_frames), slices))
    finally:
        if opened:
            f.close()
    return output


# ---------------------------------------------------------------------------------------------- main


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError(message)


def run_command(argv):
    p = Parser(prog="fpsolve plot", description=DESCRIPTION)
    p.add_argument("file", help="an HDF5 file written by fpsolve")
    p.add_argument("-o", "--output", help="the picture (.png, .pdf or .svg; default: FILE with .png)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--snapshot", type=int, help="draw snapshot K (from 0; -1 is the last)")
    which.add_argument("--times", type=float, nargs="+", metavar="T", help="draw the snapshots nearest these times")
    p.add_argument("--animate", metavar="FILE.gif", help="also write the evolution as an animated GIF")
    p.add_argument("--slices", action="store_true",
                   help="3-D and 4-D: slices through the densest cell instead of 2-D marginals")
    p.add_argument("--force", action="store_true", help="overwrite existing pictures")
    p.add_argument("--size", type=parse_size, default=DEFAULT_SIZE, help="picture size in pixels (default 1500x500)")
    p.add_argument("--dpi", type=int, default=DEFAULT_DPI, help="dots per inch (default 100)")
    p.add_argument("--fps", type=float, default=8.0, help="animation frames per second (default 8)")
    p.add_argument("--max-frames", type=int, default=80, help="at most this many animation frames (default 80)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = p.parse_args(argv)
    if args.dpi < 10 or args.fps <= 0 or args.max_frames < 1:
        raise InputError("--dpi must be at least 10, --fps positive and --max-frames at least 1")

    f = FpsolveFile(args.file)
    ks = pick_snapshots(f, None if args.snapshot is None else [args.snapshot], args.times)
    outputs = []
    png = args.output
    if png is None and args.animate is None:
        png = os.path.splitext(args.file)[0] + ".png"
    if png is not None:
        check_output(png, args.force, PICTURE_KINDS)
        outputs.append(png)
    if args.animate is not None:
        check_output(args.animate, args.force, [".gif"])
        outputs.append(args.animate)
    if len(outputs) == 2 and os.path.abspath(outputs[0]) == os.path.abspath(outputs[1]):
        raise InputError(f"{png}: the picture and the animation must be different files")
    for o in outputs:
        check_not_input(f, o)

    if args.animate is not None:
        require_pil()
    load_matplotlib(headless=True)
    if png is not None:
        save_picture(draw(f, ks, args.size, args.dpi, slices=args.slices), png, args.dpi)
        if not args.quiet:
            print(f"fpsolve plot: wrote {png}")
    if args.animate is not None:
        save_atomically(args.animate,
                        lambda tmp: write_animation(f, tmp, args.size, args.dpi, args.fps, args.max_frames,
                                                    args.slices))
        if not args.quiet:
            print(f"fpsolve plot: wrote {args.animate}")
    return 0


def main(argv=None):
    """The command line (`python3 -m fpsolve.plot ARGS`, run by `fpsolve plot`); returns the exit code:
    0 success, 1 failure while plotting, 2 bad input, 3 a missing module, 130 interrupted. Errors are
    one line "fpsolve: error: ..." on stderr."""
    try:
        return run_command(sys.argv[1:] if argv is None else list(argv))
    except InputError as e:
        return fail(2, str(e))
    except MissingModule as e:
        return fail(3, str(e))
    except KeyboardInterrupt:
        return 130
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    except Exception as e:  # one line, like the C++ commands
        return fail(1, f"plotting failed: {type(e).__name__}: {e}")


if __name__ == "__main__":
    sys.exit(main())
