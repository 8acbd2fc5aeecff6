// Real minibatch SGD in many independent chains, and what the Fokker–Planck density is compared with.
//
//   Phi_{k+1} = Phi_k - Lambda (1/b) sum_{j=1..b} ghat_{n_kj}(Phi_k),   n_kj uniform on the N examples (with replacement)
//   Phi_0 ~ N(start, start_sd^2 I)
// or, with momentum beta > 0 (heavy ball, one rate eta; sgd_momentum.hpp), with the same draws:
//   v_{k+1} = beta v_k - eta ghat_B(Phi_k),   Phi_{k+1} = Phi_k + v_{k+1},   v_0 / sqrt(eta) ~ N(start_velocity, start_velocity_sd^2 I)
//
// Randomness is counter-based (splitmix64 of key(seed, chain) + counter; Steele, Lea & Flood 2014): draw j of
// step k of chain c depends on (seed, c, k, j) only, so results do not depend on the number of threads. The start
// is two Box–Muller pairs of a stream of its own: the parameters from the first (as without momentum), the
// velocities from the second.
//
// The histogram of N iterates on the grid, hat p_c = n_c / (N V), is compared with the density q by
// L1 = sum_c |n_c / N - q_c V| + (fraction outside the grid). Its statistical floor is the expected L1 of an exact
// sampler of q: sum_c E|n_c/N - q_c V| with n_c ~ Binomial(N, q_c V), by de Moivre's mean absolute deviation
//   E|X - Np| = 2 m C(N, m) p^m (1 - p)^(N - m + 1),   m = floor(N p) + 1.
#pragma once
#include <cstdint>

#include "sgd_model.hpp"

namespace fpsolve {

struct ChainSettings {
    Vector2 rates{0.1, 0.1};   // eta_a (Lambda)
    int batch = 1;
    std::uint64_t seed = 1;
    Eigen::Index chains = 1000;
    int threads = 1;
    Vector2 start = Vector2::Zero();
    double start_sd = 0.0;
    double momentum = 0.0;       // beta; 0: plain SGD
    int parameters = 2;          // d: with 1, the second slot of Phi (and v) stays exactly 0
    Vector2 start_velocity = Vector2::Zero();  // of p = v / sqrt(eta) (momentum only)
    double start_velocity_sd = 0.0;
};

class SgdChains {
public:
    SgdChains(const SgdModel& model, const ChainSettings& settings);
    // Advances every chain by `steps` SGD steps (in parallel over chains).
    void advance(long steps);
    long steps_done() const { return steps_; }
    const Eigen::MatrixX2d& positions() const { return phi_; }  // chains x 2
    const Eigen::MatrixX2d& velocities() const { return v_; }   // v (momentum; zero without)
    // The phase-space points (w_1 .. w_d, p_1 .. p_d), p = v / sqrt(eta): chains x 2d (momentum only).
    Eigen::MatrixXd phase_space() const;

private:
    const SgdModel& model_;
    ChainSettings s_;
    Eigen::MatrixX2d phi_, v_;
    long steps_ = 0;
};

// Sample moments (in chain order: deterministic).
struct SampleMoments {
    Vector2 mean = Vector2::Zero();
    Matrix2 covariance = Matrix2::Zero();
};
SampleMoments sample_moments(const Eigen::MatrixX2d& x);

// Moments of a density of cell averages on a 2-D grid (cell centres).
SampleMoments density_moments(const Grid& grid, const Eigen::VectorXd& density);

// The same in any number of axes (the phase space of momentum runs): samples x axes, and densities on the grid.
struct PhaseMoments {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;
};
PhaseMoments phase_sample_moments(const Eigen::MatrixXd& x);
PhaseMoments phase_density_moments(const Grid& grid, const Eigen::VectorXd& density);

struct Histogram {
    Eigen::VectorXd density;   // n_c / (N V)
    double outside = 0.0;      // fraction of iterates outside the grid
};
Histogram histogram(const Grid& grid, const Eigen::MatrixX2d& x);
Histogram phase_histogram(const Grid& grid, const Eigen::MatrixXd& x);  // x: samples x grid.dims

// sum |hat p - q| V + outside.
double l1_distance(const Grid& grid, const Histogram& h, const Eigen::VectorXd& q);
// Expected L1 of the histogram of `samples` exact draws from q (cell averages, mass 1) against q.
double l1_floor(const Grid& grid, const Eigen::VectorXd& q, Eigen::Index samples);

// A Gaussian N(mean, covariance) as cell averages on the grid, normalised to discrete mass 1.
Eigen::VectorXd gaussian_density(const Grid& grid, const Vector2& mean, const Matrix2& covariance);
Eigen::VectorXd phase_gaussian_density(const Grid& grid, const Eigen::VectorXd& mean, const Eigen::MatrixXd& covariance);

}  // namespace fpsolve
