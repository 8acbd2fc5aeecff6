// The lecture's appendix, checked numerically: the mass one Gaussian step carries across a point.
//
// 1-D, step x' = y + mu(y) dt + s eps, s^2 = sigma^2 dt, eps ~ N(0, 1):
//   up   (from below x to above)  = s ∫_0^∞ p(x - s u) Phi(-u + mu(x - s u) dt / s) du
//   down (from above x to below)  = s ∫_0^∞ p(x + s u) Phi(-u - mu(x + s u) dt / s) du
// (with mu = 0 these are the appendix's ∫_0^∞ p(x ± z) Phi(-z/s) dz). Taylor-expanding p(x ± s u) and using the
// half-line moments m_k = ∫_0^∞ u^k Phi(-u) du = E|eps|^(k+1) / (2(k+1)) (m_1 = 1/4, m_3 = 3/8) gives, for mu = 0,
//   net = up - down = -2 sum_{k odd} s^(k+1) p^(k)(x) m_k / k! = -1/2 sigma^2 dt p' - 1/8 sigma^4 dt^2 p''' - ...
//   (in general -sum_n (s^2/2)^n p^(2n-1) / n!: the heat semigroup applied to the distribution function).
// With a drift, the Kramers–Moyal expansion of one Euler step gives
//   net = [mu p - 1/2 sigma^2 p'] dt + [-1/2 (mu^2 p)' + 1/2 sigma^2 (mu p)'' - 1/8 sigma^4 p'''] dt^2 + O(dt^3).
// alpha = 2 m_1 = 1/2 (the lecture's constant).
//
// d-D, step xi = mu(x) dt + B eta, B B^T = D dt (drift frozen at x), through the plane n.(y - x) = 0, per unit
// area at x: a particle crosses at x + (1 - lambda) xi for lambda in (0, 1), so
//   net = E[(n.xi) ∫_0^1 p(x - lambda xi) dlambda]
//       = [n.mu p - 1/2 n^T D grad p] dt
//         + [-1/2 (n.mu)(mu.grad p) + 1/6 ((n.mu) grad^T D grad p + 2 (n^T D grad)(mu.grad) p)
//            - 1/8 (n^T D grad)(grad^T D grad) p] dt^2 + O(dt^3),
// which is the 1-D result for d = 1 and constant mu (Isserlis for the Gaussian moments).
//
// Quadrature: Gauss–Kronrod 31 adaptive on half-lines (Boost.Math); in d-D Gauss–Hermite across the normal
// direction and Gauss–Legendre in lambda. Derivatives of p: central differences with one Richardson step
// (error O(h^4)). See docs/appendix.md.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "problem.hpp"

namespace fpsolve {

// The check works in 1 to 3 dimensions (its transverse quadrature has 24^(d-1) nodes), in 3-sized algebra: a
// problem's kMaxAxes-sized D and drift enter through their leading 3 x 3 block (library/flux_check.cpp).
using Vector3 = Eigen::Vector3d;
using Matrix3 = Eigen::Matrix3d;

// Phi(u), the standard normal distribution function.
double normal_cdf(double u);

struct QuadratureValue {
    double value = 0.0;
    double error = 0.0;  // the quadrature's own error estimate
};

// alpha = 2 ∫_0^∞ u Phi(-u) du (= 1/2), by adaptive Gauss–Kronrod.
QuadratureValue alpha_by_quadrature();
// m_k = ∫_0^∞ u^k Phi(-u) du by quadrature, and its closed form E|eps|^(k+1) / (2 (k+1)).
QuadratureValue half_line_moment(int k);
double half_line_moment_exact(int k);

using DensityFn = std::function<double(const Point&)>;
using DriftFn = std::function<Vector3(const Point&)>;

struct FluxSetup {
    int dims = 1;
    DensityFn density;                    // p(x): any integrable function (its normalisation does not matter)
    Point x{};                            // the point
    Vector3 normal{1.0, 0.0, 0.0};        // unit normal of the plane (1-D: +1)
    Matrix3 diffusion = Matrix3::Identity();  // D (= sigma^2 in 1-D)
    DriftFn drift;                        // mu(x); empty: none
    double fd_step = 1e-2;                // step of the finite differences for p', p'''
    double quadrature_tolerance = 1e-13;  // relative; a piecewise interpolant (a file's snapshot) needs a looser one
    unsigned quadrature_depth = 18;       // Gauss–Kronrod bisections at most
};

// Derivatives of p at the point that the formulas use.
struct DensityDerivatives {
    double p = 0.0;
    Vector3 grad = Vector3::Zero();
    double normal_gradient = 0.0;  // n^T D grad p
    double third = 0.0;            // (n^T D grad)(grad^T D grad) p   (1-D: sigma^4 p''')
    Vector3 mu = Vector3::Zero();  // drift at x
};
DensityDerivatives density_derivatives(const FluxSetup& s);

struct TransferRow {
    double dt = 0.0;
    double up = 0.0, down = 0.0;   // mass crossing upward / downward (per unit area in d-D)
    double net = 0.0;              // up - down, as one integral
    double quadrature_error = 0.0;
    double diffusion_formula = 0.0;  // -1/2 n^T D grad p dt
    double drift_term = 0.0;         // n.mu p dt (the gradient flow -p g dt with mu = -g)
    double formula = 0.0;            // their sum
    double remainder = 0.0;          // net - formula
    double next_term = 0.0;          // the predicted dt^2 term
    std::optional<double> monte_carlo, monte_carlo_error;  // net by simulation, and its standard error
};

// Net transfer across the point/plane by quadrature, with the formula and its predicted next term.
TransferRow transfer(const FluxSetup& s, double dt);

// Monte Carlo of the net transfer with `particles` samples. 1-D: particles drawn from p (by rejection) in a
// window |y - x| < 8 s + |mu| dt around x, one Euler–Maruyama step each, net crossings times the window's
// mass. d-D: the crossing integral E[(n.xi) p(x - lambda xi)] with xi, lambda sampled (antithetic pairs +-eta).
struct MonteCarloValue {
    double value = 0.0;
    double standard_error = 0.0;
};
MonteCarloValue monte_carlo_transfer(const FluxSetup& s, double dt, std::uint64_t particles, std::uint64_t seed);

// The finite-volume face flux of `scheme` (face_flux.hpp), per unit area and time in the +axis direction, through
// the face centred at `face` between the cells centred at face -+ h_axis/2 e_axis:
//   F = a p_L - b p_R - 1/2 sum_{b != axis} D_ab [d_b p]_f     (the operator's 9-point stencil for D_ab != 0)
// with the drift mu sampled at the face. `cell(centre)` gives the cell average of the cell with that centre.
using CellValueFn = std::function<double(const Point& centre)>;
double scheme_face_flux(Scheme scheme, int dims, const Vector3& mu, const Matrix3& diffusion, int axis, const Point& face,
                        const Vector3& h, const CellValueFn& cell);
// The same for the setup's density, on cells of side h whose shared face is centred at s.x, with cell averages by
// 3-point Gauss–Legendre per axis (as initial_state computes them). Compare with n.mu p - 1/2 n^T D grad p:
// the difference is O(h^2) for the exponential and central schemes, O(h) for upwind.
double scheme_face_flux(const FluxSetup& s, Scheme scheme, int axis, double h);

}  // namespace fpsolve
