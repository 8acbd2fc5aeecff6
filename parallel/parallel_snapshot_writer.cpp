#include "parallel_snapshot_writer.hpp"

#include "hdf5_handles.hpp"

namespace fpsolve {

namespace {
const char* axis_names[3] = {"x", "y", "z"};
}

struct ParallelSnapshotWriter::Impl {
    const Decomposition* dec = nullptr;
    h5::Handle file, xfer;
    h5::Growable time, density, current;
    h5::Growable d_time, d_mass, d_mean, d_cov, d_entropy, d_free, d_l1, d_kl, d_outflux, d_min;
    bool with_current = false, with_reference = false, with_outflux = false;
    std::vector<hsize_t> start, count;  // this rank's block of the cells
    std::size_t rows = 0;

    bool root() const { return dec->rank() == 0; }
    // A diagnostics row: the values are the same on every rank (reduced); rank 0 writes them.
    void row(h5::Growable& g, const double* v) { g.append_block({}, {}, root() ? v : nullptr, xfer); }
    void row(h5::Growable& g, const std::vector<hsize_t>& shape, const double* v) {
        g.append_block(std::vector<hsize_t>(shape.size(), 0), shape, root() ? v : nullptr, xfer);
    }
    void flush() { h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush the file"); }
};

ParallelSnapshotWriter::ParallelSnapshotWriter(const std::string& path, const Decomposition& dec,
                                               const FileMetadata& meta, bool with_current,
                                               const std::optional<Eigen::VectorXd>& reference)
    : impl_(std::make_unique<Impl>()) {
    h5::silence_errors();
    Impl& m = *impl_;
    const Grid& g = dec.global();
    m.dec = &dec;
    m.with_current = with_current;
    m.with_reference = reference.has_value();
    for (int a = 0; a < g.dims; ++a) {
        m.with_outflux = m.with_outflux || g.boundary[a] == Boundary::absorbing;
        m.start.push_back(static_cast<hsize_t>(dec.begin()[a]));
        m.count.push_back(static_cast<hsize_t>(dec.count()[a]));
    }

    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS), "create file access list");
    h5::check(H5Pset_fapl_mpio(fapl, dec.comm(), MPI_INFO_NULL), "use MPI-IO");
    h5::check(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "set file format");
    m.file = h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "create " + path);
    m.xfer = h5::Handle(H5Pcreate(H5P_DATASET_XFER), "create transfer list");
    h5::check(H5Pset_dxpl_mpio(m.xfer, H5FD_MPIO_COLLECTIVE), "use collective transfers");

    h5::write_attribute(m.file, "format", std::string("fpsolve"));
    h5::write_attribute(m.file, "format_version", std::int64_t{1});
    h5::write_attribute(m.file, "program_version", meta.program_version);
    h5::write_attribute(m.file, "config", meta.config);
    h5::write_attribute(m.file, "status", std::string("running"));

    std::vector<hsize_t> shape;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<hsize_t>(g.cells[a]));
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
            // The centres along one axis are small: every rank writes the same values.
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
        // As h5::write_dataset(..., compress = true): one chunk of the whole shape, deflate 1.
        h5::Handle ref = h5::create_group(m.file, "reference");
        h5::Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "create dataspace");
        h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE), "create property list");
        h5::check(H5Pset_chunk(plist, static_cast<int>(shape.size()), shape.data()), "chunk /reference/density");
        h5::check(H5Pset_deflate(plist, 1), "compress /reference/density");
        h5::Handle set(H5Dcreate2(ref, "density", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                       "create /reference/density");
        h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, m.start.data(), nullptr, m.count.data(), nullptr),
                  "select this rank's block");
        h5::Handle mem(H5Screate_simple(static_cast<int>(m.count.size()), m.count.data(), nullptr), "create dataspace");
        h5::check(H5Dwrite(set, H5T_NATIVE_DOUBLE, mem, space, m.xfer, reference->data()), "write /reference/density");
    }
    m.flush();
}

ParallelSnapshotWriter::~ParallelSnapshotWriter() = default;

void ParallelSnapshotWriter::append(double t, const Eigen::VectorXd& p, const Diagnostics& dg,
                                    const Eigen::MatrixXd* current) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError("HDF5: appended to a closed file");
    const int d = m.dec->global().dims;
    m.density.append_block(m.start, m.count, p.data(), m.xfer);
    if (m.with_current && current) {
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = *current;
        auto start = m.start, count = m.count;
        start.push_back(0);
        count.push_back(static_cast<hsize_t>(d));
        m.current.append_block(start, count, rm.data(), m.xfer);
    }
    const auto ud = static_cast<hsize_t>(d);
    m.row(m.d_time, &t);
    m.row(m.d_mass, &dg.mass);
    std::vector<double> mean(ud), cov(ud * ud);
    for (int a = 0; a < d; ++a) {
        mean[static_cast<std::size_t>(a)] = dg.mean[a];
        for (int b = 0; b < d; ++b) cov[static_cast<std::size_t>(a * d + b)] = dg.covariance(a, b);
    }
    m.row(m.d_mean, {ud}, mean.data());
    m.row(m.d_cov, {ud, ud}, cov.data());
    m.row(m.d_entropy, &dg.entropy);
    m.row(m.d_free, &dg.free_energy);
    m.row(m.d_min, &dg.min_density);
    if (m.with_reference) {
        m.row(m.d_l1, &dg.l1_to_reference);
        m.row(m.d_kl, &dg.kl_to_reference);
    }
    if (m.with_outflux) m.row(m.d_outflux, &dg.outflux);
    m.row(m.time, &t);  // time last, as the serial writer
    ++m.rows;
    m.flush();
}

void ParallelSnapshotWriter::set_status(const std::string& status) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError("HDF5: status set on a closed file");
    h5::write_attribute(m.file, "status", status);
    m.flush();
}

void ParallelSnapshotWriter::close() {
    Impl& m = *impl_;
    for (h5::Growable* g : {&m.time, &m.density, &m.current, &m.d_time, &m.d_mass, &m.d_mean, &m.d_cov, &m.d_entropy,
                            &m.d_free, &m.d_l1, &m.d_kl, &m.d_outflux, &m.d_min})
        g->close();
    m.xfer.reset();
    m.file.reset();
}

std::size_t ParallelSnapshotWriter::snapshots() const { return impl_->rows; }

}  // namespace fpsolve
