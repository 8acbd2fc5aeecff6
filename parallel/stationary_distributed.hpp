// Steady states of a decomposed grid: the equations and outputs of solver/stationary.hpp, with every
// linear solve by hypre (hypre_system.hpp: GMRES/BoomerAMG on the rows owned by each rank) instead of a
// sparse LU:
//
//   conserved mass   A p = 0, sum(p) V = 1: A with the pinned row replaced by ||A||_inf e_k^T (the serial
//                    pin: the centre or the potential's minimum, moved once to the maximum of p if p_k is
//                    small there), solved to a relative residual 1e-12 and refined once with hypre's matvec
//   absorbing walls  the quasi-stationary density by inverse iteration q <- A^-1 q (stopped when a step
//                    changes q by < 1e-10 relative, the solver tolerance being 1e-12) and the mean first-
//                    passage time A^T T = -1 (the transpose assembled in hypre)
//   spectrum         Arnoldi (Spectra) on (A|_W)^-1 / A^-1 as in the serial solver, its vectors replicated
//                    on every rank (identical arithmetic, so identical decisions) and each application of
//                    the inverse a hypre solve of the owned part followed by an allgather; below 400 cells
//                    the dense QR of A, assembled column by column with the distributed operator
//
// The result's density, current and mfpt are this rank's owned cells (Decomposition::owned_cells order, as a
// run's state), the scalars and eigenvalues are the same on every rank; `fpsolve stationary` writes them
// through parallel HDF5 into the file one process writes. It agrees with the serial result to the solver
// tolerance, not to round-off. O(N / ranks) in memory per rank without the spectrum (the pin and the row of a
// cell are reductions over the owners); the spectrum's Arnoldi vectors are over the whole grid on every rank.
#pragma once
#include "distributed_operator.hpp"
#include "stationary.hpp"

namespace fpsolve {

// Collective. Throws InputError for a time-dependent problem, RunError when a solve fails (every rank alike).
SteadyState solve_stationary(const DistributedOperator& op, const SteadyStateOptions& options = {});

}  // namespace fpsolve
