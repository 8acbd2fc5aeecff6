// The operator's threaded row loop gives the same bits with any thread count (no reductions whose order
// depends on the threads), on a grid large enough (256^2 >= 65536 cells) for the loop to be threaded.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "thread_budget.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

// The snapshots of integrate() on `threads` threads (the thread count is restored afterwards).
std::vector<State> snapshots_on(int threads, const FokkerPlanckOperator& op, const TimeSettings& ts) {
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    State p = initial_state(op.grid(), op.problem().initial);
    std::vector<State> snaps;
    integrate(op, p, ts, [&](const State& x, double) { snaps.push_back(x); });
#ifdef _OPENMP
    omp_set_num_threads(before);
#endif
    return snaps;
}

}  // namespace

TEST_CASE("right-hand side is bitwise identical with 1 and 2 threads, correlated noise included") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [256, 256]
boundary = ["reflecting", "periodic"]
[dynamics]
drift = ["-x + 0.5*sin(y)", "-0.5*x - y"]
noise = [[0.5, 0.15], [0.15, 0.4]]
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.3, 0.0], [0.0, 0.3]] }
)toml");
    const FokkerPlanckOperator op(c.problem);
    const State p = initial_state(op.grid(), c.problem.initial);
    State one, two;
#ifdef _OPENMP
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    op(p, one, 0.0);
    omp_set_num_threads(2);
    op(p, two, 0.0);
    omp_set_num_threads(before);
#else
    op(p, one, 0.0);
    op(p, two, 0.0);
#endif
    INFO("mass " << p.sum() * op.grid().cell_volume() << ", max dp/dt " << one.cwiseAbs().maxCoeff());
    REQUIRE(one.cwiseAbs().maxCoeff() > 0.0);
    CHECK((one - two).cwiseAbs().maxCoeff() == 0.0);
    // And the threaded result is the sparse generator's product, to the round-off of a sum of up to 13
    // terms that cancel: 16 eps sum_j |A_ij p_j|.
    const Eigen::SparseMatrix<double> a = op.matrix(0.0);
    const State ref = a * p;
    const State terms = a.cwiseAbs() * p.cwiseAbs();
    const double diff = ((one - ref).array() / terms.array().max(1e-300)).abs().maxCoeff();
    INFO("max |matrix-free - sparse| / sum |A_ij p_j| = " << diff);
    CHECK(diff <= 16.0 * 2.2e-16);
}

TEST_CASE("rkc and dopri5 runs are bitwise identical with 1 and 2 threads (vector operations threaded too)") {
    const ParsedConfig c = config_from(R"toml(
[grid]
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
cells = [256, 256]
[dynamics]
drift = ["-x + 0.5*y", "-0.5*x - y"]
noise = [[0.5, 0.15], [0.15, 0.4]]
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.3, 0.0], [0.0, 0.3]] }
)toml");
    const FokkerPlanckOperator op(c.problem);
    for (Integrator which : {Integrator::rkc, Integrator::dopri5}) {
        TimeSettings ts;
        ts.times = {0.0, 0.01, 0.02};
        ts.integrator = which;
        ts.rtol = 1e-5;
        ts.atol = 1e-10;
        const auto one = snapshots_on(1, op, ts), two = snapshots_on(2, op, ts);
        REQUIRE(one.size() == 3);
        REQUIRE(two.size() == 3);
        INFO(to_string(which) << ": L1 change over the run " << (one[2] - one[0]).cwiseAbs().sum() * op.grid().cell_volume());
        CHECK((one[2] - one[0]).cwiseAbs().maxCoeff() > 1e-3);  // the run did move the density
        for (std::size_t k = 0; k < 3; ++k) CHECK((one[k] - two[k]).cwiseAbs().maxCoeff() == 0.0);
    }
}

TEST_CASE("expm runs (four products per sweep over thread chunks) are bitwise identical with 1, 2 and 3 threads") {
    // A periodic first axis too: its end rows wait for the barrier.
    const std::string reflecting = R"toml(
lower = [-3.0, -3.0]
upper = [3.0, 3.0]
boundary = "reflecting"
[dynamics]
potential = "(x^2 - 1)^2 + 0.5*y^2 + 0.3*x*y")toml";
    const std::string periodic = R"toml(
lower = [-3.141592653589793, -3.141592653589793]
upper = [3.141592653589793, 3.141592653589793]
boundary = "periodic"
[dynamics]
potential = "cos(x) + 0.5*cos(y) + 0.3*sin(x + y)")toml";
    for (const std::string& setup : {reflecting, periodic}) {
        const ParsedConfig c = config_from(R"toml(
[grid]
cells = [256, 256]
)toml" + setup + R"toml(
noise = 0.8
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.3, 0.0], [0.0, 0.3]] }
)toml");
        const FokkerPlanckOperator op(c.problem);
        TimeSettings ts;
        ts.times = {0.0, 0.01, 0.05};
        ts.integrator = Integrator::expm;
        const auto one = snapshots_on(1, op, ts), two = snapshots_on(2, op, ts), three = snapshots_on(3, op, ts);
        REQUIRE(one.size() == 3);
        CHECK((one[2] - one[0]).cwiseAbs().maxCoeff() > 1e-3);  // the run did move the density
        // and it is the dopri5 flow
        const State reference = evolve(op, one[0], 0.05, 1e-12, 1e-15);
        CHECK((one[2] - reference).cwiseAbs().maxCoeff() < 1e-9 * reference.cwiseAbs().maxCoeff());
        for (std::size_t k = 0; k < 3; ++k) {
            CHECK((one[k] - two[k]).cwiseAbs().maxCoeff() == 0.0);
            CHECK((one[k] - three[k]).cwiseAbs().maxCoeff() == 0.0);
        }
    }
}

TEST_CASE("the thread budget leaves the cores that other processes keep busy, and always one") {
    CHECK(threads_for(0.0, 2) == 2);
    CHECK(threads_for(0.25, 2) == 2);  // a short burst elsewhere
    CHECK(threads_for(0.5, 2) == 1);
    CHECK(threads_for(1.0, 2) == 1);
    CHECK(threads_for(5.0, 2) == 1);
    CHECK(threads_for(1.0, 8) == 7);
    CHECK(threads_for(-0.2, 4) == 4);  // tick rounding can make the estimate slightly negative
}
