// Four axes (grids/grid.hpp kMaxAxes): the 4-D row kernel against the sparse generator, the Gibbs fixed point,
// and an Ornstein–Uhlenbeck process against its closed form, at sizes that run in seconds.
#include <catch2/catch.hpp>

#include "support.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

using Matrix4 = Eigen::Matrix4d;
using Vector4 = Eigen::Vector4d;

// dX = -A X dt + B dW, D = B B^T: mean e^{-At} m0, covariance C' = -AC - CA^T + D (DESIGN §1), by RK4 with
// steps small enough that its error (~ dt^4) is far below the scheme's.
void ou_moments(const Matrix4& a, const Matrix4& d, double end, Vector4& m, Matrix4& c) {
    const int steps = 20000;
    const double dt = end / steps;
    auto rhs = [&](const Vector4& mm, const Matrix4& cc, Vector4& dm, Matrix4& dc) {
        dm = -a * mm;
        dc = -a * cc - cc * a.transpose() + d;
    };
    for (int k = 0; k < steps; ++k) {
        Vector4 k1m, k2m, k3m, k4m;
        Matrix4 k1c, k2c, k3c, k4c;
        rhs(m, c, k1m, k1c);
        rhs(m + 0.5 * dt * k1m, c + 0.5 * dt * k1c, k2m, k2c);
        rhs(m + 0.5 * dt * k2m, c + 0.5 * dt * k2c, k3m, k3c);
        rhs(m + dt * k3m, c + dt * k3c, k4m, k4c);
        m += dt / 6 * (k1m + 2 * k2m + 2 * k3m + k4m);
        c += dt / 6 * (k1c + 2 * k2c + 2 * k3c + k4c);
    }
}

void set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

// A p on one thread and on two (the caller's thread count restored).
void apply_on_one_and_two_threads(const FokkerPlanckOperator& op, const State& p, State& one, State& two) {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
#endif
    set_threads(1);
    op(p, one, 0.0);
    set_threads(2);
    op(p, two, 0.0);
#ifdef _OPENMP
    omp_set_num_threads(before);
#endif
}

}  // namespace

TEST_CASE("4-D configs: four entries per axis key, default names x y z w, five axes refused") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-1.0, -2.0, -3.0, -4.0]
upper = [1.0, 2.0, 3.0, 4.0]
cells = [4, 5, 6, 7]
boundary = ["reflecting", "periodic", "absorbing", "reflecting"]
[dynamics]
drift = ["-x", "-y", "-z", "-w"]
noise = [0.1, 0.2, 0.3, 0.4]
learning_rate = [1.0, 2.0, 3.0, 2.0]
[initial]
gaussian = { mean = [0.0, 0.0, 0.0, 0.5], covariance = 0.2 }
)toml");
    const Grid& g = c.problem.grid;
    REQUIRE(g.dims == 4);
    CHECK(g.size() == 4 * 5 * 6 * 7);
    CHECK(g.variables[3] == "w");
    CHECK(g.boundary[2] == Boundary::absorbing);
    CHECK(g.centre(3, 6) == Approx(4.0 - 8.0 / 14.0));
    // D = eta_bar P Sigma P, eta_bar = 2: D_33 = 2 (2/2)^2 0.4.
    CHECK(c.problem.diffusion(Point{}, 0.0)(3, 3) == Approx(0.8));
    CHECK(c.problem.drift_at({0.0, 0.0, 0.0, 1.0}, 0.0)[3] == Approx(-1.0));
    // The multi-index of the last cell, and back.
    const auto i = g.unravel(g.size() - 1);
    CHECK((i[0] == 3 && i[1] == 4 && i[2] == 5 && i[3] == 6));

    try {
        config_from("[grid]\nlower = [0,0,0,0,0]\nupper = [1,1,1,1,1]\ncells = [2,2,2,2,2]\n[dynamics]\ndrift = "
                    "[\"0\",\"0\",\"0\",\"0\",\"0\"]\nnoise = 1\n");
        FAIL("five axes were accepted");
    } catch (const ConfigError& e) {
        CHECK_THAT(e.what(), Catch::Contains("grid.lower: expected 1 to 4 entries"));
    }
    Grid five;
    five.dims = 5;
    CHECK_THROWS_WITH(validate(five), Catch::Contains("expected 1 to 4"));
}

// The 4-D row kernel (three strided axes) against the generator assembled face by face (matrix()), which shares
// only the coefficients with it; every wall kind, correlated noise and a transport-only strided axis (whose
// upwind-biased flux reads two cells upstream) included. 16^4 cells: the row loop is threaded.
TEST_CASE("4-D right-hand side: the row kernel is the sparse generator's product, the same bits on 1 and 2 threads") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.0, -3.0, -3.0]
upper = [3.0, 3.0, 3.0, 3.0]
cells = [16, 14, 12, 18]
boundary = ["reflecting", "periodic", "absorbing", "periodic"]
[dynamics]
drift = ["w", "-y + 0.3*x", "-z + 0.2*sin(y)", "-x - 0.5*w + 0.1*z"]
noise = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.1, 0.05], [0.0, 0.1, 0.4, 0.0], [0.0, 0.05, 0.0, 0.3]]
[initial]
gaussian = { mean = [0.5, -0.3, 0.2, 0.1], covariance = 0.4 }
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p = initial_state(op.grid(), c.problem.initial);
    State one, two;
    apply_on_one_and_two_threads(op, p, one, two);
    REQUIRE(one.cwiseAbs().maxCoeff() > 0.0);
    CHECK((one - two).cwiseAbs().maxCoeff() == 0.0);
    CHECK(op.row_reach(0.0) == 2);  // the transport-only first axis

    // Up to 2 terms per face and wall, 12 cross terms per face, a far cell: 64 eps of the sum of |terms|.
    const Eigen::SparseMatrix<double> a = op.matrix(0.0);
    const State ref = a * p;
    const State terms = a.cwiseAbs() * p.cwiseAbs();
    const double diff = ((one - ref).array() / terms.array().max(1e-300)).abs().maxCoeff();
    INFO("max |matrix-free - sparse| / sum |A_ij p_j| = " << diff);
    CHECK(diff <= 64.0 * 2.2e-16);

    // apply_row, row by row, and apply_rows' sink give the same bits as operator().
    State by_row(p.size()), by_sink = State::Zero(p.size());
    for (Index r = 0; r < op.rows(); ++r) op.apply_row(r, p.data(), 0.0, by_row.data() + r * op.row_length());
    CHECK((by_row - one).cwiseAbs().maxCoeff() == 0.0);
    auto copy = [](void* out, Index first, Index count, const double* values) {
        std::copy(values, values + count, static_cast<State*>(out)->data() + first);
    };
    op.apply_rows(p, 0.0, FokkerPlanckOperator::RowSink{&by_sink, copy});
    CHECK((by_sink - one).cwiseAbs().maxCoeff() == 0.0);

    // Column sums vanish but for the absorbing axis' walls: what leaves is the outflux.
    const double mass_rate = one.sum() * op.grid().cell_volume();
    CHECK(mass_rate == Approx(-op.outflux(p, 0.0)).epsilon(1e-10));
    CHECK(op.outflux(p, 0.0) > 0.0);
}

// The row kernel sweeps consecutive rows of a plane away from the walls as one line (run_length) and recomputes
// the cells where one row meets the next: the same bits as every row on its own (apply_row), on 1 and 2 threads,
// for each wall kind on each axis of a 3-D grid (40 x 40 x 45 cells: the row loop is threaded).
TEST_CASE("3-D right-hand side: rows swept as one line give the bits of rows one at a time") {
    const char* boundaries[] = {R"(["absorbing", "periodic", "reflecting"])", R"(["periodic", "reflecting", "absorbing"])",
                                R"(["reflecting", "absorbing", "periodic"])"};
    for (const char* boundary : boundaries) {
        INFO("boundary = " << boundary);
        const ParsedConfig c = config_from(std::string(R"toml(
[grid]
lower = [-3.0, -3.0, -3.0]
upper = [3.0, 3.0, 3.0]
cells = [40, 40, 45]
boundary = )toml") + boundary + R"toml(
[dynamics]
potential = "(x^2 - 1)^2 + (y - x/2)^2 + z^2 / 2 + 0.3*x*z"
noise = 1.0
[initial]
gaussian = { mean = [0.5, -0.3, 0.2], covariance = 0.4 }
)toml");
        const FokkerPlanckOperator op(c.problem);
        const State p = initial_state(op.grid(), c.problem.initial);
        State one, two;
        apply_on_one_and_two_threads(op, p, one, two);
        REQUIRE(one.cwiseAbs().maxCoeff() > 0.0);
        CHECK((one - two).cwiseAbs().maxCoeff() == 0.0);
        State by_row(p.size());
        for (Index r = 0; r < op.rows(); ++r) op.apply_row(r, p.data(), 0.0, by_row.data() + r * op.row_length());
        CHECK((by_row - one).cwiseAbs().maxCoeff() == 0.0);
        // And the generator assembled face by face: two-point faces, 16 eps of the sum of |terms|.
        const Eigen::SparseMatrix<double> a = op.matrix(0.0);
        const State terms = a.cwiseAbs() * p.cwiseAbs();
        const double diff = ((one - a * p).array() / terms.array().max(1e-300)).abs().maxCoeff();
        INFO("max |matrix-free - sparse| / sum |A_ij p_j| = " << diff);
        CHECK(diff <= 16.0 * 2.2e-16);
    }
}

TEST_CASE("4-D Gibbs density is a discrete fixed point to round-off") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-2.0, -2.0, -2.5, -2.0]
upper = [2.0, 2.0, 2.5, 2.0]
cells = [8, 9, 10, 8]
boundary = ["reflecting", "reflecting", "reflecting", "periodic"]
[dynamics]
potential = "(x^2 - 1)^2 + y^2/2 + 0.3*x*y + z^2/2 - 0.2*cos(1.5707963267948966*w)*x"
noise = 0.8
)toml");
    const FokkerPlanckOperator op(c.problem);
    const auto ref = stationary_reference(c.problem);
    REQUIRE(ref);
    CHECK(ref->kind == "gibbs");
    State dp;
    op(ref->density, dp, 0.0);
    const double scale = (op.matrix(0.0).cwiseAbs() * ref->density).maxCoeff();
    INFO("max |A p_gibbs| / max sum |A_ij p_j| = " << dp.cwiseAbs().maxCoeff() / scale);
    CHECK(dp.cwiseAbs().maxCoeff() <= 1e-13 * scale);
}

// dX = -A X dt + B dW in 4-D with a coupled, non-normal A and constant diagonal D, from a Gaussian, to t = 0.5:
// mean and covariance against the closed form on 12^4 and 16^4 cells. The error is O(h^2) (moments of cell
// averages at the centres alone add h^2/12 to the variances), so the larger grid's is (12/16)^2 = 0.56 of the
// smaller's.
TEST_CASE("4-D Ornstein-Uhlenbeck mean and covariance against the closed form, second order") {
    Matrix4 a;
    a << 1.0, 0.3, 0.0, 0.0,
        -0.3, 1.0, 0.2, 0.0,
         0.0, 0.0, 0.8, 0.25,
         0.1, 0.0, -0.25, 0.9;
    const Matrix4 d = Vector4(0.5, 0.4, 0.6, 0.3).asDiagonal();
    const double end = 0.5;
    Vector4 m(0.6, -0.4, 0.3, 0.2);
    Matrix4 cov = 0.3 * Matrix4::Identity();
    ou_moments(a, d, end, m, cov);

    std::vector<double> err;
    const std::vector<int> ns = {12, 16};
    for (int n : ns) {
        const std::string cells = std::to_string(n);
        const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-4.5, -4.5, -4.5, -4.5]
upper = [4.5, 4.5, 4.5, 4.5]
cells = [12, 12, 12, 12]
[dynamics]
drift = ["-(x + 0.3*y)", "-(-0.3*x + y + 0.2*z)", "-(0.8*z + 0.25*w)", "-(0.1*x - 0.25*z + 0.9*w)"]
noise = [0.5, 0.4, 0.6, 0.3]
[initial]
gaussian = { mean = [0.6, -0.4, 0.3, 0.2], covariance = 0.3 }
)toml",
                                           {"grid.cells=[" + cells + "," + cells + "," + cells + "," + cells + "]"});
        const FokkerPlanckOperator op(c.problem);
        const State p = evolve(op, initial_state(c.problem.grid, c.problem.initial), end, 1e-10, 1e-13);
        const Diagnostics dg = DiagnosticsCalculator(op, std::nullopt)(p, end);
        CHECK(std::abs(dg.mass - 1.0) < 1e-12);
        CHECK(dg.min_density >= 0.0);
        err.push_back(std::max((dg.mean - m).cwiseAbs().maxCoeff(), (dg.covariance - cov).cwiseAbs().maxCoeff()));
    }
    INFO(table(ns, err));
    const double order = std::log(err[0] / err[1]) / std::log(16.0 / 12.0);
    INFO("observed order " << order);
    CHECK(order == Approx(2.0).margin(0.3));
    // Measured: 6.23e-2 on 12^4, 3.59e-2 on 16^4 (order 1.91); the h^2 law from 12^4 predicts 3.50e-2.
    CHECK(err[1] < 0.04);
}
