// The fpsolve HDF5 file, format "fpsolve" version 1 (DESIGN §4):
//   /                 format, format_version, program_version, config, status
//   /grid             dims, lower, upper, cells, boundary, variables; datasets x, y, z (cell centres)
//   /snapshots        time [n], density [n, cells...], current [n, cells..., d] (with output.current)
//   /diagnostics      time, mass, mean [n,d], covariance [n,d,d], entropy, free_energy,
//                     l1_to_reference, kl_to_reference (with a reference), outflux (with absorbing walls),
//                     min_density, error_estimate (with grid.richardson)
//   /reference        density [cells...]
// Every append is flushed, so a crash leaves every written snapshot readable.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diagnostics.hpp"
#include "grid.hpp"

namespace fpsolve {

struct FileMetadata {
    std::string config;           // full TOML text
    std::string program_version;
};

inline constexpr const char* program_version = "0.1.0";

// Writes a file as it goes. A run calls start_swmr() once the file has all its groups: from then on
// readers can open it while it grows (HDF5 single-writer/multiple-reader: h5py.File(path, "r", swmr=True);
// `fpsolve inspect` does so by itself), and a killed writer leaves every appended snapshot readable.
// set_status() ends SWMR mode: it closes the file and reopens it to write the attribute.
class SnapshotWriter {
public:
    // Creates (truncates) `path`. The caller has checked that overwriting is allowed.
    // `with_error_estimate`: the run extrapolates in space (grid.richardson) and appends the estimate.
    SnapshotWriter(const std::string& path, const Grid& grid, const FileMetadata& meta, bool with_current,
                   const std::optional<Eigen::VectorXd>& reference, bool with_error_estimate = false);
    // Opens an existing fpsolve file to append snapshots (resume). Rows beyond the last complete snapshot
    // (a killed writer's partial append) are dropped; `meta.config` replaces the stored config.
    struct Append {};
    SnapshotWriter(const std::string& path, Append, const FileMetadata& meta);
    SnapshotWriter(const SnapshotWriter&) = delete;
    SnapshotWriter& operator=(const SnapshotWriter&) = delete;
    ~SnapshotWriter();

    void append(double t, const Eigen::VectorXd& density, const Diagnostics& diag,
                const Eigen::MatrixXd* current = nullptr);
    void set_status(const std::string& status);
    void start_swmr();
    void flush();
    // For commands that add their own groups: a dataset of doubles at `path` (groups created as needed),
    // and attributes on a group.
    void write_array(const std::string& path, const std::vector<std::size_t>& shape, const double* data);
    void write_attribute(const std::string& group, const std::string& name, double value);
    void write_attribute(const std::string& group, const std::string& name, const std::string& value);
    std::size_t snapshots() const;
    const std::string& path() const { return path_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string path_;
};

// What `inspect` and `[initial] snapshot` read back.
// Opening follows the SWMR rules: a file still being written (or left by a killed writer) is opened
// for SWMR reading.
struct SnapshotFileInfo {
    std::string status, program_version, config;
    std::int64_t format_version = 0;
    Grid grid;
    std::vector<double> times;
    bool has_reference = false, has_current = false, has_stationary = false;
    std::vector<double> mass, l1_to_reference, kl_to_reference, min_density, free_energy;
    std::vector<double> error_estimate;        // written by runs with grid.richardson
    std::map<std::string, double> stationary;  // the numeric attributes of /stationary
    std::map<std::string, std::string> stationary_text;  // its string attributes (kind, reference_kind)
};

// Throws InputError if the file does not exist, is not HDF5, or is not an fpsolve file.
SnapshotFileInfo read_snapshot_file(const std::string& path);
// The density of snapshot k (k = -1: the last); throws InputError if there is none.
Eigen::VectorXd read_snapshot(const std::string& path, long k = -1);
// The cells [begin, begin + count) (per axis) of snapshot k, row-major as the grid's own order: the block
// of one rank of a decomposed run.
Eigen::VectorXd read_snapshot_block(const std::string& path, long k, const std::vector<Index>& begin,
                                    const std::vector<Index>& count);

// A dataset of doubles read whole, row-major, with its shape.
struct ArrayData {
    std::vector<std::size_t> shape;
    std::vector<double> values;
};
// The datasets named in `names` ("/diagnostics/mass", ...) that the file holds; missing ones are left out.
std::map<std::string, ArrayData> read_arrays(const std::string& path, const std::vector<std::string>& names);

// Throws RunError when the file at `path` has no room for `bytes` more: the file-size limit (ulimit -f) or
// the free space on its disk. HDF5 cannot recover from a write that runs out of space half-way, so the
// writers check before each snapshot.
void ensure_room(const std::string& path, double bytes);
// What a snapshot of `cells` cells adds at the most, with room for metadata and the final status.
double snapshot_bytes(Index cells, int dims, bool with_current);

}  // namespace fpsolve
