#include "snapshot_file.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "hdf5_handles.hpp"

namespace fpsolve {

namespace {
const char* axis_names[3] = {"x", "y", "z"};

std::vector<hsize_t> cell_shape(const Grid& g) {
    std::vector<hsize_t> s;
    for (int a = 0; a < g.dims; ++a) s.push_back(static_cast<hsize_t>(g.cells[a]));
    return s;
}

// Ensures every group on the way to `path` exists; returns the parent group's path.
void make_groups(hid_t file, const std::string& path) {
    std::size_t pos = 0;
    while ((pos = path.find('/', pos + 1)) != std::string::npos) {
        const std::string g = path.substr(0, pos);
        if (!g.empty() && !h5::exists(file, g)) h5::create_group(file, g);
    }
}
}  // namespace

struct SnapshotWriter::Impl {
    h5::Handle file;
    h5::Growable time, density, current;
    h5::Growable d_time, d_mass, d_mean, d_cov, d_entropy, d_free, d_l1, d_kl, d_outflux, d_min;
    bool with_current = false, with_reference = false, with_outflux = false;
    bool swmr = false;
    int dims = 1;

    std::vector<h5::Growable*> all() {
        return {&time, &density, &current, &d_time, &d_mass, &d_mean, &d_cov, &d_entropy, &d_free, &d_l1, &d_kl,
                &d_outflux, &d_min};
    }
    void close() {
        for (auto* g : all()) g->close();
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
                               bool with_current, const std::optional<Eigen::VectorXd>& reference)
    : impl_(std::make_unique<Impl>()), path_(path) {
    h5::silence_errors();
    Impl& m = *impl_;
    m.dims = g.dims;
    m.with_current = with_current;
    m.with_reference = reference.has_value();
    for (int a = 0; a < g.dims; ++a) m.with_outflux = m.with_outflux || g.boundary[a] == Boundary::absorbing;

    const h5::Handle fapl = latest_format_access();
    m.file = h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "create " + path);

    h5::write_attribute(m.file, "format", std::string("fpsolve"));
    h5::write_attribute(m.file, "format_version", std::int64_t{1});
    h5::write_attribute(m.file, "program_version", meta.program_version);
    h5::write_attribute(m.file, "config", meta.config);
    h5::write_attribute(m.file, "status", std::string("running"));

    {
        h5::Handle grid = h5::create_group(m.file, "grid");
        std::vector<double> lo, hi;
        std::vector<std::int64_t> cells;
        std::vector<std::string> bc, vars;
        for (int a = 0; a < g.dims; ++a) {
            lo.push_back(g.lower[a]);
            hi.push_back(g.upper[a]);
            cells.push_back(g.cells[a]);
            bc.emplace_back(to_string(g.boundary[a]));
            vars.push_back(g.variables[a]);
            std::vector<double> x(static_cast<std::size_t>(g.cells[a]));
            for (Index i = 0; i < g.cells[a]; ++i) x[static_cast<std::size_t>(i)] = g.centre(a, i);
            h5::write_dataset(grid, axis_names[a], {static_cast<hsize_t>(g.cells[a])}, x.data());
        }
        h5::write_attribute(grid, "dims", std::int64_t{g.dims});
        h5::write_attribute(grid, "lower", lo);
        h5::write_attribute(grid, "upper", hi);
        h5::write_attribute(grid, "cells", cells);
        h5::write_attribute(grid, "boundary", bc);
        h5::write_attribute(grid, "variables", vars);
    }
    const auto shape = cell_shape(g);
    const auto d = static_cast<hsize_t>(g.dims);
    {
        h5::Handle snaps = h5::create_group(m.file, "snapshots");
        m.time = h5::Growable(snaps, "time", {}, false);
        m.density = h5::Growable(snaps, "density", shape, true);
        if (with_current) {
            auto cs = shape;
            cs.push_back(d);
            m.current = h5::Growable(snaps, "current", cs, true);
        }
    }
    {
        h5::Handle diag = h5::create_group(m.file, "diagnostics");
        m.d_time = h5::Growable(diag, "time", {}, false);
        m.d_mass = h5::Growable(diag, "mass", {}, false);
        m.d_mean = h5::Growable(diag, "mean", {d}, false);
        m.d_cov = h5::Growable(diag, "covariance", {d, d}, false);
        m.d_entropy = h5::Growable(diag, "entropy", {}, false);
        m.d_free = h5::Growable(diag, "free_energy", {}, false);
        m.d_min = h5::Growable(diag, "min_density", {}, false);
        if (m.with_reference) {
            m.d_l1 = h5::Growable(diag, "l1_to_reference", {}, false);
            m.d_kl = h5::Growable(diag, "kl_to_reference", {}, false);
        }
        if (m.with_outflux) m.d_outflux = h5::Growable(diag, "outflux", {}, false);
    }
    if (reference) {
        h5::Handle ref = h5::create_group(m.file, "reference");
        h5::write_dataset(ref, "density", shape, reference->data(), true);
    }
    flush();
}

SnapshotWriter::SnapshotWriter(const std::string& path, Append, const FileMetadata& meta)
    : impl_(std::make_unique<Impl>()), path_(path) {
    h5::silence_errors();
    Impl& m = *impl_;
    const h5::Handle fapl = latest_format_access();
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
    if (id < 0)
        throw InputError(path + ": cannot open it for writing (if a writer was killed, run h5clear -s " + path +
                         " first; if a run is still writing it, wait for it)");
    m.file = h5::Handle(id, "open " + path);
    m.dims = static_cast<int>(h5::read_int_attribute(h5::Handle(H5Gopen2(m.file, "grid", H5P_DEFAULT), "open /grid"),
                                                     "dims").at(0));
    m.time = h5::Growable::open(m.file, "/snapshots/time");
    m.density = h5::Growable::open(m.file, "/snapshots/density");
    m.with_current = h5::exists(m.file, "/snapshots/current");
    if (m.with_current) m.current = h5::Growable::open(m.file, "/snapshots/current");
    m.d_time = h5::Growable::open(m.file, "/diagnostics/time");
    m.d_mass = h5::Growable::open(m.file, "/diagnostics/mass");
    m.d_mean = h5::Growable::open(m.file, "/diagnostics/mean");
    m.d_cov = h5::Growable::open(m.file, "/diagnostics/covariance");
    m.d_entropy = h5::Growable::open(m.file, "/diagnostics/entropy");
    m.d_free = h5::Growable::open(m.file, "/diagnostics/free_energy");
    m.d_min = h5::Growable::open(m.file, "/diagnostics/min_density");
    m.with_reference = h5::exists(m.file, "/diagnostics/l1_to_reference");
    if (m.with_reference) {
        m.d_l1 = h5::Growable::open(m.file, "/diagnostics/l1_to_reference");
        m.d_kl = h5::Growable::open(m.file, "/diagnostics/kl_to_reference");
    }
    m.with_outflux = h5::exists(m.file, "/diagnostics/outflux");
    if (m.with_outflux) m.d_outflux = h5::Growable::open(m.file, "/diagnostics/outflux");
    const hsize_t n = m.time.rows();  // /snapshots/time is appended last: n complete snapshots
    for (auto* g : m.all())
        if (g->valid()) g->truncate(n);
    h5::write_attribute(m.file, "config", meta.config);
    h5::write_attribute(m.file, "program_version", meta.program_version);
    h5::write_attribute(m.file, "status", std::string("running"));
    flush();
}

SnapshotWriter::~SnapshotWriter() = default;

void SnapshotWriter::start_swmr() {
    h5::check(H5Fstart_swmr_write(impl_->file), "start SWMR writing of " + path_);
    impl_->swmr = true;
}

namespace {
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
        throw RunError("the disk is full: " + std::to_string(space.available / 1024) + " KiB left, the next snapshot needs about " +
                       std::to_string(static_cast<long long>(bytes / 1024)) + " KiB; free space, then fpsolve run --resume " + path);
}
}  // namespace

void SnapshotWriter::append(double t, const Eigen::VectorXd& p, const Diagnostics& dg, const Eigen::MatrixXd* current) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError(path_ + ": appended to after it was closed");
    // Uncompressed size (deflate only shrinks it) twice over, plus room for metadata and the final status.
    const double row = static_cast<double>(p.size()) * 8.0 * (m.with_current ? 1.0 + m.dims : 1.0);
    ensure_room(path_, 2.0 * row + 256.0 * 1024.0);
    const int d = m.dims;
    m.density.append(p.data());
    if (m.with_current && current) {
        // Row-major [cells..., d]: the d components of a cell are adjacent.
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = *current;
        m.current.append(rm.data());
    }
    m.d_time.append(&t);
    m.d_mass.append(&dg.mass);
    std::vector<double> mean(static_cast<std::size_t>(d)), cov(static_cast<std::size_t>(d * d));
    for (int a = 0; a < d; ++a) {
        mean[static_cast<std::size_t>(a)] = dg.mean[a];
        for (int b = 0; b < d; ++b) cov[static_cast<std::size_t>(a * d + b)] = dg.covariance(a, b);
    }
    m.d_mean.append(mean.data());
    m.d_cov.append(cov.data());
    m.d_entropy.append(&dg.entropy);
    m.d_free.append(&dg.free_energy);
    m.d_min.append(&dg.min_density);
    if (m.with_reference) {
        m.d_l1.append(&dg.l1_to_reference);
        m.d_kl.append(&dg.kl_to_reference);
    }
    if (m.with_outflux) m.d_outflux.append(&dg.outflux);
    // time last: a reader that sees n times finds n densities
    m.time.append(&t);
    flush();
}

void SnapshotWriter::set_status(const std::string& status) {
    Impl& m = *impl_;
    if (m.swmr || !m.file.valid()) {
        // SWMR writers cannot change attributes: close, reopen plainly, write, close for good.
        m.close();
        m.swmr = false;
        h5::Handle file(H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "reopen " + path_ + " to set its status");
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

void SnapshotWriter::write_array(const std::string& path, const std::vector<std::size_t>& shape, const double* data) {
    make_groups(impl_->file, path);
    std::vector<hsize_t> s(shape.begin(), shape.end());
    h5::write_dataset(impl_->file, path, s, data, true);
    flush();
}

void SnapshotWriter::write_attribute(const std::string& group, const std::string& name, double value) {
    if (!h5::exists(impl_->file, group)) make_groups(impl_->file, group + "/"), h5::create_group(impl_->file, group);
    h5::Handle g(H5Gopen2(impl_->file, group.c_str(), H5P_DEFAULT), "open group " + group);
    h5::write_attribute(g, name, value);
}

void SnapshotWriter::write_attribute(const std::string& group, const std::string& name, const std::string& value) {
    if (!h5::exists(impl_->file, group)) make_groups(impl_->file, group + "/"), h5::create_group(impl_->file, group);
    h5::Handle g(H5Gopen2(impl_->file, group.c_str(), H5P_DEFAULT), "open group " + group);
    h5::write_attribute(g, name, value);
}

std::size_t SnapshotWriter::snapshots() const { return impl_->time.rows(); }

namespace {
h5::Handle open_fpsolve_file(const std::string& path) {
    h5::silence_errors();
    if (!std::filesystem::exists(path)) throw InputError(path + ": no such file");
    if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": not an HDF5 file");
    // A file being written (or left by a killed writer) opens only as an SWMR reader.
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (id < 0) id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0)
        throw InputError(path + ": cannot open (a writer that was killed leaves it locked: run h5clear -s " + path +
                         ")");
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
        if (g.dims < 1 || g.dims > 3) throw RunError("/grid dims is not 1, 2 or 3");
        const auto lo = h5::read_double_attribute(grid, "lower"), hi = h5::read_double_attribute(grid, "upper");
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
        if (info.has_stationary) {
            h5::Handle st(H5Gopen2(file, "stationary", H5P_DEFAULT), "open /stationary");
            for (const char* name : {"residual", "spectral_gap", "relaxation_time", "l1_to_reference",
                                     "max_abs_current", "escape_rate", "mfpt_from_initial"})
                if (h5::has_attribute(st, name)) {
                    const auto v = h5::read_double_attribute(st, name);
                    if (!v.empty()) info.stationary[name] = v.front();
                }
        }
    } catch (const std::exception& e) {
        throw InputError(path + ": damaged fpsolve file (" + e.what() + ")");
    }
    return info;
}

Eigen::VectorXd read_snapshot(const std::string& path, long k) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    const long n = static_cast<long>(info.times.size());
    if (n == 0) throw InputError(path + ": holds no snapshot");
    if (k < 0) k += n;
    if (k < 0 || k >= n) throw InputError(path + ": has no snapshot " + std::to_string(k));
    h5::Handle file = open_fpsolve_file(path);
    const auto row = h5::read_row(file, "/snapshots/density", static_cast<hsize_t>(k));
    return Eigen::Map<const Eigen::VectorXd>(row.data(), static_cast<Eigen::Index>(row.size()));
}

}  // namespace fpsolve
