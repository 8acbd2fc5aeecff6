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

// Potential at the cell centres (empty without a potential).
Eigen::VectorXd potential_at_centres(const Problem& problem);

}  // namespace fpsolve
