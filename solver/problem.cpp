#include "problem.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>

namespace fpsolve {

std::string_view to_string(Convention c) {
    switch (c) {
        case Convention::ito: return "ito";
        case Convention::stratonovich: return "stratonovich";
        case Convention::isothermal: return "isothermal";
    }
    return "?";
}
std::string_view to_string(Scheme s) {
    switch (s) {
        case Scheme::exponential: return "exponential";
        case Scheme::upwind: return "upwind";
        case Scheme::central: return "central";
    }
    return "?";
}
double alpha_of(Convention c) {
    switch (c) {
        case Convention::ito: return 0.0;
        case Convention::stratonovich: return 0.5;
        case Convention::isothermal: return 1.0;
    }
    return 0.0;
}

double Problem::eta_bar() const {
    double s = 0.0;
    for (double e : learning_rate) s += e;
    return s / static_cast<double>(learning_rate.size());
}

AxisMatrix Problem::diffusion(const Point& x, double t) const {
    AxisMatrix d = AxisMatrix::Zero();
    const double eb = eta_bar();
    for (int a = 0; a < grid.dims; ++a)
        for (int b = 0; b < grid.dims; ++b)
            d(a, b) = eb * drift_scale(a) * drift_scale(b) *
                      noise[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)](x, t);
    return d;
}

namespace {
// Step for central differences of an expression: cube root of epsilon, scaled to the grid.
double fd_step(const Grid& block, int a) {
    const Grid& g = block.frame();  // a block of a decomposed grid differences as the whole grid does
    return 6e-6 * std::max(1.0, std::abs(g.upper[a]) + std::abs(g.lower[a]));
}

AxisMatrix symmetric_sqrt(const AxisMatrix& d, int dims) {
    AxisMatrix b = AxisMatrix::Zero();
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(d.topLeftCorner(dims, dims));
    const Eigen::VectorXd lam = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    b.topLeftCorner(dims, dims) = es.eigenvectors() * lam.asDiagonal() * es.eigenvectors().transpose();
    return b;
}
}  // namespace

AxisVector Problem::drift_at(const Point& x, double t) const {
    AxisVector mu = AxisVector::Zero();
    for (int a = 0; a < grid.dims; ++a) {
        if (potential) {
            const double h = fd_step(grid, a);
            Point xp = x, xm = x;
            xp[a] += h;
            xm[a] -= h;
            mu[a] = -drift_scale(a) * ((*potential)(xp, t) - (*potential)(xm, t)) / (2.0 * h);
        } else {
            mu[a] = drift_scale(a) * drift[static_cast<std::size_t>(a)](x, t);
        }
    }
    return mu;
}

AxisVector Problem::noise_induced_drift(const Point& x, double t) const {
    AxisVector v = AxisVector::Zero();
    if (!noise_depends_on_space()) return v;
    const int d = grid.dims;
    const double alpha = alpha_of(convention);
    if (convention == Convention::stratonovich && !noise_is_diagonal()) {
        // mu_ito = mu + 1/2 sum_jk B_jk dB_ik/dx_j with B = D^{1/2}; then the Ito flux: - 1/2 div D.
        const AxisMatrix b = symmetric_sqrt(diffusion(x, t), d);
        for (int j = 0; j < d; ++j) {
            const double h = fd_step(grid, j);
            Point xp = x, xm = x;
            xp[j] += h;
            xm[j] -= h;
            const AxisMatrix db = (symmetric_sqrt(diffusion(xp, t), d) - symmetric_sqrt(diffusion(xm, t), d)) / (2 * h);
            const AxisMatrix dd = (diffusion(xp, t) - diffusion(xm, t)) / (2 * h);
            for (int i = 0; i < d; ++i) {
                for (int k = 0; k < d; ++k) v[i] += 0.5 * b(j, k) * db(i, k);
                v[i] -= 0.5 * dd(i, j);
            }
        }
        return v;
    }
    if (alpha == 1.0) return v;
    for (int j = 0; j < d; ++j) {
        const double h = fd_step(grid, j);
        Point xp = x, xm = x;
        xp[j] += h;
        xm[j] -= h;
        const AxisMatrix dd = (diffusion(xp, t) - diffusion(xm, t)) / (2 * h);
        for (int i = 0; i < d; ++i) v[i] -= 0.5 * (1.0 - alpha) * dd(i, j);
    }
    return v;
}

bool Problem::time_dependent() const {
    if (potential && potential->depends_on_time()) return true;
    for (const auto& f : drift)
        if (f.depends_on_time()) return true;
    for (const auto& row : noise)
        for (const auto& s : row)
            if (s.depends_on_time()) return true;
    return false;
}

bool Problem::noise_depends_on_space() const {
    for (const auto& row : noise)
        for (const auto& s : row)
            if (s.depends_on_space()) return true;
    return false;
}

bool Problem::noise_is_diagonal() const {
    for (std::size_t a = 0; a < noise.size(); ++a)
        for (std::size_t b = 0; b < noise.size(); ++b)
            if (a != b && !(noise[a][b].is_constant() && noise[a][b](Point{}, 0.0) == 0.0)) return false;
    return true;
}

void check_noise(const Problem& p, const std::string& where) {
    const Grid& g = p.grid;
    const int d = g.dims;
    // Sample the centres of a coarse lattice over the domain (and t = 0): every cell for small grids.
    // Up to 64 points per axis in 1-3-D (2^18 in 3-D); 16 in 4-D (2^16: 64^4 would take minutes).
    const Index per_axis = d < kMaxAxes ? 64 : 16;
    Grid lattice;  // the sample points as the cells of a coarse grid over the same box
    lattice.dims = d;
    for (int a = 0; a < d; ++a) {
        lattice.lower[a] = g.lower[a];
        lattice.upper[a] = g.upper[a];
        lattice.cells[a] = std::min<Index>(g.cells[a], p.noise_depends_on_space() ? per_axis : 1);
    }
    for (Index c = 0; c < lattice.size(); ++c) {
        const Point x = lattice.centre_of(c);
        Eigen::MatrixXd s(d, d);
        for (int a = 0; a < d; ++a)
            for (int b = 0; b < d; ++b)
                s(a, b) = p.noise[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)](x, 0.0);
        if (!s.allFinite())
            throw InputError(where + ": the noise is not finite at (" + std::to_string(x[0]) + ", ...)");
        const double scale = std::max(1e-300, s.cwiseAbs().maxCoeff());
        if ((s - s.transpose()).cwiseAbs().maxCoeff() > 1e-12 * scale)
            throw InputError(where + ": the noise matrix is not symmetric");
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(s);
        if (es.eigenvalues().minCoeff() < -1e-12 * scale)
            throw InputError(where + ": the noise matrix is not positive semidefinite (eigenvalue " +
                             std::to_string(es.eigenvalues().minCoeff()) + ")");
    }
}

bool has_transport_axis(const Problem& pb) {
    if (pb.scheme == Scheme::upwind) return false;
    if (pb.kinetic) return true;
    for (int a = 0; a < pb.grid.dims; ++a) {
        const Expression& e = pb.noise[static_cast<std::size_t>(a)][static_cast<std::size_t>(a)];
        if (e.is_constant() && e(Point{}, 0.0) == 0.0) return true;
    }
    return false;
}

}  // namespace fpsolve
