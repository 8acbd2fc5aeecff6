"""fpsolve: the Fokker–Planck equation of an SDE dX = mu dt + B dW on a finite-volume grid (DESIGN §6).

    import fpsolve
    r = fpsolve.run("data/scenarios/double-well.toml", overrides={"grid.cells": [200]})
    r.time, r.density, r.diagnostics["l1_to_reference"], r.reference, r.plot("dw.png")
    s = fpsolve.stationary("data/scenarios/double-well.toml")
    s.density, s.eigenvalues, s.spectral_gap
    f = fpsolve.load("dw.h5")

The engine is the C++ library the command line `fpsolve` uses (fpsolve._core): the same config gives bitwise
the same snapshots. It runs with the GIL released; Ctrl-C stops it at the next time step and raises
KeyboardInterrupt. Bad input raises ConfigError (a ValueError) with the command line's message, and nothing is
written; a failure while running raises RuntimeError.
"""
import json
import math
import os
import sys
import threading
import warnings

try:
    from . import _core
except ImportError as _e:  # the package without its compiled module (built without pybind11)
    _core = None
    _core_missing = _e

    class ConfigError(ValueError):
        """Bad input: the message names the key or file, as `fpsolve: error: ...` on the command line."""

else:
    ConfigError = _core.ConfigError

__all__ = ["run", "resume", "stationary", "load", "ConfigError", "RunResult", "StationaryResult", "Grid",
           "version"]


class FpsolveWarning(UserWarning):
    """A warning of the engine (e.g. correlated noise that breaks the stencil's monotonicity)."""


def _numpy():
    """numpy, needed for every result; imported when first needed, so that `import fpsolve` works anywhere."""
    try:
        import numpy
    except ImportError as e:
        raise ImportError(f"fpsolve needs numpy, which {sys.executable} lacks: use /usr/bin/python3 "
                          "(Debian's python3-numpy)") from e
    return numpy


def _need_core():
    _numpy()
    if _core is None:
        raise ImportError(f"fpsolve was built without its compiled module ({_core_missing}); "
                          "install pybind11-dev and python3-dev and rebuild")
    return _core


def version():
    """The library's version ("0.1.0")."""
    return _need_core().version()


# ------------------------------------------------------------------------------------------------ configs

def _toml_value(v, key):
    """A Python value as a TOML value (the text of `--set key=value`)."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, np.generic):
        v = v.item()
    if np is not None and isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: the same escapes
    if isinstance(v, os.PathLike):
        return json.dumps(os.fspath(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(e, key) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(e, key)}" for k, e in v.items()) + "}"
    raise ConfigError(f"{key}: cannot be written as a TOML value: {type(v).__name__} {v!r}")


def _toml_key(k):
    k = str(k)
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def _flatten(table, prefix=""):
    """A config dict as dotted "key=value" overrides of an empty config: {"grid": {"cells": [64]}} -> grid.cells."""
    items = []
    for k, v in table.items():
        key = f"{prefix}{_toml_key(k)}"
        if isinstance(v, dict):  # a table (or inline table): its keys one by one, as dotted keys
            items += _flatten(v, key + ".")
        else:
            items.append(f"{key}={_toml_value(v, key)}")
    return items


def _source(config, overrides):
    """(path, overrides) for the core: a TOML file's path, or a dict turned into overrides of an empty config."""
    if overrides is not None and not isinstance(overrides, dict):
        raise ConfigError(f"overrides: expected a dict such as {{\"grid.cells\": [64, 64]}}, got {type(overrides).__name__}")
    extra = [f"{k}={_toml_value(v, k)}" for k, v in (overrides or {}).items()]
    if isinstance(config, dict):
        return "", _flatten(config) + extra
    if isinstance(config, (str, os.PathLike)):
        return os.fspath(config), extra
    raise ConfigError(f"config: expected a path to a TOML file or a dict, got {type(config).__name__}")


def _threads(threads):
    if threads is None:
        return 0
    np = sys.modules.get("numpy")
    if np is not None and isinstance(threads, np.integer):
        threads = int(threads)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads: expected a whole number of at least 1, got {threads!r}")
    return int(threads)


def _output(output):
    return "" if output is None else os.fspath(output)


def _on_main_thread():
    return threading.current_thread() is threading.main_thread()


def _warn(messages):
    for m in messages:
        warnings.warn(m, FpsolveWarning, stacklevel=3)


# ------------------------------------------------------------------------------------------------ results

class Grid:
    """The grid: dims, lower, upper, cells, boundary, variables (lists, one entry per axis) and centres (arrays)."""

    def __init__(self, d):
        self.dims = d["dims"]
        self.lower = list(d["lower"])
        self.upper = list(d["upper"])
        self.cells = list(d["cells"])
        self.boundary = list(d["boundary"])
        self.variables = list(d["variables"])
        self.centres = list(d["centres"])

    @property
    def spacing(self):
        return [(u - l) / n for l, u, n in zip(self.lower, self.upper, self.cells)]

    @property
    def cell_volume(self):
        return math.prod(self.spacing)

    def __repr__(self):
        cells = "x".join(str(n) for n in self.cells)
        return f"Grid({self.dims}-D, {cells} cells, {self.boundary})"


class _Result:
    def __init__(self, d):
        for k, v in d.items():
            setattr(self, k, v)
        self.grid = Grid(d["grid"])

    def plot(self, output=None, **options):
        """The picture `fpsolve plot` draws, from this result (fpsolve.plot.plot); returns the Figure."""
        from . import plot as _plot
        return _plot.plot(self, output, **options)


class RunResult(_Result):
    """A run: time [n], density [n, cells...] (cell averages), diagnostics (dict of arrays), reference, grid,
    status ("complete", "stopped", "interrupted", or a loaded file's), integrator, output (the file or None)."""

    kind = "run"

    def __repr__(self):
        return (f"RunResult({self.status}, {len(self.time)} snapshots to t = "
                f"{self.time[-1] if len(self.time) else float('nan'):g}, {self.grid!r}, {self.integrator or 'loaded'})")


class StationaryResult(_Result):
    """A steady state: density, current, eigenvalues (complex, slowest first), spectral_gap, relaxation_time,
    residual, l1_to_reference, reference; with absorbing walls mfpt, escape_rate, mfpt_from_initial."""

    kind = "stationary"

    def __repr__(self):
        return f"StationaryResult({self.grid!r}, spectral gap {self.spectral_gap:.6g}, residual {self.residual:.2e})"


# ------------------------------------------------------------------------------------------------ entry points

def run(config, output=None, overrides=None, on_snapshot=None, threads=None, force=False):
    """Evolves the density of `config` (a TOML file's path, or a dict with the TOML's keys) and returns a RunResult.

    output: None keeps everything in memory; a path also writes the HDF5 file exactly as `fpsolve run -o`.
    overrides: {"grid.cells": [64, 64], "time.end": 2.0} as `--set` on the command line.
    on_snapshot(t, density) -> bool: called at every snapshot (density: a read-only view); False stops the run
    after that snapshot (status "stopped"). threads: OpenMP threads (None: the cores other processes leave free).
    force: overwrite an existing output file."""
    path, items = _source(config, overrides)
    d = _need_core().run(path, items, _output(output), bool(force), _threads(threads), on_snapshot,
                         _on_main_thread())
    _warn(d["warnings"])
    return RunResult(d)


def resume(path, overrides=None, on_snapshot=None, threads=None):
    """Continues the file at `path` from its last snapshot (as `fpsolve run --resume`), appending to it;
    overrides such as {"time.end": 10}. Returns the snapshots of this run."""
    _, items = _source({}, overrides)
    d = _need_core().resume(os.fspath(path), items, _threads(threads), on_snapshot, _on_main_thread())
    _warn(d["warnings"])
    return RunResult(d)


def stationary(config, overrides=None, eigenvalues=None, output=None, threads=None, force=False):
    """The steady state of the discrete generator (as `fpsolve stationary`): a StationaryResult.

    eigenvalues: how many of the slowest eigenvalues to compute (None: [stationary] eigenvalues, default 6)."""
    path, items = _source(config, overrides)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(eigenvalues, np.integer):
        eigenvalues = int(eigenvalues)
    if eigenvalues is not None and (isinstance(eigenvalues, bool) or not isinstance(eigenvalues, int)):
        raise ConfigError(f"eigenvalues: expected a whole number from 0 to 1000, got {eigenvalues!r}")
    s = _need_core().stationary(path, items, _output(output), bool(force), _threads(threads),
                                None if eigenvalues is None else int(eigenvalues))
    d = s.as_dict()
    _warn(d["warnings"])
    return StationaryResult(d)


def load(path):
    """An fpsolve HDF5 file as a result: a StationaryResult for a file of `fpsolve stationary`, else a RunResult."""
    core = _need_core()
    path = os.fspath(path)
    if core.has_stationary(path):
        return StationaryResult(core.load_stationary(path).as_dict())
    return RunResult(core.load(path))
