// Thin RAII layer over the HDF5 C API: owned handles, typed attribute and dataset helpers, and
// errors that say what was expected. HDF5 types never leave the io/ target.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fpsolve::h5 {

// An owned hid_t, closed with the right H5*close for its type.
class Handle {
  public:
    Handle() = default;
    explicit Handle(hid_t id, const std::string& what);  // throws RunError if id < 0
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, H5I_INVALID_HID);
        }
        return *this;
    }
    ~Handle() { reset(); }
    void reset();
    hid_t get() const { return id_; }
    operator hid_t() const { return id_; }
    bool valid() const { return id_ >= 0; }

  private:
    hid_t id_ = H5I_INVALID_HID;
};

void silence_errors();  // HDF5 prints its own error stack unless told not to

// Throws RunError naming `what` when status < 0.
void check(herr_t status, const std::string& what);

bool exists(hid_t loc, const std::string& path);  // every link on the path
Handle create_group(hid_t loc, const std::string& name);
void make_groups(hid_t loc,
                 const std::string& path);  // the groups above the last '/' of `path` that are missing
Handle open_or_create_group(hid_t loc, const std::string& path);  // with every group on the way

// Attributes (created or overwritten).
void write_attribute(hid_t loc, const std::string& name, const std::string& value);
void write_attribute(hid_t loc, const std::string& name, const std::vector<std::string>& value);
void write_attribute(hid_t loc, const std::string& name, double value);
void write_attribute(hid_t loc, const std::string& name, std::int64_t value);
void write_attribute(hid_t loc, const std::string& name, const std::vector<double>& value);
void write_attribute(hid_t loc, const std::string& name, const std::vector<std::int64_t>& value);
bool has_attribute(hid_t loc, const std::string& name);
std::string read_string_attribute(hid_t loc, const std::string& name);
std::vector<std::string> read_string_array_attribute(hid_t loc, const std::string& name);
std::vector<double> read_double_attribute(hid_t loc, const std::string& name);
std::vector<std::int64_t> read_int_attribute(hid_t loc, const std::string& name);

// At most this many doubles (1 MiB) in one chunk of a cell dataset: deflate holds a copy of the chunk and
// its output, so the cap bounds that transient memory; 2^17 wrote as fast as 2^16 or faster
// (docs/performance.md, "Snapshot output under MPI").
inline constexpr hsize_t kChunkValues = hsize_t{1} << 17;

// The chunk of a dataset of `shape` whose axes are split into `blocks[a]` blocks (the ranks along each axis;
// missing or 1: not split). Along each axis the chunk is the largest block extent, ceil(shape / blocks), so that
// each rank compresses its own chunks (deflate runs on the rank that owns the chunk: one chunk for the whole
// grid put it all on one rank) and, where the split is even, chunk and rank boundaries coincide. The same on
// every rank (H5Dcreate is collective). Then, above kChunkValues, the outermost axes shrink first (row-major:
// a chunk stays a run of whole rows). Serially: the whole grid, capped.
std::vector<hsize_t> cell_chunk(const std::vector<hsize_t>& shape, const std::vector<hsize_t>& blocks = {});

// Fixed-shape dataset of doubles, written whole.
// An empty dataset of doubles; compress: chunked by cell_chunk(shape, blocks), deflate 1.
Handle create_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape, bool compress,
                      const std::vector<hsize_t>& blocks = {});
void write_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape, const double* data,
                   bool compress = false);
// The same, of which this process writes the block [start, start + count) with transfer list `xfer`
// (parallel HDF5: every rank, collectively, its own block); `blocks` as for cell_chunk.
void write_dataset_block(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                         const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                         const double* block, bool compress, hid_t xfer, const std::vector<hsize_t>& blocks = {});
// The block [start, start + count) of a dataset, row-major.
std::vector<double> read_block(hid_t loc, const std::string& name, const std::vector<hsize_t>& start,
                               const std::vector<hsize_t>& count);
std::vector<hsize_t> dataset_shape(hid_t loc, const std::string& name);
std::vector<double> read_dataset(hid_t loc, const std::string& name);

// A dataset of doubles that grows along its first axis, one row (of shape `row`) at a time. Rows of up to 64
// values: many rows a chunk (up to 4 MiB); larger rows: one row a chunk along the first axis and
// cell_chunk(row, blocks) within it; deflate 1 with `compress`.
class Growable {
  public:
    Growable() = default;
    Growable(hid_t loc, const std::string& name, std::vector<hsize_t> row, bool compress,
             const std::vector<hsize_t>& blocks = {});
    // Opens an existing growable dataset to append to it.
    static Growable open(hid_t loc, const std::string& name);
    void append(const double* row);
    // Appends a row of which this process writes the block [start, start + count) (row coordinates; a
    // zero count or a null block writes nothing) with transfer properties `xfer`: parallel HDF5 calls it on
    // every rank, collectively, each with its own block.
    void append_block(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                      const double* block, hid_t xfer);
    // Drops rows beyond n (a killed writer may leave one partial row).
    void truncate(hsize_t n);
    bool valid() const { return set_.valid(); }
    void close() { set_.reset(); }
    hsize_t rows() const { return rows_; }
    const std::vector<hsize_t>& row() const { return row_; }  // the shape of one row

  private:
    Handle set_;
    std::vector<hsize_t> row_;
    hsize_t rows_ = 0;
    std::string name_;
};

}  // namespace fpsolve::h5
