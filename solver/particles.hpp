// Particles of the SDE, for comparison with the Fokker–Planck solution on the same grid.
//
// Every convention is simulated as the Ito SDE with the same Fokker–Planck equation as the PDE (DESIGN §1):
//   J = mu_eff p - 1/2 D grad p = (mu_eff + 1/2 div D) p - 1/2 div(D p)      ((div(D p))_i = sum_j d_j(D_ij p))
// so the Ito drift is   mu_ito = mu_eff + 1/2 div D = mu + noise_induced_drift + 1/2 div D:
//   Ito:           mu_ito = mu
//   Stratonovich:  mu_ito = mu + 1/4 div D     (diagonal D; = mu + 1/2 sum_jk B_jk d_j B_ik with B = D^(1/2))
//   isothermal:    mu_ito = mu + 1/2 div D     (Hänggi–Klimontovich)
// and the Euler–Maruyama step  X <- X + mu_ito(X, t) dt + B(X, t) sqrt(dt) eta,  B = D^(1/2) (any B B^T = D gives
// the same law), weak order 1 (Kloeden & Platen 1992, §14.1).
// Walls after each step: reflecting mirrors the position into the box, periodic wraps, absorbing removes the particle
// if it is outside or if the Brownian bridge between the two positions touched the wall (probability
// exp(-2 d0 d1 / (D_aa dt)), Gobet 2000), which keeps the survival error O(dt) instead of O(sqrt(dt)).
//
// Random numbers are counter-based (counter_rng.hpp): particle i uses stream i, so a run is reproducible for a
// seed whatever the number of threads. Histograms are counts per cell / (N V): cell averages like the PDE's.
//
// Statistical floor: the count of cell i is Binomial(N, q_i), q_i = p_i V the PDE's cell mass, so
//   E sum_i |hist_i - p_i| V = sum_i E|X_i - N q_i| / N = sum_i 2 k_i C(N, k_i) q_i^k_i (1 - q_i)^(N - k_i + 1) / N,
// k_i = floor(N q_i) + 1 (de Moivre's mean absolute deviation), ≈ sum_i sqrt(2 q_i (1 - q_i) / (pi N)) for large N q_i.
// An L1 distance near this floor is disagreement the particle noise alone explains.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "problem.hpp"

namespace fpsolve {

struct ParticleSettings {
    std::uint64_t particles = 10000;
    std::uint64_t seed = 1;
    double dt = 1e-3;      // largest Euler–Maruyama step; each interval between snapshots gets equal steps
    int threads = 1;
};

struct ParticleSnapshot {
    double time = 0.0;
    Eigen::VectorXd density;  // counts / (N V): cell averages
    double mass = 0.0;        // surviving fraction
};

// The Ito drift mu + noise_induced_drift + 1/2 div D of the problem at x (div D by central differences).
AxisVector ito_drift(const Problem& problem, const Point& x, double t);

// Simulates N particles started from the cell averages p0 (a cell drawn with probability p0_c V, then a uniform
// point in it) and histograms them at `times` (increasing, times[0] the start). Returns nothing if `stop` was
// raised; throws RunError if a particle's position becomes non-finite.
std::vector<ParticleSnapshot> simulate_particles(const Problem& problem, const Eigen::VectorXd& p0,
                                                 const std::vector<double>& times, const ParticleSettings& settings,
                                                 const std::atomic<bool>* stop = nullptr);

// sum_i E|X_i - N q_i| / N for X_i ~ Binomial(N, q_i), q_i = p_i V (exact, by de Moivre's formula).
double l1_statistical_floor(const Eigen::VectorXd& density, double cell_volume, std::uint64_t particles);

// sum_i |a_i - b_i| V
double l1_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double cell_volume);

}  // namespace fpsolve
