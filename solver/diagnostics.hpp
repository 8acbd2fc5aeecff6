// Per-snapshot diagnostics (DESIGN §4), as sums over cells of cell averages times the cell volume V:
//   mass = sum p V,  mean = sum x p V / mass,  covariance = sum (x - mean)(x - mean)^T p V / mass,
//   entropy = -sum p ln p V,  free_energy = sum (L + T ln p) p V   (Gibbs reference of temperature T only),
//   l1_to_reference = sum |p - q| V,  kl_to_reference = sum p ln(p / q) V (over cells where p, q > 0).
// Sums run in cell order, so results do not depend on threads.
#pragma once
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "fokker_planck_operator.hpp"
#include "reference.hpp"

namespace fpsolve {

struct Diagnostics {
    double time = 0.0;
    double mass = 0.0;
    AxisVector mean = AxisVector::Zero();
    AxisMatrix covariance = AxisMatrix::Zero();
    double entropy = 0.0;
    double free_energy = std::numeric_limits<double>::quiet_NaN();
    double l1_to_reference = std::numeric_limits<double>::quiet_NaN();
    double kl_to_reference = std::numeric_limits<double>::quiet_NaN();
    double outflux = 0.0;   // rate of mass loss through absorbing walls
    double min_density = 0.0;
    // grid.richardson: the plain second-order scheme's estimated L1 error (richardson.hpp)
    double error_estimate = std::numeric_limits<double>::quiet_NaN();
};

class DiagnosticsCalculator {
public:
    DiagnosticsCalculator(const FokkerPlanckOperator& op, std::optional<Reference> reference);
    Diagnostics operator()(const State& p, double t) const;
    const std::optional<Reference>& reference() const { return reference_; }

private:
    const FokkerPlanckOperator& op_;
    std::optional<Reference> reference_;
    Eigen::VectorXd potential_;
    std::array<std::vector<double>, kMaxAxes> centres_;  // the cell centres along each axis (not per cell)
};

}  // namespace fpsolve
