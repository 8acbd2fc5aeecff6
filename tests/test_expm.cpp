// The exact exponential stepper ("expm", time/chebyshev_exponential.hpp) and the detailed-balance test it
// relies on (solver/detailed_balance.hpp): the Chebyshev coefficients against Boost's Bessel functions,
// exp(t A) p against a dense matrix exponential (Eigen's MatrixFunctions), mass, the split when the series'
// terms grow (a density started where the Gibbs weight is tiny), and the refusals.
#include <boost/math/special_functions/bessel.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <unsupported/Eigen/MatrixFunctions>

#include "chebyshev_exponential.hpp"
#include "detailed_balance.hpp"
#include "reference.hpp"
#include "support.hpp"

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

ParsedConfig double_well_2d(int n, double noise, const std::string& initial) {
    return config_from(R"toml(
[grid]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
cells = [)toml" + std::to_string(n) +
                       ", " + std::to_string(n) + R"toml(]
[dynamics]
potential = "(x^2 - 1)^2 + (y^2 - 1)^2 + 0.3*x*y"
noise = )toml" + std::to_string(noise) +
                       R"toml(
[initial]
density = ")toml" + initial +
                       R"toml("
)toml");
}

// A rotational drift: a probability current circulates, no detailed balance.
// A tilted periodic ring: every coupling alone balances, the cycle around the ring does not.
ParsedConfig tilted_ring() {
    return config_from(R"toml(
[grid]
lower = [0.0]
upper = [6.283185307179586]
cells = [50]
boundary = "periodic"
[dynamics]
drift = ["0.4 + cos(x)"]
noise = 0.5
[initial]
density = "1"
)toml");
}

ParsedConfig rotating() {
    return config_from(R"toml(
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [16, 16]
[dynamics]
drift = ["-x + y", "-x - y"]
noise = 0.5
[initial]
density = "1"
)toml");
}

// A potential that depends on t.
ParsedConfig driven_1d(int cells) {
    return config_from(R"toml(
[grid]
lower = [-3.0]
upper = [3.0]
cells = [)toml" + std::to_string(cells) + R"toml(]
[dynamics]
potential = "x^2 * (1 + 0.5*sin(t))"
noise = 0.5
[initial]
density = "1"
)toml");
}

// p at each time by integrate() with the given stepper.
std::vector<State> run(const FokkerPlanckOperator& op, const std::vector<double>& times, Integrator which,
                       IntegrationReport* report = nullptr, double rtol = 1e-8) {
    State p = initial_state(op.grid(), op.problem().initial);
    TimeSettings ts;
    ts.times = times;
    ts.integrator = which;
    ts.rtol = rtol;
    std::vector<State> out;
    const IntegrationReport r = integrate(op, p, ts, [&](const State& x, double) { out.push_back(x); });
    if (report) *report = r;
    return out;
}

double max_rel(const State& a, const State& b) {
    return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("Chebyshev coefficients of the exponential are e^-z I_k(z), cut at the tolerance, adding up to 1") {
    for (double z : {1e-3, 0.5, 3.0, 40.0, 600.0}) {
        const double tol = 1e-12;
        const auto c = exponential_chebyshev_coefficients(z, tol);
        double sum = 0.0, omitted = 0.0;
        for (std::size_t k = 0; k < c.size(); ++k) {
            const double exact =
                (k ? 2.0 : 1.0) * std::exp(-z) * boost::math::cyl_bessel_i(static_cast<double>(k), z);
            sum += exact;
            // the kept coefficients are scaled by 1 / (1 - omitted), omitted <= tol
            CHECK(std::abs(c[k] - exact) <= 2.0 * tol * exact + 1e-16);
        }
        for (std::size_t k = c.size(); k < c.size() + 200; ++k)
            omitted += 2.0 * std::exp(-z) * boost::math::cyl_bessel_i(static_cast<double>(k), z);
        CAPTURE(z, c.size());
        CHECK(omitted <= tol);
        CHECK(omitted > 0.0);
        CHECK(std::abs(1.0 - sum - omitted) < 1e-13);  // Boost's sum: the identity e^z = I_0 + 2 sum I_k
        // the cut is tight: dropping the last kept term as well would exceed the tolerance
        const double last =
            2.0 * std::exp(-z) * boost::math::cyl_bessel_i(static_cast<double>(c.size() - 1), z);
        CHECK(omitted + last > tol);
        double kept = 0.0;
        for (double v : c) kept += v;
        CHECK(std::abs(kept - 1.0) < 1e-15);
        // the series of exp(z (y - 1)) at y in [-1, 1] by Clenshaw, to the tolerance
        for (double y : {-1.0, -0.3, 0.0, 0.7, 1.0}) {
            double b1 = 0.0, b2 = 0.0;
            for (std::size_t k = c.size(); k-- > 1;) {
                const double b0 = 2.0 * y * b1 - b2 + c[k];
                b2 = b1;
                b1 = b0;
            }
            CHECK(std::abs(y * b1 - b2 + c[0] - std::exp(z * (y - 1.0))) <= 2.0 * tol);
        }
    }
}

TEST_CASE("detailed balance: a potential with noise s I has it, with the discrete Gibbs density as weight") {
    const ParsedConfig c = double_well_2d(24, 0.8, "1");
    const FokkerPlanckOperator op(c.problem);
    const DetailedBalance b = detailed_balance(op.matrix(0.0));
    REQUIRE(b.holds);
    const auto ref = stationary_reference(c.problem);
    REQUIRE(ref);
    State w = (b.log_weight.array() - b.log_weight.maxCoeff()).exp();
    w /= w.sum() * op.grid().cell_volume();
    CHECK(max_rel(w, ref->density) < 1e-12);
}

TEST_CASE("detailed balance fails where a current circulates, and says where") {
    SECTION("rotational drift") {
        const ParsedConfig c = rotating();
        const DetailedBalance b = detailed_balance(FokkerPlanckOperator(c.problem).matrix(0.0));
        CHECK_FALSE(b.holds);
        CHECK_THAT(b.why, Catch::Contains("circulates"));
    }
    SECTION("a tilted periodic ring: every coupling alone balances, the winding cycle does not") {
        const ParsedConfig c = tilted_ring();
        const DetailedBalance b = detailed_balance(FokkerPlanckOperator(c.problem).matrix(0.0));
        CHECK_FALSE(b.holds);
    }
    SECTION("upwind drift without noise: coupled one way only") {
        Eigen::SparseMatrix<double> a(3, 3);
        a.insert(1, 0) = 1.0, a.insert(0, 0) = -1.0, a.insert(2, 1) = 1.0, a.insert(1, 1) = -1.0;
        const DetailedBalance b = detailed_balance(a);
        CHECK_FALSE(b.holds);
        CHECK_THAT(b.why, Catch::Contains("one way"));
    }
}

TEST_CASE("the operator's detailed-balance verdict (matrix-free where it can be) agrees with the matrix's") {
    auto check = [](const ParsedConfig& c, bool expected) {
        const FokkerPlanckOperator op(c.problem);
        std::string why;
        CHECK(detailed_balance(op.matrix(0.0)).holds == expected);
        CHECK(op.in_detailed_balance(0.0, &why) == expected);
        CHECK(why.empty() == expected);
        CHECK(op.in_detailed_balance(0.0) == expected);  // cached
    };
    SECTION("potentials with noise s I hold: reflecting, a periodic torus, 3-D with absorbing walls") {
        check(double_well_2d(24, 0.8, "1"), true);
        check(config_from(R"toml(
[grid]
lower = [0.0, 0.0]
upper = [4.0, 3.0]
cells = [16, 12]
boundary = "periodic"
[dynamics]
potential = "cos(pi*x/2) + 0.5*cos(2*pi*y/3) + 0.3*sin(pi*x/2 + 2*pi*y/3)"
noise = 0.8
[initial]
density = "1"
)toml"),
              true);
        check(config_from(R"toml(
[grid]
lower = [-2.0, -1.0, -1.5]
upper = [2.0, 1.0, 1.5]
cells = [10, 7, 9]
boundary = ["absorbing", "reflecting", "periodic"]
[dynamics]
potential = "x^2 + 0.5*y^2 + 0.2*cos(2*pi*z/3)*x"
noise = 0.6
[initial]
density = "1"
)toml"),
              true);
    }
    SECTION("a periodic axis of two cells (two faces couple the same pair): the matrix decides") {
        check(config_from(R"toml(
[grid]
lower = [0.0, -1.0]
upper = [1.0, 1.0]
cells = [2, 9]
boundary = ["periodic", "reflecting"]
[dynamics]
potential = "y^2 + 0.3*cos(2*pi*x)"
noise = 0.5
[initial]
density = "1"
)toml"),
              true);
    }
    SECTION("currents: a rotational drift, a tilted ring (only the winding cycle breaks it), two temperatures") {
        check(rotating(), false);
        check(config_from(R"toml(
[grid]
lower = [-2.0, -2.0]
upper = [2.0, 2.0]
cells = [12, 10]
[dynamics]
potential = "x^2 + y^2 + x*y"
noise = 0.6
learning_rate = [1.0, 0.5]
[initial]
density = "1"
)toml"),
              false);
        check(tilted_ring(), false);
    }
}

TEST_CASE("expm: exp(t A) p equals the dense matrix exponential, keeps mass, and is exact in time") {
    const ParsedConfig c = double_well_2d(14, 0.8, "exp(-((x-1)^2 + (y-1)^2) / 0.1)");
    const FokkerPlanckOperator op(c.problem);
    const Eigen::MatrixXd a = Eigen::MatrixXd(op.matrix(0.0));
    const State p0 = initial_state(op.grid(), c.problem.initial);
    const std::vector<double> times = {0.0, 0.01, 0.3, 2.0, 2.05, 9.0};
    IntegrationReport r;
    const auto got = run(op, times, Integrator::expm, &r);
    REQUIRE(got.size() == times.size());
    CHECK(r.integrator == Integrator::expm);
    CHECK(r.steps == times.size() - 1);  // one series per snapshot interval
    for (std::size_t k = 0; k < times.size(); ++k) {
        const State exact = (a * times[k]).exp() * p0;
        CAPTURE(times[k]);
        CHECK(max_rel(got[k], exact) < 1e-9);  // the series is cut at rtol / 100 = 1e-10
        CHECK(std::abs(got[k].sum() - p0.sum()) < 1e-13 * p0.sum());
    }
}

TEST_CASE("expm: a density started where the Gibbs weight is tiny splits the step and stays accurate") {
    // Per-axis learning rates that restore Gibbs (noise ∝ 1 / learning rate), uniform start: the x axis is
    // drift-dominated (rates in ratio up to e^14 across one face), the series' terms for the whole step grow
    // far beyond round-off, and the stepper shortens it.
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-2.5, -2.5]
upper = [2.5, 2.5]
cells = [16, 16]
[dynamics]
potential = "(x^2 - 1)^2 + (y - 0.5*x)^2 + 0.2*x*y^2"
noise = [0.5, 2.0]
learning_rate = [0.8, 0.2]
[initial]
density = "1"
)toml");
    const FokkerPlanckOperator op(c.problem);
    const Eigen::MatrixXd a = Eigen::MatrixXd(op.matrix(0.0));
    const State p0 = initial_state(op.grid(), c.problem.initial);
    IntegrationReport r;
    const auto got = run(op, {0.0, 0.5, 3.0}, Integrator::expm, &r);
    CHECK(r.rejected_steps > 0);
    for (std::size_t k = 1; k < got.size(); ++k) {
        const State exact = (a * (k == 1 ? 0.5 : 3.0)).exp() * p0;
        CHECK(max_rel(got[k], exact) < 1e-9);
        CHECK(got[k].minCoeff() > -1e-9 * got[k].maxCoeff());
    }
}

TEST_CASE("expm on a periodic torus (rows 0 and N-1 coupled) equals the dense matrix exponential") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [0.0, 0.0]
upper = [6.283185307179586, 6.283185307179586]
cells = [13, 11]
boundary = "periodic"
[dynamics]
potential = "cos(x) + 0.5*cos(y) + 0.3*sin(x + y)"
noise = 0.6
[initial]
density = "exp(-((x-1)^2 + (y-2)^2))"
)toml");
    const FokkerPlanckOperator op(c.problem);
    const Eigen::MatrixXd a = Eigen::MatrixXd(op.matrix(0.0));
    const State p0 = initial_state(op.grid(), c.problem.initial);
    const auto got = run(op, {0.0, 0.7, 4.0}, Integrator::expm);
    CHECK(max_rel(got[1], (a * 0.7).exp() * p0) < 1e-9);
    CHECK(max_rel(got[2], (a * 4.0).exp() * p0) < 1e-9);
}

TEST_CASE("expm agrees with a tight dopri5 run on a larger grid, to far below rkc's time error") {
    const ParsedConfig c = double_well_2d(48, 0.8, "exp(-((x-1)^2 + (y-1)^2) / 0.05)");
    const FokkerPlanckOperator op(c.problem);
    const State p0 = initial_state(op.grid(), c.problem.initial);
    const State reference = evolve(op, p0, 1.5, 1e-12, 1e-15);
    const auto got = run(op, {0.0, 0.5, 1.5}, Integrator::expm);
    CHECK(l1(op.grid(), got.back(), reference) < 1e-9);
}

TEST_CASE("expm refuses what it cannot do exactly: time-dependent or non-reversible dynamics") {
    TimeSettings ts;
    ts.times = {0.0, 1.0};
    ts.integrator = Integrator::expm;
    const ParsedConfig c = rotating();
    CHECK_THROWS_AS(resolve(ts, FokkerPlanckOperator(c.problem)), InputError);
    CHECK_THROWS_WITH(resolve(ts, FokkerPlanckOperator(c.problem)), Catch::Contains("detailed balance"));
    const ParsedConfig driven = driven_1d(30);
    CHECK_THROWS_WITH(resolve(ts, FokkerPlanckOperator(driven.problem)), Catch::Contains("depend on t"));
}

TEST_CASE("auto takes expm when its series need fewer products than the explicit stepper's expected count") {
    const ParsedConfig c = double_well_2d(96, 0.8, "exp(-((x-1)^2 + (y-1)^2) / 0.05)");
    const FokkerPlanckOperator op(c.problem);
    const double rho = op.spectral_radius_bound(0.0);
    TimeSettings ts;
    ts.rtol = 1e-6;

    // One long interval: a few sqrt(rho T) products against rkc's accuracy-limited stages.
    ts.times = {0.0, 20.0};
    TimeSettings s = resolve(ts, op);
    CHECK(s.integrator == Integrator::expm);
    CHECK_THAT(s.reason, Catch::Contains("detailed balance") && Catch::Contains("expm"));
    // The prediction is the stepper's real count to a few terms: no splits for a density inside the wells,
    // but the cut moves out a little with the growth the stepper measures (chebyshev_exponential.hpp).
    IntegrationReport report;
    run(op, ts.times, Integrator::expm, &report, ts.rtol);
    CHECK(static_cast<double>(report.rhs_evaluations) ==
          Approx(exponential_product_count(ts.times, rho, ts.rtol)).epsilon(0.05));

    // Dense snapshots: one series per interval costs more than rkc's steps; rkc stays.
    ts.times.clear();
    for (int k = 0; k <= 400; ++k) ts.times.push_back(0.05 * k);
    s = resolve(ts, op);
    CHECK(s.integrator == Integrator::rkc);
    CHECK_THAT(s.reason, Catch::Contains("kept"));
    CHECK(exponential_product_count(ts.times, rho, ts.rtol) >
          expected_rhs_count(Integrator::rkc, rho, 0.0, 20.0, ts.rtol));

    // Beyond the recurrence's reach (z = 5e14) the asymptotic count: finite, no giant allocation.
    const double huge = exponential_product_count({0.0, 1e6}, 1e9, 1e-8);
    CHECK(huge == Approx(std::sqrt(2.0 * 5e14 * std::log(1e10))).epsilon(1e-12));

    // Never for dynamics without detailed balance or depending on t.
    ts.times = {0.0, 20.0};
    const ParsedConfig r = rotating();
    CHECK(resolve(ts, FokkerPlanckOperator(r.problem)).integrator != Integrator::expm);
    const ParsedConfig driven = driven_1d(200);
    CHECK(resolve(ts, FokkerPlanckOperator(driven.problem)).integrator != Integrator::expm);
}
