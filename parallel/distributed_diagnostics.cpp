#include "distributed_diagnostics.hpp"

#include <cmath>

namespace fpsolve {

DistributedDiagnostics::DistributedDiagnostics(const DistributedOperator& op, std::optional<Reference> reference)
    : op_(op), reference_(std::move(reference)) {
    const Decomposition& dec = op.decomposition();
    const Grid& g = dec.global();
    const Grid& e = dec.extended();
    const auto& owned = dec.owned_cells();
    const Index n = dec.owned_size();
    for (int a = 0; a < g.dims; ++a) coords_[a].resize(n);
    const bool gibbs = reference_ && reference_->kind == "gibbs" && has_gibbs_energy(op.global_problem());
    if (gibbs) potential_.resize(n);
    for (Index k = 0; k < n; ++k) {
        const auto i = e.unravel(owned[static_cast<std::size_t>(k)]);
        Point x{};
        for (int a = 0; a < g.dims; ++a) x[a] = coords_[a][k] = g.centre(a, i[a] - dec.ghost_lower()[a] + dec.begin()[a]);
        if (gibbs) potential_[k] = gibbs_energy_at(op.global_problem(), x);
    }
}

Diagnostics DistributedDiagnostics::operator()(const State& p, double t) const {
    const Decomposition& dec = op_.decomposition();
    const Grid& g = dec.global();
    const int d = g.dims;
    const double v = g.cell_volume();
    MPI_Comm comm = dec.comm();

    // First pass: mass, first moments, entropy, distances to the reference, potential energy.
    enum { mass, mom0, ent = mom0 + kMaxAxes, l1, kl, pot, count };
    double local[count] = {}, total[count] = {};
    local[mass] = p.sum();
    for (int a = 0; a < d; ++a) local[mom0 + a] = coords_[a].dot(p);
    for (Index c = 0; c < p.size(); ++c)
        if (p[c] > 0.0) local[ent] -= p[c] * std::log(p[c]);
    if (reference_) {
        const Eigen::VectorXd& q = reference_->density;
        local[l1] = (p - q).cwiseAbs().sum();
        for (Index c = 0; c < p.size(); ++c)
            if (p[c] > 0.0) local[kl] += p[c] * std::log(p[c] / q[c]);
        if (potential_.size() > 0) local[pot] = potential_.dot(p);
    }
    MPI_Allreduce(local, total, count, MPI_DOUBLE, MPI_SUM, comm);

    Diagnostics out;
    out.time = t;
    out.mass = total[mass] * v;
    out.min_density = dec.min(p.size() > 0 ? p.minCoeff() : HUGE_VAL);
    const double m = out.mass != 0.0 ? out.mass : 1.0;
    for (int a = 0; a < d; ++a) out.mean[a] = total[mom0 + a] * v / m;

    // Second pass: the covariance about the global mean.
    constexpr int k = kMaxAxes;
    double cl[k * k] = {}, ct[k * k] = {};
    for (int a = 0; a < d; ++a)
        for (int b = 0; b <= a; ++b)
            cl[a * k + b] = ((coords_[a].array() - out.mean[a]) * (coords_[b].array() - out.mean[b]) * p.array()).sum();
    MPI_Allreduce(cl, ct, k * k, MPI_DOUBLE, MPI_SUM, comm);
    for (int a = 0; a < d; ++a)
        for (int b = 0; b <= a; ++b) out.covariance(a, b) = out.covariance(b, a) = ct[a * k + b] * v / m;

    out.entropy = total[ent] * v;
    if (reference_) {
        out.l1_to_reference = total[l1] * v;
        out.kl_to_reference = total[kl] * v;
        if (reference_->kind == "gibbs") out.free_energy = total[pot] * v - reference_->temperature * out.entropy;
    }
    out.outflux = op_.outflux(p, t);
    return out;
}

}  // namespace fpsolve
