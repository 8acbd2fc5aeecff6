"""The Python module fpsolve (DESIGN §6) against the command line and the closed forms.

Run by ctest as `python3 -m pytest tests/python` with PYTHONPATH=build/python, FPSOLVE=build/bin/fpsolve and
FPSOLVE_SOURCE=the source tree.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pytest

import fpsolve

FPSOLVE = os.environ["FPSOLVE"]
SOURCE = os.environ["FPSOLVE_SOURCE"]
DOUBLE_WELL = os.path.join(SOURCE, "data", "scenarios", "double-well.toml")
SMALL = {"grid.cells": [120], "time.end": 2.0}

# An Ornstein–Uhlenbeck process dX = -X dt + sqrt(s) dW as a dict: Gibbs exp(-x^2/s), spectrum -n.
OU = {
    "title": "OU",
    "grid": {"lower": [-4.0], "upper": [4.0], "cells": [160]},
    "dynamics": {"potential": "x^2/2", "noise": 0.5},
    "initial": {"gaussian": {"mean": [1.5], "covariance": [[0.05]]}},
    "time": {"end": 1.0, "snapshots": 5},
}
OU_TOML = """title = "OU"
[grid]
lower = [-4.0]
upper = [4.0]
cells = [160]
[dynamics]
potential = "x^2/2"
noise = 0.5
[initial]
gaussian = { mean = [1.5], covariance = [[0.05]] }
[time]
end = 1.0
snapshots = 5
"""


def cli(*args):
    return subprocess.run([FPSOLVE, *args], capture_output=True, text=True)


def sets(overrides):
    out = []
    for k, v in overrides.items():
        out += ["--set", f"{k}={fpsolve._toml_value(v, k)}"]
    return out


def test_run_in_memory_shapes_and_closed_form():
    r = fpsolve.run(OU)
    assert r.status == "complete" and r.output is None
    assert r.time.tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert r.density.shape == (5, 160)
    assert r.grid.cells == [160] and r.grid.dims == 1 and len(r.grid.centres[0]) == 160
    h = r.grid.spacing[0]
    # Mass 1 to round-off; the mean of the OU is 1.5 e^{-t}, to the scheme's O(h^2) (h = 0.05: 1e-3 relative).
    assert np.abs(r.density.sum(axis=1) * h - 1).max() < 1e-12
    assert r.diagnostics["mean"][:, 0] == pytest.approx(1.5 * np.exp(-r.time), rel=2e-3, abs=1e-6)
    # The variance: C' = -2C + s, C(0) = 0.05 -> 0.25 + (0.05 - 0.25) e^{-2t}; cell averages add h^2/12, and
    # the scheme's own second-order error measured 0.23 h^2 here: h^2 / 2 bounds both.
    var = 0.25 + (0.05 - 0.25) * np.exp(-2 * r.time)
    assert r.diagnostics["covariance"][:, 0, 0] == pytest.approx(var, abs=h * h / 2)
    assert r.reference is not None and r.reference.shape == (160,)
    assert set(r.diagnostics) >= {"time", "mass", "mean", "covariance", "entropy", "free_energy",
                                  "l1_to_reference", "kl_to_reference", "min_density"}


def test_command_line_python_and_file_are_bitwise_the_same(tmp_path):
    out_cli, out_py = tmp_path / "cli.h5", tmp_path / "py.h5"
    p = cli("run", DOUBLE_WELL, "-o", str(out_cli), "--quiet", *sets(SMALL))
    assert p.returncode == 0, p.stderr
    r = fpsolve.run(DOUBLE_WELL, output=out_py, overrides=SMALL)
    assert r.output == str(out_py)
    with h5py.File(out_cli) as a, h5py.File(out_py) as b:
        assert np.array_equal(a["snapshots/density"][:], b["snapshots/density"][:])
        assert np.array_equal(a["snapshots/time"][:], b["snapshots/time"][:])
        assert np.array_equal(a["diagnostics/l1_to_reference"][:], b["diagnostics/l1_to_reference"][:])
        assert a.attrs["config"] == b.attrs["config"] and b.attrs["status"] == "complete"
        assert np.array_equal(a["snapshots/density"][:], r.density)
    # In memory without a file: the same numbers again.
    m = fpsolve.run(DOUBLE_WELL, overrides=SMALL)
    assert np.array_equal(m.density, r.density) and np.array_equal(m.diagnostics["mass"], r.diagnostics["mass"])


def test_dict_config_equals_toml_file(tmp_path):
    path = tmp_path / "ou.toml"
    path.write_text(OU_TOML)
    a, b = fpsolve.run(OU), fpsolve.run(str(path))
    assert np.array_equal(a.density, b.density) and np.array_equal(a.diagnostics["mass"], b.diagnostics["mass"])


def test_threads_do_not_change_the_result():
    a = fpsolve.run(DOUBLE_WELL, overrides=SMALL, threads=1)
    b = fpsolve.run(DOUBLE_WELL, overrides=SMALL, threads=2)
    assert np.array_equal(a.density, b.density)


def test_on_snapshot_sees_every_snapshot_and_can_stop(tmp_path):
    seen = []
    r = fpsolve.run(OU, on_snapshot=lambda t, p: seen.append((t, p.copy())) or True)
    assert [t for t, _ in seen] == r.time.tolist()
    assert all(np.array_equal(p, q) for (_, p), q in zip(seen, r.density))
    out = tmp_path / "stopped.h5"
    s = fpsolve.run(OU, output=out, on_snapshot=lambda t, p: t < 0.4)
    assert s.status == "stopped" and s.time.tolist() == pytest.approx([0, 0.25, 0.5])
    assert s.density.shape == (3, 160)
    with h5py.File(out) as f:
        assert f.attrs["status"] == "stopped" and f["snapshots/time"].shape == (3,)


def test_an_exception_in_on_snapshot_propagates_and_keeps_the_file(tmp_path):
    out = tmp_path / "raised.h5"

    def boom(t, p):
        if t > 0.3:
            raise ZeroDivisionError("from the callback")
        return True

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        fpsolve.run(OU, output=out, on_snapshot=boom)
    with h5py.File(out) as f:  # the snapshot the callback saw (t = 0.5) was written before it
        assert f["snapshots/time"].shape == (3,) and f.attrs["status"] == "stopped"


@pytest.mark.parametrize("overrides, key", [
    ({"grid.cellz": [10]}, "grid.cellz: unknown key"),
    ({"dynamics.potential": "x^^2"}, "dynamics.potential"),
    ({"time.end": -1.0}, "time.end"),
    ({"dynamics.scheme": "nope"}, "dynamics.scheme"),
])
def test_bad_input_is_config_error_with_the_command_line_message(tmp_path, overrides, key):
    out = tmp_path / "bad.h5"
    with pytest.raises(fpsolve.ConfigError) as e:
        fpsolve.run(DOUBLE_WELL, output=out, overrides=overrides)
    assert isinstance(e.value, ValueError) and key in str(e.value)
    assert not out.exists()
    p = cli("run", DOUBLE_WELL, "-o", str(out), *sets(overrides))
    assert p.returncode == 2 and p.stderr.strip() == f"fpsolve: error: {e.value}"


def test_bad_arguments_are_config_errors(tmp_path):
    with pytest.raises(fpsolve.ConfigError, match="no such config file"):
        fpsolve.run(tmp_path / "missing.toml")
    with pytest.raises(fpsolve.ConfigError, match="threads"):
        fpsolve.run(OU, threads=0)
    with pytest.raises(fpsolve.ConfigError, match="config"):
        fpsolve.run(42)
    with pytest.raises(fpsolve.ConfigError, match="overrides"):
        fpsolve.run(OU, overrides=["grid.cells=[10]"])


def test_an_existing_output_needs_force(tmp_path):
    out = tmp_path / "exists.h5"
    out.write_bytes(b"keep me")
    with pytest.raises(fpsolve.ConfigError, match="exists; use --force"):
        fpsolve.run(OU, output=out)
    assert out.read_bytes() == b"keep me"
    assert fpsolve.run(OU, output=out, force=True).status == "complete"


def test_stationary_against_closed_forms(tmp_path):
    s = fpsolve.stationary(OU, eigenvalues=4)
    h = 8.0 / 160
    # The discrete Gibbs density is the exact fixed point; the OU spectrum is 0, -1, -2, ... to O(h^2).
    assert s.l1_to_reference < 1e-12 and s.residual < 1e-12
    assert abs(s.density.sum() * h - 1) < 1e-12
    assert np.iscomplexobj(s.eigenvalues) and len(s.eigenvalues) >= 4
    assert s.eigenvalues.real[:3] == pytest.approx([0, -1, -2], abs=2 * h * h * 4)
    assert s.spectral_gap == pytest.approx(1, abs=h * h) and s.current.shape == (160, 1)
    assert s.mfpt is None
    out = tmp_path / "st.h5"
    p = cli("stationary", DOUBLE_WELL, "-o", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    a, b = fpsolve.stationary(DOUBLE_WELL), fpsolve.load(out)
    assert isinstance(b, fpsolve.StationaryResult)
    assert np.array_equal(a.density, b.density) and np.array_equal(a.eigenvalues, b.eigenvalues)
    assert a.spectral_gap == b.spectral_gap


def test_stationary_with_absorbing_walls():
    s = fpsolve.stationary(os.path.join(SOURCE, "data", "scenarios", "absorbing-walls.toml"))
    assert s.absorbing and s.escape_rate > 0 and s.mfpt is not None
    h = np.prod(s.grid.spacing)
    # q^T T = 1 / escape_rate for the quasi-stationary density q (solver/stationary.hpp).
    assert (s.density * s.mfpt).sum() * h == pytest.approx(1 / s.escape_rate, rel=1e-8)


def test_stationary_refuses_time_dependence():
    with pytest.raises(fpsolve.ConfigError, match="time-independent"):
        fpsolve.stationary(OU, overrides={"dynamics.potential": "x^2/2 * (1 + t)"})


def test_load_round_trip(tmp_path):
    out = tmp_path / "ou.h5"
    r = fpsolve.run(OU, output=out, overrides={"output.current": True})
    f = fpsolve.load(out)
    assert isinstance(f, fpsolve.RunResult) and f.status == "complete"
    assert np.array_equal(f.density, r.density) and np.array_equal(f.time, r.time)
    assert np.array_equal(f.reference, r.reference) and np.array_equal(f.current, r.current)
    for k in ("mass", "mean", "covariance", "l1_to_reference"):
        assert np.array_equal(f.diagnostics[k], r.diagnostics[k]), k
    assert f.grid.cells == r.grid.cells and f.title == "OU"
    bad = tmp_path / "not.h5"
    bad.write_text("x")
    with pytest.raises(fpsolve.ConfigError, match="not an HDF5 file"):
        fpsolve.load(bad)


def test_four_axes_shapes_and_round_trip(tmp_path):
    # 4-D (the phase space of a 2-D position): arrays with four cell axes, 4-vectors and 4x4 covariances.
    cfg = {"grid": {"lower": [-3.0] * 4, "upper": [3.0] * 4, "cells": [6, 5, 4, 7]},
           "dynamics": {"drift": ["-x", "-y + 0.2*x", "-z", "-w"], "noise": [0.5, 0.4, 0.3, 0.6]},
           "initial": {"gaussian": {"mean": [0.5, 0.0, 0.0, -0.5], "covariance": 0.3}},
           "time": {"end": 0.2, "snapshots": 3}, "output": {"current": True}}
    out = tmp_path / "ou4.h5"
    r = fpsolve.run(cfg, output=out)
    assert r.density.shape == (3, 6, 5, 4, 7) and r.current.shape == (3, 6, 5, 4, 7, 4)
    assert r.grid.dims == 4 and r.grid.variables == ["x", "y", "z", "w"]
    assert [len(c) for c in r.grid.centres] == [6, 5, 4, 7]
    assert r.diagnostics["mean"].shape == (3, 4) and r.diagnostics["covariance"].shape == (3, 4, 4)
    # "ij" order: the mean of w from the array is the diagnostic's
    p, v = r.density[-1], r.grid.cell_volume
    assert abs((p.sum(axis=(0, 1, 2)) * r.grid.centres[3]).sum() * v - r.diagnostics["mean"][-1][3]) < 1e-12
    f = fpsolve.load(out)
    assert np.array_equal(f.density, r.density) and np.array_equal(f.current, r.current)
    assert np.array_equal(f.diagnostics["covariance"], r.diagnostics["covariance"]) and f.grid.cells == [6, 5, 4, 7]
    with h5py.File(out) as h:
        assert np.array_equal(h["grid/w"][:], r.grid.centres[3])
    assert not (tmp_path / "ou4.xdmf").exists()  # XDMF has no 4-D topology


def test_resume_appends(tmp_path):
    out = tmp_path / "r.h5"
    fpsolve.run(OU, output=out)
    r = fpsolve.resume(out, overrides={"time.end": 2.0, "time.snapshots": 9})
    assert r.time.tolist() == pytest.approx([1.25, 1.5, 1.75, 2.0])
    assert fpsolve.load(out).time.tolist() == pytest.approx(np.linspace(0, 2, 9))


def test_the_engine_releases_the_gil():
    done = threading.Event()
    ticks = 0

    def work():
        fpsolve.run(DOUBLE_WELL, overrides={"grid.cells": [2000], "time.end": 4.0, "time.integrator": "rkc"},
                    threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    # With the GIL held for the whole run this loop could not turn while the engine worked.
    assert ticks > 20


def test_ctrl_c_raises_keyboard_interrupt_and_keeps_the_file(tmp_path):
    out = tmp_path / "long.h5"
    script = f"""
import sys, fpsolve
def first(t, p):
    print("running", flush=True)
    return True
try:
    fpsolve.run({DOUBLE_WELL!r}, output={str(out)!r}, on_snapshot=first, threads=1,
                overrides={{"grid.cells": [4000], "time.end": 1000.0, "time.integrator": "rkc",
                            "time.snapshots": 3}})
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert p.stdout.readline().strip() == "running"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    rest, _ = p.communicate(timeout=120)
    assert p.returncode == 130 and "KeyboardInterrupt" in rest
    with h5py.File(out) as f:
        assert f.attrs["status"] == "interrupted" and f["snapshots/time"].shape == (1,)


def test_plot_of_a_result(tmp_path):
    r = fpsolve.run(OU)
    fig = r.plot(tmp_path / "ou.png")
    assert fig is not None and (tmp_path / "ou.png").stat().st_size > 0


def test_numpy_values_in_overrides_and_dicts():
    a = fpsolve.run(OU, overrides={"grid.cells": np.array([80]), "time.end": np.float64(0.5)}, threads=np.int64(1))
    b = fpsolve.run({**OU, "grid": {**OU["grid"], "cells": [80]}}, overrides={"time.end": 0.5})
    assert a.density.shape == (5, 80) and np.array_equal(a.density, b.density)


def test_import_needs_no_numpy():
    # `import fpsolve` works in an interpreter without numpy (e.g. a pyenv python3 on PATH); using it says why not.
    code = ("import sys; sys.modules['numpy'] = None; import fpsolve\n"
            "try:\n    fpsolve.run({})\nexcept ImportError as e:\n    print('needs numpy' if 'numpy' in str(e) else e)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert p.returncode == 0 and p.stdout.strip() == "needs numpy", p.stderr
