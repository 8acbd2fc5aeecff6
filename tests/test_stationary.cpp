// Steady states, currents, spectral gaps and first-passage times (solver/stationary.hpp) against closed forms.
#include <catch2/catch.hpp>
#include <Eigen/Dense>
#include <functional>
#include <numbers>

#include "stationary.hpp"
#include "support.hpp"

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

constexpr double pi = std::numbers::pi;

SteadyState solve(const std::string& toml, int eigenvalues = 0, const std::vector<std::string>& set = {}) {
    const ParsedConfig c = config_from(toml, set);
    FokkerPlanckOperator op(c.problem);
    return solve_stationary(op, {eigenvalues});
}

// exp(-f) at the cell centres, normalised to discrete mass 1.
Eigen::VectorXd boltzmann(const Grid& g, const std::function<double(const Point&)>& f) {
    Eigen::VectorXd q(g.size());
    for (Index c = 0; c < g.size(); ++c) q[c] = std::exp(-f(g.centre_of(c)));
    return q / (q.sum() * g.cell_volume());
}

double max_rel(const Eigen::VectorXd& p, const Eigen::VectorXd& q) {
    return (p - q).cwiseAbs().maxCoeff() / q.cwiseAbs().maxCoeff();
}

// Composite 5-point Gauss–Legendre on [lo, hi] with `panels` panels (error O(H^10)).
double gauss(const std::function<double(double)>& f, double lo, double hi, int panels = 1) {
    static constexpr double node[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                                       0.9061798459386640};
    static constexpr double weight[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                                         0.4786286704993665, 0.2369268850561891};
    double s = 0.0;
    const double w = (hi - lo) / panels;
    for (int k = 0; k < panels; ++k) {
        const double mid = lo + (k + 0.5) * w;
        for (int q = 0; q < 5; ++q) s += 0.5 * w * weight[q] * f(mid + 0.5 * w * node[q]);
    }
    return s;
}

// Exact MFPT of dX = -U'(X) dt + sqrt(2 eps) dW on [a, b], both ends absorbing, at the points xs (sorted):
//   (e^{-U/eps} T')' = -e^{-U/eps} / eps,  T(a) = T(b) = 0, so with I(y) = ∫_a^y e^{-U/eps},
//   T(x) = ∫_a^x e^{U(y)/eps} [C - I(y)/eps] dy,   C = ∫_a^b e^{U/eps} I / eps / ∫_a^b e^{U/eps}.
// Panels of width H = (b - a)/P with nested Gauss–Legendre: relative error ~ (H / width)^10.
std::vector<double> exact_mfpt(const std::function<double(double)>& u, double eps, double a, double b,
                               const std::vector<double>& xs, int panels) {
    const double w = (b - a) / panels;
    std::vector<double> edge_i(static_cast<std::size_t>(panels) + 1, 0.0);  // I at the panel edges
    for (int k = 0; k < panels; ++k)
        edge_i[static_cast<std::size_t>(k) + 1] =
            edge_i[static_cast<std::size_t>(k)] + gauss([&](double z) { return std::exp(-u(z) / eps); }, a + k * w, a + (k + 1) * w);
    auto big_i = [&](double y) {
        const int k = std::clamp(static_cast<int>((y - a) / w), 0, panels - 1);
        return edge_i[static_cast<std::size_t>(k)] + gauss([&](double z) { return std::exp(-u(z) / eps); }, a + k * w, y);
    };
    // F(x) = ∫_a^x e^{U/eps} and G(x) = ∫_a^x e^{U/eps} I / eps, piecewise exactly on panels.
    auto cumulative = [&](double x, bool with_i) {
        double s = 0.0;
        double lo = a;
        while (lo < x - 1e-15) {
            const double hi = std::min(x, lo + w);
            s += gauss([&](double y) { return std::exp(u(y) / eps) * (with_i ? big_i(y) / eps : 1.0); }, lo, hi);
            lo = hi;
        }
        return s;
    };
    const double c = cumulative(b, true) / cumulative(b, false);
    std::vector<double> t;
    for (double x : xs) t.push_back(c * cumulative(x, false) - cumulative(x, true));
    return t;
}

std::string grid_1d(double lo, double hi, int n, const std::string& boundary) {
    return "[grid]\nlower = [" + std::to_string(lo) + "]\nupper = [" + std::to_string(hi) + "]\ncells = [" +
           std::to_string(n) + "]\nboundary = \"" + boundary + "\"\n";
}
std::string grid_2d(double lo, double hi, int n, const std::string& boundary = "reflecting") {
    return "[grid]\nlower = [" + std::to_string(lo) + ", " + std::to_string(lo) + "]\nupper = [" + std::to_string(hi) +
           ", " + std::to_string(hi) + "]\ncells = [" + std::to_string(n) + ", " + std::to_string(n) +
           "]\nboundary = \"" + boundary + "\"\n";
}

// The covariance of a density of cell averages (midpoint rule, O(h^2)).
Eigen::Matrix2d covariance(const Grid& g, const Eigen::VectorXd& p) {
    Eigen::Vector2d m = Eigen::Vector2d::Zero();
    Eigen::Matrix2d c = Eigen::Matrix2d::Zero();
    const double v = g.cell_volume();
    for (Index k = 0; k < g.size(); ++k) {
        const Point x = g.centre_of(k);
        m += p[k] * v * Eigen::Vector2d(x[0], x[1]);
    }
    for (Index k = 0; k < g.size(); ++k) {
        const Point x = g.centre_of(k);
        const Eigen::Vector2d d = Eigen::Vector2d(x[0], x[1]) - m;
        c += p[k] * v * d * d.transpose();
    }
    return c;
}

// Solves the 2x2 Lyapunov equation A C + C A^T = D (C symmetric) as a 3x3 linear system.
Eigen::Matrix2d lyapunov(const Eigen::Matrix2d& a, const Eigen::Matrix2d& d) {
    // Unknowns c00, c01, c11.
    Eigen::Matrix3d m;
    m << 2 * a(0, 0), 2 * a(0, 1), 0,                   //
        a(1, 0), a(0, 0) + a(1, 1), a(0, 1),            //
        0, 2 * a(1, 0), 2 * a(1, 1);
    const Eigen::Vector3d c = m.lu().solve(Eigen::Vector3d(d(0, 0), d(0, 1), d(1, 1)));
    Eigen::Matrix2d out;
    out << c[0], c[1], c[1], c[2];
    return out;
}

}  // namespace

// With a gradient drift and D = s I, exponential fitting makes exp(-2L/s) at the centres the exact discrete
// equilibrium (face flux a p_L - b p_R vanishes when p_R / p_L = B(-z)/B(z) = e^{-z}). So the only error is
// the linear solve's: the LU with refinement is backward stable, the pinned system's condition is ~N^2 here,
// so the error is a few hundred eps; the bounds are the issue's 1e-10 (density) and 1e-12 (current).
TEST_CASE("Gibbs: the steady state is exp(-2L/s) to round-off, with zero current (1-D and 2-D)") {
    SECTION("1-D double well") {
        const std::string toml = grid_1d(-2.5, 2.5, 400, "reflecting") + R"toml(
[dynamics]
potential = "(x^2 - 1)^2"
noise = 0.6
)toml";
        const SteadyState r = solve(toml);
        const Grid g = config_from(toml).problem.grid;
        const auto q = boltzmann(g, [](const Point& x) { return 2.0 * std::pow(x[0] * x[0] - 1.0, 2) / 0.6; });
        CHECK(max_rel(r.density, q) <= 1e-10);
        CHECK(r.max_abs_current <= 1e-12);
        CHECK(r.residual <= 1e-14);
        CHECK(r.density.sum() * g.cell_volume() == Approx(1.0).epsilon(1e-14));
    }
    SECTION("2-D coupled potential, periodic in y") {
        const std::string toml = R"toml(
[grid]
lower = [-2.0, -3.141592653589793]
upper = [2.0, 3.141592653589793]
cells = [96, 80]
boundary = ["reflecting", "periodic"]
[dynamics]
potential = "(x^2 - 1)^2 + 0.8*cos(y) * (1 + 0.5*x) + 0.3*x*sin(y)"
noise = 0.7
)toml";
        const SteadyState r = solve(toml);
        const Grid g = config_from(toml).problem.grid;
        const auto q = boltzmann(g, [](const Point& x) {
            return 2.0 * (std::pow(x[0] * x[0] - 1.0, 2) + 0.8 * std::cos(x[1]) * (1 + 0.5 * x[0]) + 0.3 * x[0] * std::sin(x[1])) / 0.7;
        });
        CHECK(max_rel(r.density, q) <= 1e-10);
        CHECK(r.max_abs_current <= 1e-12);
    }
}

// DESIGN §1.3: D = eta_bar P Sigma P, drift -P grad L with P = diag(eta)/eta_bar. With eta_i = eta'/sigma_i^2 every
// axis has temperature D_ii / (2 P_ii) = eta_i sigma_i^2 / 2 = eta'/2, so p ∝ exp(-2 L / eta') for any L, and
// exponential fitting keeps it exact (z = -Delta L / T per face). Same round-off bounds as above.
TEST_CASE("Per-axis learning rates eta_i = eta'/sigma_i^2 restore the Gibbs density at temperature eta'") {
    const double eta = 0.4, s1 = 0.5, s2 = 2.0;  // Sigma = diag(s1, s2) (variances)
    const std::string toml = grid_2d(-2.5, 2.5, 72) + R"toml(
[dynamics]
potential = "(x^2 - 1)^2 + (y - 0.5*x)^2 + 0.2*x*y^2"
noise = [0.5, 2.0]
learning_rate = [0.8, 0.2]
)toml";
    const SteadyState r = solve(toml);
    const Grid g = config_from(toml).problem.grid;
    REQUIRE(eta / s1 == Approx(0.8));
    REQUIRE(eta / s2 == Approx(0.2));
    const auto q = boltzmann(g, [&](const Point& x) {
        const double l = std::pow(x[0] * x[0] - 1.0, 2) + std::pow(x[1] - 0.5 * x[0], 2) + 0.2 * x[0] * x[1] * x[1];
        return 2.0 * l / eta;
    });
    CHECK(max_rel(r.density, q) <= 1e-10);
    CHECK(r.max_abs_current <= 1e-12);

    // The same rates with equal rates instead (eta = 0.5 on both axes) is a two-temperature system: not Gibbs.
    const SteadyState wrong = solve(toml, 0, {"dynamics.learning_rate=0.5"});
    CHECK(wrong.max_abs_current > 1e-3);
}

// Two temperatures, L = L1(x) + L2(y), D = diag(sx, sy): p ∝ exp(-2 L1/sx - 2 L2/sy), zero current (each
// axis's face flux vanishes on its own, exactly in the discrete scheme).
// Coupled quadratic L = x^T H x / 2 with D = diag(sx, sy): the steady state is the Gaussian of covariance C,
// H C + C H = D, and the current J = (-H x + 1/2 D C^{-1} x) p is non-zero and circulates. The scheme is second
// order, so the current's error falls 4x per halving of h.
TEST_CASE("Two temperatures: product form when L separates; circulating current of the closed form otherwise") {
    SECTION("separable potential: product of one-axis Gibbs densities") {
        const std::string toml = grid_2d(-2.5, 2.5, 64) + R"toml(
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2 + 0.3*y^3/3 "
noise = [0.5, 1.5]
)toml";
        const SteadyState r = solve(toml);
        const Grid g = config_from(toml).problem.grid;
        const auto q = boltzmann(g, [](const Point& x) {
            return 2.0 * std::pow(x[0] * x[0] - 1.0, 2) / 0.5 + 2.0 * (0.5 * x[1] * x[1] + 0.1 * std::pow(x[1], 3)) / 1.5;
        });
        CHECK(max_rel(r.density, q) <= 1e-10);
        CHECK(r.max_abs_current <= 1e-12);
    }
    SECTION("coupled quadratic: Gaussian with the Lyapunov covariance and its current, order 2") {
        Eigen::Matrix2d h, d;
        h << 1.0, 0.6, 0.6, 1.5;
        d << 0.4, 0.0, 0.0, 1.6;
        const Eigen::Matrix2d c = lyapunov(h, d);
        const Eigen::Matrix2d ci = c.inverse();
        const Eigen::Matrix2d k = -h + 0.5 * d * ci;  // J = k x p(x)
        std::vector<double> err_j, err_c;
        std::vector<int> ns = {40, 80, 160};
        for (int n : ns) {
            const std::string toml = grid_2d(-5.0, 5.0, n) + R"toml(
[dynamics]
potential = "0.5*x^2 + 0.6*x*y + 0.75*y^2"
noise = [0.4, 1.6]
)toml";
            const SteadyState r = solve(toml);
            const Grid g = config_from(toml).problem.grid;
            double jmax = 0.0, emax = 0.0;
            const double norm = 1.0 / (2.0 * pi * std::sqrt(c.determinant()));
            for (Index cell = 0; cell < g.size(); ++cell) {
                const Point x = g.centre_of(cell);
                const Eigen::Vector2d xv(x[0], x[1]);
                const Eigen::Vector2d j = k * xv * norm * std::exp(-0.5 * xv.dot(ci * xv));
                jmax = std::max(jmax, j.cwiseAbs().maxCoeff());
                emax = std::max(emax, (j - r.current.row(cell).transpose()).cwiseAbs().maxCoeff());
            }
            err_j.push_back(emax / jmax);
            err_c.push_back((covariance(g, r.density) - c).cwiseAbs().maxCoeff() / c.cwiseAbs().maxCoeff());
            CHECK(r.max_abs_current > 0.5 * jmax);  // non-zero: the circulating current is resolved
        }
        INFO("current\n" << table(ns, err_j) << "covariance\n" << table(ns, err_c));
        const auto oj = orders(err_j), oc = orders(err_c);
        // h = 10/160: the error constant is ~15 (current) and ~0.75 (covariance) times h^2.
        CHECK(err_j.back() < 20 * std::pow(10.0 / 160, 2));
        CHECK(err_c.back() < 1.0 * std::pow(10.0 / 160, 2));
        CHECK(oj.back() == Approx(2.0).margin(0.2));
        CHECK(oc.back() == Approx(2.0).margin(0.2));
    }
}

// Rotational OU dX = -A X dt + B dW with a non-normal A: the stationary covariance solves A C + C A^T = D
// (DESIGN §1). Cell averages and the midpoint moment are both O(h^2), so the observed order is 2.
TEST_CASE("Rotational Ornstein-Uhlenbeck: stationary covariance solves the Lyapunov equation, order 2") {
    Eigen::Matrix2d a, d;
    a << 1.0, -1.5, 2.0, 0.8;  // mu = -A x: rotation plus anisotropic decay
    d << 0.6, 0.0, 0.0, 0.3;
    const Eigen::Matrix2d c = lyapunov(a, d);
    REQUIRE((a * c + c * a.transpose() - d).norm() < 1e-14);
    std::vector<double> err;
    std::vector<int> ns = {40, 80, 160};
    double current = 0.0;
    for (int n : ns) {
        const std::string toml = grid_2d(-3.5, 3.5, n) + R"toml(
[dynamics]
drift = ["-(1.0*x - 1.5*y)", "-(2.0*x + 0.8*y)"]
noise = [0.6, 0.3]
)toml";
        const SteadyState r = solve(toml);
        const Grid g = config_from(toml).problem.grid;
        err.push_back((covariance(g, r.density) - c).cwiseAbs().maxCoeff() / c.cwiseAbs().maxCoeff());
        current = r.max_abs_current;
    }
    INFO(table(ns, err) << "covariance\n" << c);
    const auto o = orders(err);
    CHECK(err.back() < 2.0 * std::pow(7.0 / 160, 2));  // the error constant is ~1.5 h^2
    CHECK(o[0] == Approx(2.0).margin(0.2));
    CHECK(o[1] == Approx(2.0).margin(0.2));
    CHECK(current > 0.05);  // a rotational drift has a circulating steady current
}

// 1-D OU dX = -k X dt + sqrt(s) dW: the Fokker–Planck spectrum is {0, -k, -2k, ...} (Hermite functions). The
// scheme's eigenvalues carry an O(h^2) error; below 400 cells the dense QR path is used, above it Arnoldi.
TEST_CASE("Spectral gap of 1-D OU equals k, second order; Arnoldi and dense paths agree") {
    const double k = 1.5;
    std::vector<double> err;
    std::vector<int> ns = {100, 200, 400, 800};
    for (int n : ns) {
        const std::string toml = grid_1d(-3.0, 3.0, n, "reflecting") + R"toml(
[dynamics]
drift = ["-1.5*x"]
noise = 0.5
)toml";
        const SteadyState r = solve(toml, 4);
        REQUIRE(r.eigenvalues.size() >= 4);
        CHECK(r.eigenvalues[0] == std::complex<double>(0.0, 0.0));
        // The second mode's error is O(h^2) too, with a larger constant (its eigenfunction varies faster).
        CHECK(std::abs(r.eigenvalues[2].real() + 2 * k) / (2 * k) < 2.0 * std::pow(6.0 / n, 2));
        CHECK(std::abs(r.eigenvalues[1].imag()) < 1e-12);
        err.push_back(std::abs(r.spectral_gap - k) / k);
        CHECK(r.relaxation_time == Approx(1.0 / r.spectral_gap));
    }
    INFO(table(ns, err));
    const auto o = orders(err);
    CHECK(err.back() < 2.0 * std::pow(6.0 / ns.back(), 2));  // measured constant ~1.0
    for (double x : o) CHECK(x == Approx(2.0).margin(0.15));
}

// 2-D OU with a rotation, mu = -A x, A = [[1, -2], [2, 1]]: FP eigenvalues -(n1 l1 + n2 l2), l = 1 ± 2i, so the
// slowest pair is -1 ± 2i (complex: the gap is |Re| = 1). Arnoldi path (>= 900 cells); error O(h^2), order 2.
TEST_CASE("Spectral gap of a rotational 2-D OU is the real part of the complex slowest pair, order 2") {
    std::vector<double> err_re, err_im;
    std::vector<int> ns = {30, 60};
    for (int n : ns) {
        const std::string toml = grid_2d(-3.0, 3.0, n) + R"toml(
[dynamics]
drift = ["-(x - 2*y)", "-(2*x + y)"]
noise = 0.5
)toml";
        const SteadyState r = solve(toml, 4);
        REQUIRE(r.eigenvalues.size() >= 3);
        CHECK(r.eigenvalues[1].imag() == Approx(-r.eigenvalues[2].imag()).epsilon(1e-8));
        err_re.push_back(std::abs(r.spectral_gap - 1.0));
        err_im.push_back(std::abs(std::abs(r.eigenvalues[1].imag()) - 2.0) / 2.0);
    }
    INFO("real part\n" << table(ns, err_re) << "imaginary part\n" << table(ns, err_im));
    CHECK(err_re.back() < 1.0 * std::pow(0.1, 2));  // h = 0.1; measured constant ~0.65
    CHECK(orders(err_re)[0] == Approx(2.0).margin(0.2));
    CHECK(orders(err_im)[0] == Approx(2.0).margin(0.2));
}

// Exact MFPT (double-well potential, both walls absorbing) vs A^T T = -1: the discrete absorbing wall is the
// face with p = 0 beyond it, second order, so the error falls 4x per halving.
TEST_CASE("Mean first-passage time matches the exact 1-D integral, second order") {
    const double s = 0.5, eps = s / 2, lo = -2.0, hi = 1.5;
    auto u = [](double x) { return std::pow(x * x - 1.0, 2); };
    std::vector<double> err;
    std::vector<int> ns = {200, 400, 800};
    for (int n : ns) {
        const std::string toml = grid_1d(lo, hi, n, "absorbing") + R"toml(
[dynamics]
potential = "(x^2 - 1)^2"
noise = 0.5
)toml";
        const SteadyState r = solve(toml, 0);
        const Grid g = config_from(toml).problem.grid;
        std::vector<double> xs;
        for (Index i = 0; i < n; i += n / 50) xs.push_back(g.centre(0, i));
        const auto t = exact_mfpt(u, eps, lo, hi, xs, 700);
        double e = 0.0, tmax = 0.0;
        for (std::size_t m = 0; m < xs.size(); ++m) {
            const Index i = static_cast<Index>(m) * (n / 50);
            e = std::max(e, std::abs(r.mfpt[i] - t[m]));
            tmax = std::max(tmax, t[m]);
        }
        err.push_back(e / tmax);
        // Exact discrete identity: the quasi-stationary average of T is 1 / escape rate.
        const double identity = r.mfpt.dot(r.density) * g.cell_volume() * r.escape_rate;
        INFO("q^T T * escape rate - 1 = " << identity - 1.0);
        CHECK(std::abs(identity - 1.0) < 1e-9);
    }
    INFO(table(ns, err));
    const auto o = orders(err);
    CHECK(err.back() < 5.0 * std::pow((hi - lo) / ns.back(), 2));  // measured constant ~3.6
    for (double x : o) CHECK(x == Approx(2.0).margin(0.2));
}

// Kramers: dX = -U' dt + sqrt(s) dW, U = (x^2 - 1)^2, eps = s/2: escape from the well a = -1 over b = 0 at rate
//   k_K = sqrt(U''(a) |U''(b)|) / (2 pi) exp(-Delta U / eps) = sqrt(32)/(2 pi) e^{-1/eps}.
// Laplace's method on the exact T = (1/eps) ∫ e^{U/eps} ∫ e^{-U/eps} gives T k_K = (1 + c_a eps)(1 + c_b eps) + O(eps^2),
// with c = 5 f'''^2 / (24 f''^3) - f''''/(8 f''^2): at the well f = U - U(a): f'' = 8, f''' = -24, f'''' = 24, c_a = 3/16;
// at the barrier f = U(b) - U: f'' = 4, f''' = 0, f'''' = -24, c_b = 3/16. So T k_K - 1 = 3 eps / 8 + O(eps^2):
// 3.75% at eps = 0.1 and 1.9% at eps = 0.05. We check that the remainder after 3 eps / 8 is O(eps^2) (ratio ~4
// between the two noise levels) and below eps^2. The absorbing wall at x = 1 (the other well's bottom, 2/sqrt(eps)
// barrier widths away) and the one at -2.5 (U = 27.6) change T by e^{-1/eps}-small amounts. h = 0.002 puts the
// discretisation error (~(h / barrier width)^2 ~ 1e-4) well below the O(eps^2) remainder.
TEST_CASE("Kramers escape rate from a double well, with the derived O(eps) correction") {
    std::vector<double> remainder;
    for (double s : {0.2, 0.1}) {
        const double eps = s / 2;
        const std::string toml = grid_1d(-2.5, 1.0, 1750, "absorbing") + R"toml(
[dynamics]
potential = "(x^2 - 1)^2"
)toml" + "noise = " + std::to_string(s) + "\n";
        const SteadyState r = solve(toml, 0);
        const Grid g = config_from(toml).problem.grid;
        const double kramers = std::sqrt(32.0) / (2 * pi) * std::exp(-1.0 / eps);
        const Index ia = static_cast<Index>((-1.0 - g.lower[0]) / g.spacing(0));  // the cell holding x = -1
        const double tk = r.mfpt[ia] * kramers;
        INFO("eps " << eps << ": T k_K = " << tk << ", escape rate / k_K = " << r.escape_rate / kramers);
        CHECK(std::abs(tk - 1.0 - 0.375 * eps) < eps * eps);
        // The slowest eigenvalue is 1 / T(a) up to the e^{-1/eps}-small variation of T over the well.
        CHECK(r.escape_rate * r.mfpt[ia] == Approx(1.0).epsilon(1e-3));
        remainder.push_back(tk - 1.0 - 0.375 * eps);
    }
    INFO("remainders " << remainder[0] << ", " << remainder[1]);
    CHECK(remainder[0] / remainder[1] == Approx(4.0).margin(1.0));
}

TEST_CASE("Time-dependent problems are refused as bad input") {
    const std::string toml = grid_1d(-2.0, 2.0, 50, "reflecting") + R"toml(
[dynamics]
drift = ["-x * (1 + 0.5*sin(t))"]
noise = 0.5
)toml";
    const ParsedConfig c = config_from(toml);
    FokkerPlanckOperator op(c.problem);
    CHECK_THROWS_AS(solve_stationary(op), InputError);
}
