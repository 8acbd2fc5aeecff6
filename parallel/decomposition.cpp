#include "decomposition.hpp"

#include <algorithm>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>

namespace fpsolve {

namespace {

void mpi_check(int status, const char* what) {
    if (status != MPI_SUCCESS) throw RunError(std::string("MPI: cannot ") + what);
}

Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

std::string rank_grid_text(const AxisInts& p, int dims) {
    std::ostringstream s;
    for (int a = 0; a < dims; ++a) s << (a ? "x" : "") << p[a];
    return s.str();
}

// The factorisation of `ranks` over the grid's axes with the fewest halo cells on the largest block.
AxisInts choose_procs(int ranks, const Grid& g, const AxisInts& ghosts) {
    AxisInts best{};
    std::tuple<int, double, int, int, int> best_key{std::numeric_limits<int>::max(), 0.0, 0, 0, 0};
    for (const auto& p : factorisations(ranks, g, ghosts)) {
        double halo = 0.0;
        int periodic_cuts = 0;
        for (int a = 0; a < g.dims; ++a) {
            if (p[a] == 1) continue;
            periodic_cuts += g.boundary[a] == Boundary::periodic;
            double face = 2.0 * ghosts[a];
            for (int b = 0; b < g.dims; ++b)
                if (b != a) face *= static_cast<double>(ceil_div(g.cells[b], p[b]));
            halo += face;
        }
        // A cut periodic axis puts its wrap-around face on the lower rank, which evaluates its coefficients at
        // the lower end instead of the upper (round-off, unless they are not periodic): cut those last.
        const std::tuple<int, double, int, int, int> key{periodic_cuts, halo, -p[0], -p[1], -p[2]};
        if (key < best_key) best_key = key, best = p;
    }
    if (best[0] == 0) {
        std::ostringstream msg;
        msg << "grid.cells: the grid cannot be split over " << ranks
            << " MPI ranks (each rank needs at least one cell along every axis it splits, two along an axis "
               "without diffusion); use fewer ranks";
        throw InputError(msg.str());
    }
    return best;
}

// Whether D_aa (as Problem::diffusion forms it) is not positive at x: a transport-only face there.
bool transport_only(const Problem& pb, int a, const Point& x) {
    const auto ua = static_cast<std::size_t>(a);
    return !(pb.eta_bar() * pb.drift_scale(a) * pb.drift_scale(a) * pb.noise[ua][ua](x, 0.0) > 0.0);
}

}  // namespace

AxisInts ghost_widths(MPI_Comm comm, const Problem& pb) {
    const Grid& g = pb.grid;
    const int d = g.dims;
    AxisInts vanishes{};  // per axis: D_aa vanishes on some face (0 or 1)
    bool sample = false;  // some D_aa depends on x only: evaluated at the faces
    for (int a = 0; a < d; ++a) {
        const Expression& s = pb.noise[static_cast<std::size_t>(a)][static_cast<std::size_t>(a)];
        if (pb.scheme == Scheme::upwind) continue;  // its transport faces read their two cells only
        if (s.depends_on_time())
            vanishes[a] = 1;
        else if (!s.depends_on_space())
            vanishes[a] = transport_only(pb, a, Point{});  // the operator evaluates a constant D at 0
        else
            sample = true;
    }
    if (sample) {
        // The faces of the operator (fokker_planck_operator.cpp): the upper face of every cell that has one, at
        // the cell centre moved by h_a / 2; a periodic axis's wrap-around face also at its lower end, where a
        // cut evaluates it. Rank r checks the cells [r N / size, (r + 1) N / size).
        int rank = 0, size = 1;
        mpi_check(MPI_Comm_rank(comm, &rank), "get the rank");
        mpi_check(MPI_Comm_size(comm, &size), "get the size");
        const Index n = g.size();
        for (Index cell = n * rank / size; cell < n * (rank + 1) / size; ++cell) {
            const auto i = g.unravel(cell);
            const Point xc = g.centre_of(cell);
            for (int a = 0; a < d; ++a) {
                const Expression& s = pb.noise[static_cast<std::size_t>(a)][static_cast<std::size_t>(a)];
                if (vanishes[a] || !s.depends_on_space() || s.depends_on_time()) continue;
                const double h = g.spacing(a);
                const bool last = i[a] + 1 == g.cells[a], periodic = g.boundary[a] == Boundary::periodic;
                if (last && !periodic) continue;
                Point x = xc;
                x[a] += 0.5 * h;
                bool zero = transport_only(pb, a, x);
                if (last) {
                    x[a] = g.centre(a, -1);
                    x[a] += 0.5 * h;
                    zero = zero || transport_only(pb, a, x);
                }
                vanishes[a] = zero;
            }
        }
        AxisInts any{};
        mpi_check(MPI_Allreduce(vanishes.data(), any.data(), kMaxAxes, MPI_INT, MPI_MAX, comm),
                  "reduce the ghost widths");
        vanishes = any;
    }
    AxisInts w = one_per_axis();
    for (int a = 0; a < d; ++a) w[a] = vanishes[a] ? 2 : 1;
    return w;
}

std::vector<AxisInts> factorisations(int ranks, const Grid& g, const AxisInts& ghosts) {
    std::vector<AxisInts> out;
    AxisInts p = one_per_axis();
    // p_0 .. p_{d-2} by trial division in ascending order, the last axis takes the rest.
    auto place = [&](auto&& self, int a, int rest) -> void {
        if (a == g.dims - 1) {
            p[a] = rest;
            bool ok = true;
            for (int b = 0; b < g.dims; ++b)
                ok = ok && (p[b] == 1 || static_cast<Index>(p[b]) * ghosts[b] <= g.cells[b]);
            if (ok) out.push_back(p);
            return;
        }
        for (int q = 1; q <= rest; ++q) {
            if (rest % q) continue;
            p[a] = q;
            self(self, a + 1, rest / q);
        }
    };
    place(place, 0, ranks);
    return out;
}

Decomposition::Decomposition(MPI_Comm comm, const Problem& problem, const AxisInts& procs)
    : Decomposition(comm, problem.grid, procs, ghost_widths(comm, problem)) {}

Decomposition::Decomposition(MPI_Comm comm, const Grid& global, const AxisInts& procs, const AxisInts& ghosts)
    : global_(global), width_(ghosts) {
    const int d = global.dims;
    count_.fill(1);
    lower_rank_.fill(MPI_PROC_NULL);
    upper_rank_.fill(MPI_PROC_NULL);
    for (auto* types : {&send_down_, &send_up_, &recv_below_, &recv_above_}) types->fill(MPI_DATATYPE_NULL);
    for (int a = d; a < kMaxAxes; ++a) width_[a] = 1;
    int world = 1;
    mpi_check(MPI_Comm_size(comm, &world), "get the communicator size");
    if (procs == AxisInts{}) {
        procs_ = choose_procs(world, global, width_);
    } else {
        const auto all = factorisations(world, global, width_);
        if (std::find(all.begin(), all.end(), procs) == all.end()) {
            std::ostringstream msg;
            msg << "the rank grid " << rank_grid_text(procs, d) << " does not split this grid over " << world
                << " ranks";
            throw InputError(msg.str());
        }
        procs_ = procs;
    }
    AxisInts periods{};
    for (int a = 0; a < d; ++a) periods[a] = global.boundary[a] == Boundary::periodic;
    mpi_check(MPI_Cart_create(comm, d, procs_.data(), periods.data(), 0, &cart_), "create the rank grid");
    mpi_check(MPI_Comm_rank(cart_, &rank_), "get the rank");
    mpi_check(MPI_Comm_size(cart_, &size_), "get the size");
    mpi_check(MPI_Cart_coords(cart_, rank_, d, coords_.data()), "get the rank's coordinates");

    extended_ = global;
    const auto whole = std::make_shared<const Grid>(global);
    extended_.whole = whole;
    for (int a = 0; a < d; ++a) {
        const Index n = global.cells[a], p = procs_[a], c = coords_[a];
        begin_[a] = c * (n / p) + std::min(c, n % p);
        count_[a] = n / p + (c < n % p ? 1 : 0);
        mpi_check(MPI_Cart_shift(cart_, a, 1, &lower_rank_[a], &upper_rank_[a]), "find the neighbours");
        if (p == 1) lower_rank_[a] = upper_rank_[a] = MPI_PROC_NULL;  // a periodic axis held whole wraps by itself
        lo_[a] = lower_rank_[a] != MPI_PROC_NULL ? width_[a] : 0;
        hi_[a] = upper_rank_[a] != MPI_PROC_NULL ? width_[a] : 0;
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
    Index owned = 1;
    for (int a = 0; a < d; ++a) owned *= count_[a];
    owned_.reserve(static_cast<std::size_t>(owned));
    for (Index c = 0; c < n; ++c) {
        const auto i = extended_.unravel(c);
        bool own = true;
        for (int a = 0; a < d; ++a) own = own && i[a] >= lo_[a] && i[a] < lo_[a] + count_[a];
        if (own) {
            mask_[static_cast<std::size_t>(c)] = 1;
            if (i[d - 1] == lo_[d - 1]) rows_.push_back(c);
            owned_.push_back(c);
        }
    }
    row_length_ = count_[d - 1];
    // A row reads the rows up to w_a steps away along every other axis a (diagonals included): it is inner when
    // none of its indices along those axes is within w_a of a ghost layer; a cut last axis puts ghosts at every
    // row's ends.
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        const auto i = extended_.unravel(rows_[r]);
        bool inner = procs_[d - 1] == 1;
        for (int a = 0; a + 1 < d; ++a) {
            const Index from_lower = i[a] - lo_[a], from_upper = lo_[a] + count_[a] - 1 - i[a];
            inner = inner && !(lo_[a] && from_lower < width_[a]) && !(hi_[a] && from_upper < width_[a]);
        }
        (inner ? inner_rows_ : border_rows_).push_back(static_cast<Index>(r));
    }
    AxisInts sizes{};
    for (int a = 0; a < d; ++a) sizes[a] = static_cast<int>(extended_.cells[a]);
    // The slab of w_a layers along axis a from layer `at`, spanning the whole extended block along the others.
    auto slab = [&](int a, Index at) {
        AxisInts starts{}, sub = sizes;
        sub[a] = width_[a];
        starts[a] = static_cast<int>(at);
        MPI_Datatype t;
        mpi_check(MPI_Type_create_subarray(d, sizes.data(), sub.data(), starts.data(), MPI_ORDER_C, MPI_DOUBLE, &t),
                  "create a halo type");
        mpi_check(MPI_Type_commit(&t), "commit a halo type");
        return t;
    };
    for (int a = 0; a < d; ++a) {
        if (lo_[a]) {
            send_down_[a] = slab(a, lo_[a]);
            recv_below_[a] = slab(a, 0);
        }
        if (hi_[a]) {
            send_up_[a] = slab(a, lo_[a] + count_[a] - width_[a]);
            recv_above_[a] = slab(a, lo_[a] + count_[a]);
        }
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

// Down: my first w_a owned layers to the lower neighbour, the upper neighbour's into my upper ghosts (tag 10 + a);
// up: my last w_a owned layers to the upper neighbour, the lower neighbour's into my lower ghosts (tag 20 + a).
// The tags keep the two directions apart when both neighbours are the same rank (a periodic axis cut in two).
void Decomposition::halo(Eigen::VectorXd& x) const {
    PendingHalo pending = start_halo(x);
    finish_halo(pending);
}

namespace {
// Sides without a neighbour post nothing (their requests stay MPI_REQUEST_NULL).
void post_axis(double* x, int a, int below, int above, MPI_Datatype send_down, MPI_Datatype send_up,
               MPI_Datatype recv_below, MPI_Datatype recv_above, MPI_Comm comm,
               std::array<MPI_Request, 4>& req) {
    req.fill(MPI_REQUEST_NULL);
    if (above != MPI_PROC_NULL)
        mpi_check(MPI_Irecv(x, 1, recv_above, above, 10 + a, comm, &req[0]), "receive a halo");
    if (below != MPI_PROC_NULL)
        mpi_check(MPI_Irecv(x, 1, recv_below, below, 20 + a, comm, &req[1]), "receive a halo");
    if (below != MPI_PROC_NULL) mpi_check(MPI_Isend(x, 1, send_down, below, 10 + a, comm, &req[2]), "send a halo");
    if (above != MPI_PROC_NULL) mpi_check(MPI_Isend(x, 1, send_up, above, 20 + a, comm, &req[3]), "send a halo");
}
}  // namespace

Decomposition::PendingHalo Decomposition::start_halo(Eigen::VectorXd& x) const {
    PendingHalo pending;
    pending.data = x.data();
    for (int a = 0; a < global_.dims; ++a) {
        if (procs_[a] == 1) continue;
        post_axis(x.data(), a, lower_rank_[a], upper_rank_[a], send_down_[a], send_up_[a], recv_below_[a],
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
        post_axis(pending.data, a, lower_rank_[a], upper_rank_[a], send_down_[a], send_up_[a], recv_below_[a],
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
