#include "distributed_operator.hpp"

#include <cmath>

#include "subnormals.hpp"

namespace fpsolve {

Problem DistributedOperator::local_problem(const Decomposition& dec, const Problem& global, const State* guide) {
    Problem p = global;
    p.grid = dec.extended();
    p.initial = InitialDensity{};  // the operator never reads it; it may hold a whole-grid snapshot
    p.transport_guide = nullptr;
    if (guide) {
        State ext;
        dec.to_extended(*guide, ext);
        p.transport_guide = std::make_shared<const std::vector<double>>(ext.data(), ext.data() + ext.size());
    }
    return p;
}

DistributedOperator::DistributedOperator(const Decomposition& dec, const Problem& global, const State* guide)
    : dec_(dec), global_(global), local_(local_problem(dec, global, guide)) {
    global_.initial = InitialDensity{};
    global_.transport_guide = nullptr;
}

void DistributedOperator::operator()(const State& p, State& dpdt, double t) const {
    if (dec_.cuts_last_axis()) {  // every row reads ghosts at its ends: nothing to overlap
        dec_.to_extended(p, ext_);
        local_(ext_, dext_, t);
        dec_.from_extended(dext_, dpdt);
        return;
    }
    dpdt.resize(dec_.owned_size());
    if (!dec_.has_ghosts()) {  // the owned block is the extended one
        apply_owned_rows(dec_.inner_rows(), p.data(), t, dpdt.data());
        return;
    }
    dec_.copy_owned(p, ext_);
    Decomposition::PendingHalo pending = dec_.start_halo(ext_);
    apply_owned_rows(dec_.inner_rows(), ext_.data(), t, dpdt.data());
    dec_.finish_halo(pending);
    apply_owned_rows(dec_.border_rows(), ext_.data(), t, dpdt.data());
}

// The last axis is whole, so owned row r is the extended block's row row_start(r) / n with the same n cells,
// and its output is dp/dt's cells r n .. r n + n - 1. As FokkerPlanckOperator::operator(): rows split
// statically over the threads above 65536 cells, subnormals flushed on every thread (the same bits).
void DistributedOperator::apply_owned_rows(const std::vector<Index>& rows, const double* x, double t,
                                           double* dpdt) const {
    if (rows.empty()) return;
    const Index n = local_.row_length();
    const Index count = static_cast<Index>(rows.size());
    {  // the first row on this thread: it assembles time-dependent coefficients for t (apply_row's rule)
        const SubnormalsAreZero ftz;
        local_.apply_row(dec_.row_start(rows[0]) / n, x, t, dpdt + rows[0] * n);
    }
#ifdef _OPENMP
#pragma omp parallel if (count * n >= 65536)
#endif
    {
        const SubnormalsAreZero ftz;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (Index k = 1; k < count; ++k) {
            const Index r = rows[static_cast<std::size_t>(k)];
            local_.apply_row(dec_.row_start(r) / n, x, t, dpdt + r * n);
        }
    }
}

double DistributedOperator::spectral_radius_bound(double t) const {
    const Eigen::VectorXd sums = local_.column_abs_sums(t);
    double bound = 0.0;
    for (Index k = 0; k < sums.size(); ++k)
        if (dec_.is_owned(k)) bound = std::max(bound, sums[k]);  // a ghost column's rows are partly outside
    return dec_.max(bound);
}

bool DistributedOperator::monotone(double t) const {
    // A ghost column's rows are partly outside: only the owned rows count.
    return dec_.all(local_.monotone(t, [&](Index row) { return dec_.is_owned(row); }));
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
