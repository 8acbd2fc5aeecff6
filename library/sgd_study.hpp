// SGD as an SDE (DESIGN §1.3), checked against real minibatch SGD on a real data set: what `fpsolve sgd` computes.
//
//   SGD      Phi <- Phi - Lambda ghat_B,           ghat_B the mean gradient of b examples drawn with replacement
//   SDE      dPhi = -P g dt + (eta_bar P (Sigma/b) P)^{1/2} dW   (Ito),   t = k eta_bar
//   FP       dp/dt = -div(-P g p - 1/2 D grad p) on [grid], L, g, Sigma exactly from the data (sgd_model.hpp)
//
// sgd_study() reads [grid], [model] and [sgd] (sgd_config.hpp), evolves the FP density to t = k eta_bar while the
// chains take k steps, and compares the two there and at stationarity (L1 with its statistical floor, means,
// covariances); then the two approximations a reader of the lecture would try (Gibbs exp(-2L/(eta s)) with an
// isotropic s, the Lyapunov Gaussian H C + C H = eta Sigma(Phi*)/b), the per-axis temperatures eta_a sigma_a^2 and
// the rates eta_a = eta'/sigma_a^2 meant to restore Gibbs, and the stationary covariance against eta (the sweep),
// where SGD and its SDE differ at O(eta). It writes the DESIGN §4 file (the FP density at t = k eta_bar) with the
// group /sgd, and returns every number the command line reports (apps/cmd_sgd.cpp).
//
// With sgd.momentum = beta > 0 it studies heavy-ball SGD instead (sgd_momentum.hpp): the FP density of the kinetic
// SDE on the phase space (w, p = v/sqrt(eta)) of 2d axes at t = k sqrt(eta), against the chains' phase-space points,
// at stationarity (with the closed forms) and along an eta sweep at fixed gamma = (1 - beta)/sqrt(eta).
#pragma once
#include <Eigen/Dense>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sgd_chains.hpp"
#include "sgd_momentum.hpp"

namespace fpsolve {

struct SgdStudyOptions {
    std::string config;                  // the TOML file with [grid], [model] and [sgd] (docs/sgd.md)
    std::vector<std::string> overrides;  // "key=value" in TOML value syntax, as --set
    std::string output;                  // the file to write; empty: output.file, else "<config stem>.h5"
    bool force = false;                  // overwrite `output` if it exists (else InputError, nothing written)
    std::vector<double> sweep;           // learning rates of the eta sweep; empty: sgd.sweep_eta
    // Read between time steps of the FP evolution; once true the study stops with status "interrupted".
    const std::atomic<bool>* interrupt = nullptr;
    // After each snapshot of the FP evolution: its time, and the time of the last one.
    std::function<void(double t, double end)> on_progress;
    std::function<void(const std::string&)> on_warning;
};

// One snapshot t = k eta_bar: the FP density against the histogram of the chains after k steps.
struct SgdSnapshot {
    long step = 0;
    double time = 0.0;
    double l1 = 0.0;       // L1(FP density, histogram of the chains)
    double floor = 0.0;    // the L1 an exact sampler of the FP density would show with as many chains
    double outside = 0.0;  // the fraction of chains outside the grid
    SampleMoments fp, sgd;
};

// A stationary density (or closed form) against the histogram of the last iterates.
struct SgdComparison {
    std::string name;
    double l1 = std::nan("");  // NaN: not compared (moments only)
    SampleMoments moments;
};

// The per-parameter rates eta_a = eta'/sigma_a^2, eta' the mean per-axis temperature: Gibbs exp(-2L/eta')?
struct SgdPerParameter {
    Vector2 rates = Vector2::Zero();
    long steps = 0;                    // SGD steps to the same time t_end
    double fp_to_gibbs = 0.0;          // L1(FP stationary with these rates, Gibbs exp(-2L/eta'))
    double scalar_fp_to_gibbs = 0.0;   // the same with the configured rates
    double sgd_to_gibbs = 0.0, sgd_to_fp = 0.0, floor = 0.0;
    SampleMoments fp, sgd, gibbs;
};

// The stationary covariance at one learning rate eta (rates eta * the configured shape).
struct SgdSweepRow {
    double eta = 0.0;
    Matrix2 sgd = Matrix2::Zero();    // sample covariance of the chains from Phi*
    double se_trace = 0.0;            // standard error of its trace
    Matrix2 fp = Matrix2::Zero();     // of the FP stationary density on a grid fitted to +-7 standard deviations
    Matrix2 lyapunov = Matrix2::Zero();
    Matrix2 sde = Matrix2::Zero(), exact = Matrix2::Zero();  // closed forms, linear regression only (else 0)
    long steps = 0;
};

// With momentum: one snapshot t = k sqrt(eta) in phase space (w_1 .. w_d, p_1 .. p_d), as SgdSnapshot.
struct SgdPhaseSnapshot {
    long step = 0;
    double time = 0.0, l1 = 0.0, floor = 0.0, outside = 0.0;
    PhaseMoments fp, sgd;
};

// With momentum: a stationary density (or closed form) in phase space against the last heavy-ball iterates.
struct SgdPhaseComparison {
    std::string name;
    double l1 = std::nan("");  // NaN: not compared (moments only)
    PhaseMoments moments;
};

// With momentum: the stationary phase-space covariance at one eta, beta = 1 - gamma sqrt(eta) (gamma fixed).
struct SgdMomentumSweepRow {
    double eta = 0.0, beta = 0.0;
    long steps = 0;
    Eigen::MatrixXd sgd, fp, lyapunov;  // chains from (w*, 0); FP stationary on a grid fitted to +-7 sd; frozen noise
    Eigen::MatrixXd sde, exact;         // closed forms, linear regression only (else empty)
    double se_w = 0.0, se_p = 0.0;      // standard errors of the traces of the chains' w and p blocks
    double l1 = 0.0, floor = 0.0;       // the chains' histogram against the FP stationary density on that grid
};

struct SgdMomentumResult {
    double eta = 0.0, beta = 0.0, friction = 0.0, step_time = 0.0;  // gamma = (1 - beta)/sqrt(eta); sqrt(eta)
    int parameters = 2;                                               // d: the phase space has 2d axes
    std::vector<std::string> axes;                                    // the grid's variables
    Eigen::VectorXd temperatures;       // T_a = sqrt(eta) Sigma_aa(w*)/(2 gamma b) (equipartition with frozen noise)
    std::vector<SgdPhaseSnapshot> evolution;
    double stationary_floor = 0.0, fp_end_to_stationary = 0.0;
    double stationary_min_relative = 0.0;  // smallest / largest value of the FP stationary density
    std::vector<SgdPhaseComparison> stationary;
    std::vector<SgdMomentumSweepRow> sweep;
};

struct SgdStudyResult {
    std::string status;  // "complete", or "interrupted" (the file holds evolution.size() snapshots, no /sgd)
    std::string title, output, model;  // model: the SgdModel's description
    std::array<std::string, 2> parameters;
    bool linear = false;  // linear regression: the closed forms of the SDE and of exact SGD exist
    Vector2 rates = Vector2::Zero();
    int batch = 1;
    long steps = 0;
    double eta_bar = 0.0, t_end = 0.0;
    Eigen::Index chains = 0;
    std::uint64_t seed = 0;

    // The minimum and the local quadratic picture.
    Vector2 minimum = Vector2::Zero();
    double loss_at_minimum = 0.0;
    Matrix2 hessian = Matrix2::Zero();
    Matrix2 noise_at_minimum = Matrix2::Zero();  // Sigma(Phi*)/b
    Vector2 temperatures = Vector2::Zero();      // eta_a sigma_a^2
    double gibbs_temperature = 0.0;              // their mean: eta s with an isotropic s (= eta')

    std::vector<SgdSnapshot> evolution;
    double stationary_floor = 0.0;  // the L1 floor of the FP stationary density
    double fp_end_to_stationary = 0.0;  // L1(FP at t_end, FP stationary)
    std::vector<SgdComparison> stationary;
    std::optional<SgdPerParameter> per_parameter;  // sgd.per_parameter
    std::vector<SgdSweepRow> sweep;
    // Set with sgd.momentum (then evolution, stationary, per_parameter and sweep stay empty, temperatures 0,
    // rates = (eta, eta), eta_bar = eta and t_end = steps sqrt(eta)).
    std::optional<SgdMomentumResult> momentum;
    std::vector<std::string> warnings;
};

// Throws InputError on bad input (before the file is created), RunError if the evolution fails (the file then
// has status "failed: <why>").
SgdStudyResult sgd_study(const SgdStudyOptions& options);

}  // namespace fpsolve
