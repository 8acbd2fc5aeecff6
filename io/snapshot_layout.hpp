// The groups and datasets of an fpsolve file (DESIGN §4), made and filled in one place for both writers:
// SnapshotWriter (one process, the whole grid) and ParallelSnapshotWriter (every rank of a decomposed run,
// through parallel HDF5, each its own block of the cells). The writers differ only in how they open the file,
// the transfer list they write with, and which block of the cells a process writes.
//
//   /                 format, format_version, program_version, config, status
//   /grid             dims, lower, upper, cells, boundary, variables; x, y, z, w (cell centres)
//   /snapshots        time [n], density [n, cells...], current [n, cells..., d]
//   /diagnostics      time, mass, mean [n,d], covariance [n,d,d], entropy, free_energy, min_density,
//                     l1_to_reference, kl_to_reference (with a reference), outflux (with absorbing walls),
//                     error_estimate (with grid.richardson)
//   /reference        density [cells...]
//
// Under parallel HDF5 every call here is collective: all ranks call it with the same metadata.
#pragma once
#include <vector>

#include "diagnostics.hpp"
#include "grid.hpp"
#include "hdf5_handles.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

// The cells [start, start + count) of the grid that one process writes or reads (axis 0 first), and the
// number of blocks along each axis (the rank grid; empty: one block), which chunks the cell datasets
// (h5::cell_chunk).
struct CellBlock {
    std::vector<hsize_t> start, count, blocks;
    static CellBlock whole(const Grid& g);
};

struct SnapshotLayout {
    h5::Growable time, density, current;
    h5::Growable d_time, d_mass, d_mean, d_cov, d_entropy, d_free, d_l1, d_kl, d_outflux, d_min, d_error;
    bool with_current = false, with_reference = false, with_outflux = false, with_error_estimate = false;
    int dims = 1;

    // A new file: the root attributes (status "running"), /grid, the empty datasets of /snapshots and
    // /diagnostics, and, with a reference, /reference/density, of which this process writes `block`
    // (`reference` holds that block's values).
    static SnapshotLayout create(hid_t file, const Grid& g, const FileMetadata& meta, bool with_current,
                                 const Eigen::VectorXd* reference, const CellBlock& block, hid_t xfer,
                                 bool with_error_estimate = false);
    // An existing file, to append to (resume): rows beyond the last complete snapshot (a killed writer's
    // partial append) are dropped, `meta` replaces the stored config and version, status is "running".
    static SnapshotLayout open(hid_t file, const FileMetadata& meta);

    // One snapshot: this process's block of the density (and of the cell current, cells x d, with
    // output.current), the diagnostics row when `write_rows` (the values are the same on every rank; one
    // writes them), and /snapshots/time last, so that a reader that sees n times finds n densities.
    void append(double t, const Eigen::VectorXd& density, const Eigen::MatrixXd* current, const Diagnostics& dg,
                const CellBlock& block, hid_t xfer, bool write_rows);
    void close();

private:
    std::vector<h5::Growable*> all();
};

}  // namespace fpsolve
