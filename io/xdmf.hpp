// XDMF 3 companion of an fpsolve HDF5 file, so that ParaView and VisIt open a run as a time series.
//
// The XDMF file holds no numbers, only a description of the HDF5 datasets (format: xdmf.org, "XDMF
// Model and Format"): one uniform grid per snapshot in a temporal collection, each a 3DCoRectMesh
// (Origin + DxDyDz) with cell-centred attributes read from the HDF5 file through hyperslabs:
//   density          /snapshots/density[k, ...]
//   current_<var>    /snapshots/current[k, ..., a]      one scalar per axis (with output.current)
//   reference        /reference/density                 (where a closed form exists)
//   stationary, stationary_current_<var>                /stationary/... (from fpsolve stationary)
// XDMF lists axes slowest first (Z, Y, X) and the HDF5 arrays are stored with axis 0 (x) slowest, so
// the viewer's X axis is the file's last axis: in 2-D ParaView shows y along X and x along Y, in 3-D
// z along X. A 1-D or 2-D grid is padded to 3-D with one cell along the missing leading axes.
// A 4-D grid has no companion: XDMF's structured topologies (3DCoRectMesh and the like) stop at three axes, so
// ParaView could show only a slice, which the file itself does not hold. Read 4-D files with h5py, fpsolve.load or
// fpsolve plot (2-D marginals and slices).
#pragma once
#include <string>

namespace fpsolve {

// "<dir>/<stem>.xdmf" for "<dir>/<stem>.h5" (or "<path>.xdmf" when the name has no extension).
std::string xdmf_path(const std::string& h5path);

// Reads the grid and snapshot count of the fpsolve file `h5path` and writes xdmf_path(h5path),
// overwriting it (it is a companion of the HDF5 file). Returns the path written, or "" for a 4-D file, which gets
// none (and loses a stale companion of an earlier file of that name).
// Throws InputError if `h5path` is not an fpsolve file, RunError if the XDMF cannot be written.
std::string write_xdmf(const std::string& h5path);

// write_xdmf for the commands that end a run: a failure is a warning on stderr, not an error, since
// the HDF5 file is complete without its companion. Returns whether the file was written (false, without a
// warning, for a 4-D file).
bool write_xdmf_or_warn(const std::string& h5path) noexcept;

}  // namespace fpsolve
