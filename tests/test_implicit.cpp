// The second-order steppers for stiff grids (TR-BDF2 "implicit", Runge–Kutta–Chebyshev "rkc"):
// observed order 2 in time against the exact solution of the semi-discrete system, L-stability,
// positivity and mass, and the full integrate() path against dopri5 on a 2-D OU with correlated noise.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "dense_adaptive_stepper.hpp"
#include "rkc.hpp"
#include "support.hpp"
#include "tr_bdf2.hpp"

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

// The operator as the steppers see it (what integrator.cpp passes them, without the stop flag).
struct Sys {
    const FokkerPlanckOperator* op;
    void operator()(const State& p, State& f, double t) const { (*op)(p, f, t); }
    Eigen::SparseMatrix<double> matrix(double t) const { return op->matrix(t); }
    double spectral_radius_bound(double t) const { return op->spectral_radius_bound(t); }
    bool time_dependent() const { return op->time_dependent(); }
};

// 1-D periodic pure diffusion on [0, 1), D = s: cell values p_j = 1 + a cos(2 pi m x_j) are an eigenvector
// of the scheme with eigenvalue lambda_m = -(2 s / h^2) sin^2(pi m h), so the semi-discrete solution at T is
// 1 + a e^{lambda_m T} cos(2 pi m x_j) exactly: any remaining error is the stepper's.
struct FourierMode {
    ParsedConfig config;
    FokkerPlanckOperator op;
    explicit FourierMode(int cells)
        : config(config_from(R"toml(
[grid]
lower = [0.0]
upper = [1.0]
cells = [)toml" + std::to_string(cells) + R"toml(]
boundary = "periodic"
[dynamics]
drift = ["0"]
noise = 0.1
[initial]
density = "1"
)toml")),
          op(config.problem) {}
    State mode(int m, double amplitude, double t) const {
        const Grid& g = op.grid();
        const double h = g.spacing(0), s = 0.1;
        const double lambda = -(2.0 * s / (h * h)) * std::pow(std::sin(std::numbers::pi * m * h), 2);
        State p(g.size());
        for (Index j = 0; j < g.size(); ++j)
            p[j] = 1.0 + amplitude * std::exp(lambda * t) * std::cos(2.0 * std::numbers::pi * m * g.centre(0, j));
        return p;
    }
};

// Fixed steps h = T/N of a method, from the exact start.
template <class Method>
State fixed_steps(Method& method, const Sys& sys, State y, double end, int steps) {
    State f, y1, f1, est;
    double t = 0.0;
    method.derivative(sys, y, t, f);
    for (int k = 0; k < steps; ++k) {
        double h = end / steps;
        method.step(sys, t, y, f, h, y1, f1, est);
        t += h;
        std::swap(y, y1);
        std::swap(f, f1);
    }
    return y;
}

}  // namespace

// Both methods declare order 2. Errors of a smooth mode (lambda T = -1.97) with N = 10 .. 80 steps: the
// leading term C h^2 dominates, the next is O(h lambda) ~ 0.2 .. 0.025 relatively, so the observed
// orders of the last two halvings lie within 2 +- 0.15.
TEMPLATE_TEST_CASE("second-order steppers converge at order 2 in time on a decaying Fourier mode", "", TrBdf2Method,
                   RkcMethod) {
    STATIC_REQUIRE(TestType::order == 2);
    const FourierMode fm(64);
    const Sys sys{&fm.op};
    const double end = 1.0;
    const State exact = fm.mode(1, 0.5, end);
    std::vector<int> ns{10, 20, 40, 80};
    std::vector<double> err;
    for (int n : ns) {
        TestType method;
        const State y = fixed_steps(method, sys, fm.mode(1, 0.5, 0.0), end, n);
        err.push_back((y - exact).cwiseAbs().maxCoeff());
    }
    const auto o = orders(err);
    INFO(table(ns, err));
    CHECK(o[1] == Approx(2.0).margin(0.15));
    CHECK(o[2] == Approx(2.0).margin(0.15));
}

// L-stability: the mode m = 32 on 128 cells has h lambda = -1638 for one step h = 1. TR-BDF2's amplification
// R(z) -> (1 - 2w) / (-d z) = -2.9e-3 there (asserted: |R| < 4e-3), where a trapezoidal rule keeps
// R ~ -0.999; the mass (the constant mode) is untouched.
TEST_CASE("TR-BDF2 damps the stiffest modes in one step and keeps the mean") {
    const FourierMode fm(128);
    const Sys sys{&fm.op};
    TrBdf2Method method;
    const State y = fixed_steps(method, sys, fm.mode(32, 0.5, 0.0), 1.0, 1);
    CHECK((y.array() - 1.0).abs().maxCoeff() < 0.5 * 4e-3);
    CHECK(y.mean() == Approx(1.0).epsilon(1e-14));
    CHECK(method.factorisations() == 1);
}

// The adaptive driver: a narrow bump relaxing in a double well, 25 snapshots interpolated in between steps.
// Mass is conserved to round-off by every stage (the columns of A sum to 0), and a step that would
// push a density below -atol = -1e-13 is refused, so every snapshot stays above -1e-12.
TEST_CASE("implicit and rkc keep mass to 1e-12 and densities above -1e-12 on a double well") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-2.5]
upper = [2.5]
cells = [400]
boundary = "reflecting"
[dynamics]
potential = "(x^2 - 1)^2"
noise = 0.6
[initial]
density = "exp(-(x - 1)^2 / 0.002)"
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p0 = initial_state(op.grid(), c.problem.initial);
    const double v = op.grid().cell_volume();
    for (Integrator which : {Integrator::implicit, Integrator::rkc}) {
        TimeSettings ts;
        for (int k = 0; k <= 24; ++k) ts.times.push_back(0.5 * k);
        ts.integrator = which;
        ts.rtol = 1e-6;
        ts.atol = 1e-13;
        State p = p0;
        double worst_mass = 0.0, lowest = HUGE_VAL;
        const IntegrationReport r = integrate(op, p, ts, [&](const State& x, double) {
            worst_mass = std::max(worst_mass, std::abs(x.sum() * v - 1.0));
            lowest = std::min(lowest, x.minCoeff());
        });
        INFO(to_string(which) << ": " << r.steps << " steps, " << r.rejected_steps << " rejected");
        CHECK(worst_mass < 1e-12);
        CHECK(lowest > -1e-12);
        CHECK(r.steps > 0);
    }
}

// 2-D OU with correlated noise and a rotating drift: the same semi-discrete system integrated by dopri5
// at rtol 1e-11 is the reference. A second-order method with per-step tolerance rtol = 1e-7 reaches a
// global error of order (steps) x rtol x |p|: the L1 distance must stay below 2e-5, and it must fall
// when rtol falls by 100 (by about 100^(2/3) ~ 20 for an h^3 error estimate; asserted: by more than 5).
TEST_CASE("implicit and rkc agree with dopri5 on a 2-D OU run, and their error follows rtol") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [48, 48]
boundary = "reflecting"
[dynamics]
drift = ["-x + 0.5*y", "-0.5*x - y"]
noise = [[0.5, 0.15], [0.15, 0.4]]
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.1, 0.0], [0.0, 0.1]] }
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p0 = initial_state(op.grid(), c.problem.initial);
    const State reference = evolve(op, p0, 1.0);
    for (Integrator which : {Integrator::implicit, Integrator::rkc}) {
        std::vector<double> err;
        for (double rtol : {1e-7, 1e-9}) {
            TimeSettings ts;
            ts.times = {0.0, 0.5, 1.0};
            ts.integrator = which;
            ts.rtol = rtol;
            ts.atol = rtol * 1e-3;
            State p = p0;
            State at_end;
            integrate(op, p, ts, [&](const State& x, double t) {
                if (t == 1.0) at_end = x;
            });
            err.push_back(l1(op.grid(), at_end, reference));
        }
        INFO(to_string(which) << ": L1 to dopri5 " << err[0] << " (rtol 1e-7), " << err[1] << " (rtol 1e-9)");
        CHECK(err[0] < 2e-5);
        CHECK(err[1] < err[0] / 5.0);
    }
}
