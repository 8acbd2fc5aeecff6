// Closed-form stationary densities (DESIGN §1), as point values at cell centres normalised to discrete
// mass 1. Where none is known, stationary_reference() returns nothing.
//
//   gibbs            potential L, constant diagonal D with equal temperatures T_a = D_aa / (2 P_aa):
//                    p ∝ exp(-L / T)        (T = s/2 for D = s I; per-axis rates eta_a = eta'/sigma_a^2 give T = eta'/2)
//   two-temperature  potential that separates, L = sum_a L_a(x_a), constant diagonal D:
//                    p ∝ exp(-sum_a L_a / T_a)
//   one-dimensional  1-D, reflecting walls, time-independent: zero flux gives
//                    p ∝ D^(alpha - 1) exp(∫ 2 mu / D dx)       (alpha: 0 Ito, 1/2 Stratonovich, 1 isothermal)
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "problem.hpp"

namespace fpsolve {

struct Reference {
    Eigen::VectorXd density;
    std::string kind;             // "gibbs", "two-temperature", "one-dimensional"
    double temperature = 0.0;     // T of the Gibbs density (for the free energy); 0 otherwise
};

std::optional<Reference> stationary_reference(const Problem& problem);

// Sums, minima, maxima and conjunctions over all the blocks of a decomposed grid (parallel/ passes MPI
// reductions); the defaults are those of a single block, the whole grid.
struct BlockReductions {
    std::function<double(double)> sum = [](double x) { return x; };
    std::function<double(double)> min = [](double x) { return x; };
    std::function<double(double)> max = [](double x) { return x; };
    std::function<bool(bool)> all = [](bool x) { return x; };
};

// The same reference, evaluated only on `block` (a block of problem.grid with Grid::whole set, or the grid
// itself) and normalised over the whole grid through `reduce`: every block calls it, with the same problem.
// The one-dimensional kind is computed on the whole (1-D) grid and cut to the block.
std::optional<Reference> stationary_reference(const Problem& problem, const Grid& block,
                                              const BlockReductions& reduce);

// The energy whose Gibbs density exp(-E/T) is the reference: H = U(x) + |v|^2/2 of the kinetic form, else the
// potential. gibbs_energy_at only for a problem with one (has_gibbs_energy).
bool has_gibbs_energy(const Problem& problem);
double gibbs_energy_at(const Problem& problem, const Point& x);
// That energy at the cell centres (empty without one).
Eigen::VectorXd potential_at_centres(const Problem& problem);
// The same at the centres of `block` (a block of the problem's grid, as Decomposition::owned_grid()).
Eigen::VectorXd potential_at_centres(const Problem& problem, const Grid& block);

}  // namespace fpsolve
