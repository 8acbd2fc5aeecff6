"""What the Python path costs against the command line (issue: at most 10 % on a 256^2 run).

    /usr/bin/python3 benchmarks/bench_python.py [BUILD_DIR] [REPEATS]      (default: build, 5)

The 2-D double well (data/scenarios/double-well-2d.toml) at 256^2 to t = 5 with 11 snapshots and rkc, one
thread, written to a file: `fpsolve run` as a process, `python3 -c "fpsolve.run(...)"` as a process, and the
fpsolve.run call alone. Runs alternate, so a busy machine slows both alike; the medians and their ratios are
printed. Never a test: timings.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "build"))
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
config = os.path.join(here, "data", "scenarios", "double-well-2d.toml")
overrides = {"grid.cells": "[256, 256]", "time.end": "5.0", "time.snapshots": "11", "time.integrator": '"rkc"'}
env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(build, "python")}
work = tempfile.mkdtemp()
cli_out, py_out = os.path.join(work, "cli.h5"), os.path.join(work, "py.h5")
cli = [os.path.join(build, "bin", "fpsolve"), "run", config, "-o", cli_out, "--force", "--quiet"]
for k, v in overrides.items():
    cli += ["--set", f"{k}={v}"]
py_overrides = "{" + ", ".join(f"{k!r}: {v}" for k, v in overrides.items()).replace('"rkc"', "'rkc'") + "}"
script = f"""
import time, fpsolve
t, c = time.perf_counter(), time.process_time()
fpsolve.run({config!r}, output={py_out!r}, force=True, overrides={py_overrides})
print(time.perf_counter() - t, time.process_time() - c)
"""


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

names = ["fpsolve run (process)", "python3 fpsolve.run (process)", "fpsolve.run call"]
wall = {n: [] for n in names}
cpu = {n: [] for n in names}
for _ in range(repeats):
    t, c = time.perf_counter(), children_cpu()
    subprocess.run(cli, env=env, check=True)
    wall[names[0]].append(time.perf_counter() - t)
    cpu[names[0]].append(children_cpu() - c)
    t, c = time.perf_counter(), children_cpu()
    inner = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    wall[names[1]].append(time.perf_counter() - t)
    cpu[names[1]].append(children_cpu() - c)
    w, c = inner.stdout.split()
    wall[names[2]].append(float(w))
    cpu[names[2]].append(float(c))
for label, table in (("wall", wall), ("CPU", cpu)):
    base = statistics.median(table[names[0]])
    for name in names:
        ts = table[name]
        m = statistics.median(ts)
        print(f"{label:4s} {name:32s} median {m:6.3f} s  (min {min(ts):6.3f}, max {max(ts):6.3f})  "
              f"ratio to the command line {m / base:5.3f}")
