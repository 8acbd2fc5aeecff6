// Richardson extrapolation in space (grid.richardson = true; Richardson 1911, Roache "Verification and
// Validation in Computational Science and Engineering" ch. 5).
//
// On a uniform grid the second-order schemes' density has an error that is smooth in x and even in h:
//   p_h = p + h^2 e(x) + O(h^4).
// With p_2h from the grid with half the cells per axis (the same faces, two fine cells per coarse cell
// and axis), and I the prolongation of coarse cell averages to fine ones (exact for polynomials of
// degree 4 per axis, so I p_2h = p_2h + O(h^5)),
//   p_R = (4 p_h - I p_2h) / 3 = p + O(h^4),        E = |p_h - I p_2h|_1 / 3 = |p_h - p|_1 (1 + O(h^2)).
// p_R keeps the mass exactly (I conserves it) but neither positivity nor the discrete Gibbs state of the
// exponential scheme; E estimates the plain scheme's L1 error.
#pragma once
#include <Eigen/Dense>

#include "grid.hpp"

namespace fpsolve {

using State = Eigen::VectorXd;

// The grid with half the cells on every axis; throws InputError (naming grid.richardson) unless every
// axis has an even number of at least 10 cells (the prolongation reads five coarse cells).
Grid coarsened(const Grid& fine);

// Coarse cell averages from fine ones: the mean of the 2^d fine cells in each coarse cell.
State restrict_to(const Grid& coarse, const State& fine);

// Fine cell averages of the piecewise quartic reconstruction of the coarse cell averages, axis by axis:
// five coarse cells centred on the cell (shifted inwards at walls, wrapped on periodic axes). The two
// halves of a coarse cell average to its value, so the mass is kept.
State prolong(const Grid& coarse, const State& coarse_density);

struct SpatialExtrapolation {
    State density;                // p_R = (4 p_h - I p_2h) / 3
    double error_estimate = 0.0;  // |p_h - I p_2h|_1 / 3 (sum times the fine cell volume)
};

SpatialExtrapolation richardson_extrapolate(const Grid& fine, const State& fine_density, const Grid& coarse,
                                            const State& coarse_density);

}  // namespace fpsolve
