// Discrete detailed balance of a generator A (dp/dt = A p, A_ij the rate from cell j to cell i): A is in
// detailed balance with a positive vector w when
//
//   A_ij w_j = A_ji w_i   for every pair i != j.
//
// Then W^-1/2 A W^1/2 is symmetric (W = diag w), so A's eigenvalues are real, and with A_ij >= 0 and column
// sums <= 0 (Gershgorin) they lie in [-rho, 0]. That is what the exact exponential stepper needs
// (time/chebyshev_exponential.hpp). The Scharfetter–Gummel scheme with a potential drift and D = s I (also
// with one learning rate per axis) has it with w = the discrete Gibbs density; rotational drifts, currents
// around a periodic axis and most correlated noises do not.
//
// The test: w is built along a breadth-first spanning tree of the coupling graph (log w_i = log w_j +
// log A_ij - log A_ji), then every coupling is checked against it, so a violation on any cycle (also one
// that winds around a periodic axis) is found.
#pragma once
#include <Eigen/Sparse>
#include <string>
#include <vector>

namespace fpsolve {

struct DetailedBalance {
    bool holds = false;
    std::string why;            // when it does not hold: the first coupling that breaks it, in words
    Eigen::VectorXd log_weight;  // log w (up to a constant per connected set of cells), when it holds
    // The connected set of each cell (numbered 0, 1, ... in the order of their first cells; log w = 0 there)
    // and their number, when it holds.
    std::vector<Eigen::Index> component;
    Eigen::Index components = 0;
};

// `tolerance`: the largest accepted |log(A_ij w_j) - log(A_ji w_i)| (a relative mismatch of the rates).
DetailedBalance detailed_balance(const Eigen::SparseMatrix<double>& a, double tolerance = 1e-9);

}  // namespace fpsolve
