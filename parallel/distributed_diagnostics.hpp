// The per-snapshot diagnostics of diagnostics.hpp on a decomposed grid: each rank sums over its owned
// cells (at the global cell centres, so every term is the serial one), then the sums are reduced over the
// ranks; the covariance takes a second reduction about the global mean, as the serial two-pass formula.
// Only the order of the additions differs from a serial run.
#pragma once
#include <optional>

#include "diagnostics.hpp"
#include "distributed_operator.hpp"

namespace fpsolve {

class DistributedDiagnostics {
public:
    // `reference` holds the owned cells of the reference density (Decomposition::slice).
    DistributedDiagnostics(const DistributedOperator& op, std::optional<Reference> reference);
    // Collective.
    Diagnostics operator()(const State& p, double t) const;

private:
    const DistributedOperator& op_;
    std::optional<Reference> reference_;
    Eigen::VectorXd potential_;
    std::array<Eigen::VectorXd, kMaxAxes> coords_;
};

}  // namespace fpsolve
