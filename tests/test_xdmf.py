"""The XDMF file beside every HDF5 file of `fpsolve run`: valid XML (XDMF 3), a temporal collection whose
times are /snapshots/time, a 3DCoRectMesh matching /grid (axes in XDMF order, slowest first), and
attributes that point at datasets that exist, with hyperslabs inside their shapes that select
snapshot k (and current component a) and read back the right numbers.

    test_xdmf.py FPSOLVE SOURCE_DIR        runs 1-D, 2-D (with current) and 3-D files and checks them
    test_xdmf.py --check FILE.xdmf         checks one XDMF file (used by tests/test_xdmf.cpp)

When ParaView's Python (paraview.simple) or VTK's Python is installed, the 2-D file is also opened
with its XDMF reader and a value read back; otherwise that step is reported as skipped."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import h5py
import numpy as np


def numbers(text, kind=float):
    return [kind(v) for v in text.split()]


def dataset(item, h5name, f):
    """The h5py dataset an HDF DataItem names, after checking the item against it."""
    assert item.get("Format") == "HDF", item.attrib
    assert item.get("NumberType") == "Float" and item.get("Precision") == "8"
    name, path = item.text.strip().split(":", 1)
    assert name == h5name, "the HDF5 file is named relative to the XDMF file"
    assert path in f, f"{name}:{path} does not exist"
    ds = f[path]
    assert list(ds.shape) == numbers(item.get("Dimensions"), int), (path, ds.shape, item.get("Dimensions"))
    assert ds.dtype == np.float64
    return ds


def read_item(item, h5name, f):
    """The array an XDMF DataItem stands for, read with h5py from the open file f."""
    if item.get("ItemType") != "HyperSlab":
        return dataset(item, h5name, f)[()]
    dims = numbers(item.get("Dimensions"), int)
    sel, data = list(item)
    assert sel.get("Format") == "XML" and numbers(sel.get("Dimensions"), int)[0] == 3
    start, stride, count = np.array(numbers(sel.text, int)).reshape(3, -1)
    ds = dataset(data, h5name, f)
    assert len(start) == ds.ndim, (start, ds.shape)
    assert list(count) == dims, (count, dims)
    assert np.all(start >= 0) and np.all(stride >= 1)
    assert np.all(start + (count - 1) * stride < np.array(ds.shape)), (start, count, ds.shape)
    return ds[tuple(slice(s, s + (c - 1) * t + 1, t) for s, t, c in zip(start, stride, count))]


def check(xdmf, sample=None):
    """Checks one XDMF file against the HDF5 file it describes; returns (h5 path, number of grids).
    With `sample`, only that many grids at each end of a long time series are read back."""
    folder = os.path.dirname(os.path.abspath(xdmf))
    root = ET.parse(xdmf).getroot()
    assert root.tag == "Xdmf" and root.get("Version") == "3.0"
    (domain,) = list(root)
    assert domain.tag == "Domain"
    (top,) = domain.findall("Grid")
    if top.get("GridType") == "Collection":
        assert top.get("CollectionType") == "Temporal"
        grids = top.findall("Grid")
    else:
        grids = [top]
    h5name = next(it for it in root.iter("DataItem") if it.get("Format") == "HDF").text.split(":")[0]
    h5path = os.path.join(folder, h5name)
    f = h5py.File(h5path, "r")
    g = f["grid"]
    d = int(g.attrs["dims"])
    cells = [int(c) for c in g.attrs["cells"]]
    lower, upper = np.asarray(g.attrs["lower"]), np.asarray(g.attrs["upper"])
    variables = [str(v) for v in g.attrs["variables"]]
    times = f["snapshots/time"][()] if "snapshots/time" in f else np.zeros(0)
    snaps = f["snapshots/density"] if len(times) else None
    current = f["snapshots/current"] if "snapshots/current" in f and len(times) else None
    stationary = {k: f["stationary"][k][()] for k in f["stationary"]} if "stationary" in f else {}
    pad = 3 - d
    if len(times):
        assert len(grids) == len(times), (len(grids), len(times))
    for k, grid in enumerate(grids):
        if sample is not None and sample <= k < len(grids) - sample:
            continue
        assert grid.get("GridType") == "Uniform"
        if len(times):
            assert float(grid.find("Time").get("Value")) == times[k]
        topo = grid.find("Topology")
        assert topo.get("TopologyType") == "3DCoRectMesh"
        points = numbers(topo.get("Dimensions"), int)
        assert points == [2] * pad + [c + 1 for c in cells], (points, cells)
        geo = grid.find("Geometry")
        assert geo.get("GeometryType") == "ORIGIN_DXDYDZ"
        origin, spacing = (np.array(numbers(it.text)) for it in geo.findall("DataItem"))
        assert np.allclose(origin[pad:], lower) and np.allclose(spacing[pad:], (upper - lower) / cells)
        assert np.all(spacing > 0)
        seen = {}
        for att in grid.findall("Attribute"):
            assert att.get("Center") == "Cell" and att.get("AttributeType") == "Scalar"
            (item,) = list(att)
            values = read_item(item, h5name, f)
            assert values.size == np.prod(cells), (att.get("Name"), values.shape)
            seen[att.get("Name")] = values.reshape(cells)
        if len(times):
            assert np.array_equal(seen["density"], snaps[k]), k
            if current is not None:
                for a, v in enumerate(variables):
                    assert np.array_equal(seen["current_" + v], current[k][..., a]), (k, v)
            else:
                assert not any(n.startswith("current_") for n in seen)
        if "density" in stationary:
            assert np.array_equal(seen["stationary"], stationary["density"])
        if "current" in stationary:
            for a, v in enumerate(variables):
                assert np.array_equal(seen["stationary_current_" + v], stationary["current"][..., a])
    f.close()
    return h5path, len(grids)


def open_with_a_reader(xdmf):
    """Reads the density of the last time step back with ParaView's or VTK's XDMF reader, if installed."""
    try:
        from paraview import simple as pv  # noqa: F401
    except ImportError:
        pv = None
    if pv is not None:
        reader = pv.XDMFReader(FileNames=[xdmf])
        reader.UpdatePipeline(reader.TimestepValues[-1])
        data = pv.servermanager.Fetch(reader)
        return "ParaView", data.GetCellData().GetArray("density")
    try:
        import vtk
    except ImportError:
        return None, None
    for cls in ("vtkXdmf3Reader", "vtkXdmfReader"):
        if hasattr(vtk, cls):
            reader = getattr(vtk, cls)()
            reader.SetFileName(xdmf)
            reader.Update()
            out = reader.GetOutputDataObject(0)
            block = out.GetBlock(0) if hasattr(out, "GetBlock") else out
            return f"VTK {cls}", block.GetCellData().GetArray("density")
    return None, None


def main(fpsolve, source):
    work = tempfile.mkdtemp(prefix="fpsolve-xdmf-")
    cases = {
        "one": ("[-2.0]", "[2.0]", "[40]", 'potential = "(x^2 - 1)^2"', "false"),
        "two": ("[-2.0, -1.0]", "[2.0, 1.5]", "[20, 10]", 'drift = ["-x", "-y"]', "true"),
        "three": ("[-1.0, -1.0, -2.0]", "[1.0, 1.0, 2.0]", "[6, 5, 4]", 'potential = "(x^2 + y^2 + z^2)/2"', "true"),
    }
    for name, (lo, hi, cells, dyn, current) in cases.items():
        dims = lo.count(",") + 1
        mean = [0.2] + [0.0] * (dims - 1)
        cov = [[0.1 if i == j else 0.0 for j in range(dims)] for i in range(dims)]
        config = os.path.join(work, name + ".toml")
        with open(config, "w") as f:
            f.write(f"""
[grid]
lower = {lo}
upper = {hi}
cells = {cells}
[dynamics]
{dyn}
noise = 0.5
[initial]
gaussian = {{ mean = {mean}, covariance = {cov} }}
[time]
end = 0.2
snapshots = 3
[output]
current = {current}
""")
        out = os.path.join(work, name + ".h5")
        subprocess.run([fpsolve, "run", config, "-o", out, "--quiet"], check=True)
        xdmf = os.path.join(work, name + ".xdmf")
        assert os.path.exists(xdmf), f"no {xdmf} beside {out}"
        h5path, n = check(xdmf)
        assert os.path.samefile(h5path, out) and n == 3

    # --force replaces the XDMF with one for the new run.
    config = os.path.join(work, "one.toml")
    subprocess.run([fpsolve, "run", config, "-o", os.path.join(work, "one.h5"), "--quiet", "--force",
                    "--set", "time.snapshots=5"], check=True)
    assert check(os.path.join(work, "one.xdmf"))[1] == 5

    # An interrupted run (exit 130) leaves an XDMF for the snapshots written so far.
    long_run = os.path.join(work, "long.h5")
    proc = subprocess.Popen([fpsolve, "run", config, "-o", long_run, "--quiet", "--set", "time.end=1e5",
                             "--set", "time.snapshots=101", "--set", "grid.cells=[400]",
                             "--set", 'time.integrator="dopri5"'])  # explicit: far from done in 1.5 s
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    with h5py.File(long_run, "r") as f:
        assert f.attrs["status"] == "interrupted"
        written = len(f["snapshots/time"])
    assert check(os.path.join(work, "long.xdmf"), sample=3)[1] == max(written, 1)

    reader, array = open_with_a_reader(os.path.join(work, "two.xdmf"))
    if reader is None:
        print("xdmf: neither ParaView's nor VTK's Python is installed: not opened with a real reader")
    else:
        with h5py.File(os.path.join(work, "two.h5"), "r") as f:
            last = f["snapshots/density"][-1]
        assert array is not None and array.GetNumberOfTuples() == last.size
        got = np.array([array.GetValue(i) for i in range(array.GetNumberOfTuples())])
        # The reader's X (fastest) axis is the file's last axis: the flat order is the file's C order.
        assert np.allclose(got, last.ravel()), "reader disagrees with h5py"
        print(f"xdmf: {reader} read the last density back")
    shutil.rmtree(work)
    print("xdmf: 1-D, 2-D and 3-D companions are valid and point at the right datasets")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        check(sys.argv[2])
        print(f"xdmf: {sys.argv[2]} is valid")
    else:
        main(sys.argv[1], sys.argv[2])
