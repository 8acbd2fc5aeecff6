#!/usr/bin/python3
"""Compares two fpsolve files: the same groups, datasets, shapes, compression and attributes, and
values within a relative tolerance (max |a - b| / max |b| per dataset, min_density against the largest
density; NaN must match NaN). Both chunked or both not: the chunk shapes themselves follow the rank blocks
(h5::cell_chunk) and differ between rank counts.

usage: compare_h5.py SERIAL.h5 PARALLEL.h5 [--rtol 1e-12] [--solver-tol TOL]
--solver-tol: the files come from iterative solves (hypre) against a direct one, so floating-point attributes
may differ too: they must agree to --rtol relative (those named `residual`, a backward error at the level of
each solver, must both be below TOL instead; `l1_to_reference`, a distance between unit masses that is
round-off where the scheme is Gibbs exact, to --rtol absolute), and /stationary/current, which vanishes at an equilibrium, is
measured against the largest density as well as against itself.
Prints the largest relative difference per dataset; exits 1 on any mismatch."""
import sys

import h5py
import numpy as np


def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def attrs(obj):
    return {k: obj.attrs[k] for k in obj.attrs}


def same_attr(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return np.array_equal(a, b, equal_nan=True)
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    return a == b


def main(argv):
    rtol = 1e-12
    if "--rtol" in argv:
        i = argv.index("--rtol")
        rtol = float(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    solver_tol = None
    if "--solver-tol" in argv:
        i = argv.index("--solver-tol")
        solver_tol = float(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    ref, got = argv[1], argv[2]
    errors = []
    worst = 0.0
    with h5py.File(ref, "r") as fr, h5py.File(got, "r") as fg:
        ir, ig = items(fr), items(fg)
        if sorted(ir) != sorted(ig):
            errors.append(f"objects differ: only in {ref}: {sorted(set(ir) - set(ig))}, only in {got}: {sorted(set(ig) - set(ir))}")
        for name in ["/"] + sorted(set(ir) & set(ig)):
            a = fr[name] if name != "/" else fr
            b = fg[name] if name != "/" else fg
            ar, ag = attrs(a), attrs(b)
            if sorted(ar) != sorted(ag):
                errors.append(f"{name}: attributes {sorted(ar)} vs {sorted(ag)}")
            for k in sorted(set(ar) & set(ag)):
                x, y = ar[k], ag[k]
                if solver_tol is not None and np.ndim(x) == 0 and isinstance(x, (float, np.floating)):
                    if k == "residual":
                        ok = x <= solver_tol and y <= solver_tol
                    elif k == "l1_to_reference":  # between unit masses: absolute (round-off where Gibbs is exact)
                        ok = abs(x - y) <= rtol
                    else:
                        ok = (np.isnan(x) and np.isnan(y)) or abs(x - y) <= rtol * abs(x)
                    print(f"  {name}@{k:26s} {x:.12g} vs {y:.12g}")
                    if not ok:
                        errors.append(f"{name}: attribute {k}: {x!r} vs {y!r}")
                    continue
                if not same_attr(x, y):
                    errors.append(f"{name}: attribute {k}: {ar[k]!r} vs {ag[k]!r}")
            if not isinstance(a, h5py.Dataset):
                continue
            if a.shape != b.shape or a.dtype != b.dtype or (a.chunks is None) != (b.chunks is None) \
                    or a.compression != b.compression or a.maxshape != b.maxshape:
                errors.append(f"{name}: shape/dtype/chunks/compression {a.shape} {a.dtype} {a.chunks} {a.compression} "
                              f"{a.maxshape} vs {b.shape} {b.dtype} {b.chunks} {b.compression} {b.maxshape}")
                continue
            x, y = a[()], b[()]
            if x.size == 0:
                continue
            nan = np.isnan(x)
            if not np.array_equal(nan, np.isnan(y)):
                errors.append(f"{name}: NaN in different places")
                continue
            scale = np.max(np.abs(x[~nan])) if (~nan).any() else 0.0
            if name.endswith("min_density"):  # round-off around 0: measured against the density itself
                scale = max(scale, np.max(np.abs(fr["snapshots/density"][()])))
            if solver_tol is not None and name.endswith("stationary/current"):
                scale = max(scale, np.max(np.abs(fr["stationary/density"][()])))
            diff = np.max(np.abs(x[~nan] - y[~nan])) if (~nan).any() else 0.0
            rel = diff / scale if scale > 0 else diff
            worst = max(worst, rel)
            print(f"  {name:32s} {str(x.shape):18s} max rel diff {rel:.2e}")
            if not rel <= rtol:
                errors.append(f"{name}: relative difference {rel:.3e} > {rtol:g}")
    for e in errors:
        print("MISMATCH:", e)
    print(f"{got} vs {ref}: {'OK' if not errors else 'FAILED'} (largest relative difference {worst:.2e}, tolerance {rtol:g})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
