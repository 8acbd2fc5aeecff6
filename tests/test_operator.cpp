// The finite-volume operator against the closed forms of DESIGN §1, one piece at a time.
#include <catch2/catch.hpp>
#include <numbers>

#include "face_flux.hpp"
#include "reference.hpp"
#include "support.hpp"

using namespace fpsolve;
using namespace fpsolve::test;

namespace {
const std::vector<Scheme> all_schemes = {Scheme::exponential, Scheme::upwind, Scheme::central};
std::string scheme_key(Scheme s) { return "dynamics.scheme=\"" + std::string(to_string(s)) + "\""; }
}  // namespace

TEST_CASE("Bernoulli function is accurate across zero and for large arguments") {
    for (double z : {-1e-8, -1e-6, 1e-6, 1e-3, 0.5, -3.0})
        CHECK(bernoulli(z) == Approx(z / std::expm1(z)).epsilon(1e-13));
    CHECK(bernoulli(0.0) == 1.0);
    CHECK(bernoulli(800.0) == 0.0);
    CHECK(bernoulli(-800.0) == Approx(800.0));
    // B(-z) = B(z) e^z: the identity behind the exact discrete Gibbs state.
    for (double z : {1e-7, 0.3, 4.0, 30.0}) CHECK(bernoulli(-z) == Approx(bernoulli(z) * std::exp(z)).epsilon(1e-14));
}

// A Fourier mode under periodic pure diffusion, dp/dt = s/2 p'':  p = 1 + a cos(kx) e^{-s k^2 t / 2}.
// The scheme's eigenvalue is -(2s/h^2) sin^2(kh/2): relative error k^2 h^2 / 12, so order 2.
TEST_CASE("Fourier mode decays at the diffusion rate, second order (1-D and 2-D)") {
    const double s = 0.4, end = 1.0, k = 2.0;
    for (int dims : {1, 2}) {
        std::vector<double> err;
        std::vector<int> ns = {16, 32, 64};
        for (int n : ns) {
            const std::string cells = dims == 1 ? std::to_string(n) : std::to_string(n) + "," + std::to_string(n);
            const std::string toml = dims == 1 ? R"toml(
[grid]
lower = [0.0]
upper = [6.283185307179586]
cells = [)toml" + cells + R"toml(]
boundary = "periodic"
[dynamics]
drift = ["0"]
noise = 0.4
[initial]
density = "1 + 0.5*cos(2*x)"
)toml"
                                               : R"toml(
[grid]
lower = [0.0, 0.0]
upper = [6.283185307179586, 6.283185307179586]
cells = [)toml" + cells + R"toml(]
boundary = "periodic"
[dynamics]
drift = ["0", "0"]
noise = 0.4
[initial]
density = "1 + 0.5*cos(2*x)*cos(2*y)"
)toml";
            const ParsedConfig c = config_from(toml);
            const FokkerPlanckOperator op(c.problem);
            const Grid& g = c.problem.grid;
            const State p = evolve(op, initial_state(g, c.problem.initial), end);
            const double decay = std::exp(-0.5 * s * k * k * end * dims);
            const State exact = cell_averages(g, [&](const Point& x) {
                const double mode = dims == 1 ? std::cos(k * x[0]) : std::cos(k * x[0]) * std::cos(k * x[1]);
                return 1.0 + 0.5 * mode * decay;
            });
            const double total = std::pow(2 * std::numbers::pi, dims);
            err.push_back(l1(g, p, exact / total));  // initial_state normalises to mass 1
        }
        INFO(dims << "-D\n" << table(ns, err));
        for (double o : orders(err)) CHECK(o == Approx(2.0).margin(0.1));
    }
}

// Translation under constant drift with weak diffusion on a periodic line: a Gaussian moves at speed v and
// widens by s t. Exponential fitting and central are second order, upwind first (its numerical diffusion v h/2).
TEST_CASE("Translation under constant drift: observed order of each scheme") {
    const double v = 1.0, s = 0.1, end = 1.0, m0 = 3.0, var0 = 0.1;
    for (Scheme scheme : all_schemes) {
        std::vector<double> err;
        std::vector<int> ns = {200, 400, 800};
        for (int n : ns) {
            const ParsedConfig c = config_from(R"toml(
[grid]
lower = [0.0]
upper = [10.0]
cells = [100]
boundary = "periodic"
[dynamics]
drift = ["1.0"]
noise = 0.1
[initial]
gaussian = { mean = [3.0], covariance = [[0.1]] }
)toml",
                                         {"grid.cells=[" + std::to_string(n) + "]", scheme_key(scheme)});
            const FokkerPlanckOperator op(c.problem);
            const Grid& g = c.problem.grid;
            const State p = evolve(op, initial_state(g, c.problem.initial), end);
            const double var = var0 + s * end, m = m0 + v * end;
            const State exact = cell_averages(g, [&](const Point& x) {
                return std::exp(-0.5 * (x[0] - m) * (x[0] - m) / var) / std::sqrt(2 * std::numbers::pi * var);
            });
            err.push_back(l1(g, p, exact));
        }
        INFO(to_string(scheme) << "\n" << table(ns, err));
        const double expected = scheme_order(scheme);
        for (double o : orders(err)) CHECK(o == Approx(expected).margin(0.15));
    }
}

// Ornstein–Uhlenbeck with a non-gradient drift mu = -A x and correlated constant noise D:
// mean e^{-At} m0, covariance C' = -AC - CA^T + D. Cell-average moments carry an O(h^2) bias (h^2/12
// per axis in the second moment), so the error must fall by 4 per halving.
TEST_CASE("Ornstein-Uhlenbeck mean and covariance in 2-D with correlated noise, second order") {
    Eigen::Matrix2d a;
    a << 1.0, 0.6, -0.6, 1.0;
    Eigen::Matrix2d d;
    d << 0.5, 0.2, 0.2, 0.3;
    const double end = 1.0;
    Eigen::Vector2d m(1.0, -0.5);
    Eigen::Matrix2d cov = 0.05 * Eigen::Matrix2d::Identity();
    const int steps = 20000;  // RK4 on the moment equations: error ~ (dt)^4, negligible
    auto rhs = [&](const Eigen::Vector2d& mm, const Eigen::Matrix2d& cc, Eigen::Vector2d& dm, Eigen::Matrix2d& dc) {
        dm = -a * mm;
        dc = -a * cc - cc * a.transpose() + d;
    };
    const double dt = end / steps;
    for (int k = 0; k < steps; ++k) {
        Eigen::Vector2d k1m, k2m, k3m, k4m;
        Eigen::Matrix2d k1c, k2c, k3c, k4c;
        rhs(m, cov, k1m, k1c);
        rhs(m + 0.5 * dt * k1m, cov + 0.5 * dt * k1c, k2m, k2c);
        rhs(m + 0.5 * dt * k2m, cov + 0.5 * dt * k2c, k3m, k3c);
        rhs(m + dt * k3m, cov + dt * k3c, k4m, k4c);
        m += dt / 6 * (k1m + 2 * k2m + 2 * k3m + k4m);
        cov += dt / 6 * (k1c + 2 * k2c + 2 * k3c + k4c);
    }
    std::vector<double> err;
    std::vector<int> ns = {32, 64, 128};
    for (int n : ns) {
        const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-4.0, -4.0]
upper = [4.0, 4.0]
cells = [32, 32]
[dynamics]
drift = ["-(1.0*x + 0.6*y)", "-(-0.6*x + 1.0*y)"]
noise = [[0.5, 0.2], [0.2, 0.3]]
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.05, 0.0], [0.0, 0.05]] }
)toml",
                                     {"grid.cells=[" + std::to_string(n) + "," + std::to_string(n) + "]"});
        const FokkerPlanckOperator op(c.problem);
        CHECK(op.cross_monotonicity_ratio() <= 1.0);
        const State p = evolve(op, initial_state(c.problem.grid, c.problem.initial), end);
        const DiagnosticsCalculator diag(op, std::nullopt);
        const Diagnostics dg = diag(p, end);
        double e = (dg.mean.head<2>() - m).cwiseAbs().maxCoeff();
        e = std::max(e, (dg.covariance.topLeftCorner<2, 2>() - cov).cwiseAbs().maxCoeff());
        err.push_back(e);
        CHECK(std::abs(dg.mass - 1.0) < 1e-12);
    }
    INFO(table(ns, err));
    CHECK(err.back() < 2e-3);
    for (double o : orders(err)) CHECK(o == Approx(2.0).margin(0.25));
}

// Langevin with mu = -grad L and D = s I: exp(-2L/s) at the centres is an exact discrete fixed point.
TEST_CASE("Gibbs density is a discrete fixed point to round-off (1-D, 2-D, periodic, per-axis rates)") {
    struct Case {
        std::string name, toml;
    };
    const std::vector<Case> cases = {
        {"1-D double well", R"toml(
[grid]
lower = [-2.5]
upper = [2.5]
cells = [300]
[dynamics]
potential = "(x^2 - 1)^2"
noise = 0.3
)toml"},
        {"2-D coupled", R"toml(
[grid]
lower = [-2.5, -3.0]
upper = [2.5, 3.0]
cells = [60, 70]
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2 + 0.7*x*y"
noise = 0.5
)toml"},
        {"2-D periodic", R"toml(
[grid]
lower = [0.0, 0.0]
upper = [6.283185307179586, 6.283185307179586]
cells = [50, 40]
boundary = "periodic"
[dynamics]
potential = "cos(x) + 2*cos(y) + 0.5*cos(x - y)"
noise = 0.7
)toml"},
        {"per-axis rates eta_i = eta'/sigma_i^2", R"toml(
[grid]
lower = [-2.5, -3.0]
upper = [2.5, 3.0]
cells = [60, 70]
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2 + 0.7*x*y"
noise = [4.0, 0.25]
learning_rate = [0.025, 0.4]
)toml"},
        {"3-D", R"toml(
[grid]
lower = [-2, -2, -2]
upper = [2, 2, 2]
cells = [12, 14, 10]
boundary = ["reflecting", "periodic", "reflecting"]
[dynamics]
potential = "x^2 + (1 + 0.3*cos(pi*y/2))*z^2"
noise = 0.8
)toml"},
    };
    for (const auto& cs : cases) {
        INFO(cs.name);
        const ParsedConfig c = config_from(cs.toml);
        const auto ref = stationary_reference(c.problem);
        REQUIRE(ref);
        CHECK(ref->kind == "gibbs");
        const FokkerPlanckOperator op(c.problem);
        State dp;
        op(ref->density, dp, 0.0);
        // Relative to the size of the outflow term of each cell.
        const Eigen::SparseMatrix<double> a = op.matrix(0.0);
        const Eigen::VectorXd outflow = a.diagonal().cwiseAbs().cwiseProduct(ref->density);
        CHECK(dp.cwiseAbs().maxCoeff() / outflow.maxCoeff() < 1e-13);
        // The cell-centred current vanishes too.
        CHECK(op.cell_current(ref->density, 0.0).cwiseAbs().maxCoeff() < 1e-12 * ref->density.maxCoeff());
    }
    // Per-axis rates: Gibbs at temperature eta'/2 with eta' = eta_i sigma_i^2 = 0.1.
    const ParsedConfig c = config_from(cases[3].toml);
    CHECK(stationary_reference(c.problem)->temperature == Approx(0.05).epsilon(1e-12));
}

TEST_CASE("Relaxation to Gibbs: the long-time limit of a run") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-2.0]
upper = [2.0]
cells = [200]
[dynamics]
potential = "(x^2 - 1)^2"
noise = 1.5
[initial]
density = "exp(-(x - 1)^2 / 0.02)"
)toml");
    const FokkerPlanckOperator op(c.problem);
    const auto ref = stationary_reference(c.problem);
    const State p = evolve(op, initial_state(c.problem.grid, c.problem.initial), 40.0, 1e-10, 1e-16);
    CHECK(l1(c.problem.grid, p, ref->density) < 1e-8);
}

// Each convention has its own stationary density with state-dependent noise (1-D, reflecting):
// p ∝ D^(alpha-1) exp(∫ 2 mu / D). The discrete steady state converges to it at second order.
TEST_CASE("Stationary density of each noise convention with state-dependent noise, second order") {
    for (const char* conv : {"ito", "stratonovich", "isothermal"}) {
        std::vector<double> err;
        std::vector<int> ns = {50, 100, 200};
        for (int n : ns) {
            const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0]
upper = [3.0]
cells = [50]
[dynamics]
drift = ["-x + 0.3"]
noise = "0.4 + 0.3*x^2 + 0.2*sin(x)"
)toml",
                                         {"grid.cells=[" + std::to_string(n) + "]",
                                          std::string("dynamics.convention=\"") + conv + "\""});
            const auto ref = stationary_reference(c.problem);
            REQUIRE(ref);
            CHECK(ref->kind == "one-dimensional");
            const FokkerPlanckOperator op(c.problem);
            err.push_back(l1(c.problem.grid, steady_state(op), ref->density));
        }
        INFO(conv << "\n" << table(ns, err));
        for (double o : orders(err)) CHECK(o == Approx(2.0).margin(0.2));
    }
    // The three conventions give different densities: the test above can tell them apart.
    auto density = [](const char* conv) {
        const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0]
upper = [3.0]
cells = [100]
[dynamics]
drift = ["-x"]
noise = "0.4 + 0.3*x^2"
)toml",
                                     {std::string("dynamics.convention=\"") + conv + "\""});
        return stationary_reference(c.problem)->density;
    };
    CHECK((density("ito") - density("isothermal")).cwiseAbs().maxCoeff() > 0.05);
}

TEST_CASE("Mass is conserved to 1e-12 with reflecting and periodic walls, correlated noise") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, 0.0]
upper = [3.0, 6.283185307179586]
cells = [40, 36]
boundary = ["reflecting", "periodic"]
[dynamics]
drift = ["-x + sin(y)", "1.0 + 0.5*cos(y)"]
noise = [["0.6 + 0.1*sin(y)", "0.1*cos(y)"], ["0.1*cos(y)", "0.4"]]
[initial]
density = "exp(-(x-1)^2)"
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p0 = initial_state(c.problem.grid, c.problem.initial);
    const State p = evolve(op, p0, 2.0, 1e-8, 1e-12);
    const double v = c.problem.grid.cell_volume();
    CHECK(std::abs(p.sum() * v - 1.0) < 1e-12);
    // Column sums of the generator vanish: conservation is structural, not approximate.
    const Eigen::SparseMatrix<double> a = op.matrix(0.0);
    CHECK((Eigen::RowVectorXd::Ones(a.rows()) * a).cwiseAbs().maxCoeff() < 1e-12 * a.diagonal().cwiseAbs().maxCoeff());
}

// Positivity: the semi-discrete operator is an M-matrix (non-negative off-diagonals) for exponential fitting
// at any cell Peclet number, and for upwind; central loses it beyond |z| = 2.
TEST_CASE("Positivity: non-negative off-diagonal coefficients at high Peclet numbers") {
    auto min_offdiag = [](Scheme s) {
        const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [30, 30]
[dynamics]
potential = "3*(x^2 - 1)^2 + 4*y^2"
noise = 0.05
)toml",
                                     {scheme_key(s)});
        const Eigen::SparseMatrix<double> a = FokkerPlanckOperator(c.problem).matrix(0.0);
        double m = HUGE_VAL;
        for (Index k = 0; k < a.outerSize(); ++k)
            for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
                if (it.row() != it.col()) m = std::min(m, it.value());
        return m;
    };
    CHECK(min_offdiag(Scheme::exponential) >= 0.0);
    CHECK(min_offdiag(Scheme::upwind) >= 0.0);
    CHECK(min_offdiag(Scheme::central) < 0.0);
}

// Absorbing walls: pure diffusion on [0, 1] with p = 0 on both walls; the slowest mode sin(pi x) decays at
// rate (s/2) pi^2, and the mass that leaves equals the recorded outflux.
TEST_CASE("Absorbing walls: decay rate of the first sine mode, second order; outflux = -dM/dt") {
    const double s = 0.5, end = 0.3;
    const double rate = 0.5 * s * std::numbers::pi * std::numbers::pi;
    std::vector<double> err;
    std::vector<int> ns = {20, 40, 80};
    for (int n : ns) {
        const ParsedConfig c = config_from(R"toml(
[grid]
lower = [0.0]
upper = [1.0]
cells = [20]
boundary = "absorbing"
[dynamics]
drift = ["0"]
noise = 0.5
[initial]
density = "sin(pi*x)"
)toml",
                                     {"grid.cells=[" + std::to_string(n) + "]"});
        const FokkerPlanckOperator op(c.problem);
        const State p0 = initial_state(c.problem.grid, c.problem.initial);
        const State p = evolve(op, p0, end);
        const double v = c.problem.grid.cell_volume();
        const double observed = -std::log(p.sum() * v) / end;
        err.push_back(std::abs(observed - rate) / rate);
        // outflux equals -dM/dt = -sum(dp/dt) V, exactly (same face fluxes).
        State dp;
        op(p, dp, end);
        CHECK(op.outflux(p, end) == Approx(-dp.sum() * v).epsilon(1e-12));
    }
    INFO(table(ns, err));
    for (double o : orders(err)) CHECK(o == Approx(2.0).margin(0.2));
}

// 3-D Brownian motion: the covariance grows by s t I. For the discrete Laplacian the second moment of the
// cell averages grows by exactly s t as well (it is exact on quadratics), so only the time error remains.
TEST_CASE("3-D diffusion: covariance grows by s t I") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.5, -4.0]
upper = [3.0, 3.5, 4.0]
cells = [24, 28, 32]
[dynamics]
drift = ["0", "0", "0"]
noise = 0.2
[initial]
gaussian = { mean = [0.1, -0.2, 0.3], covariance = [[0.05, 0.01, 0.0], [0.01, 0.05, 0.0], [0.0, 0.0, 0.05]] }
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p0 = initial_state(c.problem.grid, c.problem.initial);
    const State p = evolve(op, p0, 0.5, 1e-10, 1e-14);
    const DiagnosticsCalculator diag(op, std::nullopt);
    const Diagnostics d0 = diag(p0, 0.0), d1 = diag(p, 0.5);
    const Eigen::Matrix3d growth = (d1.covariance - d0.covariance).topLeftCorner<3, 3>();
    // The walls are 7 standard deviations away: their effect is below 1e-10.
    CHECK((growth - 0.1 * Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() < 1e-7);
    CHECK((d1.mean - d0.mean).norm() < 1e-9);
}

// Time-dependent drift mu = v cos(t): the mean moves as v sin(t). With constant v and d the discrete mean
// velocity is exactly v, so a stale coefficient cache would show at once.
TEST_CASE("Time-dependent coefficients are re-evaluated: mean follows v sin t") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-6.0]
upper = [6.0]
cells = [240]
[dynamics]
drift = ["2*cos(3*t)"]
noise = 0.2
[initial]
gaussian = { mean = [0.0], covariance = [[0.2]] }
)toml");
    const FokkerPlanckOperator op(c.problem);
    REQUIRE(op.time_dependent());
    const DiagnosticsCalculator diag(op, std::nullopt);
    State p = initial_state(c.problem.grid, c.problem.initial);
    for (double t : {0.4, 0.9, 1.3}) {
        const State q = evolve(op, p, t, 1e-10, 1e-14);
        CHECK(diag(q, t).mean[0] == Approx(2.0 / 3.0 * std::sin(3 * t)).margin(1e-7));
    }
}

TEST_CASE("Two temperatures: the product density is the fixed point when the potential separates") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-2.5, -3.0]
upper = [2.5, 3.0]
cells = [50, 60]
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2"
noise = [0.8, 0.3]
)toml");
    const auto ref = stationary_reference(c.problem);
    REQUIRE(ref);
    CHECK(ref->kind == "two-temperature");
    const FokkerPlanckOperator op(c.problem);
    State dp;
    op(ref->density, dp, 0.0);
    CHECK(dp.cwiseAbs().maxCoeff() < 1e-12 * ref->density.maxCoeff() * op.matrix(0.0).diagonal().cwiseAbs().maxCoeff());
    // A coupled potential at two temperatures has no closed form (and a circulating current).
    const ParsedConfig coupled = config_from(R"toml(
[grid]
lower = [-2.5, -3.0]
upper = [2.5, 3.0]
cells = [50, 60]
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2 + 0.5*x*y"
noise = [0.8, 0.3]
)toml");
    CHECK_FALSE(stationary_reference(coupled.problem));
}
