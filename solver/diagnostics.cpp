#include "diagnostics.hpp"

namespace fpsolve {

DiagnosticsCalculator::DiagnosticsCalculator(const FokkerPlanckOperator& op, std::optional<Reference> reference)
    : op_(op), reference_(std::move(reference)) {
    const Grid& g = op.grid();
    if (reference_ && reference_->kind == "gibbs") potential_ = potential_at_centres(op.problem());
    for (int a = 0; a < g.dims; ++a)
        for (Index i = 0; i < g.cells[a]; ++i) centres_[a].push_back(g.centre(a, i));
}

namespace {
// visit(x, p_c) for every cell c in row-major order, x its centre: no per-cell coordinate arrays.
template <class Visit>
void for_each_centre(const Grid& g, const std::array<std::vector<double>, kMaxAxes>& centres, const State& p,
                     Visit&& visit) {
    const int last = g.dims - 1;
    const Index n_last = g.cells[last];
    std::array<double, kMaxAxes> x{};
    for (Index row = 0; row < g.size(); row += n_last) {
        const auto i = g.unravel(row);
        for (int a = 0; a < last; ++a) x[a] = centres[a][static_cast<std::size_t>(i[a])];
        for (Index j = 0; j < n_last; ++j) {
            x[last] = centres[last][static_cast<std::size_t>(j)];
            visit(x, p[row + j]);
        }
    }
}
}  // namespace

Diagnostics DiagnosticsCalculator::operator()(const State& p, double t) const {
    const Grid& g = op_.grid();
    const int d = g.dims;
    const double v = g.cell_volume();
    Diagnostics out;
    out.time = t;
    out.mass = p.sum() * v;
    out.min_density = p.minCoeff();
    const double m = out.mass != 0.0 ? out.mass : 1.0;
    std::array<double, kMaxAxes> first{};
    for_each_centre(g, centres_, p, [&](const std::array<double, kMaxAxes>& x, double pc) {
        for (int a = 0; a < d; ++a) first[a] += x[a] * pc;
    });
    for (int a = 0; a < d; ++a) out.mean[a] = first[a] * v / m;
    std::array<double, kMaxAxes * kMaxAxes> second{};  // about the mean: no cancellation
    for_each_centre(g, centres_, p, [&](const std::array<double, kMaxAxes>& x, double pc) {
        for (int a = 0; a < d; ++a) {
            const double da = (x[a] - out.mean[a]) * pc;
            for (int b = 0; b <= a; ++b) second[static_cast<std::size_t>(a * kMaxAxes + b)] += da * (x[b] - out.mean[b]);
        }
    });
    for (int a = 0; a < d; ++a)
        for (int b = 0; b <= a; ++b)
            out.covariance(a, b) = out.covariance(b, a) = second[static_cast<std::size_t>(a * kMaxAxes + b)] * v / m;
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
