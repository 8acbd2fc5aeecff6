#include "distributed_operator.hpp"

#include <cmath>

namespace fpsolve {

Problem DistributedOperator::local_problem(const Decomposition& dec, const Problem& global) {
    Problem p = global;
    p.grid = dec.extended();
    p.initial = InitialDensity{};  // the operator never reads it; it may hold a whole-grid snapshot
    return p;
}

DistributedOperator::DistributedOperator(const Decomposition& dec, const Problem& global)
    : dec_(dec), global_(global), local_(local_problem(dec, global)) {
    global_.initial = InitialDensity{};
}

void DistributedOperator::operator()(const State& p, State& dpdt, double t) const {
    dec_.to_extended(p, ext_);
    local_(ext_, dext_, t);
    dec_.from_extended(dext_, dpdt);
}

double DistributedOperator::spectral_radius_bound(double t) const {
    const Eigen::SparseMatrix<double> a = local_.matrix(t);
    double bound = 0.0;
    for (Index k = 0; k < a.outerSize(); ++k) {
        if (!dec_.is_owned(k)) continue;  // a ghost column's rows are partly outside this block
        double col = 0.0;
        for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it) col += std::abs(it.value());
        bound = std::max(bound, col);
    }
    return dec_.max(bound);
}

bool DistributedOperator::monotone(double t) const {
    const Eigen::SparseMatrix<double> a = local_.matrix(t);
    bool ok = true;
    for (Index k = 0; k < a.outerSize() && ok; ++k)
        for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
            if (dec_.is_owned(it.row()) && it.row() != it.col() && it.value() < 0.0) {
                ok = false;
                break;
            }
    return dec_.all(ok);
}

double DistributedOperator::outflux(const State& p, double t) const {
    // With the ghosts set to zero only the owned cells' wall faces carry flux (wall faces have no
    // cross-diffusion terms, so each involves its own cell only).
    ext_.setZero(local_.grid().size());
    const auto& owned = dec_.owned_cells();
    for (std::size_t k = 0; k < owned.size(); ++k) ext_[owned[k]] = p[static_cast<Index>(k)];
    return dec_.sum(local_.outflux(ext_, t));
}

Eigen::MatrixXd DistributedOperator::cell_current(const State& p, double t) const {
    dec_.to_extended(p, ext_);
    const Eigen::MatrixXd all = local_.cell_current(ext_, t);
    const auto& owned = dec_.owned_cells();
    Eigen::MatrixXd out(static_cast<Index>(owned.size()), all.cols());
    for (std::size_t k = 0; k < owned.size(); ++k) out.row(static_cast<Index>(k)) = all.row(owned[k]);
    return out;
}

double DistributedOperator::cross_monotonicity_ratio() const { return dec_.max(local_.cross_monotonicity_ratio()); }

}  // namespace fpsolve
