// bench_speed: how fast fpsolve is on this machine, in one run (issue 6). Not a test: nothing is asserted.
//
//   1. memory bandwidth: STREAM triad a = b + s c (24 bytes per element counted), twice: over 3 x 128 MiB
//      (main memory) and over the same footprint as the right-hand side's arrays (on this machine class
//      the 1024^2 working set, 48 MiB, stays in the last-level cache: that bandwidth is its roofline)
//   2. right-hand side throughput on double wells of about 2^20 cells in 2, 3 and 4 dimensions (1024^2,
//      102^3, 32^4), cells/s, and its fraction of the roofline bandwidth / (16 + 16 d) B per cell: a cell
//      reads p (8 B; its neighbours come from cache), the face coefficients a, b of each axis (16 B per
//      axis) and writes dp/dt (8 B), STREAM's convention (no write-allocate traffic); also one rk4 step per
//      cell, and both per-cell costs over the 2-D one
//   3. time to stationarity: wall time until the L1 distance to the Gibbs density is below 1e-6, for a
//      double well at several grid sizes with each integrator (runs whose explicit step count would
//      exceed a budget are skipped and say so)
//   4. 2-D Ornstein–Uhlenbeck with correlated noise to t = 1 on 64^2, 128^2, 256^2: wall time and the L1
//      error against the cell averages of the exact Gaussian (mean e^{-At} m0, covariance from
//      C' = -AC - CA^T + D); rows "+R" add the grid.richardson extrapolation (the run on the grid of half the
//      cells, then (4 p_h - I p_2h) / 3: richardson.hpp), with both runs in the wall time
//   5. peak resident memory per cell of each phase (VmHWM after resetting the high-water mark): the kernels in
//      2, set-up and integrate of each run in 3, each run in 4
//
//   build/bin/bench_speed            the full run (about 10 minutes on 2 cores)
//   build/bin/bench_speed --quick    small sizes, seconds (a smoke run)
//   build/bin/bench_speed --scale    adds a 2048^2 and a 128^3 run (rkc)
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "block_algebra.hpp"
#include "config.hpp"
#include "initial_density.hpp"
#include "integrator.hpp"
#include "odeint_eigen.hpp"
#include "reference.hpp"
#include "richardson.hpp"
#include "subnormals.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace fpsolve;
namespace odeint = boost::numeric::odeint;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Peak resident set since the last reset_peak(), in bytes above base_bytes (Linux: writing 5 to clear_refs resets
// the high-water mark VmHWM; getrusage's ru_maxrss also keeps the maxima of exited threads, so it is read from /proc).
void reset_peak() {
    malloc_trim(0);  // what earlier phases freed goes back to the system, not into this phase's figure
    std::ofstream("/proc/self/clear_refs") << "5";
}
double status_bytes(const char* key) {  // "VmHWM:  123 kB"
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(key, 0) == 0) return std::atof(line.c_str() + std::strlen(key)) * 1024.0;
    return 0.0;
}
// The resident set before any grid exists (binary, libraries): the per-cell figures count what lies above it.
double base_bytes = 0.0;
double peak_bytes() {
    double peak = status_bytes("VmHWM:");
    if (peak == 0.0) {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        peak = static_cast<double>(u.ru_maxrss) * 1024.0;
    }
    return std::max(peak - base_bytes, 0.0);
}

double triad_bandwidth(std::size_t n, int reps) {
    std::vector<double> a(n, 0.0), b(n, 1.0), c(n, 2.0);
    const double s = 3.0;
    double best = HUGE_VAL;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        double* pa = a.data();
        const double *pb = b.data(), *pc = c.data();
        for (std::size_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
        best = std::min(best, now() - t0);
        if (a[n / 2] != 7.0) std::printf("triad: wrong result\n");
    }
    return 24.0 * static_cast<double>(n) / best;
}

std::string cells_key(const std::vector<int>& n) {
    std::string s = "grid.cells=[";
    for (std::size_t k = 0; k < n.size(); ++k) {
        if (k) s += ",";
        s += std::to_string(n[k]);
    }
    return s + "]";
}

// A double well in d dimensions: L = sum_a (x_a^2 - 1)^2, noise 1.5 (so that the L1 distance to Gibbs falls
// below 1e-6 by t ~ 30), a bump in the well at (1, ..., 1).
ParsedConfig double_well(const std::vector<int>& n) {
    const std::size_t d = n.size();
    const char* vars[] = {"x", "y", "z", "w"};
    std::string lower, upper, pot, bump, cells;
    for (std::size_t a = 0; a < d; ++a) {
        if (a) cells += ", ";
        cells += std::to_string(n[a]);
        lower += std::string(a ? ", " : "") + "-2.5";
        upper += std::string(a ? ", " : "") + "2.5";
        pot += std::string(a ? " + " : "") + "(" + vars[a] + "^2 - 1)^2";
        bump += std::string(a ? " + " : "") + "(" + vars[a] + " - 1)^2";
    }
    const std::string toml = "[grid]\nlower = [" + lower + "]\nupper = [" + upper + "]\ncells = [" + cells +
                             "]\n[dynamics]\npotential = \"" + pot +
                             "\"\nnoise = 1.5\n[initial]\ndensity = \"exp(-(" + bump + ") / 0.02)\"\n";
    return parse_config(toml, "double-well", {});
}

// Two 2-D OU processes mu = -A x with noise D, from N((1, -0.5), 0.1 I) on [-4, 4]^2: the textbook one
// (A = I, D = 0.5 I, given as the potential (x^2 + y^2) / 2: in detailed balance, so expm applies) and a
// rotating one with correlated noise (a circulating current: expm does not apply).
struct OuCase {
    const char* label;
    const char* dynamics;
    Eigen::Matrix2d a, d;
};
std::vector<OuCase> ou_cases() {
    OuCase textbook{"textbook: A = I, D = 0.5 I (potential (x^2+y^2)/2, detailed balance)",
                    "potential = \"0.5*(x^2 + y^2)\"\nnoise = 0.5\n", Eigen::Matrix2d::Identity(),
                    0.5 * Eigen::Matrix2d::Identity()};
    OuCase rotating{"rotating: A = [[1,-.5],[.5,1]], D = [[.5,.15],[.15,.4]]",
                    "drift = [\"-x + 0.5*y\", \"-0.5*x - y\"]\nnoise = [[0.5, 0.15], [0.15, 0.4]]\n", {}, {}};
    rotating.a << 1.0, -0.5, 0.5, 1.0;
    rotating.d << 0.5, 0.15, 0.15, 0.4;
    return {textbook, rotating};
}

ParsedConfig ornstein_uhlenbeck(const OuCase& ou, int n) {
    const std::string toml = std::string(R"toml(
[grid]
lower = [-4.0, -4.0]
upper = [4.0, 4.0]
cells = [64, 64]
[dynamics]
)toml") + ou.dynamics + R"toml(
[initial]
gaussian = { mean = [1.0, -0.5], covariance = [[0.1, 0.0], [0.0, 0.1]] }
)toml";
    return parse_config(toml, "ou", {cells_key({n, n})});
}

struct Reached {
    double t;
};

struct Outcome {
    double wall = 0.0, t = NAN;
    double setup_peak = 0.0, run_peak = 0.0;  // peak resident bytes of the two phases
    IntegrationReport report;
    std::string note;
};

// Integrates with snapshots every 0.25 up to tmax and stops at the first with L1 to Gibbs < 1e-6.
Outcome to_stationarity(const ParsedConfig& c, Integrator which, double tmax, double explicit_budget, double rtol,
                        double atol) {
    Outcome o;
    reset_peak();
    const FokkerPlanckOperator op(c.problem);
    const auto ref = stationary_reference(c.problem);
    const double v = op.grid().cell_volume();
    if (which == Integrator::dopri5) {
        const double steps = explicit_step_count(op, 0.0, tmax);
        if (steps > explicit_budget) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "skipped: needs ~%.2g explicit steps", steps);
            o.note = buf;
            return o;
        }
    }
    State p = initial_state(op.grid(), c.problem.initial);
    o.setup_peak = peak_bytes();  // set-up: the problem, the Gibbs reference, the initial density
    reset_peak();                 // integrate: assembly, the checks that pick the method, the steps
    TimeSettings ts;
    for (double t = 0.0; t <= tmax + 1e-12; t += 0.25) ts.times.push_back(t);
    ts.integrator = which;
    ts.rtol = rtol;
    ts.atol = atol;
    const double t0 = now();
    try {
        o.report = integrate(op, p, ts, [&](const State& x, double t) {
            if ((x - ref->density).cwiseAbs().sum() * v < 1e-6) throw Reached{t};
        });
        o.note = "not reached by t = " + std::to_string(tmax);
    } catch (const Reached& r) {
        o.t = r.t;
    }
    o.wall = now() - t0;
    o.run_peak = peak_bytes();
    return o;
}

// L1 distance of p to the exact OU Gaussian at t = 1 (point values at the centres).
double ou_error(const ParsedConfig& c, const OuCase& ou, const State& p, double end) {
    const Eigen::Matrix2d& a = ou.a;  // mu = -A x
    const Eigen::Matrix2d& d = ou.d;
    Eigen::Matrix2d cov;
    cov = 0.1 * Eigen::Matrix2d::Identity();
    Eigen::Vector2d m(1.0, -0.5);
    const int steps = 20000;
    const double dt = end / steps;
    auto rhs = [&](const Eigen::Matrix2d& x) -> Eigen::Matrix2d { return -a * x - x * a.transpose() + d; };
    for (int k = 0; k < steps; ++k) {  // RK4 on the 2x2 Lyapunov ODE and the mean: error ~ dt^4, negligible
        const Eigen::Matrix2d k1 = rhs(cov), k2 = rhs(cov + 0.5 * dt * k1), k3 = rhs(cov + 0.5 * dt * k2),
                              k4 = rhs(cov + dt * k3);
        cov += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        const Eigen::Vector2d l1 = -a * m, l2 = -a * (m + 0.5 * dt * l1), l3 = -a * (m + 0.5 * dt * l2),
                              l4 = -a * (m + dt * l3);
        m += dt / 6.0 * (l1 + 2.0 * l2 + 2.0 * l3 + l4);
    }
    const Grid& g = c.problem.grid;
    const Eigen::Matrix2d inv = cov.inverse();
    const double norm = 1.0 / (2.0 * std::numbers::pi * std::sqrt(cov.determinant()));
    // The finite-volume state holds cell averages (the initial one is Gauss-quadrature averaged too), so the
    // exact solution is averaged the same way; point values at the centres would add h^2/24 Laplacian p.
    const Eigen::VectorXd exact = cell_averages(g, [&](const Point& x) {
        const Eigen::Vector2d y(x[0] - m[0], x[1] - m[1]);
        return norm * std::exp(-0.5 * y.dot(inv * y));
    });
    return (p - exact).cwiseAbs().sum() * g.cell_volume();
}

const char* name(Integrator i) { return std::string_view(to_string(i)).data(); }

}  // namespace

int main(int argc, char** argv) {
    flush_subnormals_to_zero();  // as the fpsolve app does
    base_bytes = status_bytes("VmRSS:");
#ifdef _OPENMP
    if (!std::getenv("OMP_DYNAMIC")) omp_set_dynamic(1);  // as the fpsolve app does (apps/main.cpp)
#endif
    bool quick = false, scale = false, rhs_only = false, ou_only = false;
    double rtol = 1e-6;  // --rtol R: the steppers' relative tolerance in sections 3 and 4
    double atol = 1e-12;  // --atol A: the absolute tolerance of section 3
    int only_grid = 0;  // --grid N: section 3 for one N^2 grid only
    for (int k = 1; k < argc; ++k) {
        if (!std::strcmp(argv[k], "--quick")) quick = true;
        else if (!std::strcmp(argv[k], "--scale")) scale = true;
        else if (!std::strcmp(argv[k], "--rhs")) rhs_only = true;
        else if (!std::strcmp(argv[k], "--ou")) ou_only = true;
        else if (!std::strcmp(argv[k], "--grid") && k + 1 < argc) only_grid = std::atoi(argv[++k]);
        else if (!std::strcmp(argv[k], "--rtol") && k + 1 < argc) rtol = std::atof(argv[++k]);
        else if (!std::strcmp(argv[k], "--atol") && k + 1 < argc) atol = std::atof(argv[++k]);
        else {
            std::fprintf(stderr, "usage: bench_speed [--quick] [--scale] [--rhs] [--ou] [--rtol R] [--atol A] [--grid N]\n");
            return 2;
        }
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    std::printf("bench_speed%s: %d thread%s (OMP_NUM_THREADS sets it)\n\n", quick ? " --quick" : "", threads,
                threads == 1 ? "" : "s");

    // 1. Bandwidth.
    // The right-hand side touches 6 arrays of N doubles (p, dp, 4 coefficients): the same footprint as a
    // triad over 3 arrays of 2N.
    const int rhs_n = quick ? 256 : 1024;
    const std::size_t triad_n = quick ? (std::size_t{1} << 22) : (std::size_t{1} << 24);
    const std::size_t triad_ws = 2 * static_cast<std::size_t>(rhs_n) * static_cast<std::size_t>(rhs_n);
    const int reps = quick ? 5 : 10;
    const double bw_dram = triad_bandwidth(triad_n, reps);
    const double bw = triad_bandwidth(triad_ws, 4 * reps);
    std::printf("1. STREAM triad, 3 x %zu MiB: %.2f GB/s (best of %d; main memory)\n", triad_n * 8 >> 20, bw_dram * 1e-9,
                reps);
    std::printf("   STREAM triad, 3 x %.0f MiB: %.2f GB/s (best of %d; the right-hand side's footprint)\n",
                static_cast<double>(triad_ws * 8) / 1048576.0, bw * 1e-9, 4 * reps);

    // 2. Right-hand side throughput in 2, 3 and 4 dimensions on about 2^20 cells each (1024^2, 102^3, 32^4),
    // and one rk4 step (four right-hand sides and the vector updates), as the issue measured it. The
    // roofline counts what a cell must move from memory: p and dp/dt (16 B) and the face coefficients a, b
    // of each axis (16 B per axis); neighbours along the strided axes come from cache.
    {
        struct Case {
            std::vector<int> n;
            double rhs_cell_s = 0.0, rk4_cell_s = 0.0;
        };
        std::vector<Case> cases;
        if (quick)
            cases = {{{256, 256}}, {{40, 40, 40}}, {{16, 16, 16, 16}}};
        else
            cases = {{{rhs_n, rhs_n}}, {{102, 102, 102}}, {{32, 32, 32, 32}}};
        const int rhs_reps = quick ? 10 : (std::getenv("BENCH_REPS") ? std::atoi(std::getenv("BENCH_REPS")) : 100);
        std::printf("2. right-hand side of a double well (median of %d; roofline = %.2f GB/s / (16 + 16 d) B per cell)\n",
                    rhs_reps, bw * 1e-9);
        std::printf("   %-14s %9s %14s %10s %14s %12s %10s\n", "grid", "cells", "rhs M cells/s", "roofline", "rk4 step [ns/cell]",
                    "per cell/2-D", "B/cell");
        for (Case& k : cases) {
            reset_peak();
            const ParsedConfig c = double_well(k.n);
            const FokkerPlanckOperator op(c.problem);
            State p = initial_state(op.grid(), c.problem.initial), dp(p.size());
            op(p, dp, 0.0);  // assembles the coefficients
            std::vector<double> rhs, rk4;
            for (int r = 0; r < rhs_reps; ++r) {
                const double t0 = now();
                op(p, dp, 0.0);
                rhs.push_back(now() - t0);
            }
            const double memory = peak_bytes();
            // rk4 steps far below the stability limit, so that the state stays a density.
            odeint::runge_kutta4<State, double, State, double, BlockAlgebra> stepper;
            const double dt = 1e-3 * rk4_stability_limit(op, 0.0);
            auto sys = [&](const State& x, State& dx, double t) { op(x, dx, t); };
            for (int r = 0; r < std::max(3, rhs_reps / 4); ++r) {
                const double t0 = now();
                stepper.do_step(sys, p, 0.0, dt);
                rk4.push_back(now() - t0);
            }
            const double cells = static_cast<double>(op.grid().size());
            const double bytes = 16.0 + 16.0 * static_cast<double>(k.n.size());
            k.rhs_cell_s = median(rhs) / cells;
            k.rk4_cell_s = median(rk4) / cells;
            std::string label;
            for (std::size_t a = 0; a < k.n.size(); ++a) {
                if (a) label += 'x';
                label += std::to_string(k.n[a]);
            }
            std::printf("   %-14s %9.0f %14.0f %9.0f%% %18.2f %6.2f, %4.2f %10.0f\n", label.c_str(), cells,
                        1e-6 / k.rhs_cell_s, 100.0 / k.rhs_cell_s / (bw / bytes), k.rk4_cell_s * 1e9,
                        k.rhs_cell_s / cases[0].rhs_cell_s, k.rk4_cell_s / cases[0].rk4_cell_s, memory / cells);
        }
        std::printf("   (roofline: %% of bandwidth / bytes per cell reached by the median right-hand side; per cell/2-D:\n"
                    "    the right-hand side's and the rk4 step's cost per cell over the 2-D one; B/cell: peak resident\n"
                    "    memory of operator, state and derivative; main-memory triad %.2f GB/s)\n",
                    bw_dram * 1e-9);
    }

    if (rhs_only) return 0;

    // 3. Time to stationarity.
    if (!ou_only) {
    std::printf("\n3. double well L = sum (x_a^2 - 1)^2, noise 1.5, to L1 < 1e-6 of Gibbs (rtol %g, atol %g)\n", rtol,
                atol);
    std::printf("   (B/cell: peak resident bytes per cell of the set-up (problem, Gibbs reference, initial density) and of\n"
                "    integrate (assembly, the method's checks, the steps), each from a reset high-water mark, above the\n    resident set at start)\n");
    std::printf("   %-10s %-9s %9s %8s %7s %7s  %s\n", "grid", "stepper", "wall [s]", "t", "set-up", "run", "note");
    std::vector<std::vector<int>> grids;
    if (quick)
        grids = {{200}, {32, 32}, {64, 64}};
    else
        grids = {{400}, {1600}, {128, 128}, {256, 256}, {512, 512}, {1024, 1024}};
    if (only_grid > 0) grids = {{only_grid, only_grid}};
    const double budget = quick ? 2e4 : 2e5;
    for (const auto& n : grids) {
        const ParsedConfig c = double_well(n);
        std::string label;
        for (std::size_t a = 0; a < n.size(); ++a) {
            if (a) label += "x";
            label += std::to_string(n[a]);
        }
        const double cells = static_cast<double>(c.problem.grid.size());
        for (Integrator which : {Integrator::dopri5, Integrator::rkc, Integrator::implicit, Integrator::expm}) {
            if (which == Integrator::implicit && cells > 256.0 * 256.0) {
                std::printf("   %-10s %-9s %9s %8s %7s %7s  %s\n", label.c_str(), name(which), "-", "-", "-", "-",
                            "skipped: LU solves beyond 256^2 take minutes");
                continue;
            }
            Outcome o = to_stationarity(c, which, 60.0, budget, rtol, atol);
            if (which == Integrator::expm && !std::isnan(o.t)) {
                // expm's cost grows with the number of snapshots: also the run straight to the t found
                const FokkerPlanckOperator op(c.problem);
                State p = initial_state(op.grid(), c.problem.initial);
                TimeSettings ts;
                ts.times = {0.0, o.t};
                ts.integrator = which;
                ts.rtol = rtol;
                ts.atol = atol;
                const double t0 = now();
                const IntegrationReport r = integrate(op, p, ts, [](const State&, double) {});
                const auto ref = stationary_reference(c.problem);
                char buf[160];
                std::snprintf(buf, sizeof buf, "%ssnapshots every 0.25; one snapshot at t: %.2f s, %zu products, L1 %.2e",
                              o.note.empty() ? "" : "; ", now() - t0, r.rhs_evaluations,
                              (p - ref->density).cwiseAbs().sum() * op.grid().cell_volume());
                o.note += buf;
            }
            std::printf("   %-10s %-9s %9.2f %8.2f %7.0f %7.0f  %s\n", label.c_str(), name(which), o.wall, o.t,
                        o.setup_peak / cells, o.run_peak / cells, o.note.c_str());
            std::fflush(stdout);
        }
    }

    }
    if (only_grid > 0) return 0;

    // 4. OU to t = 1.
    std::printf("\n4. 2-D OU, mu = -A x, noise D, from N((1, -0.5), 0.1 I) to t = 1 (rtol %g, atol 1e-10); L1 error against\n"
                "   the exact Gaussian's cell averages\n", rtol);
    for (const OuCase& ou : ou_cases()) {
        std::printf("   %s\n", ou.label);
        std::printf("   %-8s %-9s %9s %10s %7s %7s %7s %9s\n", "grid", "stepper", "wall [s]", "L1 error", "steps", "rhs",
                    "LU", "B/cell");
        for (int n : quick ? std::vector<int>{32, 64} : std::vector<int>{64, 128, 256, 512}) {
            const ParsedConfig c = ornstein_uhlenbeck(ou, n);
            for (Integrator which : {Integrator::dopri5, Integrator::rkc, Integrator::implicit, Integrator::expm}) {
                if (n > 256 && which != Integrator::rkc && which != Integrator::expm) continue;  // 512^2: the cheap ones
                reset_peak();
                const FokkerPlanckOperator op(c.problem);
                State p = initial_state(op.grid(), c.problem.initial);
                TimeSettings ts;
                ts.times = {0.0, 1.0};
                ts.integrator = which;
                ts.rtol = rtol;
                ts.atol = 1e-10;
                double t0 = now();
                IntegrationReport r;
                try {
                    t0 = now();
                    r = integrate(op, p, ts, [](const State&, double) {});
                } catch (const InputError&) {
                    continue;  // expm on the rotating one: not in detailed balance
                }
                const double wall = now() - t0;
                std::printf("   %-8s %-9s %9.3f %10.2e %7zu %7zu %7zu %9.0f\n", (std::to_string(n) + "^2").c_str(),
                            name(which), wall, ou_error(c, ou, p, 1.0), r.steps, r.rhs_evaluations, r.factorisations,
                            peak_bytes() / static_cast<double>(op.grid().size()));
                std::fflush(stdout);
                if (which != Integrator::rkc && which != Integrator::expm) continue;
                // grid.richardson: the same run on the grid of half the cells, then (4 p_h - I p_2h) / 3; the
                // wall time is both runs and the extrapolation, as `fpsolve run` spends it.
                Problem coarse = c.problem;
                coarse.grid = coarsened(op.grid());
                const FokkerPlanckOperator coarse_op(coarse);
                const double t1 = now();
                State pc = restrict_to(coarse.grid, initial_state(op.grid(), c.problem.initial));
                const IntegrationReport rc = integrate(coarse_op, pc, ts, [](const State&, double) {});
                const SpatialExtrapolation e = richardson_extrapolate(op.grid(), p, coarse.grid, pc);
                const double wall_r = wall + now() - t1;
                std::printf("   %-8s %-9s %9.3f %10.2e %7zu %7zu %7s %9s   (estimate of the plain error %.2e)\n",
                            (std::to_string(n) + "^2").c_str(), (std::string(name(which)) + "+R").c_str(), wall_r,
                            ou_error(c, ou, e.density, 1.0), r.steps + rc.steps,
                            r.rhs_evaluations + rc.rhs_evaluations, "", "", e.error_estimate);
                std::fflush(stdout);
            }
        }
    }

    // 5. Scale.
    if (scale) {
        std::printf("\n5. scale: double well with rkc to t = 1 (rtol 1e-6)\n");
        for (const auto& n : std::vector<std::vector<int>>{{2048, 2048}, {128, 128, 128}}) {
            reset_peak();
            const ParsedConfig c = double_well(n);
            const FokkerPlanckOperator op(c.problem);
            State p = initial_state(op.grid(), c.problem.initial);
            TimeSettings ts;
            ts.times = {0.0, 0.5, 1.0};
            ts.integrator = Integrator::rkc;
            ts.rtol = 1e-6;
            ts.atol = 1e-12;
            const double t0 = now();
            const IntegrationReport r = integrate(op, p, ts, [](const State&, double) {});
            const double cells = static_cast<double>(op.grid().size());
            std::printf("   %zu-D %.0f cells: %.1f s, %zu steps, %zu rhs, mass %.15f, peak %.0f B per cell (%.2f GiB)\n",
                        n.size(), cells, now() - t0, r.steps, r.rhs_evaluations, p.sum() * op.grid().cell_volume(),
                        peak_bytes() / cells, peak_bytes() / 1073741824.0);
            std::fflush(stdout);
        }
    }
    return 0;
}
