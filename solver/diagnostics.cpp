#include "diagnostics.hpp"

namespace fpsolve {

DiagnosticsCalculator::DiagnosticsCalculator(const FokkerPlanckOperator& op, std::optional<Reference> reference)
    : op_(op), reference_(std::move(reference)) {
    const Grid& g = op.grid();
    if (reference_ && reference_->kind == "gibbs") potential_ = potential_at_centres(op.problem());
    for (int a = 0; a < g.dims; ++a) {
        coords_[a].resize(g.size());
        for (Index c = 0; c < g.size(); ++c) coords_[a][c] = g.centre(a, g.unravel(c)[a]);
    }
}

Diagnostics DiagnosticsCalculator::operator()(const State& p, double t) const {
    const Grid& g = op_.grid();
    const int d = g.dims;
    const double v = g.cell_volume();
    Diagnostics out;
    out.time = t;
    out.mass = p.sum() * v;
    out.min_density = p.minCoeff();
    const double m = out.mass != 0.0 ? out.mass : 1.0;
    for (int a = 0; a < d; ++a) out.mean[a] = coords_[a].dot(p) * v / m;
    for (int a = 0; a < d; ++a)
        for (int b = 0; b <= a; ++b) {
            const double s = ((coords_[a].array() - out.mean[a]) * (coords_[b].array() - out.mean[b]) * p.array()).sum();
            out.covariance(a, b) = out.covariance(b, a) = s * v / m;
        }
    double ent = 0.0;
    for (Index c = 0; c < p.size(); ++c)
        if (p[c] > 0.0) ent -= p[c] * std::log(p[c]);
    out.entropy = ent * v;
    if (reference_) {
        const Eigen::VectorXd& q = reference_->density;
        out.l1_to_reference = (p - q).cwiseAbs().sum() * v;
        double kl = 0.0;
        for (Index c = 0; c < p.size(); ++c)
            if (p[c] > 0.0 && q[c] > 0.0) kl += p[c] * std::log(p[c] / q[c]);
        out.kl_to_reference = kl * v;
        if (reference_->kind == "gibbs") out.free_energy = potential_.dot(p) * v - reference_->temperature * out.entropy;
    }
    out.outflux = op_.outflux(p, t);
    return out;
}

}  // namespace fpsolve
