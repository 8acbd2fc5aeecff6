// Steady states, relaxation spectrum and first-passage times of the discrete generator A of
// dp/dt = A p (fokker_planck_operator.hpp), for time-independent problems.
//
// Steady state (mass conserved: 1^T A = 0, so A is singular):
//     A p = 0,   sum(p) V = 1,
// solved with one sparse LU of M = A with row k replaced by the normalisation row (its equation is
// implied by the others, since the rows of A sum to zero), then refined iteratively with the same
// factors. The current is the scheme's own face flux, so at a discrete equilibrium it is zero to
// round-off (Scharfetter & Gummel 1969: exponential fitting makes exp(-2L/s) that equilibrium).
//
// Relaxation spectrum: the eigenvalues lambda of A nearest 0. With conserved mass, range(A) lies in
// W = {v : 1^T v = 0} and A restricted to W is invertible; the same factors of M give x = (A|_W)^{-1} y
// (row k of the right-hand side set to 0, so 1^T x = 0). Arnoldi (Spectra) on that operator returns the
// largest |1/lambda|, i.e. shift-invert at sigma = 0 with the zero eigenvalue deflated exactly. With
// absorbing walls A itself is invertible and is used directly.
//     conserved mass:  spectral_gap = min |Re lambda| over lambda != 0
//     absorbing walls: lambda_0 = -escape_rate (the slowest mode, a real eigenvalue whose eigenvector is
//                      the quasi-stationary density), spectral_gap = |Re lambda_1| - |lambda_0|
//                      (the rate at which p(t) / mass(t) approaches the quasi-stationary density)
//     relaxation_time = 1 / spectral_gap.
// Eigenvalues nearest 0 in modulus are computed (a few more than asked), then ordered by |Re lambda|: a
// slow mode with a large imaginary part can be missed when many faster real modes are nearer 0.
//
// Mean first-passage time to the absorbing walls (the backward equation of the discrete chain):
//     A^T T = -1,
// T_c the mean time to absorption from cell c. For the quasi-stationary density q (1^T q = 1) the
// identity q^T T = 1 / escape_rate holds exactly (A q = lambda_0 q).
#pragma once
#include <Eigen/Sparse>
#include <complex>
#include <limits>
#include <memory>
#include <vector>

#include "fokker_planck_operator.hpp"

namespace fpsolve {

struct SteadyStateOptions {
    int eigenvalues = 6;  // slowest eigenvalues to compute (0: no spectrum)
    bool positive = true; // re-solve with a transport guide while the density dips (stationary.positive)
};

struct SteadyState {
    bool absorbing = false;          // true: `density` is the quasi-stationary density
    Eigen::VectorXd density;         // cell averages, sum(density) V = 1
    Eigen::MatrixXd current;         // N x dims, cell-centred, from the scheme's face fluxes
    double residual = 0.0;           // ||A p||_inf / (||A||_inf ||p||_inf)   (A p + escape_rate p for absorbing)
    double max_abs_current = 0.0;
    std::vector<std::complex<double>> eigenvalues;  // slowest first (by |Re|); 0 included with conserved mass
    double spectral_gap = std::numeric_limits<double>::quiet_NaN();
    double relaxation_time = std::numeric_limits<double>::quiet_NaN();
    Eigen::VectorXd mfpt;            // absorbing walls only
    double escape_rate = std::numeric_limits<double>::quiet_NaN();  // absorbing walls only
    int guided_passes = 0;           // re-solves with a transport guide (0: the plain kappa = 1/3 generator)
};

// The factorised generator, shared by the steady-state solve, the spectrum and the MFPT.
class FactorisedGenerator {
public:
    // `conserves_mass`: A has zero column sums (no absorbing wall). `pin_hint`: a cell where the steady
    // density is likely large (default: the middle index). Throws RunError if the factorisation fails
    // (a generator with more than one steady state, e.g. without noise).
    FactorisedGenerator(Eigen::SparseMatrix<double> a, double cell_volume, bool conserves_mass,
                        Eigen::Index pin_hint = -1);
    ~FactorisedGenerator();
    FactorisedGenerator(const FactorisedGenerator&) = delete;
    FactorisedGenerator& operator=(const FactorisedGenerator&) = delete;

    const Eigen::SparseMatrix<double>& matrix() const { return a_; }
    bool conserves_mass() const { return conserves_; }
    Eigen::Index size() const { return a_.rows(); }

    // A p = 0, sum(p) V = 1 (conserved mass only).
    Eigen::VectorXd steady_state() const;
    // x = (A|_W)^{-1} y with 1^T x = 0 (conserved mass), or x = A^{-1} y (absorbing walls).
    Eigen::VectorXd apply_inverse(const Eigen::VectorXd& y) const;
    // T solving A^T T = -1 (absorbing walls only).
    Eigen::VectorXd mean_first_passage_time() const;
    // The `count` eigenvalues of A nearest 0 (plus exactly 0 with conserved mass), ordered by |Re|.
    // Dense QR below 400 cells, Arnoldi on apply_inverse above. Throws RunError if Arnoldi fails.
    std::vector<std::complex<double>> slowest_eigenvalues(int count) const;
    // The quasi-stationary density (absorbing walls): the positive eigenvector of the slowest mode,
    // by inverse iteration; sum(q) V = 1. Returns q and its eigenvalue lambda_0 (Rayleigh quotient).
    std::pair<Eigen::VectorXd, double> quasi_stationary() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    Eigen::SparseMatrix<double> a_;
    double volume_;
    bool conserves_;
    Eigen::Index pinned_ = 0;  // the row of A replaced by the normalisation
};

// Transport-only faces (face_flux.hpp) are not monotone, and where the density falls by more than about e per
// cell the steady state can dip below zero. When it dips below -kGuideDipTolerance of its largest value, it is
// solved again with itself as Problem::transport_guide: the faces where it is not positive or steep take a
// positive first-order flux (fokker_planck_operator.cpp), the others keep kappa = 1/3. Each further pass (at
// most kGuidedPasses solves in all) takes the newest density as the guide, keeping the non-positive cells of
// the previous guides. The spectrum, current and first-passage times are then those of the last generator.
inline constexpr double kGuideDipTolerance = 1e-12;
inline constexpr int kGuidedPasses = 4;
bool guide_applies(const Problem& problem);  // transport-only faces with the kappa = 1/3 flux
inline bool dips(double min, double max) { return min < -kGuideDipTolerance * max; }
// The guide from a density: its positive part, 0 where `previous` (if any) is not positive.
std::shared_ptr<const std::vector<double>> transport_guide(const Eigen::VectorXd& density,
                                                           const std::vector<double>* previous);

// Everything `fpsolve stationary` reports. Throws InputError for a time-dependent problem.
SteadyState solve_stationary(const FokkerPlanckOperator& op, const SteadyStateOptions& options = {});

// ||A p||_inf / (||A||_inf ||p||_inf): the normwise backward error of p as a null vector of A.
double relative_residual(const Eigen::SparseMatrix<double>& a, const Eigen::VectorXd& p);

}  // namespace fpsolve
