#include "fokker_planck_operator.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "detailed_balance.hpp"
#include "errors.hpp"
#include "face_flux.hpp"
#include "subnormals.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fpsolve {

FokkerPlanckOperator::FokkerPlanckOperator(const Problem& problem)
    : problem_(problem),
      time_dependent_(problem.time_dependent()),
      zeros_(static_cast<std::size_t>(problem.grid.cells[problem.grid.dims - 1]), 0.0) {}

const FokkerPlanckOperator::Coefficients& FokkerPlanckOperator::ensure(double t) const {
    if (!coef_.ready || (time_dependent_ && coef_.t != t)) {
        assemble(t, coef_);
        coef_.t = t;
        coef_.ready = true;
        coef_.spectral_radius = -1.0;  // computed on demand, for these coefficients
        coef_.balance = -1;
    }
    return coef_;
}

namespace {

Point shifted(Point x, int a, double dx) {
    x[a] += dx;
    return x;
}

// A cell reached from multi-index i by one step along axis b, with the ghost rule of that wall:
// periodic wraps; reflecting mirrors (zero gradient); absorbing mirrors with a sign flip (p = 0 on the wall).
struct Neighbour {
    Index cell;
    double sign;
};

bool bc_absorbing(const Grid& g, int a) { return g.boundary[a] == Boundary::absorbing; }

Neighbour step(const Grid& g, std::array<Index, kMaxAxes> i, int b, int dir) {
    const Index n = g.cells[b];
    Index j = i[b] + dir;
    double sign = 1.0;
    if (j < 0 || j >= n) {
        switch (g.boundary[b]) {
            case Boundary::periodic: j = (j + n) % n; break;
            case Boundary::reflecting: j = i[b]; break;
            case Boundary::absorbing:
                j = i[b];
                sign = -1.0;
                break;
        }
    }
    i[b] = j;
    Index c = 0;
    for (int a = 0; a < g.dims; ++a) c = c * g.cells[a] + i[a];
    return {c, sign};
}

}  // namespace

void FokkerPlanckOperator::add_cross(Coefficients& c, Index lower, Index upper, int axis, const Index* idx,
                                    const double* w, int n) {
    if (n == 0) return;
    c.cross.push_back({lower, upper, c.cross_idx.size(), axis, n});
    c.cross_idx.insert(c.cross_idx.end(), idx, idx + n);
    c.cross_w.insert(c.cross_w.end(), w, w + n);
}

// A transport face's far-cell term (Coefficients::far), allocated for the axis at its first use.
void FokkerPlanckOperator::set_far(Coefficients& c, int axis, std::size_t face, Index cells, double w) {
    auto& far = c.far[static_cast<std::size_t>(axis)];
    if (far.empty()) far.assign(static_cast<std::size_t>(cells), 0.0);
    far[face] = w;
}

// The kinetic form (problem.hpp): with pi = f(x) g(v), f = exp(-U / T), g = exp(-|v|^2 / 2T) and q = p / pi,
//   position face (axis x_a):  F = V_a g f^ q^            q^: the upwind-biased face value of q (face_flux.hpp)
//   velocity face (axis v_a):  F = f g^ (gamma T / h) [B(-z) q_L - B(z) q_R],   z = F_a h / (gamma T)
//   F_a = T (f^_+ - f^_-) / (h_a f),   V_a = -T (g^_+ - g^_-) / (h g)      (^_+-: the cell's upper and lower face)
// where f^, g^ on a face are means of the two cells' values (0 on a reflecting wall). F_a and V_a are
// second-order forms of the force -dU/dx_a and of the velocity v_a, and with them the fluxes of pi cancel in every
// cell, term by term: pi at the cell centres is an exact discrete fixed point (up to round-off). The velocity flux
// is Scharfetter–Gummel's for q: positive for any cell Peclet number. Where f falls by more than a factor
// far_ratio_limit from the face to the far upstream or to the downwind cell (an unresolved slope, where q varies
// by orders of magnitude between cells and the kappa = 1/3 weights would amplify them), the position flux takes
// q^ = q upstream instead (first order, positive; still Gibbs exact, since q^ = q for constant q).
void FokkerPlanckOperator::assemble_kinetic(double t, Coefficients& c) const {
    constexpr double far_ratio_limit = 4.0;  // factor of f from the face to the far or downwind cell
    const Problem& pb = problem_;
    const Grid& g = pb.grid;
    const KineticForm& k = *pb.kinetic;
    const int d = g.dims, m = k.positions;
    const Index n = g.size();
    const double temp = k.temperature, kappa = k.friction * k.temperature;
    const auto un = static_cast<std::size_t>(n);
    // log f and log g at the centres (log f at a ghost beyond an absorbing wall when asked).
    std::vector<double> lf(un), lg(un);
    for (Index cell = 0; cell < n; ++cell) {
        const Point x = g.centre_of(cell);
        const double u = k.potential(x, t);
        if (!std::isfinite(u)) {
            std::ostringstream msg;
            msg << "dynamics.kinetic.potential: not finite at the cell centre (";
            for (int a = 0; a < m; ++a) msg << (a ? ", " : "") << x[a];
            msg << "); choose a grid where U is finite";
            throw InputError(msg.str());
        }
        lf[static_cast<std::size_t>(cell)] = -u / temp;
        double e = 0.0;
        for (int a = m; a < d; ++a) e += 0.5 * x[a] * x[a];
        lg[static_cast<std::size_t>(cell)] = -e / temp;
    }
    // The face value of e^l between cells with l1 and l2, over e^l1: B(l1 - l2), so that the face value is
    // e^l1 e^l2 (l1 - l2) / (e^l1 - e^l2), the mean for which F_a and V_a are exact where U and |v|^2 are linear.
    auto mean_over = [](double l1, double l2) { return bernoulli(l1 - l2); };
    // ratio[a][cell] = {face value below / cell value, face value above / cell value} along axis a, of f for the
    // positions and of g for the velocities; 0 on reflecting walls.
    std::array<std::vector<std::array<double, 2>>, 4> ratio;
    for (int a = 0; a < d; ++a) {
        const std::vector<double>& l = a < m ? lf : lg;
        const Index s = g.stride(a), na = g.cells[a];
        ratio[a].assign(un, {0.0, 0.0});
        for (Index cell = 0; cell < n; ++cell) {
            const auto i = g.unravel(cell);
            const double lc = l[static_cast<std::size_t>(cell)];
            for (int side = 0; side < 2; ++side) {
                const int dir = side ? +1 : -1;
                const Index j = i[a] + dir;
                double lnb;
                if (j >= 0 && j < na) {
                    lnb = l[static_cast<std::size_t>(cell + dir * s)];
                } else if (g.boundary[a] == Boundary::periodic) {
                    lnb = l[static_cast<std::size_t>(cell - dir * (na - 1) * s)];
                } else if (g.boundary[a] == Boundary::absorbing && a < m) {
                    lnb = -k.potential(shifted(g.centre_of(cell), a, dir * g.spacing(a)), t) / temp;
                } else {
                    continue;  // a reflecting wall: no flux, face value 0
                }
                ratio[a][static_cast<std::size_t>(cell)][static_cast<std::size_t>(side)] = mean_over(lc, lnb);
            }
        }
    }
    c.cross.clear();
    c.cross_idx.clear();
    c.cross_w.clear();
    c.cross_ratio = 0.0;
    c.row_reach = 1;
    for (int a = 0; a < d; ++a) {
        c.a[a].assign(un, 0.0);
        c.b[a].assign(un, 0.0);
        c.wall[a].assign(bc_absorbing(g, a) ? un : 0, 0.0);
        c.far[a].clear();
        c.far[a].shrink_to_fit();
        const bool position = a < m;
        const int partner = position ? a + m : a - m;
        if (!position && g.boundary[a] != Boundary::reflecting)
            throw InputError("grid.boundary: the velocity axes of dynamics.kinetic must be reflecting");
        const double h = g.spacing(a), hp = g.spacing(partner);
        const Index s = g.stride(a), na = g.cells[a];
        for (Index cell = 0; cell < n; ++cell) {
            const auto i = g.unravel(cell);
            const auto uc = static_cast<std::size_t>(cell);
            const auto& rp = ratio[partner][uc];
            const auto& ra = ratio[a][uc];
            if (position) {
                const double v = -temp * (rp[1] - rp[0]) / hp;  // V_a of this cell's velocity
                if (i[a] + 1 < na || g.boundary[a] == Boundary::periodic) {
                    const Index right = i[a] + 1 < na ? cell + s : cell - (na - 1) * s;
                    const double rc = ra[1], rr = ratio[a][static_cast<std::size_t>(right)][0];
                    const Neighbour far = v >= 0.0 ? step(g, i, a, -1) : step(g, g.unravel(right), a, +1);
                    // f^ / f at the far cell: f^/f_c f_c/f_far (a ghost has its cell's f).
                    const double rf = rc * std::exp(lf[uc] - lf[static_cast<std::size_t>(far.cell)]);
                    const double rd = v >= 0.0 ? rr : rc;  // f^ / f at the downwind cell
                    if (rf <= far_ratio_limit && rd <= far_ratio_limit) {
                        const auto t3 = transport_coefficients(v);
                        c.a[a][uc] = t3.a * rc / h;
                        c.b[a][uc] = t3.b * rr / h;
                        const double w = t3.far * rf * far.sign / h;
                        if (far.cell == cell) {
                            c.a[a][uc] += w;
                        } else if (far.cell == right) {
                            c.b[a][uc] -= w;
                        } else {
                            set_far(c, a, uc, n, w);
                            if (a + 1 < d) c.row_reach = 2;
                        }
                    } else {  // unresolved: upstream q
                        c.a[a][uc] = std::max(v, 0.0) * rc / h;
                        c.b[a][uc] = std::max(-v, 0.0) * rr / h;
                    }
                } else if (g.boundary[a] == Boundary::absorbing) {
                    c.a[a][uc] = std::max(v, 0.0) * ra[1] / h;  // outflow through the upper wall
                }
                if (i[a] == 0 && g.boundary[a] == Boundary::absorbing)
                    c.wall[a][uc] = std::max(-v, 0.0) * ra[0] / h;
            } else if (i[a] + 1 < na) {
                const double force = temp * (rp[1] - rp[0]) / hp;  // F_a of this cell's position
                const double z = force * h / kappa;
                const Index right = cell + s;
                c.a[a][uc] = kappa / h * bernoulli(-z) * ra[1] / h;
                c.b[a][uc] = kappa / h * bernoulli(z) * ratio[a][static_cast<std::size_t>(right)][0] / h;
            }
        }
    }
}

void FokkerPlanckOperator::assemble(double t, Coefficients& c) const {
    if (problem_.kinetic && problem_.scheme != Scheme::upwind) {
        assemble_kinetic(t, c);
        gather_cross_rows(c);
        return;
    }
    const Problem& pb = problem_;
    const Grid& g = pb.grid;
    const int d = g.dims;
    const Index n = g.size();
    const bool noise_varies = pb.noise_depends_on_space();
    const AxisMatrix d_const = noise_varies ? AxisMatrix::Zero() : pb.diffusion({0, 0, 0}, t);

    // Potential at the centres, evaluated once; faces use differences of it.
    std::vector<double> pot;
    if (pb.potential) {
        pot.resize(static_cast<std::size_t>(n));
        for (Index cell = 0; cell < n; ++cell) pot[static_cast<std::size_t>(cell)] = (*pb.potential)(g.centre_of(cell), t);
    }
    auto diffusion_at = [&](const Point& x) { return noise_varies ? pb.diffusion(x, t) : d_const; };

    // Drift times distance from point xl to xl + dist e_a (potential values pl, pr there), for the potential (exact
    // difference) or the drift at their midpoint, plus the noise-induced drift at the midpoint.
    auto v_dist = [&](int a, const Point& xl, double pl, double pr, double dist) {
        const Point xm = shifted(xl, a, 0.5 * dist);
        double v;
        if (pb.potential)
            v = -pb.drift_scale(a) * (pr - pl);
        else
            v = dist * pb.drift_scale(a) * pb.drift[static_cast<std::size_t>(a)](xm, t);
        if (noise_varies) v += dist * pb.noise_induced_drift(xm, t)[a];
        return v;
    };

    c.cross.clear();
    c.cross_idx.clear();
    c.cross_w.clear();
    c.cross_ratio = 0.0;
    c.row_reach = 1;
    // With a guide G (Problem::transport_guide, a first steady state), a transport face keeps the kappa = 1/3
    // flux only where G is positive on its stencil and falls by no more than a factor guide_ratio_limit from the
    // face to the far upstream or the downwind cell (the kinetic form's rule, with G for its Gibbs density). Else
    // it takes F = v G^/G_U p_U, G^ the log-mean of G over the face (the upwind flux of q = p / G: exact for a
    // profile proportional to G, first order, positive), or the plain upwind flux where G is not positive.
    constexpr double guide_ratio_limit = 4.0;
    const std::vector<double>* guide = pb.transport_guide.get();
    auto guide_at = [&](Index cell) { return (*guide)[static_cast<std::size_t>(cell)]; };
    for (int a = 0; a < d; ++a) {
        const std::size_t un = static_cast<std::size_t>(n);
        c.a[a].assign(un, 0.0);
        c.b[a].assign(un, 0.0);
        c.wall[a].assign(bc_absorbing(g, a) ? un : 0, 0.0);
        c.far[a].clear();
        c.far[a].shrink_to_fit();
        const double h = g.spacing(a);
        const Index s = g.stride(a);
        const Index na = g.cells[a];
        const Boundary bc = g.boundary[a];
        for (Index cell = 0; cell < n; ++cell) {
            const auto i = g.unravel(cell);
            const Point xl = g.centre_of(cell);
            const double pl = pb.potential ? pot[static_cast<std::size_t>(cell)] : 0.0;
            const std::size_t uc = static_cast<std::size_t>(cell);
            // Upper face.
            if (i[a] + 1 < na || bc == Boundary::periodic) {
                const Index right = i[a] + 1 < na ? cell + s : cell - (na - 1) * s;
                const Point xr = shifted(xl, a, h);  // unwrapped: a tilted periodic potential keeps its drift
                double pr = 0.0;
                if (pb.potential)
                    pr = i[a] + 1 < na ? pot[static_cast<std::size_t>(right)] : (*pb.potential)(xr, t);
                const Point xf = shifted(xl, a, 0.5 * h);
                const AxisMatrix dm = diffusion_at(xf);
                const double vd = v_dist(a, xl, pl, pr, h);
                auto fc = face_coefficients(pb.scheme, vd, 0.5 * dm(a, a), h);
                CrossTerms cr;
                const auto ir = g.unravel(right);
                Index far_cell = -1;  // a transport face's far cell and weight
                double far_w = 0.0;
                if (!(dm(a, a) > 0.0) && pb.scheme != Scheme::upwind) {
                    // Transport only (face_flux.hpp): the upwind-biased third-order face value, which reads
                    // one more cell upstream (through the wall's ghost rule at the first face).
                    const Neighbour far = vd >= 0.0 ? step(g, i, a, -1) : step(g, ir, a, +1);
                    bool resolved = true;
                    if (guide) {
                        const double gl = guide_at(cell), gr = guide_at(right), gf = guide_at(far.cell);
                        resolved = gl > 0.0 && gr > 0.0 && gf > 0.0 && std::isfinite(gl + gr + gf);
                        if (resolved) {
                            const double ll = std::log(gl), lr = std::log(gr);
                            const double rl = bernoulli(ll - lr), rr = bernoulli(lr - ll);  // G^/G_L, G^/G_R
                            const double rf = rl * gl / gf;                                  // G^/G_far
                            resolved = rf <= guide_ratio_limit && (vd >= 0.0 ? rr : rl) <= guide_ratio_limit;
                            if (!resolved) fc = {std::max(vd, 0.0) / h * rl, std::max(-vd, 0.0) / h * rr};
                        }
                    }
                    if (resolved) {
                        const auto t3 = transport_coefficients(vd / h);
                        fc = {t3.a, t3.b};
                        far_w = t3.far * far.sign / h;
                        far_cell = far.cell;
                    }
                }
                c.a[a][uc] = fc.a / h;
                c.b[a][uc] = fc.b / h;
                if (far_cell == cell) {  // a ghost beyond the wall: the face's own cell
                    c.a[a][uc] += far_w;
                } else if (far_cell == right) {
                    c.b[a][uc] -= far_w;
                } else if (far_cell >= 0) {
                    set_far(c, a, uc, n, far_w);
                    if (a + 1 < d) c.row_reach = 2;
                }
                // Correlated noise: -1/2 D_ab d_b p at this face, along the monotone diagonal.
                for (int b = 0; b < d; ++b) {
                    if (b == a || dm(a, b) == 0.0) continue;
                    const double hb = g.spacing(b);
                    const double limit = std::min(dm(a, a) * hb / h, dm(b, b) * h / hb);
                    c.cross_ratio = std::max(c.cross_ratio, limit > 0 ? std::abs(dm(a, b)) / limit : HUGE_VAL);
                    const double k = -0.5 * dm(a, b) / (2.0 * hb) / h;
                    // (cell with its ghost sign, +-1) pairs of the difference quotient.
                    std::array<std::pair<Neighbour, double>, 4> st;
                    if (dm(a, b) >= 0.0)  // [p(R+e_b) - p(R) + p(L) - p(L-e_b)] / 2h_b
                        st = {{{step(g, ir, b, +1), 1.0}, {{right, 1.0}, -1.0}, {{cell, 1.0}, 1.0}, {step(g, i, b, -1), -1.0}}};
                    else                  // [p(R) - p(R-e_b) + p(L+e_b) - p(L)] / 2h_b
                        st = {{{{right, 1.0}, 1.0}, {step(g, ir, b, -1), -1.0}, {step(g, i, b, +1), 1.0}, {{cell, 1.0}, -1.0}}};
                    for (const auto& [nb, sign] : st) {
                        cr.idx[static_cast<std::size_t>(cr.n)] = nb.cell;
                        cr.w[static_cast<std::size_t>(cr.n)] = k * sign * nb.sign;
                        ++cr.n;
                    }
                }
                // Terms on the face's own two cells join its a, b (F = a p_L - b p_R): the hot loop then reads
                // only the diagonal neighbours from the cross-term rows (4 per cell in 2-D instead of 9).
                int kept = 0;
                for (int q = 0; q < cr.n; ++q) {
                    const auto k = static_cast<std::size_t>(q);
                    if (cr.idx[k] == cell) {
                        c.a[a][uc] += cr.w[k];
                    } else if (cr.idx[k] == right) {
                        c.b[a][uc] -= cr.w[k];
                    } else {
                        cr.idx[static_cast<std::size_t>(kept)] = cr.idx[k];
                        cr.w[static_cast<std::size_t>(kept)] = cr.w[k];
                        ++kept;
                    }
                }
                add_cross(c, cell, right, a, cr.idx.data(), cr.w.data(), kept);
            } else if (bc == Boundary::absorbing) {
                const Point xw = shifted(xl, a, 0.5 * h);
                const double pw = pb.potential ? (*pb.potential)(xw, t) : 0.0;
                const AxisMatrix dm = diffusion_at(xw);
                const auto fc = face_coefficients(pb.scheme, v_dist(a, xl, pl, pw, 0.5 * h), 0.5 * dm(a, a), 0.5 * h);
                c.a[a][uc] = fc.a / h;  // p = 0 beyond the wall: only the outflow term remains
            }
            // Lower wall.
            if (i[a] == 0 && bc == Boundary::absorbing) {
                const Point xw = shifted(xl, a, -0.5 * h);
                const double pw = pb.potential ? (*pb.potential)(xw, t) : 0.0;
                const AxisMatrix dm = diffusion_at(xw);
                const auto fc = face_coefficients(pb.scheme, v_dist(a, xw, pw, pl, 0.5 * h), 0.5 * dm(a, a), 0.5 * h);
                c.wall[a][uc] = fc.b / h;
            }
        }
    }
    gather_cross_rows(c);
}

void FokkerPlanckOperator::gather_cross_rows(Coefficients& c) const {
    const Index n = grid().size();
    if (!c.cross.empty() && n > std::numeric_limits<int>::max())
        throw InputError(
            "correlated noise on a grid of more than 2^31 cells is not supported: use fewer cells");
    if (c.cross.empty()) {  // no correlated noise: not even the outer index (4 B per cell)
        c.cross_rows = Eigen::SparseMatrix<double, Eigen::RowMajor, int>();
        return;
    }
    std::vector<Eigen::Triplet<double, int>> triplets;
    triplets.reserve(2 * c.cross_idx.size());
    for (const Cross& cr : c.cross)
        for (std::size_t k = cr.begin; k < cr.begin + static_cast<std::size_t>(cr.n); ++k) {
            const int col = static_cast<int>(c.cross_idx[k]);
            triplets.emplace_back(static_cast<int>(cr.lower), col, -c.cross_w[k]);
            triplets.emplace_back(static_cast<int>(cr.upper), col, c.cross_w[k]);
        }
    c.cross_rows.resize(static_cast<int>(n), static_cast<int>(n));
    c.cross_rows.setFromTriplets(triplets.begin(), triplets.end());
    c.cross_rows.makeCompressed();
}

// One face-coefficient set of a strided axis for one row: lower face (al, bl, neighbour pl) and upper face
// (ah, bh, neighbour ph), all indexed by the position j along the row.
struct detail::StridedRow {
    const double *al, *bl, *pl, *ah, *bh, *ph;
};

namespace {

using detail::StridedRow;

// The interior of one row: j = 1 .. n-2, no branches. The pointers are copied into restrict-qualified
// locals so that the compiler vectorises (a plain loop over an array of pointers does not: it measured
// ~3x slower at 1024^2).
template <int Strided>
void row_interior(Index n, const StridedRow* s, const double* __restrict a, const double* __restrict b,
                  const double* __restrict pc, double* __restrict out) {
    if constexpr (Strided == 0) {
        for (Index j = 1; j + 1 < n; ++j)
            out[j] = a[j - 1] * pc[j - 1] - (b[j - 1] + a[j]) * pc[j] + b[j] * pc[j + 1];
    } else if constexpr (Strided == 1) {
        const double *__restrict al = s[0].al, *__restrict bl = s[0].bl, *__restrict pl = s[0].pl;
        const double *__restrict ah = s[0].ah, *__restrict bh = s[0].bh, *__restrict ph = s[0].ph;
        for (Index j = 1; j + 1 < n; ++j)
            out[j] = al[j] * pl[j] + bh[j] * ph[j] + a[j - 1] * pc[j - 1] + b[j] * pc[j + 1] -
                     (bl[j] + ah[j] + b[j - 1] + a[j]) * pc[j];
    } else if constexpr (Strided == 2) {
        const double *__restrict al = s[0].al, *__restrict bl = s[0].bl, *__restrict pl = s[0].pl;
        const double *__restrict ah = s[0].ah, *__restrict bh = s[0].bh, *__restrict ph = s[0].ph;
        const double *__restrict al1 = s[1].al, *__restrict bl1 = s[1].bl, *__restrict pl1 = s[1].pl;
        const double *__restrict ah1 = s[1].ah, *__restrict bh1 = s[1].bh, *__restrict ph1 = s[1].ph;
        for (Index j = 1; j + 1 < n; ++j)
            out[j] = al[j] * pl[j] + bh[j] * ph[j] + al1[j] * pl1[j] + bh1[j] * ph1[j] + a[j - 1] * pc[j - 1] +
                     b[j] * pc[j + 1] - (bl[j] + ah[j] + bl1[j] + ah1[j] + b[j - 1] + a[j]) * pc[j];
    } else {
        static_assert(Strided == 3, "a 4-D grid has three strided axes");
        const double *__restrict al = s[0].al, *__restrict bl = s[0].bl, *__restrict pl = s[0].pl;
        const double *__restrict ah = s[0].ah, *__restrict bh = s[0].bh, *__restrict ph = s[0].ph;
        const double *__restrict al1 = s[1].al, *__restrict bl1 = s[1].bl, *__restrict pl1 = s[1].pl;
        const double *__restrict ah1 = s[1].ah, *__restrict bh1 = s[1].bh, *__restrict ph1 = s[1].ph;
        const double *__restrict al2 = s[2].al, *__restrict bl2 = s[2].bl, *__restrict pl2 = s[2].pl;
        const double *__restrict ah2 = s[2].ah, *__restrict bh2 = s[2].bh, *__restrict ph2 = s[2].ph;
        for (Index j = 1; j + 1 < n; ++j)
            out[j] = al[j] * pl[j] + bh[j] * ph[j] + al1[j] * pl1[j] + bh1[j] * ph1[j] + al2[j] * pl2[j] +
                     bh2[j] * ph2[j] + a[j - 1] * pc[j - 1] + b[j] * pc[j + 1] -
                     (bl[j] + ah[j] + bl1[j] + ah1[j] + bl2[j] + ah2[j] + b[j - 1] + a[j]) * pc[j];
    }
}

}  // namespace

// Rows r .. r + k - 1 in gather form: every cell sums its own face fluxes. The strided axes (all but the last)
// get row pointers chosen once, with the walls mapped to a zero row, so the inner loop over the contiguous axis
// has no branches. k > 1 consecutive rows (see run_length: their neighbours are the same rows shifted by a row)
// are swept as one line, so that the short rows of a 3-D or 4-D grid cost no more per cell than long ones; the
// two cells of each row where that line runs from one row into the next are then recomputed by `edge`.
template <int Strided>
void FokkerPlanckOperator::rows_of(const Coefficients& c, Index r, Index k, const double* p, double* out) const {
    const Grid& g = grid();
    const int last = g.dims - 1;
    const Index n = g.cells[last];
    const bool periodic = g.boundary[last] == Boundary::periodic;
    const double* zeros = zeros_.data();
    detail::StridedRow sr[2 > Strided ? 2 : Strided]{};
    auto point_rows = [&](Index c0, const std::array<Index, kMaxAxes>& idx) {
        for (int a = 0; a < Strided; ++a) {
            const Index s = g.stride(a), na = g.cells[a];
            const double* A = c.a[a].data();
            const double* B = c.b[a].data();
            StridedRow& row = sr[a];
            row.ah = A + c0;
            row.bh = B + c0;
            if (idx[a] + 1 < na)
                row.ph = p + c0 + s;
            else if (g.boundary[a] == Boundary::periodic)
                row.ph = p + c0 - (na - 1) * s;
            else
                row.ph = zeros;  // b = 0 on the wall
            if (idx[a] > 0) {
                row.al = A + c0 - s, row.bl = B + c0 - s, row.pl = p + c0 - s;
            } else if (g.boundary[a] == Boundary::periodic) {
                const Index off = c0 + (na - 1) * s;
                row.al = A + off, row.bl = B + off, row.pl = p + off;
            } else {
                row.al = zeros, row.bl = c.wall[a].empty() ? zeros : c.wall[a].data() + c0, row.pl = zeros;
            }
        }
    };
    const Index first = r * n;
    point_rows(first, g.unravel(first));
    row_interior<Strided>(k * n, sr, c.a[last].data() + first, c.b[last].data() + first, p + first, out);
    for (Index m = 0; m < k; ++m) {
        const Index c0 = first + m * n;
        const auto idx = g.unravel(c0);
        if (m > 0) point_rows(c0, idx);
        finish_row<Strided>(c, c0, idx, sr, p, out + m * n, periodic);
    }
}

// The parts of one row that row_interior leaves: its two edge cells (walls, periodic wrap and the absorbing
// outflow of the last axis), then what correlated noise (cross rows) and the transport faces' far cells add.
template <int Strided>
void FokkerPlanckOperator::finish_row(const Coefficients& c, Index c0, const std::array<Index, kMaxAxes>& idx,
                                      const StridedRow* sr, const double* p, double* out, bool periodic) const {
    const Grid& g = grid();
    const int last = g.dims - 1;
    const Index n = g.cells[last];
    const double* zeros = zeros_.data();
    const double* A = c.a[last].data() + c0;
    const double* B = c.b[last].data() + c0;
    const double* pc = p + c0;
    auto strided = [&](Index j) {
        double f = 0.0;
        for (int a = 0; a < Strided; ++a)
            f += sr[a].al[j] * sr[a].pl[j] - (sr[a].bl[j] + sr[a].ah[j]) * pc[j] + sr[a].bh[j] * sr[a].ph[j];
        return f;
    };
    auto edge = [&](Index j) {
        double lo, hi;
        if (j > 0)
            lo = A[j - 1] * pc[j - 1] - B[j - 1] * pc[j];
        else if (periodic)
            lo = A[n - 1] * pc[n - 1] - B[n - 1] * pc[0];
        else
            lo = -(c.wall[last].empty() ? 0.0 : c.wall[last][static_cast<std::size_t>(c0)]) * pc[0];
        if (j + 1 < n)
            hi = A[j] * pc[j] - B[j] * pc[j + 1];
        else if (periodic)
            hi = A[j] * pc[j] - B[j] * pc[0];
        else
            hi = A[j] * pc[j];
        out[j] = strided(j) + lo - hi;
    };
    edge(0);
    if (n > 1) edge(n - 1);
    if (c.cross_rows.nonZeros() > 0) {
        const int* start = c.cross_rows.outerIndexPtr();
        const int* col = c.cross_rows.innerIndexPtr();
        const double* value = c.cross_rows.valuePtr();
        for (Index j = 0; j < n; ++j) {
            double f = 0.0;
            for (int k = start[c0 + j]; k < start[c0 + j + 1]; ++k) f += value[k] * p[col[k]];
            out[j] += f;
        }
    }
    // Transport faces' far cells (Coefficients::far): the upper face of cell c adds -w_c p_far(c), the lower one
    // w_{c-e_a} p_far(c-e_a). A far cell beyond a wall was folded into a and b (w = 0 there).
    for (int a = 0; a < g.dims; ++a) {
        if (c.far[a].empty()) continue;
        const bool per = g.boundary[a] == Boundary::periodic;
        const double* W = c.far[a].data();
        if (a < last) {
            const Index s = g.stride(a), na = g.cells[a], ia = idx[a];
            auto row_at = [&](Index k) -> Index {  // first cell of the row k steps along a, or -1 beyond a wall
                Index j = ia + k;
                if (j < 0 || j >= na) {
                    if (!per) return -1;
                    j = (j % na + na) % na;
                }
                return c0 + (j - ia) * s;
            };
            const Index below = row_at(-1), below2 = row_at(-2), above = row_at(1), above2 = row_at(2);
            const double* wc = W + c0;
            const double* wl = below >= 0 ? W + below : zeros;
            const double* pm = below >= 0 ? p + below : zeros;
            const double* pm2 = below2 >= 0 ? p + below2 : zeros;
            const double* pp = above >= 0 ? p + above : zeros;
            const double* pp2 = above2 >= 0 ? p + above2 : zeros;
            for (Index j = 0; j < n; ++j) {
                const double wu = wc[j], wd = wl[j];
                out[j] += wd * (wd < 0.0 ? pm2[j] : pp[j]) - wu * (wu < 0.0 ? pm[j] : pp2[j]);
            }
        } else {
            const double* wc = W + c0;
            auto at = [&](Index j) {  // p along the row, wrapped on a periodic axis
                if (j < 0 || j >= n) {
                    if (!per) return 0.0;
                    j = (j % n + n) % n;
                }
                return pc[j];
            };
            for (Index j = 0; j < n; ++j) {
                double f = 0.0;
                const double wu = wc[j];
                if (wu != 0.0) f -= wu * at(wu < 0.0 ? j - 1 : j + 2);
                const Index jl = j > 0 ? j - 1 : (per ? n - 1 : -1);
                if (jl >= 0 && wc[jl] != 0.0) f += wc[jl] * at(wc[jl] < 0.0 ? jl - 1 : jl + 2);
                out[j] += f;
            }
        }
    }
}

// How many rows from r (up to `end`) rows_of may sweep as one line: rows whose neighbours along every strided
// axis are the same rows shifted, i.e. the rows of one plane (fixed indices on the axes before the last two)
// that are away from the walls of the second-last axis, in a plane that is not on a wall of an earlier axis
// (wall rows point at the zero row, which cannot be shifted). Other rows go one at a time.
Index FokkerPlanckOperator::run_length(Index r, Index end) const {
    const Grid& g = grid();
    if (g.dims < 2) return 1;
    const int second_last = g.dims - 2;
    const Index na = g.cells[second_last];
    const Index i = r % na;
    if (i == 0 || i + 1 >= na) return 1;
    const auto idx = g.unravel(r * row_length());
    for (int a = 0; a < second_last; ++a)
        if (g.boundary[a] != Boundary::periodic && (idx[a] == 0 || idx[a] + 1 == g.cells[a])) return 1;
    return std::min(na - 1 - i, end - r);
}

// Rows are independent, and each writes only its own dp once.
template <int Strided>
void FokkerPlanckOperator::apply_diagonal(const Coefficients& c, const double* p, double* dp, const RowSink* sink) const {
    const Index n = row_length();
    const Index rows = this->rows();
    // Rows are independent and each writes only its own dp: each thread takes one contiguous share of them (as
    // schedule(static) would), and the result does not depend on the thread count (no reductions). Small grids
    // stay on one thread.
#ifdef _OPENMP
#pragma omp parallel if (rows * n >= 65536)
#endif
    {
    const SubnormalsAreZero ftz;  // per thread: the far tails of a density are subnormal (subnormals.hpp)
    Index begin = 0, end = rows;
#ifdef _OPENMP
    const Index threads = omp_get_num_threads(), thread = omp_get_thread_num();
    begin = rows * thread / threads;
    end = rows * (thread + 1) / threads;
#endif
    if (sink) {  // one row at a time through a per-thread buffer
        std::vector<double> row_buffer(static_cast<std::size_t>(n));
        for (Index r = begin; r < end; ++r) {
            rows_of<Strided>(c, r, 1, p, row_buffer.data());
            sink->finish(sink->context, r * n, n, row_buffer.data());
        }
    } else {
        for (Index r = begin; r < end;) {
            const Index k = run_length(r, end);
            rows_of<Strided>(c, r, k, p, dp + r * n);
            r += k;
        }
    }
    }
}

void FokkerPlanckOperator::operator()(const State& p, State& dpdt, double t) const {
    const Coefficients& c = ensure(t);
    dpdt.resize(p.size());
    switch (grid().dims) {
        case 1: apply_diagonal<0>(c, p.data(), dpdt.data()); break;
        case 2: apply_diagonal<1>(c, p.data(), dpdt.data()); break;
        case 3: apply_diagonal<2>(c, p.data(), dpdt.data()); break;
        default: apply_diagonal<3>(c, p.data(), dpdt.data()); break;
    }
}

Index FokkerPlanckOperator::row_length() const { return grid().cells[grid().dims - 1]; }
Index FokkerPlanckOperator::rows() const { return grid().size() / row_length(); }

void FokkerPlanckOperator::apply_row(Index row, const double* p, double t, double* out) const {
    const Coefficients& c = ensure(t);
    switch (grid().dims) {
        case 1: rows_of<0>(c, row, 1, p, out); break;
        case 2: rows_of<1>(c, row, 1, p, out); break;
        case 3: rows_of<2>(c, row, 1, p, out); break;
        default: rows_of<3>(c, row, 1, p, out); break;
    }
}

void FokkerPlanckOperator::apply_rows(const State& p, double t, RowSink sink) const {
    const Coefficients& c = ensure(t);
    switch (grid().dims) {
        case 1: apply_diagonal<0>(c, p.data(), nullptr, &sink); break;
        case 2: apply_diagonal<1>(c, p.data(), nullptr, &sink); break;
        case 3: apply_diagonal<2>(c, p.data(), nullptr, &sink); break;
        default: apply_diagonal<3>(c, p.data(), nullptr, &sink); break;
    }
}

template <class Visitor>
void FokkerPlanckOperator::for_each_face(const Coefficients& c, Visitor&& visit) const {
    const Grid& g = grid();
    const Index n = g.size();
    for (int a = 0; a < g.dims; ++a) {
        const Index s = g.stride(a), na = g.cells[a];
        for (Index cell = 0; cell < n; ++cell) {
            const Index ia = (cell / s) % na;
            const std::size_t uc = static_cast<std::size_t>(cell);
            if (ia + 1 < na || g.boundary[a] == Boundary::periodic) {
                const Index right = ia + 1 < na ? cell + s : cell - (na - 1) * s;
                const std::array<Index, 2> idx{cell, right};
                const std::array<double, 2> w{c.a[a][uc], -c.b[a][uc]};
                visit(cell, right, a, idx.data(), w.data(), 2);
            } else if (g.boundary[a] == Boundary::absorbing) {
                visit(cell, Index{-1}, a, &cell, &c.a[a][uc], 1);
            }
            if (ia == 0 && g.boundary[a] == Boundary::absorbing) {
                const double w = -c.wall[a][uc];
                visit(Index{-1}, cell, a, &cell, &w, 1);
            }
        }
    }
    for (const Cross& cr : c.cross) {
        visit(cr.lower, cr.upper, cr.axis, c.cross_idx.data() + cr.begin, c.cross_w.data() + cr.begin, cr.n);
    }
    for (int a = 0; a < g.dims; ++a) {
        if (c.far[a].empty()) continue;
        const Index s = g.stride(a), na = g.cells[a];
        for (Index cell = 0; cell < n; ++cell) {
            const double w = c.far[a][static_cast<std::size_t>(cell)];
            if (w == 0.0) continue;
            const Index ia = (cell / s) % na;
            const Index right = ia + 1 < na ? cell + s : cell - (na - 1) * s;
            const Index k = w < 0.0 ? ia - 1 : ia + 2;  // the far cell along a, wrapped (never beyond a wall)
            const Index far = cell + ((k % na + na) % na - ia) * s;
            visit(cell, right, a, &far, &w, 1);
        }
    }
}

// Assembled in place, column by column, into space reserved from a first pass that counts each column's terms
// (duplicates included): a little more than the matrix itself, where triplets and setFromTriplets' transposed
// copy held three times as much (measured 800 B per cell in 4-D). Duplicates are summed in the order of the
// terms, as setFromTriplets sums them, so the matrix has the same bits.
Eigen::SparseMatrix<double> FokkerPlanckOperator::matrix(double t) const {
    const Coefficients& c = ensure(t);
    const Index n = grid().size();
    Eigen::VectorXi terms = Eigen::VectorXi::Zero(n);
    for_each_face(c, [&](Index lower, Index upper, int, const Index* idx, const double*, int m) {
        for (int q = 0; q < m; ++q) terms[idx[q]] += (lower >= 0) + (upper >= 0);
    });
    Eigen::SparseMatrix<double> a(n, n);
    a.reserve(terms);
    terms.resize(0);
    for_each_face(c, [&](Index lower, Index upper, int, const Index* idx, const double* w, int m) {
        for (int q = 0; q < m; ++q) {
            if (lower >= 0) a.coeffRef(lower, idx[q]) += -w[q];
            if (upper >= 0) a.coeffRef(upper, idx[q]) += w[q];
        }
    });
    a.makeCompressed();
    return a;
}

Eigen::MatrixXd FokkerPlanckOperator::cell_current(const State& p, double t) const {
    const Coefficients& c = ensure(t);
    Eigen::MatrixXd j = Eigen::MatrixXd::Zero(grid().size(), grid().dims);
    for_each_face(c, [&](Index lower, Index upper, int a, const Index* idx, const double* w, int m) {
        double f = 0.0;
        for (int q = 0; q < m; ++q) f += w[q] * p[idx[q]];
        f *= 0.5 * grid().spacing(a);  // stored fluxes carry the 1/h_a of the divergence
        if (lower >= 0) j(lower, a) += f;
        if (upper >= 0) j(upper, a) += f;
    });
    return j;
}

double FokkerPlanckOperator::outflux(const State& p, double t) const {
    bool absorbing = false;
    for (int a = 0; a < grid().dims; ++a) absorbing = absorbing || grid().boundary[a] == Boundary::absorbing;
    if (!absorbing) return 0.0;
    const Coefficients& c = ensure(t);
    double out = 0.0;
    for_each_face(c, [&](Index lower, Index upper, int, const Index* idx, const double* w, int m) {
        if (lower >= 0 && upper >= 0) return;
        double f = 0.0;
        for (int q = 0; q < m; ++q) f += w[q] * p[idx[q]];
        out += lower >= 0 ? f : -f;
    });
    return out * grid().cell_volume();
}

template <class Visit>
void FokkerPlanckOperator::for_each_column_slab(const Coefficients& c, Visit&& visit) const {
    const Index n = grid().size();
    Eigen::VectorXi terms = Eigen::VectorXi::Zero(n);
    for_each_face(c, [&](Index lower, Index upper, int, const Index* idx, const double*, int m) {
        for (int q = 0; q < m; ++q) terms[idx[q]] += (lower >= 0) + (upper >= 0);
    });
    const Index slab = std::max<Index>(n / 8, Index{1} << 16);
    for (Index first = 0; first < n; first += slab) {
        const Index last = std::min(n, first + slab);
        // Columns first .. last - 1, assembled as matrix() does (same entries, same order of the sums).
        Eigen::SparseMatrix<double> a(n, last - first);
        a.reserve(terms.segment(first, last - first));
        for_each_face(c, [&](Index lower, Index upper, int, const Index* idx, const double* w, int m) {
            for (int q = 0; q < m; ++q) {
                if (idx[q] < first || idx[q] >= last) continue;
                if (lower >= 0) a.coeffRef(lower, idx[q] - first) += -w[q];
                if (upper >= 0) a.coeffRef(upper, idx[q] - first) += w[q];
            }
        });
        if (!visit(first, a)) return;
    }
}

double FokkerPlanckOperator::spectral_radius_bound(double t) const {
    ensure(t);
    if (!(coef_.spectral_radius >= 0.0)) coef_.spectral_radius = column_abs_sums(t).maxCoeff();
    return coef_.spectral_radius;
}

Eigen::VectorXd FokkerPlanckOperator::column_abs_sums(double t) const {
    Eigen::VectorXd sums(grid().size());
    for_each_column_slab(ensure(t), [&](Index first, const Eigen::SparseMatrix<double>& a) {
        for (Index k = 0; k < a.outerSize(); ++k) {
            double col = 0.0;
            for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it) col += std::abs(it.value());
            sums[first + k] = col;
        }
        return true;
    });
    return sums;
}

bool FokkerPlanckOperator::monotone(double t, const std::function<bool(Index)>& counts) const {
    bool ok = true;
    for_each_column_slab(ensure(t), [&](Index first, const Eigen::SparseMatrix<double>& a) {
        for (Index k = 0; k < a.outerSize() && ok; ++k)
            for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
                if (it.row() != first + k && it.value() < 0.0 && (!counts || counts(it.row()))) {
                    ok = false;
                    break;
                }
        return ok;
    });
    return ok;
}

// Detailed balance without the matrix, for the common case: two-point faces only (no cross or far terms), every
// face coupled both ways (a, b > 0) and periodic axes of at least 3 cells, so that each pair of cells is coupled by
// exactly one face and A_ij is that face's a or b. Then the grid is connected, and the weights can be set in
// row-major order from the lower neighbour along the first axis where there is one (a spanning tree, as in
// detailed_balance()), and every face is checked against them as detailed_balance() checks every coupling, with
// its tolerance. Holds 8 B per cell where the matrix path holds A, its transpose and three vectors (~150 B).
// Returns false whenever it cannot decide or finds a violation: the matrix path then decides and says why.
bool FokkerPlanckOperator::face_detailed_balance(const Coefficients& c) const {
    constexpr double tolerance = 1e-9;  // detailed_balance()'s default
    const Grid& g = grid();
    const Index n = g.size();
    if (!c.cross.empty()) return false;
    for (int a = 0; a < g.dims; ++a)
        if (!c.far[a].empty() || (g.boundary[a] == Boundary::periodic && g.cells[a] < 3)) return false;
    auto has_face = [&](int a, Index ia) { return ia + 1 < g.cells[a] || g.boundary[a] == Boundary::periodic; };
    for (int a = 0; a < g.dims; ++a) {
        const Index s = g.stride(a), na = g.cells[a];
        for (Index cell = 0; cell < n; ++cell)
            if (has_face(a, (cell / s) % na) &&
                !(c.a[a][static_cast<std::size_t>(cell)] > 0.0 && c.b[a][static_cast<std::size_t>(cell)] > 0.0))
                return false;
    }
    std::vector<double> lw(static_cast<std::size_t>(n), 0.0);
    for (Index cell = 1; cell < n; ++cell) {
        int a = 0;
        while ((cell / g.stride(a)) % g.cells[a] == 0) ++a;  // cell > 0: some index is positive
        const auto lower = static_cast<std::size_t>(cell - g.stride(a));
        lw[static_cast<std::size_t>(cell)] = lw[lower] + std::log(c.a[a][lower]) - std::log(c.b[a][lower]);
    }
    for (int a = 0; a < g.dims; ++a) {
        const Index s = g.stride(a), na = g.cells[a];
        for (Index cell = 0; cell < n; ++cell) {
            const Index ia = (cell / s) % na;
            if (!has_face(a, ia)) continue;
            const Index right = ia + 1 < na ? cell + s : cell - (na - 1) * s;
            const auto k = static_cast<std::size_t>(cell);
            const double mismatch = (std::log(c.a[a][k]) + lw[k]) - (std::log(c.b[a][k]) + lw[static_cast<std::size_t>(right)]);
            if (!(std::abs(mismatch) <= tolerance)) return false;
        }
    }
    return true;
}

bool FokkerPlanckOperator::in_detailed_balance(double t, std::string* why) const {
    ensure(t);
    if (coef_.balance < 0) {
        if (face_detailed_balance(coef_)) {
            coef_.balance = 1;
            coef_.balance_why.clear();
        } else {
            // The verdict and its reason: A and its transpose are freed here, before any stepper allocates.
            DetailedBalance b = detailed_balance(matrix(t));
            coef_.balance = b.holds ? 1 : 0;
            coef_.balance_why = std::move(b.why);
        }
    }
    if (why) *why = coef_.balance_why;
    return coef_.balance == 1;
}

}  // namespace fpsolve
