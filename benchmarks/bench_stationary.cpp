// Cost of `fpsolve stationary` (solver/stationary.hpp) on 2-D grids: assembly of the generator, the sparse LU
// steady-state solve (with refinement), and the spectrum (6 slowest eigenvalues by Arnoldi on the same factors).
//
//   build/bin/bench_stationary [n ...]      default: 128 256 512 (n x n cells)
//
// Problem: the two-temperature coupled quadratic (data/scenarios/two-temperatures-ou.toml), a non-Gibbs steady
// state with a circulating current. Prints wall seconds per phase and the L1 error against its Gaussian.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config.hpp"
#include "stationary.hpp"

using namespace fpsolve;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bench(int n) {
    const std::string toml = "[grid]\nlower = [-4.0, -4.0]\nupper = [4.0, 4.0]\ncells = [" + std::to_string(n) + ", " +
                             std::to_string(n) +
                             "]\n[dynamics]\npotential = \"0.5*x^2 + 0.6*x*y + 0.75*y^2\"\nnoise = [0.4, 1.6]\n";
    const ParsedConfig c = parse_config(toml, "bench", {});
    const FokkerPlanckOperator op(c.problem);
    const Grid& g = c.problem.grid;

    auto t0 = std::chrono::steady_clock::now();
    const Eigen::SparseMatrix<double> a = op.matrix(0.0);
    const double t_assemble = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const Index centre = (n / 2) * n + n / 2;  // the pin: where the density is largest
    const FactorisedGenerator gen(a, g.cell_volume(), true, centre);
    const Eigen::VectorXd p = gen.steady_state();
    const double t_solve = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const auto ev = gen.slowest_eigenvalues(6);
    const double t_spectrum = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    const Eigen::MatrixXd j = op.cell_current(p, 0.0);
    const double t_current = seconds_since(t0);

    // The exact Gaussian: H C + C H = D with H = [[1, .6], [.6, 1.5]], D = diag(.4, 1.6).
    const double c00 = 0.33894736842105263, c01 = -0.23157894736842105, c11 = 0.62596491228070175;
    const double det = c00 * c11 - c01 * c01;
    double l1 = 0.0;
    for (Index k = 0; k < g.size(); ++k) {
        const Point x = g.centre_of(k);
        const double q = std::exp(-0.5 * (c11 * x[0] * x[0] - 2 * c01 * x[0] * x[1] + c00 * x[1] * x[1]) / det) /
                         (2 * M_PI * std::sqrt(det));
        l1 += std::abs(p[k] - q);
    }
    l1 *= g.cell_volume();
    std::printf("%5d^2  %9.3f  %9.3f  %9.3f  %9.3f   %.3e  %.6f  %.3e\n", n, t_assemble, t_solve, t_spectrum, t_current,
                relative_residual(a, p), ev.size() > 1 ? std::abs(ev[1].real()) : NAN, l1);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty()) sizes = {128, 256, 512};
    std::printf("cells   assemble_s  lu_solve_s  spectrum_s  current_s  residual   gap       L1_to_gaussian\n");
    for (int n : sizes) bench(n);
    return 0;
}
