// Richardson extrapolation in space (richardson.hpp): the prolongation is exact for quartics and keeps the
// mass; the extrapolated density is fourth order against closed forms where the plain schemes are second
// order, and the error estimate matches the plain scheme's true error.
#include <catch2/catch.hpp>
#include <numbers>

#include "richardson.hpp"
#include "support.hpp"

using namespace fpsolve;
using namespace fpsolve::test;

namespace {

Grid box(int dims, Index n, Boundary b) {
    Grid g;
    g.dims = dims;
    for (int a = 0; a < dims; ++a) {
        g.lower[a] = -1.0 + 0.25 * a;
        g.upper[a] = 2.0 + 0.5 * a;
        g.cells[a] = n + a;  // unequal axes catch a mixed-up stride
        g.boundary[a] = b;
    }
    return g;
}

// A polynomial of degree 4 in every variable (not a tensor product of one per axis).
double quartic(const Point& x) {
    return 1.0 + x[0] - 0.5 * x[0] * x[0] * x[1] + 0.3 * std::pow(x[0], 4) +
           0.2 * std::pow(x[1], 4) * x[2] * x[2] + 0.7 * x[0] * x[1] * x[2] - 0.1 * std::pow(x[2], 3) * x[0];
}

}  // namespace

TEST_CASE("Prolongation reproduces the cell averages of quartics and keeps the mass") {
    const int dims = GENERATE(1, 2, 3);
    const Grid coarse = box(dims, 6, Boundary::reflecting);
    Grid fine = coarse;
    for (int a = 0; a < dims; ++a) fine.cells[a] *= 2;
    const State pc = cell_averages(coarse, quartic), pf = cell_averages(fine, quartic);
    const State prolonged = prolong(coarse, pc);
    INFO("dims " << dims);
    REQUIRE(prolonged.size() == fine.size());
    CHECK((prolonged - pf).cwiseAbs().maxCoeff() < 1e-11 * pf.cwiseAbs().maxCoeff());
    CHECK(prolonged.sum() * fine.cell_volume() == Approx(pc.sum() * coarse.cell_volume()).epsilon(1e-14));
    CHECK((restrict_to(coarse, prolonged) - pc).cwiseAbs().maxCoeff() < 1e-13 * pc.cwiseAbs().maxCoeff());
    CHECK((restrict_to(coarse, pf) - pc).cwiseAbs().maxCoeff() < 1e-11 * pc.cwiseAbs().maxCoeff());
}

// Periodic axes wrap the stencil: for a smooth periodic function the prolongation error is O(h^5).
TEST_CASE("Periodic prolongation is fifth order for a smooth periodic function") {
    auto f = [](const Point& x) { return 2.0 + std::sin(x[0]) * std::cos(2.0 * x[1]); };
    std::vector<double> err;
    std::vector<int> ns = {16, 32, 64};
    for (int n : ns) {
        Grid coarse;
        coarse.dims = 2;
        for (int a = 0; a < 2; ++a) {
            coarse.lower[a] = 0.0;
            coarse.upper[a] = 2.0 * std::numbers::pi;
            coarse.cells[a] = n;
            coarse.boundary[a] = Boundary::periodic;
        }
        Grid fine = coarse;
        for (int a = 0; a < 2; ++a) fine.cells[a] *= 2;
        const State pc = cell_averages(coarse, f);
        err.push_back(l1(fine, prolong(coarse, pc), cell_averages(fine, f)));
        CHECK(prolong(coarse, pc).sum() * fine.cell_volume() ==
              Approx(pc.sum() * coarse.cell_volume()).epsilon(1e-14));
    }
    INFO(table(ns, err));
    for (double o : orders(err)) CHECK(o > 4.6);
}

TEST_CASE("The coarse grid needs an even number of at least 10 cells per axis") {
    Grid g = box(2, 20, Boundary::reflecting);  // 20 x 21 cells
    CHECK_THROWS_AS(coarsened(g), InputError);
    g.cells[1] = 8;
    CHECK_THROWS_AS(coarsened(g), InputError);
    g.cells[1] = 10;
    const Grid c = coarsened(g);
    CHECK(c.cells[0] == 10);
    CHECK(c.cells[1] == 5);
    CHECK(c.spacing(0) == Approx(2.0 * g.spacing(0)));
}

namespace {

struct Case {
    std::string name;
    std::string toml;                           // without [grid].cells
    std::function<double(const Point&)> exact;  // the density at `end`
    double end;
    std::vector<int> cells;  // fine cells per axis, refined by 2
};

std::string with_cells(const std::string& toml, int dims, int n) {
    std::string cells = "cells = [";
    for (int a = 0; a < dims; ++a) cells += (a ? ", " : "") + std::to_string(n);
    return "[grid]\n" + cells + "]\n" + toml;
}

// Gaussian N(m, v) in 1-D.
double normal(double x, double m, double v) {
    return std::exp(-(x - m) * (x - m) / (2.0 * v)) / std::sqrt(2.0 * std::numbers::pi * v);
}

std::vector<Case> cases() {
    std::vector<Case> out;
    {  // OU: L = x^2/2, D = 0.5, from N(1, 0.1): mean e^-t, variance 0.1 e^-2t + 0.25 (1 - e^-2t).
        const double t = 1.0, m = std::exp(-t), v = 0.1 * std::exp(-2 * t) + 0.25 * (1 - std::exp(-2 * t));
        const std::string body = R"toml(lower = [-3.0]
upper = [3.5]
[initial]
gaussian = { mean = [1.0], covariance = [[0.1]] }
[dynamics]
potential = "0.5*x^2"
noise = 0.5
)toml";
        for (const char* scheme : {"exponential", "central"})
            out.push_back({std::string("OU, ") + scheme,
                           body + "scheme = \"" + scheme + "\"\n",
                           [=](const Point& x) { return normal(x[0], m, v); },
                           t,
                           {40, 80, 160}});
    }
    {  // Absorbing walls, pure diffusion D = 0.8 on [0, pi]: sin(x) e^{-0.4 t} / 2 (mass 1 at t = 0).
        const double t = 0.5;
        out.push_back({"absorbing walls",
                       R"toml(lower = [0.0]
upper = [3.141592653589793]
boundary = "absorbing"
[dynamics]
drift = ["0"]
noise = 0.8
[initial]
density = "sin(x)"
)toml",
                       [=](const Point& x) { return 0.5 * std::sin(x[0]) * std::exp(-0.4 * t); },
                       t,
                       {20, 40, 80}});
    }
    {  // 2-D, periodic: constant drift (0.7, -0.4) and D = 0.3 I move and damp a Fourier mode.
        const double t = 0.6, s = 0.3, k2 = 1.0 + 4.0;
        out.push_back({"2-D periodic drift",
                       R"toml(lower = [0.0, 0.0]
upper = [6.283185307179586, 6.283185307179586]
boundary = "periodic"
[dynamics]
drift = ["0.7", "-0.4"]
noise = 0.3
[initial]
density = "1 + 0.5*sin(x)*cos(2*y)"
)toml",
                       [=](const Point& x) {
                           const double a = 0.5 * std::exp(-0.5 * s * k2 * t);
                           return (1.0 + a * std::sin(x[0] - 0.7 * t) * std::cos(2.0 * (x[1] + 0.4 * t))) /
                                  (4.0 * std::numbers::pi * std::numbers::pi);
                       },
                       t,
                       {16, 32, 64}});
    }
    return out;
}

}  // namespace

// p_h - p = h^2 e(x) + O(h^4) for the second-order schemes, so the extrapolation gains two orders
// (measured 4.0-5.2 here) and |p_h - I p_2h| / 3 is the plain error to O(h^2) relative.
TEST_CASE("Richardson extrapolation: fourth order, and the estimate is the plain scheme's error") {
    for (const Case& k : cases()) {
        std::vector<double> plain, extrapolated, estimate;
        for (int n : k.cells) {
            const int dims = k.name.rfind("2-D", 0) == 0 ? 2 : 1;
            const ParsedConfig fc = config_from(with_cells(k.toml, dims, n));
            const Grid& fine = fc.problem.grid;
            Problem coarse_problem = fc.problem;
            coarse_problem.grid = coarsened(fine);
            const FokkerPlanckOperator fine_op(fc.problem), coarse_op(coarse_problem);
            const State pf = evolve(fine_op, initial_state(fine, fc.problem.initial), k.end);
            const State pc =
                evolve(coarse_op, initial_state(coarse_problem.grid, coarse_problem.initial), k.end);
            const State exact = cell_averages(fine, k.exact);
            const SpatialExtrapolation r = richardson_extrapolate(fine, pf, coarse_problem.grid, pc);
            plain.push_back(l1(fine, pf, exact));
            extrapolated.push_back(l1(fine, r.density, exact));
            estimate.push_back(r.error_estimate);
            // Without absorbing walls both grids keep the mass; with them the extrapolated mass is the closer
            // one.
            if (k.name != "absorbing walls")
                CHECK(r.density.sum() * fine.cell_volume() ==
                      Approx(pf.sum() * fine.cell_volume()).epsilon(1e-12));
        }
        INFO(k.name << "\nplain\n"
                    << table(k.cells, plain) << "extrapolated\n"
                    << table(k.cells, extrapolated));
        for (double o : orders(plain)) CHECK(o == Approx(2.0).margin(0.15));
        for (double o : orders(extrapolated)) CHECK(o > 3.6);
        CHECK(extrapolated.back() < 0.05 * plain.back());
        CHECK(estimate.back() == Approx(plain.back()).epsilon(0.05));
    }
}
