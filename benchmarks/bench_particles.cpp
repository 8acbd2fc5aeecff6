// Cost of the particle simulation (solver/particles.hpp) and of the appendix quadrature (solver/appendix_flux.hpp).
//
//   build/bin/bench_particles [particles] [threads]
//
// Prints nanoseconds per particle step for a 1-D double well (potential via muParser), a 1-D Stratonovich problem
// with state-dependent noise (noise-induced drift by differences) and a 2-D correlated OU, for 1 and `threads`
// threads, and the time of one 1-D and one 3-D transfer by quadrature. The histograms do not depend on the threads.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "appendix_flux.hpp"
#include "config.hpp"
#include "initial_density.hpp"
#include "particles.hpp"

using namespace fpsolve;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bench(const char* name, const std::string& toml, std::uint64_t n, int threads) {
    const ParsedConfig c = parse_config(toml, name, {});
    const Problem& pb = c.problem;
    ParticleSettings ps;
    ps.particles = n;
    ps.dt = 0.001;
    ps.threads = threads;
    const State p0 = initial_state(pb.grid, pb.initial);
    const std::vector<double> times{0.0, 0.5, 1.0};
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    const auto snaps = simulate_particles(pb, p0, times, ps);
    const double s = seconds_since(t0);
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;  // all threads
    const double steps = static_cast<double>(n) * 1000.0;
    std::printf("  %-26s %2d threads: wall %7.3f s (%6.1f ns per particle step), cpu %6.1f ns per step (mass %.4f)\n",
                name, threads, s, 1e9 * s / steps, 1e9 * cpu / steps, snaps.back().mass);
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const std::string dw = R"toml(
[grid]
lower = [-2.5]
upper = [2.5]
cells = [250]
[dynamics]
potential = "(x^2 - 1)^2"
noise = 1.0
[initial]
density = "exp(-(x - 1)^2 / 0.02)"
[time]
end = 1.0
)toml";
    const std::string strat = R"toml(
[grid]
lower = [-4.0]
upper = [4.0]
cells = [160]
[dynamics]
drift = ["-x"]
noise = "0.3 + 0.5*x^2"
convention = "stratonovich"
[initial]
gaussian = { mean = [1.0], covariance = [[0.05]] }
[time]
end = 1.0
)toml";
    const std::string ou2 = R"toml(
[grid]
lower = [-4.0, -4.0]
upper = [4.0, 4.0]
cells = [80, 80]
[dynamics]
drift = ["-(x + 0.6*y)", "-(-0.6*x + y)"]
noise = [[0.5, 0.2], [0.2, 0.3]]
[initial]
gaussian = { mean = [2.0, 0.0], covariance = [[0.05, 0.0], [0.0, 0.05]] }
[time]
end = 1.0
)toml";
    std::printf("particles: %llu, dt = 0.001, t = 1 (1000 steps each)\n", static_cast<unsigned long long>(n));
    for (int th : {1, threads}) {
        bench("double well (potential)", dw, n, th);
        bench("stratonovich D(x)", strat, n, th);
        bench("2-D correlated OU", ou2, n, th);
    }

    FluxSetup s;
    s.density = [](const Point& y) { return std::exp(-0.5 * y[0] * y[0]); };
    s.x = {0.5, 0.0, 0.0};
    auto t0 = std::chrono::steady_clock::now();
    (void)transfer(s, 0.01);
    std::printf("transfer by quadrature, 1-D: %.3f ms\n", 1e3 * seconds_since(t0));
    s.dims = 3;
    s.density = [](const Point& y) { return std::exp(-0.5 * (y[0] * y[0] + 2 * y[1] * y[1] + y[2] * y[2])); };
    s.normal = Vector3(2.0, -1.0, 2.0) / 3.0;
    t0 = std::chrono::steady_clock::now();
    (void)transfer(s, 0.01);
    std::printf("transfer by quadrature, 3-D: %.3f ms\n", 1e3 * seconds_since(t0));
    return 0;
}
