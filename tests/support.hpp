// Helpers shared by the tests: problems from TOML text, integration to a time, discrete steady states,
// observed orders.
#pragma once
#include <Eigen/SparseLU>
#include <cmath>
#include <string>
#include <vector>

#include "config.hpp"
#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "integrator.hpp"

namespace fpsolve::test {

inline ParsedConfig config_from(const std::string& toml, const std::vector<std::string>& overrides = {}) {
    return parse_config(toml, "test.toml", overrides);
}

// Integrates with dopri5 at tight tolerances (time error far below the spatial error) to `end`.
inline State evolve(const FokkerPlanckOperator& op, State p, double end, double rtol = 1e-11, double atol = 1e-14) {
    TimeSettings ts;
    ts.times = {0.0, end};
    ts.integrator = Integrator::dopri5;
    ts.rtol = rtol;
    ts.atol = atol;
    integrate(op, p, ts, [](const State&, double) {});
    return p;
}

// The discrete steady state: A p = 0 with sum(p) V = 1 (the last row replaced by the normalisation).
inline State steady_state(const FokkerPlanckOperator& op) {
    Eigen::SparseMatrix<double> a = op.matrix(0.0);
    const Index n = a.rows();
    std::vector<Eigen::Triplet<double>> t;
    for (Index k = 0; k < a.outerSize(); ++k)
        for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
            if (it.row() != n - 1) t.emplace_back(it.row(), it.col(), it.value());
    const double v = op.grid().cell_volume();
    for (Index c = 0; c < n; ++c) t.emplace_back(n - 1, c, v);
    Eigen::SparseMatrix<double> m(n, n);
    m.setFromTriplets(t.begin(), t.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(m);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n);
    rhs[n - 1] = 1.0;
    return lu.solve(rhs);
}

inline double l1(const Grid& g, const State& a, const State& b) { return (a - b).cwiseAbs().sum() * g.cell_volume(); }

// Observed orders log2(e_k / e_{k+1}) for errors on grids refined by 2.
inline std::vector<double> orders(const std::vector<double>& e) {
    std::vector<double> o;
    for (std::size_t k = 0; k + 1 < e.size(); ++k) o.push_back(std::log2(e[k] / e[k + 1]));
    return o;
}

inline std::string table(const std::vector<int>& n, const std::vector<double>& e) {
    std::string s = "cells  error        order\n";
    const auto o = orders(e);
    for (std::size_t k = 0; k < e.size(); ++k) {
        char line[96];
        std::snprintf(line, sizeof line, "%5d  %.4e  %s\n", n[k], e[k], k ? std::to_string(o[k - 1]).c_str() : "");
        s += line;
    }
    return s;
}

}  // namespace fpsolve::test
