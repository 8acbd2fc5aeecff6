#include "snapshot_file.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "hdf5_handles.hpp"
#include "snapshot_layout.hpp"

namespace fpsolve {

struct SnapshotWriter::Impl {
    h5::Handle file;
    SnapshotLayout layout;
    CellBlock whole;  // one process writes every cell
    bool swmr = false;

    void close() {
        layout.close();
        file.reset();
    }
};

namespace {
// SWMR needs the newest file format.
h5::Handle latest_format_access() {
    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS), "create file access list");
    h5::check(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "set file format");
    return fapl;
}
}  // namespace

SnapshotWriter::SnapshotWriter(const std::string& path, const Grid& g, const FileMetadata& meta,
                               bool with_current, const std::optional<Eigen::VectorXd>& reference,
                               bool with_error_estimate)
    : impl_(std::make_unique<Impl>()), path_(path) {
    h5::silence_errors();
    Impl& m = *impl_;
    const h5::Handle fapl = latest_format_access();
    m.file = h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "create " + path);
    m.whole = CellBlock::whole(g);
    m.layout = SnapshotLayout::create(m.file, g, meta, with_current, reference ? &*reference : nullptr,
                                      m.whole, H5P_DEFAULT, with_error_estimate);
    flush();
}

SnapshotWriter::SnapshotWriter(const std::string& path, Append, const FileMetadata& meta)
    : impl_(std::make_unique<Impl>()), path_(path) {
    h5::silence_errors();
    Impl& m = *impl_;
    const h5::Handle fapl = latest_format_access();
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
    if (id < 0)
        throw InputError(path + ": cannot open it for writing (if a writer was killed, run h5clear -s " +
                         path + " first; if a run is still writing it, wait for it)");
    m.file = h5::Handle(id, "open " + path);
    m.layout = SnapshotLayout::open(m.file, meta);
    m.whole.count = h5::dataset_shape(m.file, "/snapshots/density");
    m.whole.count.erase(m.whole.count.begin());
    m.whole.start.assign(m.whole.count.size(), 0);
    flush();
}

SnapshotWriter::~SnapshotWriter() = default;

void SnapshotWriter::start_swmr() {
    h5::check(H5Fstart_swmr_write(impl_->file), "start SWMR writing of " + path_);
    impl_->swmr = true;
}

// HDF5 cannot recover from a write that runs out of space half-way (the file's recorded end then lies past
// its real end and no reader opens it), so room for a whole snapshot is checked before each one.
void ensure_room(const std::string& path, double bytes) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const double size = static_cast<double>(fs::file_size(path, ec));
    rlimit rl{};
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        size + bytes > static_cast<double>(rl.rlim_cur))
        throw RunError("the next snapshot would pass the file-size limit (ulimit -f) of " +
                       std::to_string(rl.rlim_cur / 1024) + " KiB");
    fs::path dir = fs::absolute(path, ec).parent_path();
    const fs::space_info space = fs::space(dir, ec);
    if (!ec && static_cast<double>(space.available) < bytes)
        throw RunError("the disk is full: " + std::to_string(space.available / 1024) +
                       " KiB left, the next snapshot needs about " +
                       std::to_string(static_cast<long long>(bytes / 1024)) +
                       " KiB; free space, then fpsolve run --resume " + path);
}

double snapshot_bytes(Index cells, int dims, bool with_current) {
    // Uncompressed size (deflate only shrinks it) twice over, plus room for metadata and the final status.
    const double row = static_cast<double>(cells) * 8.0 * (with_current ? 1.0 + dims : 1.0);
    return 2.0 * row + 256.0 * 1024.0;
}

void SnapshotWriter::append(double t, const Eigen::VectorXd& p, const Diagnostics& dg,
                            const Eigen::MatrixXd* current) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError(path_ + ": appended to after it was closed");
    ensure_room(path_, snapshot_bytes(p.size(), m.layout.dims, m.layout.with_current));
    m.layout.append(t, p, current, dg, m.whole, H5P_DEFAULT, true);
    flush();
}

void SnapshotWriter::set_status(const std::string& status) {
    Impl& m = *impl_;
    if (m.swmr || !m.file.valid()) {
        // SWMR writers cannot change attributes: close, reopen plainly, write, close for good.
        m.close();
        m.swmr = false;
        h5::Handle file(H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT),
                        "reopen " + path_ + " to set its status");
        h5::write_attribute(file, "status", status);
        h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush " + path_);
        return;
    }
    h5::write_attribute(m.file, "status", status);
    flush();
}

void SnapshotWriter::flush() {
    if (impl_->file.valid()) h5::check(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flush " + path_);
}

void SnapshotWriter::write_array(const std::string& path, const std::vector<std::size_t>& shape,
                                 const double* data) {
    h5::make_groups(impl_->file, path);
    std::vector<hsize_t> s(shape.begin(), shape.end());
    h5::write_dataset(impl_->file, path, s, data, true);
    flush();
}

void SnapshotWriter::write_attribute(const std::string& group, const std::string& name, double value) {
    const h5::Handle g = h5::open_or_create_group(impl_->file, group);
    h5::write_attribute(g, name, value);
}

void SnapshotWriter::write_attribute(const std::string& group, const std::string& name,
                                     const std::string& value) {
    const h5::Handle g = h5::open_or_create_group(impl_->file, group);
    h5::write_attribute(g, name, value);
}

std::size_t SnapshotWriter::snapshots() const { return impl_->layout.time.rows(); }

namespace {
h5::Handle open_fpsolve_file(const std::string& path) {
    h5::silence_errors();
    if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
    if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": not an HDF5 file");
    // A file being written (or left by a killed writer) opens only as an SWMR reader.
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (id < 0) id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0)
        throw InputError(path + ": cannot open (a writer that was killed leaves it locked: run h5clear -s " +
                         path + ")");
    h5::Handle file(id, "open " + path);
    if (!h5::has_attribute(file, "format") || h5::read_string_attribute(file, "format") != "fpsolve")
        throw InputError(path + ": not an fpsolve file (no format = \"fpsolve\" attribute)");
    return file;
}
}  // namespace

SnapshotFileInfo read_snapshot_file(const std::string& path) {
    h5::Handle file = open_fpsolve_file(path);
    SnapshotFileInfo info;
    try {
        info.format_version = h5::read_int_attribute(file, "format_version").at(0);
        info.status = h5::read_string_attribute(file, "status");
        info.program_version = h5::read_string_attribute(file, "program_version");
        info.config = h5::read_string_attribute(file, "config");
        h5::Handle grid(H5Gopen2(file, "grid", H5P_DEFAULT), "open /grid");
        Grid& g = info.grid;
        g.dims = static_cast<int>(h5::read_int_attribute(grid, "dims").at(0));
        if (g.dims < 1 || g.dims > kMaxAxes) throw RunError("/grid dims is not 1, 2, 3 or 4");
        const auto lo = h5::read_double_attribute(grid, "lower"),
                   hi = h5::read_double_attribute(grid, "upper");
        const auto cells = h5::read_int_attribute(grid, "cells");
        const auto bc = h5::read_string_array_attribute(grid, "boundary");
        const auto vars = h5::read_string_array_attribute(grid, "variables");
        for (int a = 0; a < g.dims; ++a) {
            const auto ua = static_cast<std::size_t>(a);
            g.lower[a] = lo.at(ua);
            g.upper[a] = hi.at(ua);
            g.cells[a] = cells.at(ua);
            g.boundary[a] = boundary_from_string(bc.at(ua));
            g.variables[a] = vars.at(ua);
        }
        if (h5::exists(file, "/snapshots/time")) info.times = h5::read_dataset(file, "/snapshots/time");
        info.has_reference = h5::exists(file, "/reference/density");
        info.has_current = h5::exists(file, "/snapshots/current");
        info.has_stationary = h5::exists(file, "/stationary/density");
        auto read_if = [&](const char* name, std::vector<double>& out) {
            if (h5::exists(file, name)) out = h5::read_dataset(file, name);
        };
        read_if("/diagnostics/mass", info.mass);
        read_if("/diagnostics/l1_to_reference", info.l1_to_reference);
        read_if("/diagnostics/kl_to_reference", info.kl_to_reference);
        read_if("/diagnostics/min_density", info.min_density);
        read_if("/diagnostics/free_energy", info.free_energy);
        read_if("/diagnostics/error_estimate", info.error_estimate);
        if (info.has_stationary) {
            h5::Handle st(H5Gopen2(file, "stationary", H5P_DEFAULT), "open /stationary");
            for (const char* name : {"residual", "spectral_gap", "relaxation_time", "l1_to_reference",
                                     "max_abs_current", "escape_rate", "mfpt_from_initial"})
                if (h5::has_attribute(st, name)) {
                    const auto v = h5::read_double_attribute(st, name);
                    if (!v.empty()) info.stationary[name] = v.front();
                }
            for (const char* name : {"kind", "reference_kind"})
                if (h5::has_attribute(st, name)) info.stationary_text[name] = h5::read_string_attribute(st, name);
        }
    } catch (const std::exception& e) {
        throw InputError(path + ": damaged fpsolve file (" + e.what() + ")");
    }
    return info;
}

Eigen::VectorXd read_snapshot(const std::string& path, long k) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    std::vector<Index> begin, count;
    for (int a = 0; a < info.grid.dims; ++a) {
        begin.push_back(0);
        count.push_back(info.grid.cells[a]);
    }
    return read_snapshot_block(path, k, begin, count);
}

Eigen::VectorXd read_snapshot_block(const std::string& path, long k, const std::vector<Index>& begin,
                                    const std::vector<Index>& count) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    const long n = static_cast<long>(info.times.size());
    if (n == 0) throw InputError(path + ": holds no snapshot");
    if (k < 0) k += n;
    if (k < 0 || k >= n) throw InputError(path + ": has no snapshot " + std::to_string(k));
    if (static_cast<int>(count.size()) != info.grid.dims)
        throw InputError(path + ": holds a " + std::to_string(info.grid.dims) + "-D grid, expected " +
                         std::to_string(count.size()) + "-D");
    std::vector<hsize_t> start{static_cast<hsize_t>(k)}, size{1};
    for (std::size_t a = 0; a < count.size(); ++a) {
        if (begin[a] < 0 || count[a] < 0 || begin[a] + count[a] > info.grid.cells[static_cast<int>(a)])
            throw InputError(path + ": has " + std::to_string(info.grid.cells[static_cast<int>(a)]) +
                             " cells along axis " + std::to_string(a) + ", fewer than the grid's");
        start.push_back(static_cast<hsize_t>(begin[a]));
        size.push_back(static_cast<hsize_t>(count[a]));
    }
    h5::Handle file = open_fpsolve_file(path);
    const auto block = h5::read_block(file, "/snapshots/density", start, size);
    return Eigen::Map<const Eigen::VectorXd>(block.data(), static_cast<Eigen::Index>(block.size()));
}

std::map<std::string, ArrayData> read_arrays(const std::string& path, const std::vector<std::string>& names) {
    h5::Handle file = open_fpsolve_file(path);
    std::map<std::string, ArrayData> out;
    try {
        for (const auto& name : names) {
            if (!h5::exists(file, name)) continue;
            ArrayData& a = out[name];
            for (const hsize_t n : h5::dataset_shape(file, name)) a.shape.push_back(static_cast<std::size_t>(n));
            a.values = h5::read_dataset(file, name);
        }
    } catch (const std::exception& e) {
        throw InputError(path + ": damaged fpsolve file (" + e.what() + ")");
    }
    return out;
}

}  // namespace fpsolve
