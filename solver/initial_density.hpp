// The initial density: an expression, a Gaussian, or values taken from an earlier file.
// Cell averages by 3-point Gauss–Legendre per axis (error O(h^6) for smooth data), then normalised to mass 1.
#pragma once
#include <optional>

#include "expression.hpp"
#include "problem.hpp"

namespace fpsolve {

// Throws InputError for negative or non-finite values or zero mass.
Eigen::VectorXd initial_state(const Grid& grid, const InitialDensity& initial);
// The same cell values before the normalisation to mass 1 (a decomposed run normalises over all ranks);
// throws InputError for negative or non-finite values. `values` from a file must match the grid.
Eigen::VectorXd initial_values(const Grid& grid, const InitialDensity& initial);

// Cell averages of any function f(x) by tensor Gauss–Legendre quadrature (3 points per axis).
template <class F>
Eigen::VectorXd cell_averages(const Grid& g, F&& f) {
    static constexpr double node[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
    static constexpr double weight[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
    const Index n = g.size();
    Eigen::VectorXd out(n);
    int points = 1;  // 3^dims tensor points per cell
    for (int a = 0; a < g.dims; ++a) points *= 3;
    for (Index c = 0; c < n; ++c) {
        const Point xc = g.centre_of(c);
        double sum = 0.0;
        for (int m = 0; m < points; ++m) {
            // point m has node q[a] on axis a, counted with the last axis fastest
            int q[kMaxAxes] = {};
            for (int a = g.dims - 1, r = m; a >= 0; --a, r /= 3) q[a] = r % 3;
            Point x = xc;
            double w = 1.0;
            for (int a = 0; a < g.dims; ++a) {
                x[a] += 0.5 * g.spacing(a) * node[q[a]];
                w *= weight[q[a]];
            }
            sum += w * f(x);
        }
        out[c] = sum;
    }
    return out;
}

}  // namespace fpsolve
