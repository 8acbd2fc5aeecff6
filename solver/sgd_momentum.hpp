// Heavy-ball SGD (SGD with momentum) as a kinetic SDE in phase space (docs/sgd.md; DESIGN §5).
//
//   heavy ball  v_{k+1} = beta v_k - eta ghat_B(w_k),   w_{k+1} = w_k + v_{k+1}
//               ghat_B = g(w) + xi, Cov(xi | w) = Sigma(w)/b: the same minibatch noise as plain SGD (sgd_model.hpp)
//   scaling     p = v / sqrt(eta),  t = k sqrt(eta),  gamma = (1 - beta) / sqrt(eta) held fixed as eta -> 0
//               (the regime in which Kovachki & Stuart 2021's inertial term survives the limit): one step adds
//               -sqrt(eta) (g + gamma p) to p, a drift over a time sqrt(eta), and -sqrt(eta) xi, a variance eta Sigma/b
//               per time sqrt(eta); w gains sqrt(eta) p_{k+1}
//   SDE         dw = p dt,   dp = (-g(w) - gamma p) dt + (sqrt(eta) Sigma(w)/b)^{1/2} dW
//               (D does not depend on p, so Ito and Stratonovich agree)
//   FP          on 2d axes (w_1 .. w_d, p_1 .. p_d): D = blockdiag(0, sqrt(eta) Sigma(w)/b), so the w axes carry
//               transport only (the operator's upwind-biased kappa = 1/3 flux, face_flux.hpp)
//
// Stationary closed forms near the minimum w* (z = (w - w*, p), H the Hessian, S = Sigma(w*), K(C) as in
// sgd_model.hpp):
//   SDE          A C + C A^T + blockdiag(0, sqrt(eta) Q(C)) = 0,                 A = [[0, I], [-H, -gamma I]]
//   heavy ball   C = M C M^T + [[eta^2 Q, eta^{3/2} Q], [eta^{3/2} Q, eta Q]](C),
//                M = [[I - eta H, sqrt(eta) beta I], [-sqrt(eta) H, beta I]]      (the step in (w - w*, p))
// with Q(C) = S/b (the noise frozen at w*: a Lyapunov equation), or for linear regression, whose second moments
// close, Q(C) = (S + K(C_ww) - H C_ww H)/b exactly. In 1-D with additive noise s^2 = S/b these give
//   SDE   var w = sqrt(eta) s^2 / (2 gamma h) = eta s^2 / (2 (1 - beta) h),   var p = h var w,   cov(w, p) = 0
//   HB    var w = eta s^2 (1 + beta) / (h (1 - beta) q),   var p = 2 eta s^2 / ((1 - beta) q),
//         cov(w, p) = eta^{3/2} s^2 / ((1 - beta) q),   q = 2 (1 + beta) - eta h
// so at fixed gamma the SDE's var w is off by O(eta) (a factor 1/(1 - eta h / (2 (1 + beta)))), its var p by
// O(sqrt(eta)) (a factor 2 / (1 + beta - eta h / 2) = 1 + gamma sqrt(eta) / 2 + ...), and the correlation it misses
// is O(sqrt(eta)).
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <memory>

#include "sgd_model.hpp"

namespace fpsolve {

struct HeavyBall {
    double eta = 0.01;  // the learning rate
    double beta = 0.9;  // the momentum, 0 <= beta < 1
    double friction() const { return (1.0 - beta) / std::sqrt(eta); }  // gamma
    double step_time() const { return std::sqrt(eta); }                 // the time t of one step
};

// Throws InputError (one line, naming grid) unless `grid` has the 2d axes of the phase space of d parameters.
void check_phase_space_grid(const Grid& grid, int parameters);

// The Fokker–Planck problem of the SDE above on `grid`, whose 2d axes are the model's d parameters, then their
// velocities p (throws InputError naming grid otherwise). The coefficients are compiled functions of the data.
Problem momentum_problem(std::shared_ptr<const SgdModel> model, const Grid& grid, const HeavyBall& hb, int batch,
                         InitialDensity initial);

// Stationary covariance of (w, p), 2d x 2d (see the header comment): `fourth` = nullptr freezes the noise at w*;
// with `fourth` (K) it is the linear-regression moment closure; `discrete` gives the heavy ball's instead of the SDE's.
Eigen::MatrixXd momentum_stationary_covariance(const Matrix2& hessian, const Matrix2& sigma, int parameters,
                                               const HeavyBall& hb, int batch,
                                               const std::function<Matrix2(const Matrix2&)>& fourth = nullptr,
                                               bool discrete = false);

// Spectral radius of the heavy ball's second-moment map near w*, C -> M C M^T + [[eta^2 L, ..], ..](C) with
// L(C) = (K(C_ww) - H C_ww H)/b (0 without `fourth`): the second moments converge iff it is < 1, with relative
// error ~ rho^k after k steps.
double momentum_second_moment_contraction(const Matrix2& hessian, int parameters, const HeavyBall& hb, int batch,
                                          const std::function<Matrix2(const Matrix2&)>& fourth = nullptr);

}  // namespace fpsolve
