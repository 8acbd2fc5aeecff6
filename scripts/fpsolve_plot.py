#!/usr/bin/python3
"""Pictures of an fpsolve HDF5 file (DESIGN §4): what `fpsolve plot` runs.

    fpsolve_plot.py OUT.h5 [-o FILE.png] [--snapshot K | --times T ...] [--animate FILE.gif] [--force]

1-D: the density at several times over the reference (stationary closed form) density.
2-D: heat maps of the density with the reference as contour lines and the probability current J as
     stream lines (when the file has currents); the steady state of `fpsolve stationary` when present.
3-D: the three slices through the centre of the grid.
Every picture ends with a diagnostics panel: L1 and KL distance to the reference on a log scale, and
the free energy F = sum (L + T ln p) p V, which falls monotonically to its Gibbs value.
--animate writes the evolution as an animated GIF (matplotlib's PillowWriter).

Exit codes: 0 success, 1 failure while plotting, 2 bad input (one line "fpsolve: error: ..." on
stderr; no file is created or overwritten), 3 this Python lacks h5py, numpy, matplotlib or PIL.
"""
import argparse
import math
import os
import sys


def fail(code, what):
    print(f"fpsolve: error: {what}", file=sys.stderr)
    sys.exit(code)


def missing_module(e):
    fail(3, f"{sys.executable} cannot import {e.name} (Debian: python3-h5py python3-matplotlib python3-numpy)")


try:
    import numpy as np
    import h5py
except ImportError as e:  # pragma: no cover - depends on the machine
    missing_module(e)

# matplotlib is slow to import: it is loaded once the input has been checked.
plt = Line2D = None


def load_matplotlib():
    global plt, Line2D
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot
        from matplotlib.lines import Line2D as line2d
    except ImportError as e:  # pragma: no cover
        missing_module(e)
    plt, Line2D = matplotlib.pyplot, line2d


class InputError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- reading


class FpsolveFile:
    """The parts of an fpsolve file a picture needs; densities are read one snapshot at a time."""

    def __init__(self, path):
        self.path = path
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
        fmt = self.h5.attrs.get("format")
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != "fpsolve":
            raise InputError(f'{path}: not an fpsolve file (no format = "fpsolve" attribute)')
        try:
            g = self.h5["grid"]
            self.dims = int(np.asarray(g.attrs["dims"]).reshape(-1)[0])
            if self.dims not in (1, 2, 3):
                raise InputError(f"{path}: /grid dims is {self.dims}, expected 1, 2 or 3")
            self.lower = np.asarray(g.attrs["lower"], dtype=float)
            self.upper = np.asarray(g.attrs["upper"], dtype=float)
            self.cells = [int(c) for c in np.asarray(g.attrs["cells"])]
            self.variables = [v.decode() if isinstance(v, bytes) else str(v) for v in g.attrs["variables"]]
            self.centres = [np.asarray(g["xyz"[a]]) for a in range(self.dims)]
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
            status = self.h5.attrs.get("status", "")
            self.status = status.decode() if isinstance(status, bytes) else str(status)
        except InputError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise InputError(f"{path}: damaged fpsolve file ({e})")
        self.title = self._title()
        if self.density is None and self.stationary is None:
            raise InputError(f"{path}: holds no snapshot and no stationary state to plot")

    def _title(self):
        config = self.h5.attrs.get("config", "")
        if isinstance(config, bytes):
            config = config.decode()
        try:
            import tomllib

            return str(tomllib.loads(config).get("title", "")) or os.path.basename(self.path)
        except Exception:
            return os.path.basename(self.path)

    def snapshot(self, k):
        return np.asarray(self.density[k])

    def snapshot_current(self, k):
        return None if self.current is None else np.asarray(self.current[k])

    def extent(self, a, b):
        return [self.lower[a], self.upper[a], self.lower[b], self.upper[b]]


def pick_snapshots(f, args):
    """Indices of the snapshots to draw, from --snapshot, --times, or a default spread."""
    n = len(f.times)
    if n == 0:
        if args.snapshot is not None or args.times:
            raise InputError(f"{f.path}: holds no snapshot (only a stationary state)")
        return []
    if args.snapshot is not None:
        k = args.snapshot + n if args.snapshot < 0 else args.snapshot
        if not 0 <= k < n:
            raise InputError(f"--snapshot {args.snapshot}: {f.path} has snapshots 0 to {n - 1}")
        return [k]
    if args.times:
        t0, t1 = f.times[0], f.times[-1]
        slack = 1e-9 * max(1.0, abs(t1 - t0))
        picked = []
        for t in args.times:
            if not (t0 - slack <= t <= t1 + slack):
                raise InputError(f"--times {t:g}: {f.path} has snapshots from t = {t0:g} to {t1:g}")
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
    cmap = plt.get_cmap("viridis")
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


def centre_slices(f, field):
    """The three planes through the centre cell: (x, y) at z_c, (x, z) at y_c, (y, z) at x_c."""
    c = [n // 2 for n in f.cells]
    return [((0, 1), field[:, :, c[2]], f"{f.variables[2]} = {f.centres[2][c[2]]:.3g}"),
            ((0, 2), field[:, c[1], :], f"{f.variables[1]} = {f.centres[1][c[1]]:.3g}"),
            ((1, 2), field[c[0], :, :], f"{f.variables[0]} = {f.centres[0][c[0]]:.3g}")]


def plot_3d(f, ks, fig, spec):
    k = ks[-1] if ks else None
    field = f.snapshot(k) if k is not None else f.stationary
    label = f"t = {f.times[k]:.4g}" if k is not None else "stationary"
    ref = centre_slices(f, f.reference) if f.reference is not None else [None] * 3
    vmax = float(np.max(field))
    sub = spec.subgridspec(1, 3, wspace=0.4)
    for i, ((a, b), plane, where) in enumerate(centre_slices(f, field)):
        ax = fig.add_subplot(sub[i])
        im = heat_map(f, ax, plane, a, b, f"{label}, slice {where}", ref[i][1] if ref[i] else None, vmax=vmax)
    fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02)


def figure(f, size, dpi):
    fig = plt.figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    return fig


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


def plot(f, ks, args):
    fig = figure(f, args.size, args.dpi)
    has_diag = True
    widths = {1: [3, 2], 2: [3 if len(ks) + 1 > 2 else 2.4, 1.2], 3: [3.4, 1.1]}[f.dims]
    gs = fig.add_gridspec(1, 2 if has_diag else 1, width_ratios=widths if has_diag else None, wspace=0.18,
                          left=0.05, right=0.98, bottom=0.12, top=0.86)
    {1: plot_1d, 2: plot_2d, 3: plot_3d}[f.dims](f, ks, fig, gs[0])
    if f.diagnostics and len(f.times) > 0:
        draw_diagnostics(f, *add_diagnostics(fig, gs[1]))
    else:
        draw_stationary_facts(f, fig.add_subplot(gs[1]))
    status = "" if f.status in ("complete", "") else f"  [status: {f.status}]"
    fig.suptitle(f"{f.title}  ({os.path.basename(f.path)}){status}", fontsize=12)
    return fig


# ---------------------------------------------------------------------------------------------- animation


def animate(f, args, out):
    from matplotlib.animation import FuncAnimation, PillowWriter

    n = len(f.times)
    if n == 0:
        raise InputError(f"--animate: {f.path} holds no snapshot to animate")
    frames = list(range(n)) if n <= args.max_frames else sorted(set(np.linspace(0, n - 1, args.max_frames).round().astype(int)))
    fig = figure(f, (args.size[0] * 2 // 3 if f.dims == 1 else args.size[1] * 6 // 5, args.size[1]), args.dpi)
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
        # 2-D: the density; 3-D: its slice through the centre along the last axis.
        def field(k):
            p = f.snapshot(k)
            return p if f.dims == 2 else p[:, :, f.cells[2] // 2]

        ref = f.reference if f.dims == 2 else (f.reference[:, :, f.cells[2] // 2] if f.reference is not None else None)
        # The colour scale follows each frame (a narrow start would leave every later frame black).
        im = heat_map(f, ax, field(0), 0, 1, "", ref)
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
            p = field(k)
            im.set_data(p.T)
            im.set_clim(0.0, max(float(np.max(p)), 1e-300))
            if quiver is not None:
                quiver.set_UVC(*arrows(k))
            where = "" if f.dims == 2 else f", {f.variables[2]} = {f.centres[2][f.cells[2] // 2]:.3g}"
            ax.set_title(f"{f.title}: t = {f.times[k]:.4g}{where}", fontsize=10)
            return (im,)

    update(frames[0])
    fig.tight_layout()
    anim = FuncAnimation(fig, update, frames=frames, blit=False)
    anim.save(out, writer=PillowWriter(fps=args.fps), dpi=args.dpi)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------- main


def parse_size(s):
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, got {s!r}")
    if not (50 <= w <= 10000 and 50 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"expected 50 to 10000 pixels a side, got {s!r}")
    return (w, h)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        fail(2, message)


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


def main(argv):
    p = Parser(prog="fpsolve plot", description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="an HDF5 file written by fpsolve")
    p.add_argument("-o", "--output", help="the picture (.png, .pdf or .svg; default: FILE with .png)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--snapshot", type=int, help="draw snapshot K (from 0; -1 is the last)")
    which.add_argument("--times", type=float, nargs="+", metavar="T", help="draw the snapshots nearest these times")
    p.add_argument("--animate", metavar="FILE.gif", help="also write the evolution as an animated GIF")
    p.add_argument("--force", action="store_true", help="overwrite existing pictures")
    p.add_argument("--size", type=parse_size, default=(1500, 500), help="picture size in pixels (default 1500x500)")
    p.add_argument("--dpi", type=int, default=100, help="dots per inch (default 100)")
    p.add_argument("--fps", type=float, default=8.0, help="animation frames per second (default 8)")
    p.add_argument("--max-frames", type=int, default=80, help="at most this many animation frames (default 80)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = p.parse_args(argv)
    if args.dpi < 10 or args.fps <= 0 or args.max_frames < 1:
        raise InputError("--dpi must be at least 10, --fps positive and --max-frames at least 1")

    f = FpsolveFile(args.file)
    ks = pick_snapshots(f, args)
    outputs = []
    png = args.output
    if png is None and args.animate is None:
        png = os.path.splitext(args.file)[0] + ".png"
    if png is not None:
        check_output(png, args.force, [".png", ".pdf", ".svg"])
        outputs.append(png)
    if args.animate is not None:
        check_output(args.animate, args.force, [".gif"])
        outputs.append(args.animate)
    if len(outputs) == 2 and os.path.abspath(outputs[0]) == os.path.abspath(outputs[1]):
        raise InputError(f"{png}: the picture and the animation must be different files")
    if any(os.path.abspath(o) == os.path.abspath(args.file) for o in outputs):
        raise InputError(f"{args.file}: is the input; choose another output name")

    if args.animate is not None:
        try:
            import PIL  # noqa: F401  (PillowWriter needs it)
        except ImportError:
            fail(3, f"{sys.executable} cannot import PIL, needed by --animate (Debian: python3-pil)")
    load_matplotlib()
    if png is not None:
        fig = plot(f, ks, args)
        save_atomically(png, lambda tmp: fig.savefig(tmp, dpi=args.dpi, format=os.path.splitext(png)[1][1:].lower()))
        plt.close(fig)
        if not args.quiet:
            print(f"fpsolve plot: wrote {png}")
    if args.animate is not None:
        save_atomically(args.animate, lambda tmp: animate(f, args, tmp))
        if not args.quiet:
            print(f"fpsolve plot: wrote {args.animate}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        fail(2, str(e))
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # one line, like the C++ commands
        fail(1, f"plotting failed: {type(e).__name__}: {e}")
