// Linear systems with the generator of a decomposed grid, solved by hypre (Falgout & Yang 2002):
//
//   M x = b,     M = alpha I + beta A(t)          (TR-BDF2: alpha = 1, beta = -d h;  steady state: 0, 1)
//
// optionally with one row replaced by scale * e_k^T (the normalisation of a singular A, solver/stationary.hpp).
// The rows are the owned cells of each rank, numbered contiguously rank after rank (rank r owns
// [first_r, first_r + owned_r)); each owned row of A is the owned row of the rank's extended-block operator
// (distributed_operator.hpp), its ghost columns mapped to their owners' numbers through one halo exchange
// of the numbering itself. The matrix is a hypre IJ/ParCSR matrix; the solver is GMRES (restart 50)
// preconditioned by one BoomerAMG V-cycle, to a relative residual ||b - M x||_2 / ||b||_2 <= tol (A is
// non-symmetric with drift and may have 9-point stencils, periodic wraps and absorbing walls). With
// transport-only axes (no diffusion along them: two ghost layers, decomposition.hpp) the preconditioner is ILU(1)
// of each rank's block instead: AMG stalled on the kinetic OU steady state (64x24 to 512x192 cells but for
// 64x48, one rank or several) where ILU(1) converged up to 256x96. A solve that does not converge is repeated once with the
// other preconditioner, which the system then keeps.
//
// Every method is collective. A failed solve (not converged) throws RunError on every rank.
#pragma once
#include <memory>

#include "distributed_operator.hpp"

namespace fpsolve {

enum class HyprePreconditioner { amg, ilu };

struct HypreSettings {
    double tol = 1e-12;     // relative residual of every solve
    int max_iterations = 1000;
};

class HypreSystem {
public:
    HypreSystem(const DistributedOperator& op, HypreSettings settings = {});
    HypreSystem(const HypreSystem&) = delete;
    HypreSystem& operator=(const HypreSystem&) = delete;
    ~HypreSystem();

    // Assembles M = alpha I + beta A(t) (with global row `pinned` replaced by pin_scale e_k^T when pinned >= 0),
    // or its transpose, and sets up the preconditioner for it.
    void set(double t, double alpha, double beta, Index pinned = -1, double pin_scale = 1.0, bool transpose = false);
    // x = M^-1 b on the owned cells to ||b - M x||_2 <= tol max(||b||_2, reference_norm) (a refinement step
    // passes the norm of the original right-hand side: its own is at round-off level); x is the starting guess
    // when `guess` (else 0). Returns the iterations.
    int solve(const State& b, State& x, bool guess = false, double reference_norm = 0.0);
    // y = M x with the last assembled M (hypre's matvec), for residuals.
    void apply(const State& x, State& y) const;

    Index first_row() const { return first_; }            // global number of this rank's first owned cell
    Index global_rows() const { return rows_; }
    // The global number (row-major over the whole grid) of each owned cell, for mapping serial indices.
    const std::vector<Index>& grid_index() const { return grid_index_; }
    double last_residual() const { return last_residual_; }
    std::size_t setups() const { return setups_; }
    std::size_t solves() const { return solves_; }
    std::size_t iterations() const { return iterations_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    const DistributedOperator& op_;
    HypreSettings settings_;
    HyprePreconditioner preconditioner_ = HyprePreconditioner::amg;
    bool switched_ = false;  // the other preconditioner was tried once: no more switching
    Index first_ = 0, rows_ = 0;
    std::vector<Index> grid_index_;
    double last_residual_ = 0.0, matrix_norm_ = 0.0;
    std::size_t setups_ = 0, solves_ = 0, iterations_ = 0;
};

}  // namespace fpsolve
