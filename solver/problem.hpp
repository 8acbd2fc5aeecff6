// The Fokker–Planck problem as data: grid, drift, noise, convention, scheme, initial density.
//
//   dX = mu dt + B dW,   D = B B^T,   dp/dt = -div J,   J = mu_eff p - 1/2 D grad p
//   mu_eff = mu - 1/2 (1 - alpha) div D       alpha: 0 Ito, 1/2 Stratonovich, 1 isothermal
//
// SGD scaling (DESIGN §1.3): with per-axis learning rates eta_a, eta_bar = mean(eta), P = diag(eta)/eta_bar,
//   mu = P f   (f = -grad L, or the given drift),   D = eta_bar P Sigma P.
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expression.hpp"
#include "grid.hpp"

namespace fpsolve {

struct GaussianDensity {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;  // symmetric positive definite
};

struct InitialDensity {
    std::optional<Expression> expression;
    std::optional<GaussianDensity> gaussian;
    std::optional<Eigen::VectorXd> values;  // cell averages on this grid
    std::string snapshot_file;               // where `values` come from (read by the apps)
    std::string where = "initial";          // the config key, for messages
};

enum class Convention { ito, stratonovich, isothermal };
enum class Scheme { exponential, upwind, central };

std::string_view to_string(Convention c);
std::string_view to_string(Scheme s);
double alpha_of(Convention c);  // 0, 1/2, 1

// D(x, t) and drifts at a point: fixed kMaxAxes-sized, zero beyond the grid's dims (no allocation in the hot loops).
using AxisMatrix = Eigen::Matrix<double, kMaxAxes, kMaxAxes>;
using AxisVector = Eigen::Matrix<double, kMaxAxes, 1>;

// Kinetic (underdamped) Langevin dynamics in phase space (DESIGN §5): axes x_1 .. x_n, then v_1 .. v_n,
//   dx = v dt,   dv = (-grad U(x) - gamma v) dt + sqrt(2 gamma T) dW,   Gibbs density p ∝ exp(-(U(x) + |v|^2/2) / T).
// The problem also carries these as drift and noise; the operator uses the form itself for a scheme whose
// discrete fixed point is the Gibbs density at the cell centres (fokker_planck_operator.cpp).
struct KineticForm {
    Expression potential;     // U, a formula of the positions only
    double friction = 1.0;    // gamma
    double temperature = 1.0; // T
    int positions = 1;        // n: the grid has 2 n axes
};

struct Problem {
    Grid grid;
    std::optional<KineticForm> kinetic;             // set by dynamics.kinetic (drift and noise follow from it)
    std::optional<Expression> potential;            // L: drift = -P grad L (exactly one of potential/drift)
    std::vector<Expression> drift;                  // f: one per axis
    std::vector<std::vector<Expression>> noise;     // Sigma: dims x dims, symmetric
    std::vector<double> learning_rate;              // eta_a, one per axis
    Convention convention = Convention::ito;
    Scheme scheme = Scheme::exponential;
    InitialDensity initial;
    // Optional, one value per cell: a positive estimate of the density (fpsolve stationary's first pass). Where it
    // varies by more than a factor transport_guide_ratio over a transport-only face's stencil (far upstream,
    // upstream, downwind cell), the face takes the first-order upwind flux instead of the kappa = 1/3 one
    // (fokker_planck_operator.cpp). Not used by the kinetic form, whose guide is its Gibbs density.
    std::shared_ptr<const std::vector<double>> transport_guide;

    double eta_bar() const;
    double drift_scale(int a) const { return learning_rate[static_cast<std::size_t>(a)] / eta_bar(); }  // P_aa

    // D(x, t) = eta_bar P Sigma P (zero outside the first dims rows and columns).
    AxisMatrix diffusion(const Point& x, double t) const;
    // mu(x, t) = P f for a drift problem; for a potential, -P grad L by central differences.
    AxisVector drift_at(const Point& x, double t) const;
    // The part of mu_eff that is not the drift: -1/2 (1 - alpha) div D, or for Stratonovich with a full
    // state-dependent D, the Ito correction of the symmetric square root B minus 1/2 div D.
    AxisVector noise_induced_drift(const Point& x, double t) const;

    bool time_dependent() const;
    bool noise_depends_on_space() const;
    bool noise_is_diagonal() const;   // Sigma has no off-diagonal expression (or they are constant 0)
};

// Whether an axis has drift but no diffusion (a kinetic form's positions, or a noise whose diagonal entry is the
// constant 0) and gets the upwind-biased transport flux, which is not monotone (not with scheme = upwind).
bool has_transport_axis(const Problem& problem);

// Throws InputError if Sigma is not symmetric positive semidefinite at a sample of points and times.
void check_noise(const Problem& problem, const std::string& where);

}  // namespace fpsolve
