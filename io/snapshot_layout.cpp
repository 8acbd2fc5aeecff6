#include "snapshot_layout.hpp"

namespace fpsolve {

namespace {
// /grid/x, y, z, w: fixed names of axes 0 to 3 (the user's names are in the `variables` attribute).
const char* axis_names[kMaxAxes] = {"x", "y", "z", "w"};

void write_grid(hid_t file, const Grid& g) {
    h5::Handle grid = h5::create_group(file, "grid");
    std::vector<double> lo, hi;
    std::vector<std::int64_t> cells;
    std::vector<std::string> bc, vars;
    for (int a = 0; a < g.dims; ++a) {
        lo.push_back(g.lower[a]);
        hi.push_back(g.upper[a]);
        cells.push_back(g.cells[a]);
        bc.emplace_back(to_string(g.boundary[a]));
        vars.push_back(g.variables[a]);
        // The centres along one axis are small: under parallel HDF5 every rank writes the same values.
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
}  // namespace

CellBlock CellBlock::whole(const Grid& g) {
    CellBlock b;
    for (int a = 0; a < g.dims; ++a) {
        b.start.push_back(0);
        b.count.push_back(static_cast<hsize_t>(g.cells[a]));
    }
    return b;
}

std::vector<h5::Growable*> SnapshotLayout::all() {
    return {&time,      &density, &current, &d_time, &d_mass,    &d_mean, &d_cov,
            &d_entropy, &d_free,  &d_l1,    &d_kl,   &d_outflux, &d_min,  &d_error};
}

void SnapshotLayout::close() {
    for (auto* g : all()) g->close();
}

SnapshotLayout SnapshotLayout::create(hid_t file, const Grid& g, const FileMetadata& meta, bool with_current,
                                      const Eigen::VectorXd* reference, const CellBlock& block, hid_t xfer,
                                      bool with_error_estimate) {
    SnapshotLayout m;
    m.with_error_estimate = with_error_estimate;
    m.dims = g.dims;
    m.with_current = with_current;
    m.with_reference = reference != nullptr;
    for (int a = 0; a < g.dims; ++a) m.with_outflux = m.with_outflux || g.boundary[a] == Boundary::absorbing;

    h5::write_attribute(file, "format", std::string("fpsolve"));
    h5::write_attribute(file, "format_version", std::int64_t{1});
    h5::write_attribute(file, "program_version", meta.program_version);
    h5::write_attribute(file, "config", meta.config);
    h5::write_attribute(file, "status", std::string("running"));
    write_grid(file, g);

    const std::vector<hsize_t> shape = CellBlock::whole(g).count;
    const auto d = static_cast<hsize_t>(g.dims);
    {
        h5::Handle snaps = h5::create_group(file, "snapshots");
        m.time = h5::Growable(snaps, "time", {}, false);
        m.density = h5::Growable(snaps, "density", shape, true, block.blocks);
        if (with_current) {
            auto cs = shape;
            cs.push_back(d);
            m.current = h5::Growable(snaps, "current", cs, true, block.blocks);  // the d components whole
        }
    }
    {
        h5::Handle diag = h5::create_group(file, "diagnostics");
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
        if (m.with_error_estimate) m.d_error = h5::Growable(diag, "error_estimate", {}, false);
    }
    if (reference) {
        h5::Handle ref = h5::create_group(file, "reference");
        h5::write_dataset_block(ref, "density", shape, block.start, block.count, reference->data(), true, xfer,
                                block.blocks);
    }
    return m;
}

SnapshotLayout SnapshotLayout::open(hid_t file, const FileMetadata& meta) {
    SnapshotLayout m;
    m.dims = static_cast<int>(
        h5::read_int_attribute(h5::Handle(H5Gopen2(file, "grid", H5P_DEFAULT), "open /grid"), "dims").at(0));
    m.time = h5::Growable::open(file, "/snapshots/time");
    m.density = h5::Growable::open(file, "/snapshots/density");
    m.with_current = h5::exists(file, "/snapshots/current");
    if (m.with_current) m.current = h5::Growable::open(file, "/snapshots/current");
    m.d_time = h5::Growable::open(file, "/diagnostics/time");
    m.d_mass = h5::Growable::open(file, "/diagnostics/mass");
    m.d_mean = h5::Growable::open(file, "/diagnostics/mean");
    m.d_cov = h5::Growable::open(file, "/diagnostics/covariance");
    m.d_entropy = h5::Growable::open(file, "/diagnostics/entropy");
    m.d_free = h5::Growable::open(file, "/diagnostics/free_energy");
    m.d_min = h5::Growable::open(file, "/diagnostics/min_density");
    m.with_reference = h5::exists(file, "/diagnostics/l1_to_reference");
    if (m.with_reference) {
        m.d_l1 = h5::Growable::open(file, "/diagnostics/l1_to_reference");
        m.d_kl = h5::Growable::open(file, "/diagnostics/kl_to_reference");
    }
    m.with_outflux = h5::exists(file, "/diagnostics/outflux");
    if (m.with_outflux) m.d_outflux = h5::Growable::open(file, "/diagnostics/outflux");
    m.with_error_estimate = h5::exists(file, "/diagnostics/error_estimate");
    if (m.with_error_estimate) m.d_error = h5::Growable::open(file, "/diagnostics/error_estimate");
    const hsize_t n = m.time.rows();  // /snapshots/time is appended last: n complete snapshots
    for (auto* g : m.all())
        if (g->valid()) g->truncate(n);
    h5::write_attribute(file, "config", meta.config);
    h5::write_attribute(file, "program_version", meta.program_version);
    h5::write_attribute(file, "status", std::string("running"));
    return m;
}

void SnapshotLayout::append(double t, const Eigen::VectorXd& p, const Eigen::MatrixXd* j, const Diagnostics& dg,
                            const CellBlock& block, hid_t xfer, bool write_rows) {
    density.append_block(block.start, block.count, p.data(), xfer);
    if (with_current && j) {
        // Row-major [cells..., d]: the d components of a cell are adjacent.
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = *j;
        auto start = block.start, count = block.count;
        start.push_back(0);
        count.push_back(static_cast<hsize_t>(dims));
        current.append_block(start, count, rm.data(), xfer);
    }
    auto row = [&](h5::Growable& g, const double* v) {
        g.append_block(std::vector<hsize_t>(g.row().size(), 0), g.row(), write_rows ? v : nullptr, xfer);
    };
    const auto ud = static_cast<std::size_t>(dims);
    std::vector<double> mean(ud), cov(ud * ud);
    for (int a = 0; a < dims; ++a) {
        mean[static_cast<std::size_t>(a)] = dg.mean[a];
        for (int b = 0; b < dims; ++b) cov[static_cast<std::size_t>(a * dims + b)] = dg.covariance(a, b);
    }
    row(d_time, &t);
    row(d_mass, &dg.mass);
    row(d_mean, mean.data());
    row(d_cov, cov.data());
    row(d_entropy, &dg.entropy);
    row(d_free, &dg.free_energy);
    row(d_min, &dg.min_density);
    if (with_reference) {
        row(d_l1, &dg.l1_to_reference);
        row(d_kl, &dg.kl_to_reference);
    }
    if (with_outflux) row(d_outflux, &dg.outflux);
    if (with_error_estimate) row(d_error, &dg.error_estimate);
    row(time, &t);  // last: a reader that sees n times finds n densities
}

}  // namespace fpsolve
