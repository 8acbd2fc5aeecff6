#include "initial_density.hpp"

#include <cmath>
#include <numbers>

#include "exact_sum.hpp"

namespace fpsolve {

Eigen::VectorXd initial_state(const Grid& g, const InitialDensity& init) {
    const Eigen::VectorXd p = initial_values(g, init);
    const double mass = exact_sum(p) * g.cell_volume();  // the same bits however the grid is split (exact_sum.hpp)
    if (!(mass > 0.0) || !std::isfinite(mass))
        throw InputError(init.where + ": the initial density has zero mass on the grid");
    return p / mass;
}

Eigen::VectorXd initial_values(const Grid& g, const InitialDensity& init) {
    Eigen::VectorXd p;
    if (init.values) {
        p = *init.values;
        if (p.size() != g.size())
            throw InputError(init.where + ": the snapshot has " + std::to_string(p.size()) + " cells, the grid " +
                             std::to_string(g.size()));
    } else if (init.gaussian) {
        const auto& gs = *init.gaussian;
        const int d = g.dims;
        const Eigen::LLT<Eigen::MatrixXd> llt(gs.covariance);
        if (llt.info() != Eigen::Success) throw InputError(init.where + ".covariance: not positive definite");
        const double logdet = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
        const double norm = -0.5 * (d * std::log(2.0 * std::numbers::pi) + logdet);
        p = cell_averages(g, [&](const Point& x) {
            Eigen::VectorXd r(d);
            for (int a = 0; a < d; ++a) r[a] = x[a] - gs.mean[a];
            return std::exp(norm - 0.5 * r.dot(llt.solve(r)));
        });
    } else if (init.expression) {
        const Expression& e = *init.expression;
        p = cell_averages(g, [&](const Point& x) { return e(x, 0.0); });
    } else {
        throw InputError("initial: give one of density, gaussian or snapshot");
    }
    // Densities read from a file may dip below zero a little: round-off, or the Richardson extrapolation
    // (grid.richardson) of the run that wrote them. Such dips start the run at zero.
    const double floor = init.values ? -1e-3 * p.cwiseAbs().maxCoeff() : 0.0;
    for (Index c = 0; c < p.size(); ++c) {
        if (!std::isfinite(p[c]))
            throw InputError(init.where + ": the initial density is not finite at cell " + std::to_string(c));
        if (p[c] < floor)
            throw InputError(init.where + ": the initial density is negative at cell " + std::to_string(c));
        if (p[c] < 0.0) p[c] = 0.0;
    }
    return p;
}

}  // namespace fpsolve
