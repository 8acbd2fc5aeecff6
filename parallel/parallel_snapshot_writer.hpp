// The fpsolve HDF5 file (DESIGN §4) written by all ranks of a decomposed run through parallel HDF5
// (MPI-IO driver): the same groups, datasets, shapes, compression and attributes as SnapshotWriter, so a
// file written by N ranks reads back as the file of a serial run. Only the chunks differ: one per rank block
// (h5::cell_chunk), so that each rank deflates its own cells.
//
//   /snapshots/density[k, cells...]     each rank writes its block as a hyperslab, collectively
//   /snapshots/current[k, cells..., d]  the same, with the d components
//   /reference/density                  the same, once
//   /stationary/density, current, mfpt  the same (write_cells, write_cell_vectors)
//   /diagnostics/...                    reduced before (DistributedDiagnostics); rank 0 writes the row
//   attributes, /grid                   written by every rank with the same values (HDF5 metadata is
//   collective)
// The layout itself is SnapshotLayout's (io/snapshot_layout.hpp), shared with the serial writer.
//
// Every method is collective. Parallel HDF5 has no SWMR mode: readers must wait for the run to end (or
// read after a flush, without SWMR's guarantees); a killed run may leave the file unreadable.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "decomposition.hpp"
#include "diagnostics.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

class ParallelSnapshotWriter {
  public:
    // Creates (truncates) `path`. `reference` holds the owned cells of the reference density.
    ParallelSnapshotWriter(const std::string& path, const Decomposition& dec, const FileMetadata& meta,
                           bool with_current, const std::optional<Eigen::VectorXd>& reference);
    // Opens an existing fpsolve file to append snapshots (resume), as SnapshotWriter's Append constructor.
    ParallelSnapshotWriter(const std::string& path, const Decomposition& dec, SnapshotWriter::Append,
                           const FileMetadata& meta);
    ParallelSnapshotWriter(const ParallelSnapshotWriter&) = delete;
    ParallelSnapshotWriter& operator=(const ParallelSnapshotWriter&) = delete;
    ~ParallelSnapshotWriter();

    // `density`: the owned cells; `current`: owned x dims (with output.current). Rank 0 checks first that
    // the file has room for the snapshot (ensure_room); when not, every rank throws its RunError.
    void append(double t, const Eigen::VectorXd& density, const Diagnostics& diag,
                const Eigen::MatrixXd* current = nullptr);
    // Datasets and attributes beside the snapshots (fpsolve stationary's /stationary group), the same as
    // SnapshotWriter's write_array / write_attribute. write_cells: dataset [cells...] of which each rank
    // writes its owned cells; write_cell_vectors: [cells..., d] from owned x d; write_array: a small array
    // with the same values on every rank (rank 0's are written).
    void write_cells(const std::string& path, const Eigen::VectorXd& owned);
    void write_cell_vectors(const std::string& path, const Eigen::MatrixXd& owned);
    void write_array(const std::string& path, const std::vector<std::size_t>& shape, const double* data);
    void write_attribute(const std::string& group, const std::string& name, double value);
    void write_attribute(const std::string& group, const std::string& name, const std::string& value);
    void set_status(const std::string& status);
    void close();
    std::size_t snapshots() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fpsolve
