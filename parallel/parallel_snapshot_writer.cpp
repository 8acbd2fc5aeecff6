#include "parallel_snapshot_writer.hpp"

#include "collective.hpp"
#include "hdf5_handles.hpp"
#include "snapshot_layout.hpp"

namespace fpsolve {

struct ParallelSnapshotWriter::Impl {
    const Decomposition* dec = nullptr;
    std::string path;
    h5::Handle file, xfer;
    SnapshotLayout layout;
    CellBlock block;  // this rank's cells

    Impl(const std::string& p, const Decomposition& d) : dec(&d), path(p) {
        h5::silence_errors();
        for (int a = 0; a < d.global().dims; ++a) {
            block.start.push_back(static_cast<hsize_t>(d.begin()[a]));
            block.count.push_back(static_cast<hsize_t>(d.count()[a]));
            block.blocks.push_back(static_cast<hsize_t>(d.procs()[a]));
        }
        xfer = h5::Handle(H5Pcreate(H5P_DATASET_XFER), "create transfer list");
        h5::check(H5Pset_dxpl_mpio(xfer, H5FD_MPIO_COLLECTIVE), "use collective transfers");
    }
    h5::Handle file_access() const {
        h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS), "create file access list");
        h5::check(H5Pset_fapl_mpio(fapl, dec->comm(), MPI_INFO_NULL), "use MPI-IO");
        h5::check(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "set file format");
        return fapl;
    }
    bool root() const { return dec->rank() == 0; }
    void flush() { h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush the file"); }
};

namespace {
// Whether /snapshots/density allocates its chunks when it is created, as parallel HDF5 does.
bool written_in_parallel(hid_t file) {
    const h5::Handle set(H5Dopen2(file, "/snapshots/density", H5P_DEFAULT), "open /snapshots/density");
    const h5::Handle plist(H5Dget_create_plist(set), "read the creation properties of /snapshots/density");
    H5D_alloc_time_t when{};
    h5::check(H5Pget_alloc_time(plist, &when), "read the allocation time of /snapshots/density");
    return when == H5D_ALLOC_TIME_EARLY;
}
}  // namespace

ParallelSnapshotWriter::ParallelSnapshotWriter(const std::string& path, const Decomposition& dec,
                                               const FileMetadata& meta, bool with_current,
                                               const std::optional<Eigen::VectorXd>& reference)
    : impl_(std::make_unique<Impl>(path, dec)) {
    Impl& m = *impl_;
    m.file =
        h5::Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, m.file_access()), "create " + path);
    m.layout = SnapshotLayout::create(m.file, dec.global(), meta, with_current,
                                      reference ? &*reference : nullptr, m.block, m.xfer);
    m.flush();
}

ParallelSnapshotWriter::ParallelSnapshotWriter(const std::string& path, const Decomposition& dec,
                                               SnapshotWriter::Append, const FileMetadata& meta)
    : impl_(std::make_unique<Impl>(path, dec)) {
    Impl& m = *impl_;
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, m.file_access());
    if (!dec.all(id >= 0)) {
        if (id >= 0) H5Fclose(id);
        throw InputError(path + ": cannot open it for writing (if a writer was killed, run h5clear -s " +
                         path + " first; if a run is still writing it, wait for it)");
    }
    m.file = h5::Handle(id, "open " + path);
    // A file written by one process allocates its chunks as they are written (H5D_ALLOC_TIME_INCR); parallel
    // HDF5's collective filtered writes fail on such a dataset on some ranks and leave the others waiting in the
    // collective call. Refused here, before anything in the file changes.
    if (dec.size() > 1 && !written_in_parallel(m.file))
        throw InputError(path + ": written by one process (fpsolve run without mpirun); resume it with one process, "
                                "or start a new run under mpirun");
    m.layout = SnapshotLayout::open(m.file, meta);
    m.flush();
}

ParallelSnapshotWriter::~ParallelSnapshotWriter() = default;

void ParallelSnapshotWriter::append(double t, const Eigen::VectorXd& p, const Diagnostics& dg,
                                    const Eigen::MatrixXd* current) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError("HDF5: appended to a closed file");
    const Grid& g = m.dec->global();
    agree(m.dec->comm(), [&] {
        if (m.root()) ensure_room(m.path, snapshot_bytes(g.size(), g.dims, m.layout.with_current));
    });
    m.layout.append(t, p, current, dg, m.block, m.xfer, m.root());
    m.flush();
}

void ParallelSnapshotWriter::write_cells(const std::string& path, const Eigen::VectorXd& owned) {
    Impl& m = *impl_;
    h5::make_groups(m.file, path);
    const Grid& g = m.dec->global();
    std::vector<hsize_t> shape;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<hsize_t>(g.cells[a]));
    h5::write_dataset_block(m.file, path, shape, m.block.start, m.block.count, owned.data(), true, m.xfer,
                            m.block.blocks);
    m.flush();
}

void ParallelSnapshotWriter::write_cell_vectors(const std::string& path, const Eigen::MatrixXd& owned) {
    Impl& m = *impl_;
    h5::make_groups(m.file, path);
    const Grid& g = m.dec->global();
    std::vector<hsize_t> shape, start = m.block.start, count = m.block.count;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<hsize_t>(g.cells[a]));
    for (auto* v : {&shape, &start, &count}) v->push_back(v == &start ? 0 : static_cast<hsize_t>(g.dims));
    // owned x d column-major -> [owned cells..., d] row-major
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = owned;
    h5::write_dataset_block(m.file, path, shape, start, count, rows.data(), true, m.xfer, m.block.blocks);
    m.flush();
}

void ParallelSnapshotWriter::write_array(const std::string& path, const std::vector<std::size_t>& shape,
                                         const double* data) {
    Impl& m = *impl_;
    h5::make_groups(m.file, path);
    const std::vector<hsize_t> s(shape.begin(), shape.end());
    const h5::Handle set = h5::create_dataset(m.file, path, s, true);  // as SnapshotWriter::write_array
    h5::Handle space(H5Dget_space(set), "get space of " + path);
    h5::Handle mem(H5Scopy(space), "copy a dataspace");
    if (!m.root()) {  // rank 0 writes, the others take part in the collective call
        h5::check(H5Sselect_none(space), "select nothing");
        h5::check(H5Sselect_none(mem), "select nothing");
    }
    h5::check(H5Dwrite(set, H5T_NATIVE_DOUBLE, mem, space, m.xfer, data), "write dataset " + path);
    m.flush();
}

void ParallelSnapshotWriter::write_attribute(const std::string& group, const std::string& name,
                                             double value) {
    h5::write_attribute(h5::open_or_create_group(impl_->file, group), name, value);
}

void ParallelSnapshotWriter::write_attribute(const std::string& group, const std::string& name,
                                             const std::string& value) {
    h5::write_attribute(h5::open_or_create_group(impl_->file, group), name, value);
}

void ParallelSnapshotWriter::set_status(const std::string& status) {
    Impl& m = *impl_;
    if (!m.file.valid()) throw RunError("HDF5: status set on a closed file");
    h5::write_attribute(m.file, "status", status);
    m.flush();
}

void ParallelSnapshotWriter::close() {
    Impl& m = *impl_;
    m.layout.close();
    m.xfer.reset();
    m.file.reset();
}

std::size_t ParallelSnapshotWriter::snapshots() const { return impl_->layout.time.rows(); }

}  // namespace fpsolve
