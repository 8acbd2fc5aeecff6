#include "hdf5_handles.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "errors.hpp"

namespace fpsolve::h5 {

namespace {
// HDF5's own exit handler closes files left open; after a failed write (disk full) that close crashes.
// The files are flushed after every snapshot, so nothing is lost by leaving the last close to the OS.
const bool no_atexit_handler = (H5dont_atexit(), true);
}  // namespace

Handle::Handle(hid_t id, const std::string& what) : id_(id) {
    if (id < 0) throw RunError("HDF5: cannot " + what);
}

void Handle::reset() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
        case H5I_FILE:
            H5Fclose(id_);
            break;
        case H5I_GROUP:
            H5Gclose(id_);
            break;
        case H5I_DATASET:
            H5Dclose(id_);
            break;
        case H5I_DATASPACE:
            H5Sclose(id_);
            break;
        case H5I_DATATYPE:
            H5Tclose(id_);
            break;
        case H5I_ATTR:
            H5Aclose(id_);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(id_);
            break;
        default:
            break;
    }
    id_ = H5I_INVALID_HID;
}

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void check(herr_t status, const std::string& what) {
    if (status < 0) throw RunError("HDF5: cannot " + what);
}

bool exists(hid_t loc, const std::string& path) {
    std::string prefix;
    std::istringstream parts(path);
    std::string part;
    while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        prefix += (prefix.empty() && path.front() != '/' ? "" : "/") + part;
        if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    return true;
}

Handle create_group(hid_t loc, const std::string& name) {
    return Handle(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "create group " + name);
}

void make_groups(hid_t loc, const std::string& path) {
    std::size_t pos = 0;
    while ((pos = path.find('/', pos + 1)) != std::string::npos) {
        const std::string g = path.substr(0, pos);
        if (!g.empty() && !exists(loc, g)) create_group(loc, g);
    }
}

Handle open_or_create_group(hid_t loc, const std::string& path) {
    make_groups(loc, path + "/");
    return Handle(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), "open group " + path);
}

namespace {

Handle string_type() {
    Handle t(H5Tcopy(H5T_C_S1), "copy string type");
    check(H5Tset_size(t, H5T_VARIABLE), "set string size");
    check(H5Tset_cset(t, H5T_CSET_UTF8), "set string charset");
    return t;
}

Handle fresh_attribute(hid_t loc, const std::string& name, hid_t type, hid_t space) {
    if (H5Aexists(loc, name.c_str()) > 0) check(H5Adelete(loc, name.c_str()), "replace attribute " + name);
    return Handle(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                  "create attribute " + name);
}

template <class T>
void write_numeric(hid_t loc, const std::string& name, hid_t type, const std::vector<T>& v, bool scalar) {
    const hsize_t n = v.size();
    Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), "create dataspace");
    Handle a = fresh_attribute(loc, name, type, space);
    check(H5Awrite(a, type, v.data()), "write attribute " + name);
}

}  // namespace

void write_attribute(hid_t loc, const std::string& name, const std::string& value) {
    Handle type = string_type();
    Handle space(H5Screate(H5S_SCALAR), "create dataspace");
    Handle a = fresh_attribute(loc, name, type, space);
    const char* p = value.c_str();
    check(H5Awrite(a, type, &p), "write attribute " + name);
}

void write_attribute(hid_t loc, const std::string& name, const std::vector<std::string>& value) {
    Handle type = string_type();
    const hsize_t n = value.size();
    Handle space(H5Screate_simple(1, &n, nullptr), "create dataspace");
    Handle a = fresh_attribute(loc, name, type, space);
    std::vector<const char*> p;
    for (const auto& s : value) p.push_back(s.c_str());
    check(H5Awrite(a, type, p.data()), "write attribute " + name);
}

void write_attribute(hid_t loc, const std::string& name, double value) {
    write_numeric(loc, name, H5T_NATIVE_DOUBLE, std::vector<double>{value}, true);
}
void write_attribute(hid_t loc, const std::string& name, std::int64_t value) {
    write_numeric(loc, name, H5T_NATIVE_INT64, std::vector<std::int64_t>{value}, true);
}
void write_attribute(hid_t loc, const std::string& name, const std::vector<double>& value) {
    write_numeric(loc, name, H5T_NATIVE_DOUBLE, value, false);
}
void write_attribute(hid_t loc, const std::string& name, const std::vector<std::int64_t>& value) {
    write_numeric(loc, name, H5T_NATIVE_INT64, value, false);
}

bool has_attribute(hid_t loc, const std::string& name) { return H5Aexists(loc, name.c_str()) > 0; }

std::vector<std::string> read_string_array_attribute(hid_t loc, const std::string& name) {
    Handle a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "open attribute " + name);
    Handle ftype(H5Aget_type(a), "get type of " + name);
    if (H5Tget_class(ftype) != H5T_STRING) throw RunError("attribute " + name + ": expected a string");
    Handle space(H5Aget_space(a), "get space of " + name);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    std::vector<std::string> out;
    if (H5Tis_variable_str(ftype) > 0) {
        Handle mtype = string_type();
        std::vector<char*> p(static_cast<std::size_t>(n), nullptr);
        check(H5Aread(a, mtype, p.data()), "read attribute " + name);
        for (char* s : p) out.emplace_back(s ? s : "");
        H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, p.data());
    } else {
        const std::size_t len = H5Tget_size(ftype);
        std::vector<char> buf(len * static_cast<std::size_t>(n) + 1, '\0');
        check(H5Aread(a, ftype, buf.data()), "read attribute " + name);
        for (hssize_t i = 0; i < n; ++i) {
            std::string s(buf.data() + static_cast<std::size_t>(i) * len, len);
            out.push_back(s.substr(0, s.find('\0')));
        }
    }
    return out;
}

std::string read_string_attribute(hid_t loc, const std::string& name) {
    auto v = read_string_array_attribute(loc, name);
    return v.empty() ? std::string() : v.front();
}

namespace {
template <class T>
std::vector<T> read_numeric(hid_t loc, const std::string& name, hid_t type) {
    Handle a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "open attribute " + name);
    Handle space(H5Aget_space(a), "get space of " + name);
    std::vector<T> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Aread(a, type, out.data()), "read attribute " + name);
    return out;
}
}  // namespace

std::vector<double> read_double_attribute(hid_t loc, const std::string& name) {
    return read_numeric<double>(loc, name, H5T_NATIVE_DOUBLE);
}
std::vector<std::int64_t> read_int_attribute(hid_t loc, const std::string& name) {
    return read_numeric<std::int64_t>(loc, name, H5T_NATIVE_INT64);
}

std::vector<hsize_t> cell_chunk(const std::vector<hsize_t>& shape, const std::vector<hsize_t>& blocks) {
    std::vector<hsize_t> chunk(shape.size());
    for (std::size_t a = 0; a < shape.size(); ++a) {
        const hsize_t p = a < blocks.size() ? std::max<hsize_t>(1, blocks[a]) : 1;
        chunk[a] = std::max<hsize_t>(1, (shape[a] + p - 1) / p);
    }
    for (std::size_t a = 0; a < chunk.size(); ++a) {
        const hsize_t inner =
            std::accumulate(chunk.begin() + static_cast<std::ptrdiff_t>(a) + 1, chunk.end(), hsize_t{1},
                            std::multiplies<>());
        if (chunk[a] * inner <= kChunkValues) break;
        chunk[a] = std::max<hsize_t>(1, kChunkValues / inner);
    }
    return chunk;
}

Handle create_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape, bool compress,
                      const std::vector<hsize_t>& blocks) {
    Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), "create dataspace");
    Handle plist(H5Pcreate(H5P_DATASET_CREATE), "create property list");
    const hsize_t total = std::accumulate(shape.begin(), shape.end(), hsize_t{1}, std::multiplies<>());
    if (compress && total > 0) {
        const std::vector<hsize_t> chunk = cell_chunk(shape, blocks);
        check(H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data()), "chunk " + name);
        check(H5Pset_deflate(plist, 1), "compress " + name);
    }
    return Handle(H5Dcreate2(loc, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                  "create dataset " + name);
}

void write_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape, const double* data,
                   bool compress) {
    const Handle set = create_dataset(loc, name, shape, compress);
    check(H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset " + name);
}

void write_dataset_block(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const double* block, bool compress, hid_t xfer, const std::vector<hsize_t>& blocks) {
    const Handle set = create_dataset(loc, name, shape, compress, blocks);
    Handle space(H5Dget_space(set), "get space of " + name);
    Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), "create dataspace");
    check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
          "select a block of " + name);
    check(H5Dwrite(set, H5T_NATIVE_DOUBLE, mem, space, xfer, block), "write dataset " + name);
}

std::vector<double> read_block(hid_t loc, const std::string& name, const std::vector<hsize_t>& start,
                               const std::vector<hsize_t>& count) {
    Handle set(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "open dataset " + name);
    Handle space(H5Dget_space(set), "get space of " + name);
    if (H5Sget_simple_extent_ndims(space) != static_cast<int>(count.size()))
        throw RunError("HDF5: " + name + " has " + std::to_string(H5Sget_simple_extent_ndims(space)) +
                       " axes, expected " + std::to_string(count.size()));
    check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
          "select a block of " + name);
    const hsize_t n = std::accumulate(count.begin(), count.end(), hsize_t{1}, std::multiplies<>());
    Handle mem(H5Screate_simple(1, &n, nullptr), "create dataspace");
    std::vector<double> out(n);
    check(H5Dread(set, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, out.data()), "read a block of " + name);
    return out;
}

std::vector<hsize_t> dataset_shape(hid_t loc, const std::string& name) {
    Handle set(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "open dataset " + name);
    Handle space(H5Dget_space(set), "get space of " + name);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) throw RunError("HDF5: cannot read the shape of " + name);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

std::vector<double> read_dataset(hid_t loc, const std::string& name) {
    Handle set(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "open dataset " + name);
    Handle space(H5Dget_space(set), "get space of " + name);
    std::vector<double> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    check(H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read dataset " + name);
    return out;
}

Growable::Growable(hid_t loc, const std::string& name, std::vector<hsize_t> row, bool compress,
                   const std::vector<hsize_t>& blocks)
    : row_(std::move(row)), name_(name) {
    std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{1};
    for (hsize_t r : row_) {
        dims.push_back(r);
        maxdims.push_back(r);
        chunk.push_back(r);
    }
    const hsize_t row_size = std::accumulate(row_.begin(), row_.end(), hsize_t{1}, std::multiplies<>());
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(1024, (1u << 19) / std::max<hsize_t>(1, row_size)));
    if (row_size > 64) {  // a snapshot: per rank block, capped (cell_chunk)
        const std::vector<hsize_t> cells = cell_chunk(row_, blocks);
        chunk.assign(1, 1);
        chunk.insert(chunk.end(), cells.begin(), cells.end());
    }
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()),
                 "create dataspace");
    Handle plist(H5Pcreate(H5P_DATASET_CREATE), "create property list");
    check(H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data()), "chunk " + name);
    if (compress) check(H5Pset_deflate(plist, 1), "compress " + name);
    set_ = Handle(H5Dcreate2(loc, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                  "create dataset " + name);
}

Growable Growable::open(hid_t loc, const std::string& name) {
    Growable g;
    g.name_ = name;
    g.set_ = Handle(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "open dataset " + name);
    Handle space(H5Dget_space(g.set_), "get space of " + name);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 1) throw RunError("HDF5: " + name + " is not a growable dataset");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    g.rows_ = dims[0];
    g.row_.assign(dims.begin() + 1, dims.end());
    return g;
}

void Growable::truncate(hsize_t n) {
    if (n >= rows_) return;
    std::vector<hsize_t> dims{n};
    dims.insert(dims.end(), row_.begin(), row_.end());
    check(H5Dset_extent(set_, dims.data()), "truncate " + name_);
    rows_ = n;
}

void Growable::append(const double* row) {
    append_block(std::vector<hsize_t>(row_.size(), 0), row_, row, H5P_DEFAULT);
}

void Growable::append_block(const std::vector<hsize_t>& block_start, const std::vector<hsize_t>& block_count,
                            const double* block, hid_t xfer) {
    std::vector<hsize_t> dims{rows_ + 1}, start{rows_}, count{1};
    bool empty = block == nullptr;
    for (std::size_t a = 0; a < row_.size(); ++a) {
        dims.push_back(row_[a]);
        start.push_back(block_start.at(a));
        count.push_back(block_count.at(a));
        empty = empty || block_count[a] == 0;
    }
    check(H5Dset_extent(set_, dims.data()), "extend " + name_);
    Handle space(H5Dget_space(set_), "get space of " + name_);
    Handle mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), "create dataspace");
    if (empty) {
        check(H5Sselect_none(space), "select nothing of " + name_);
        check(H5Sselect_none(mem), "select nothing");
    } else {
        check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
              "select " + name_);
    }
    const double nothing = 0.0;
    check(H5Dwrite(set_, H5T_NATIVE_DOUBLE, mem, space, xfer, empty ? &nothing : block), "write " + name_);
    ++rows_;
}

}  // namespace fpsolve::h5
