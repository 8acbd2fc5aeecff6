#include "detailed_balance.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

namespace fpsolve {

namespace {

using Sparse = Eigen::SparseMatrix<double>;

// Calls visit(i, a_ij, a_ji) for every i != j coupled to j in either direction (a zero for a missing entry).
// `a` holds A by columns, `at` holds A^T by columns (column j of at = row j of A); both sorted by row.
template <class Visit>
bool for_each_coupling(const Sparse& a, const Sparse& at, Eigen::Index j, Visit&& visit) {
    Sparse::InnerIterator x(a, j), y(at, j);
    while (x || y) {
        Eigen::Index i;
        double aij = 0.0, aji = 0.0;
        if (x && (!y || x.row() < y.row())) {
            i = x.row(), aij = x.value(), ++x;
        } else if (y && (!x || y.row() < x.row())) {
            i = y.row(), aji = y.value(), ++y;
        } else {
            i = x.row(), aij = x.value(), aji = y.value(), ++x, ++y;
        }
        if (i != j && (aij != 0.0 || aji != 0.0) && !visit(i, aij, aji)) return false;
    }
    return true;
}

std::string pair_text(Eigen::Index i, Eigen::Index j, double aij, double aji, const char* what) {
    std::ostringstream s;
    s.precision(3);
    s << "cells " << j << " and " << i << ": rates " << aij << " (" << j << " -> " << i << ") and " << aji << " ("
      << i << " -> " << j << ")" << what;
    return s.str();
}

}  // namespace

DetailedBalance detailed_balance(const Sparse& a, double tolerance) {
    DetailedBalance out;
    const Eigen::Index n = a.cols();
    const Sparse at = a.transpose();
    const double unset = std::numeric_limits<double>::quiet_NaN();
    Eigen::VectorXd lw = Eigen::VectorXd::Constant(n, unset);
    std::vector<Eigen::Index> queue, component(static_cast<std::size_t>(n));
    queue.reserve(static_cast<std::size_t>(n));
    Eigen::Index components = 0;

    // 1. Weights along a breadth-first spanning forest; rates of one sign only, couplings both ways.
    for (Eigen::Index root = 0; root < n; ++root) {
        if (!std::isnan(lw[root])) continue;
        lw[root] = 0.0;
        queue.assign(1, root);
        for (std::size_t head = 0; head < queue.size(); ++head) {
            const Eigen::Index j = queue[head];
            component[static_cast<std::size_t>(j)] = components;
            const bool ok = for_each_coupling(a, at, j, [&](Eigen::Index i, double aij, double aji) {
                if (aij < 0.0 || aji < 0.0) {
                    out.why = pair_text(i, j, aij, aji, ": a negative rate");
                    return false;
                }
                if (aij == 0.0 || aji == 0.0) {
                    out.why = pair_text(i, j, aij, aji, ": coupled one way only");
                    return false;
                }
                if (std::isnan(lw[i])) {
                    lw[i] = lw[j] + std::log(aij) - std::log(aji);
                    queue.push_back(i);
                }
                return true;
            });
            if (!ok) return out;
        }
        ++components;
    }
    // 2. Every coupling against the weights: this closes every cycle the tree left out.
    for (Eigen::Index j = 0; j < n; ++j) {
        const bool ok = for_each_coupling(a, at, j, [&](Eigen::Index i, double aij, double aji) {
            const double mismatch = (std::log(aij) + lw[j]) - (std::log(aji) + lw[i]);
            if (std::abs(mismatch) <= tolerance) return true;
            std::ostringstream m;
            m.precision(3);
            m << ": A_ij w_j and A_ji w_i differ by a factor exp(" << mismatch << ") (a probability current "
              << "circulates)";
            out.why = pair_text(i, j, aij, aji, m.str().c_str());
            return false;
        });
        if (!ok) return out;
    }
    out.holds = true;
    out.log_weight = std::move(lw);
    out.component = std::move(component);
    out.components = components;
    return out;
}

}  // namespace fpsolve
