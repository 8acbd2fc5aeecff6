#include "appendix_flux.hpp"

#include <Eigen/Eigenvalues>
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <limits>
#include <numbers>

#include "counter_rng.hpp"
#include "face_flux.hpp"

namespace fpsolve {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
template <class F>
QuadratureValue gk(F f, double a, double b, double tol = 1e-13, unsigned depth = 18) {
    QuadratureValue q;
    q.value = boost::math::quadrature::gauss_kronrod<double, 31>::integrate(f, a, b, depth, tol, &q.error);
    return q;
}

double normal_pdf(double u) { return std::exp(-0.5 * u * u) / std::sqrt(2.0 * std::numbers::pi); }

Point along(const Point& x, const Vector3& u, double t) { return {x[0] + t * u[0], x[1] + t * u[1], x[2] + t * u[2]}; }

// d/du f at x: central difference with one Richardson step, error O(h^4).
double derivative(const DensityFn& f, const Point& x, const Vector3& u, double h) {
    auto g = [&](double k) { return (f(along(x, u, k)) - f(along(x, u, -k))) / (2.0 * k); };
    return (4.0 * g(0.5 * h) - g(h)) / 3.0;
}
DensityFn derivative_fn(DensityFn f, Vector3 u, double h) {
    return [f = std::move(f), u, h](const Point& y) { return derivative(f, y, u, h); };
}

// The first d components (a loop: Eigen's head(d) of a fixed-size vector trips GCC's -Warray-bounds).
Eigen::VectorXd first(const Vector3& v, int d) {
    Eigen::VectorXd r(d);
    for (int a = 0; a < d; ++a) r[a] = v[a];
    return r;
}

Vector3 axis_vector(int a) {
    Vector3 e = Vector3::Zero();
    e[a] = 1.0;
    return e;
}

Eigen::MatrixXd symmetric_sqrt(const Matrix3& d, int dims) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(d.topLeftCorner(dims, dims));
    const Eigen::VectorXd lam = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    return es.eigenvectors() * lam.asDiagonal() * es.eigenvectors().transpose();
}

// Gauss–Hermite rule for the standard normal weight (Golub–Welsch): sum w_i f(x_i) ≈ E f(eps).
struct Rule {
    std::vector<double> x, w;
};
Rule gauss_hermite(int n) {
    Eigen::MatrixXd j = Eigen::MatrixXd::Zero(n, n);
    for (int i = 1; i < n; ++i) j(i, i - 1) = j(i - 1, i) = std::sqrt(static_cast<double>(i));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(j);
    Rule r;
    for (int i = 0; i < n; ++i) {
        r.x.push_back(es.eigenvalues()[i]);
        r.w.push_back(es.eigenvectors()(0, i) * es.eigenvectors()(0, i));
    }
    return r;
}

void check_setup(const FluxSetup& s) {
    if (!s.density) throw InputError("flux: no density");
    if (s.dims < 1 || s.dims > 3) throw InputError("flux: 1 to 3 dimensions");
    if (!(s.fd_step > 0.0) || !std::isfinite(s.fd_step)) throw InputError("flux: the finite-difference step must be > 0");
    const double dn = first(s.normal, s.dims).dot(s.diffusion.topLeftCorner(s.dims, s.dims) * first(s.normal, s.dims));
    if (!(dn > 0.0)) throw InputError("flux: the noise has no component along the normal (n^T D n = 0)");
}

// Drift at y (zero without one), only the first dims components.
Vector3 drift_at(const FluxSetup& s, const Point& y) {
    if (!s.drift) return Vector3::Zero();
    Vector3 m = s.drift(y);
    for (int a = s.dims; a < 3; ++a) m[a] = 0.0;
    return m;
}

}  // namespace

double normal_cdf(double u) { return 0.5 * std::erfc(-u / std::numbers::sqrt2); }

QuadratureValue alpha_by_quadrature() {
    QuadratureValue q = gk([](double u) { return u * normal_cdf(-u); }, 0.0, inf);
    q.value *= 2.0;
    q.error *= 2.0;
    return q;
}

QuadratureValue half_line_moment(int k) {
    return gk([k](double u) { return std::pow(u, k) * normal_cdf(-u); }, 0.0, inf);
}

double half_line_moment_exact(int k) {
    // ∫_0^∞ u^k Phi(-u) du = [u^(k+1)/(k+1) Phi(-u)]_0^∞ + ∫_0^∞ u^(k+1)/(k+1) phi(u) du = E|eps|^(k+1) / (2 (k+1)),
    // E|eps|^n = 2^(n/2) Gamma((n+1)/2) / sqrt(pi).
    const double n = k + 1.0;
    const double abs_moment = std::pow(2.0, 0.5 * n) * std::tgamma(0.5 * (n + 1.0)) / std::sqrt(std::numbers::pi);
    return abs_moment / (2.0 * n);
}

DensityDerivatives density_derivatives(const FluxSetup& s) {
    check_setup(s);
    const int d = s.dims;
    const double h = s.fd_step;
    DensityDerivatives r;
    r.p = s.density(s.x);
    for (int a = 0; a < d; ++a) r.grad[a] = derivative(s.density, s.x, axis_vector(a), h);
    const Vector3 dn = s.diffusion * s.normal;  // D n: the direction of n^T D grad
    r.normal_gradient = dn.dot(r.grad);
    // grad^T D grad = sum_k lambda_k (e_k . grad)^2 over the eigenpairs of D.
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(s.diffusion.topLeftCorner(d, d));
    const DensityFn along_dn = derivative_fn(s.density, dn, h);
    for (int k = 0; k < d; ++k) {
        Vector3 e = Vector3::Zero();
        e.head(d) = es.eigenvectors().col(k);
        const double lam = es.eigenvalues()[k];
        if (lam == 0.0) continue;
        r.third += lam * derivative(derivative_fn(along_dn, e, h), s.x, e, h);
    }
    r.mu = drift_at(s, s.x);
    return r;
}

TransferRow transfer(const FluxSetup& s, double dt) {
    if (!(dt > 0.0) || !std::isfinite(dt)) throw InputError("flux: every dt must be a positive number");
    const DensityDerivatives der = density_derivatives(s);
    const int d = s.dims;
    const double h = s.fd_step;
    TransferRow row;
    row.dt = dt;
    const Vector3 n = s.normal;
    const Vector3 mu0 = der.mu;
    row.diffusion_formula = -0.5 * der.normal_gradient * dt;
    row.drift_term = n.dot(mu0) * der.p * dt;
    row.formula = row.diffusion_formula + row.drift_term;

    if (d == 1) {
        const double sigma2 = s.diffusion(0, 0);
        const double sd = std::sqrt(sigma2 * dt);
        const double x = s.x[0];
        auto mu = [&](double y) { return s.drift ? s.drift({y, 0.0, 0.0})[0] : 0.0; };
        auto p = [&](double y) { return s.density({y, 0.0, 0.0}); };
        auto f_up = [&](double u) { const double y = x - sd * u; return p(y) * normal_cdf(-u + mu(y) * dt / sd); };
        auto f_down = [&](double u) { const double y = x + sd * u; return p(y) * normal_cdf(-u - mu(y) * dt / sd); };
        const QuadratureValue up = gk(f_up, 0.0, inf, s.quadrature_tolerance, s.quadrature_depth);
        const QuadratureValue down = gk(f_down, 0.0, inf, s.quadrature_tolerance, s.quadrature_depth);
        const QuadratureValue net =
            gk([&](double u) { return f_up(u) - f_down(u); }, 0.0, inf, s.quadrature_tolerance, s.quadrature_depth);
        row.up = sd * up.value;
        row.down = sd * down.value;
        row.net = sd * net.value;
        row.quadrature_error = sd * net.error;
        // dt^2 term: -1/2 (mu^2 p)' + 1/2 sigma^2 (mu p)'' - 1/8 sigma^4 p'''.
        double drift2 = 0.0;
        if (s.drift) {
            const Vector3 e = axis_vector(0);
            const DensityFn mup = [&](const Point& y) { return mu(y[0]) * p(y[0]); };
            const DensityFn mu2p = [&](const Point& y) { return mu(y[0]) * mu(y[0]) * p(y[0]); };
            drift2 = -0.5 * derivative(mu2p, s.x, e, h) + 0.5 * sigma2 * derivative(derivative_fn(mup, e, h), s.x, e, h);
        }
        row.next_term = (drift2 - 0.125 * der.third) * dt * dt;
    } else {
        // xi = mu0 dt + sqrt(dt) B eta; n.xi = n.mu0 dt + sqrt(dt) |B n| u with u = m.eta, m = B n / |B n|.
        const Eigen::MatrixXd b = symmetric_sqrt(s.diffusion, d);
        const Eigen::VectorXd nn = first(n, d);
        const Eigen::VectorXd w = b * nn;
        const double wn = w.norm();
        const Eigen::VectorXd m = w / wn;
        // An orthonormal basis whose first column is m.
        Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
        Eigen::MatrixXd basis = qr.householderQ() * Eigen::MatrixXd::Identity(d, d);
        if (basis.col(0).dot(m) < 0) basis.col(0) = -basis.col(0);
        const Rule gh = gauss_hermite(24);
        const double sq = std::sqrt(dt);
        const double n_mu = nn.dot(first(mu0, d));
        const double u0 = -n_mu * dt / (sq * wn);
        using Legendre = boost::math::quadrature::gauss<double, 20>;
        const int transverse = d - 1;
        const std::size_t ng = gh.x.size();
        const std::size_t count = transverse == 1 ? ng : ng * ng;
        for (std::size_t q = 0; q < count; ++q) {
            Eigen::VectorXd eta_perp = Eigen::VectorXd::Zero(d);
            double weight = 1.0;
            for (int j = 0; j < transverse; ++j) {
                const std::size_t idx = j == 0 ? q % ng : q / ng;
                eta_perp += gh.x[idx] * basis.col(j + 1);
                weight *= gh.w[idx];
            }
            // phi(u) (n.xi) ∫_0^1 p(x - lambda xi) dlambda.
            auto integrand = [&](double u) {
                const Eigen::VectorXd xi = first(mu0, d) * dt + sq * (b * (u * m + eta_perp));
                const double g = Legendre::integrate(
                    [&](double lambda) {
                        Point y = s.x;
                        for (int a = 0; a < d; ++a) y[a] -= lambda * xi[a];
                        return s.density(y);
                    },
                    0.0, 1.0);
                return normal_pdf(u) * (n_mu * dt + sq * wn * u) * g;
            };
            const QuadratureValue up = gk(integrand, u0, inf, s.quadrature_tolerance, s.quadrature_depth);
            const QuadratureValue down = gk(integrand, -inf, u0, s.quadrature_tolerance, s.quadrature_depth);
            row.up += weight * up.value;
            row.down -= weight * down.value;
            row.quadrature_error += weight * (up.error + down.error);
        }
        row.net = row.up - row.down;
        // dt^2 term with the drift frozen at x (see the header).
        const Vector3 dn = s.diffusion * n;
        const double mu_grad = mu0.dot(der.grad);
        double lap_d = 0.0;  // grad^T D grad p
        for (int a = 0; a < d; ++a)
            for (int c = 0; c < d; ++c) {
                if (s.diffusion(a, c) == 0.0) continue;
                lap_d += s.diffusion(a, c) *
                         derivative(derivative_fn(s.density, axis_vector(c), h), s.x, axis_vector(a), h);
            }
        const double dn_mu = mu0.norm() > 0.0
                                 ? derivative(derivative_fn(s.density, mu0, h), s.x, dn, h)
                                 : 0.0;  // (n^T D grad)(mu.grad) p
        row.next_term = (-0.5 * n_mu * mu_grad + (n_mu * lap_d + 2.0 * dn_mu) / 6.0 - 0.125 * der.third) * dt * dt;
    }
    row.remainder = row.net - row.formula;
    return row;
}

MonteCarloValue monte_carlo_transfer(const FluxSetup& s, double dt, std::uint64_t particles, std::uint64_t seed) {
    check_setup(s);
    if (particles < 2) throw InputError("flux: --particles must be at least 2");
    const int d = s.dims;
    const double nd = static_cast<double>(particles);
    double sum = 0.0, sum2 = 0.0;
    if (d == 1) {
        const double x = s.x[0];
        const double sd = std::sqrt(s.diffusion(0, 0) * dt);
        auto mu = [&](double y) { return s.drift ? s.drift({y, 0.0, 0.0})[0] : 0.0; };
        auto p = [&](double y) { return s.density({y, 0.0, 0.0}); };
        const double half = 8.0 * sd + 2.0 * std::abs(mu(x)) * dt;
        const double lo = x - half;
        const double mass = gk(p, lo, x, s.quadrature_tolerance, s.quadrature_depth).value +
                            gk(p, x, x + half, s.quadrature_tolerance, s.quadrature_depth).value;
        if (!(mass > 0.0)) return {};
        double pmax = 0.0;
        for (int i = 0; i <= 800; ++i) pmax = std::max(pmax, p(lo + 2.0 * half * i / 800.0));
        pmax *= 1.25;
        const CounterRng rng(seed, 0);
        std::uint64_t k = 0;
        const std::uint64_t limit = 2000 * particles + 100000;
        for (std::uint64_t i = 0; i < particles; ++i) {
            double y;
            do {
                if (k > limit) throw RunError("flux: rejection sampling of the density failed (is p >= 0 near x?)");
                y = lo + 2.0 * half * rng.uniform(k++);
            } while (rng.uniform(k++) * pmax >= p(y));
            const double y1 = y + mu(y) * dt + sd * CounterRng(seed, i + 1).normal(0);
            const double c = (y < x && y1 >= x) ? 1.0 : (y >= x && y1 < x) ? -1.0 : 0.0;
            sum += c;
            sum2 += c * c;
        }
        const double mean = sum / nd;
        const double var = (sum2 / nd - mean * mean) * nd / (nd - 1.0);
        return {mass * mean, mass * std::sqrt(std::max(var, 0.0) / nd)};
    }
    const Eigen::MatrixXd b = symmetric_sqrt(s.diffusion, d);
    const Vector3 mu0 = drift_at(s, s.x);
    const double sq = std::sqrt(dt);
    for (std::uint64_t i = 0; i < particles; ++i) {
        const CounterRng rng(seed, i);
        Eigen::VectorXd eta(d);
        for (int a = 0; a < d; ++a) eta[a] = rng.normal(static_cast<std::uint64_t>(a));
        const double lambda = rng.uniform(100);
        // Antithetic pair eta, -eta: the leading O(s) parts cancel, leaving the O(s^2) signal.
        double v = 0.0;
        for (double sign : {1.0, -1.0}) {
            const Eigen::VectorXd xi = first(mu0, d) * dt + sign * sq * (b * eta);
            Point y = s.x;
            for (int a = 0; a < d; ++a) y[a] -= lambda * xi[a];
            v += 0.5 * first(s.normal, d).dot(xi) * s.density(y);
        }
        sum += v;
        sum2 += v * v;
    }
    const double mean = sum / nd;
    const double var = (sum2 / nd - mean * mean) * nd / (nd - 1.0);
    return {mean, std::sqrt(std::max(var, 0.0) / nd)};
}

double scheme_face_flux(Scheme scheme, int dims, const Vector3& mu, const Matrix3& diffusion, int axis, const Point& face,
                        const Vector3& h, const CellValueFn& cell) {
    const int a = axis;
    auto centre = [&](double da, int b, double db) {
        Point c = face;
        c[a] += da * h[a];
        if (b >= 0) c[b] += db * h[b];
        return c;
    };
    const double pl = cell(centre(-0.5, -1, 0.0)), pr = cell(centre(0.5, -1, 0.0));
    const FaceCoefficients fc = face_coefficients(scheme, mu[a] * h[a], 0.5 * diffusion(a, a), h[a]);
    double f = fc.a * pl - fc.b * pr;
    for (int b = 0; b < dims; ++b) {
        if (b == a || diffusion(a, b) == 0.0) continue;
        // The operator's monotone diagonal of the cross difference d_b p at the face.
        const double dbp =
            diffusion(a, b) >= 0.0
                ? (cell(centre(0.5, b, 1.0)) - pr + pl - cell(centre(-0.5, b, -1.0))) / (2.0 * h[b])
                : (pr - cell(centre(0.5, b, -1.0)) + cell(centre(-0.5, b, 1.0)) - pl) / (2.0 * h[b]);
        f -= 0.5 * diffusion(a, b) * dbp;
    }
    return f;
}

double scheme_face_flux(const FluxSetup& s, Scheme scheme, int axis, double h) {
    check_setup(s);
    if (!(h > 0.0)) throw InputError("flux: the cell size h must be > 0");
    static constexpr double node[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
    static constexpr double weight[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
    const int d = s.dims;
    auto average = [&](const Point& c) {
        double sum = 0.0;
        const int q1 = d > 1 ? 3 : 1, q2 = d > 2 ? 3 : 1;
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < q1; ++j)
                for (int k = 0; k < q2; ++k) {
                    const int q[3] = {i, j, k};
                    Point y = c;
                    double w = 1.0;
                    for (int a = 0; a < d; ++a) {
                        y[a] += 0.5 * h * node[q[a]];
                        w *= weight[q[a]];
                    }
                    sum += w * s.density(y);
                }
        return sum;
    };
    return scheme_face_flux(scheme, d, drift_at(s, s.x), s.diffusion, axis, s.x, Vector3::Constant(h), average);
}

}  // namespace fpsolve
