#include "decomposition.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

namespace fpsolve {

namespace {

void mpi_check(int status, const char* what) {
    if (status != MPI_SUCCESS) throw RunError(std::string("MPI: cannot ") + what);
}

Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

// The factorisation of `ranks` over the grid's axes with the fewest halo cells on the largest block.
std::array<int, 3> choose_procs(int ranks, const Grid& g) {
    std::array<int, 3> best{0, 0, 0};
    std::tuple<int, double, int, int> best_key{std::numeric_limits<int>::max(), 0.0, 0, 0};
    for (const auto& p : factorisations(ranks, g)) {
        double halo = 0.0;
        int periodic_cuts = 0;
        for (int a = 0; a < g.dims; ++a) {
            if (p[a] == 1) continue;
            periodic_cuts += g.boundary[a] == Boundary::periodic;
            double face = 2.0;
            for (int b = 0; b < g.dims; ++b)
                if (b != a) face *= static_cast<double>(ceil_div(g.cells[b], p[b]));
            halo += face;
        }
        // A cut periodic axis puts its wrap-around face on the lower rank, which evaluates its coefficients at
        // the lower end instead of the upper (round-off, unless they are not periodic): cut those last.
        const std::tuple<int, double, int, int> key{periodic_cuts, halo, -p[0], -p[1]};
        if (key < best_key) best_key = key, best = p;
    }
    if (best[0] == 0)
        throw InputError("grid.cells: the grid cannot be split over " + std::to_string(ranks) +
                         " MPI ranks (each rank needs at least one cell along every axis it splits); use fewer ranks");
    return best;
}

}  // namespace

std::vector<std::array<int, 3>> factorisations(int ranks, const Grid& g) {
    std::vector<std::array<int, 3>> out;
    for (int p0 = 1; p0 <= ranks; ++p0) {
        if (ranks % p0) continue;
        for (int p1 = 1; p1 <= ranks / p0; ++p1) {
            if ((ranks / p0) % p1) continue;
            const std::array<int, 3> p{p0, p1, ranks / p0 / p1};
            bool ok = true;
            for (int a = 0; a < 3; ++a) ok = ok && (a < g.dims ? p[a] <= g.cells[a] : p[a] == 1);
            if (ok) out.push_back(p);
        }
    }
    return out;
}

Decomposition::Decomposition(MPI_Comm comm, const Grid& global, std::array<int, 3> procs) : global_(global) {
    int world = 1;
    mpi_check(MPI_Comm_size(comm, &world), "get the communicator size");
    if (procs == std::array<int, 3>{0, 0, 0}) {
        procs_ = choose_procs(world, global);
    } else {
        const auto all = factorisations(world, global);
        if (std::find(all.begin(), all.end(), procs) == all.end())
            throw InputError("the rank grid " + std::to_string(procs[0]) + "x" + std::to_string(procs[1]) + "x" +
                             std::to_string(procs[2]) + " does not split this grid over " + std::to_string(world) + " ranks");
        procs_ = procs;
    }
    std::array<int, 3> periods{0, 0, 0};
    for (int a = 0; a < global.dims; ++a) periods[a] = global.boundary[a] == Boundary::periodic;
    mpi_check(MPI_Cart_create(comm, global.dims, procs_.data(), periods.data(), 0, &cart_), "create the rank grid");
    mpi_check(MPI_Comm_rank(cart_, &rank_), "get the rank");
    mpi_check(MPI_Comm_size(cart_, &size_), "get the size");
    mpi_check(MPI_Cart_coords(cart_, rank_, global.dims, coords_.data()), "get the rank's coordinates");

    extended_ = global;
    const auto whole = std::make_shared<const Grid>(global);
    extended_.whole = whole;
    for (int a = 0; a < global.dims; ++a) {
        const Index n = global.cells[a], p = procs_[a], c = coords_[a];
        begin_[a] = c * (n / p) + std::min(c, n % p);
        count_[a] = n / p + (c < n % p ? 1 : 0);
        mpi_check(MPI_Cart_shift(cart_, a, 1, &lower_rank_[a], &upper_rank_[a]), "find the neighbours");
        lo_[a] = lower_rank_[a] != MPI_PROC_NULL ? 1 : 0;
        hi_[a] = upper_rank_[a] != MPI_PROC_NULL ? 1 : 0;
        if (p == 1) lo_[a] = hi_[a] = 0;  // a periodic axis held whole wraps by itself
        const double h = global.spacing(a);
        extended_.cells[a] = count_[a] + lo_[a] + hi_[a];
        extended_.offset[a] = begin_[a] - lo_[a];
        extended_.lower[a] = global.lower[a] + static_cast<double>(begin_[a] - lo_[a]) * h;
        extended_.upper[a] = global.lower[a] + static_cast<double>(begin_[a] + count_[a] + hi_[a]) * h;
        if (begin_[a] + count_[a] + hi_[a] == n) extended_.upper[a] = global.upper[a];  // exactly the global wall
        // A cut periodic axis: both ends are cuts; the local boundary only decides the discarded ghost results.
        if (p > 1 && global.boundary[a] == Boundary::periodic) extended_.boundary[a] = Boundary::reflecting;
    }

    // Owned cells in the extended block, and the slab types of the halo exchange.
    const Index n = extended_.size();
    mask_.assign(static_cast<std::size_t>(n), 0);
    owned_.reserve(static_cast<std::size_t>(count_[0] * count_[1] * count_[2]));
    for (Index c = 0; c < n; ++c) {
        const auto i = extended_.unravel(c);
        bool own = true;
        for (int a = 0; a < global.dims; ++a) own = own && i[a] >= lo_[a] && i[a] < lo_[a] + count_[a];
        if (own) {
            mask_[static_cast<std::size_t>(c)] = 1;
            if (i[global.dims - 1] == lo_[global.dims - 1]) rows_.push_back(c);
            owned_.push_back(c);
        }
    }
    row_length_ = count_[global.dims - 1];
    // A row reads the rows next to it along every other axis (diagonals included): it is inner when none of
    // its indices along those axes is next to a ghost layer; a cut last axis puts ghosts at every row's ends.
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        const auto i = extended_.unravel(rows_[r]);
        bool inner = procs_[global.dims - 1] == 1;
        for (int a = 0; a + 1 < global.dims; ++a)
            inner = inner && !(lo_[a] && i[a] == lo_[a]) && !(hi_[a] && i[a] == lo_[a] + count_[a] - 1);
        (inner ? inner_rows_ : border_rows_).push_back(static_cast<Index>(r));
    }
    const int d = global.dims;
    std::array<int, 3> sizes{}, sub{};
    for (int a = 0; a < d; ++a) sizes[a] = static_cast<int>(extended_.cells[a]);
    auto slab = [&](int a, Index at) {
        std::array<int, 3> starts{0, 0, 0};
        sub = sizes;
        sub[a] = 1;
        starts[a] = static_cast<int>(at);
        MPI_Datatype t;
        mpi_check(MPI_Type_create_subarray(d, sizes.data(), sub.data(), starts.data(), MPI_ORDER_C, MPI_DOUBLE, &t),
                  "create a halo type");
        mpi_check(MPI_Type_commit(&t), "commit a halo type");
        return t;
    };
    for (int a = 0; a < d; ++a) {
        send_down_[a] = slab(a, lo_[a]);
        send_up_[a] = slab(a, lo_[a] + count_[a] - 1);
        recv_below_[a] = slab(a, 0);
        recv_above_[a] = slab(a, extended_.cells[a] - 1);
    }
}

Decomposition::~Decomposition() {
    for (int a = 0; a < global_.dims; ++a)
        for (MPI_Datatype* t : {&send_down_[a], &send_up_[a], &recv_below_[a], &recv_above_[a]})
            if (*t != MPI_DATATYPE_NULL) MPI_Type_free(t);
    if (cart_ != MPI_COMM_NULL) MPI_Comm_free(&cart_);
}

Grid Decomposition::owned_grid() const {
    Grid g = global_;
    g.whole = extended_.whole;
    for (int a = 0; a < g.dims; ++a) {
        const double h = global_.spacing(a);
        g.cells[a] = count_[a];
        g.offset[a] = begin_[a];
        g.lower[a] = global_.lower[a] + static_cast<double>(begin_[a]) * h;
        g.upper[a] = begin_[a] + count_[a] == global_.cells[a] ? global_.upper[a]
                                                               : global_.lower[a] + static_cast<double>(begin_[a] + count_[a]) * h;
    }
    return g;
}

// Down: my first owned slab to the lower neighbour, the upper neighbour's into my upper ghosts (tag 10 + a);
// up: my last owned slab to the upper neighbour, the lower neighbour's into my lower ghosts (tag 20 + a).
// The tags keep the two directions apart when both neighbours are the same rank (a periodic axis cut in two).
void Decomposition::halo(Eigen::VectorXd& x) const {
    PendingHalo pending = start_halo(x);
    finish_halo(pending);
}

namespace {
void post_axis(double* x, int a, int below, int above, MPI_Datatype send_down, MPI_Datatype send_up,
               MPI_Datatype recv_below, MPI_Datatype recv_above, MPI_Comm comm,
               std::array<MPI_Request, 4>& req) {
    mpi_check(MPI_Irecv(x, above == MPI_PROC_NULL ? 0 : 1, recv_above, above, 10 + a, comm, &req[0]),
              "receive a halo");
    mpi_check(MPI_Irecv(x, below == MPI_PROC_NULL ? 0 : 1, recv_below, below, 20 + a, comm, &req[1]),
              "receive a halo");
    mpi_check(MPI_Isend(x, below == MPI_PROC_NULL ? 0 : 1, send_down, below, 10 + a, comm, &req[2]),
              "send a halo");
    mpi_check(MPI_Isend(x, above == MPI_PROC_NULL ? 0 : 1, send_up, above, 20 + a, comm, &req[3]),
              "send a halo");
}
}  // namespace

Decomposition::PendingHalo Decomposition::start_halo(Eigen::VectorXd& x) const {
    PendingHalo pending;
    pending.data = x.data();
    for (int a = 0; a < global_.dims; ++a) {
        if (procs_[a] == 1) continue;
        post_axis(x.data(), a, lo_[a] ? lower_rank_[a] : MPI_PROC_NULL,
                  hi_[a] ? upper_rank_[a] : MPI_PROC_NULL, send_down_[a], send_up_[a], recv_below_[a],
                  recv_above_[a], cart_, pending.requests);
        pending.axis = a;
        break;
    }
    return pending;
}

void Decomposition::finish_halo(PendingHalo& pending) const {
    if (pending.axis < 0) return;
    mpi_check(MPI_Waitall(4, pending.requests.data(), MPI_STATUSES_IGNORE), "exchange a halo");
    // The later cut axes after the first has arrived: their slabs carry its ghosts into the corners.
    for (int a = pending.axis + 1; a < global_.dims; ++a) {
        if (procs_[a] == 1) continue;
        post_axis(pending.data, a, lo_[a] ? lower_rank_[a] : MPI_PROC_NULL,
                  hi_[a] ? upper_rank_[a] : MPI_PROC_NULL, send_down_[a], send_up_[a], recv_below_[a],
                  recv_above_[a], cart_, pending.requests);
        mpi_check(MPI_Waitall(4, pending.requests.data(), MPI_STATUSES_IGNORE), "exchange a halo");
    }
    pending.axis = -1;
}

// Copies run along the contiguous last axis, one owned row at a time. Every ghost is overwritten by halo()
// (ghosts exist only towards a neighbour), so the extended block is zeroed only when it is allocated.
void Decomposition::copy_owned(const Eigen::VectorXd& owned, Eigen::VectorXd& extended) const {
    if (extended.size() != extended_.size()) extended.setZero(extended_.size());
    for (std::size_t r = 0; r < rows_.size(); ++r)
        extended.segment(rows_[r], row_length_) = owned.segment(static_cast<Index>(r) * row_length_, row_length_);
}

void Decomposition::to_extended(const Eigen::VectorXd& owned, Eigen::VectorXd& extended) const {
    copy_owned(owned, extended);
    halo(extended);
}

void Decomposition::from_extended(const Eigen::VectorXd& extended, Eigen::VectorXd& owned) const {
    owned.resize(owned_size());
    for (std::size_t r = 0; r < rows_.size(); ++r)
        owned.segment(static_cast<Index>(r) * row_length_, row_length_) = extended.segment(rows_[r], row_length_);
}

Eigen::VectorXd Decomposition::slice(const Eigen::VectorXd& v) const {
    Eigen::VectorXd out(owned_size());
    const Grid& g = global_;
    for (std::size_t k = 0; k < owned_.size(); ++k) {
        const auto i = extended_.unravel(owned_[k]);
        Index c = 0;
        for (int a = 0; a < g.dims; ++a) c = c * g.cells[a] + (i[a] - lo_[a] + begin_[a]);
        out[static_cast<Index>(k)] = v[c];
    }
    return out;
}

double Decomposition::sum(double x) const {
    double out = 0.0;
    mpi_check(MPI_Allreduce(&x, &out, 1, MPI_DOUBLE, MPI_SUM, cart_), "sum over the ranks");
    return out;
}
double Decomposition::max(double x) const {
    double out = 0.0;
    mpi_check(MPI_Allreduce(&x, &out, 1, MPI_DOUBLE, MPI_MAX, cart_), "reduce over the ranks");
    return out;
}
double Decomposition::min(double x) const {
    double out = 0.0;
    mpi_check(MPI_Allreduce(&x, &out, 1, MPI_DOUBLE, MPI_MIN, cart_), "reduce over the ranks");
    return out;
}
bool Decomposition::all(bool x) const {
    int in = x ? 1 : 0, out = 0;
    mpi_check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, cart_), "reduce over the ranks");
    return out != 0;
}

}  // namespace fpsolve
