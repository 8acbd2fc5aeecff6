#include "richardson.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "errors.hpp"

namespace fpsolve {

namespace {

constexpr int stencil = 5;  // coarse cells read by the quartic reconstruction
constexpr Index min_coarse_cells = stencil;

// Weights of the five coarse cells starting `shift` cells from cell 0 (shift in [-4, 0]) for the averages
// of the reconstruction over the cell's lower and upper halves. Coordinates: cell 0 is [-1/2, 1/2], so
// the averages of x^m over cell r and over a half are closed forms; the weights solve M^T w = half moments.
struct HalfWeights {
    std::array<double, stencil> lower, upper;
};

double average_of_power(double a, double b, int m) {
    return (std::pow(b, m + 1) - std::pow(a, m + 1)) / ((m + 1) * (b - a));
}

HalfWeights half_weights(int shift) {
    Eigen::Matrix<double, stencil, stencil> moments;  // moments(k, m): average of x^m over cell shift + k
    Eigen::Matrix<double, stencil, 1> lower, upper;
    for (int m = 0; m < stencil; ++m) {
        for (int k = 0; k < stencil; ++k)
            moments(k, m) = average_of_power(shift + k - 0.5, shift + k + 0.5, m);
        lower[m] = average_of_power(-0.5, 0.0, m);
        upper[m] = average_of_power(0.0, 0.5, m);
    }
    const auto lu = moments.transpose().fullPivLu();
    const Eigen::Matrix<double, stencil, 1> wl = lu.solve(lower), wu = lu.solve(upper);
    HalfWeights w;
    for (int k = 0; k < stencil; ++k) {
        w.lower[static_cast<std::size_t>(k)] = wl[k];
        w.upper[static_cast<std::size_t>(k)] = wu[k];
    }
    return w;
}

// Doubles axis `a` of the row-major array `in` of shape `shape`; shape[a] is updated.
State prolong_axis(const State& in, std::array<Index, kMaxAxes>& shape, int dims, int a, bool periodic) {
    Index outer = 1, inner = 1;
    for (int b = 0; b < a; ++b) outer *= shape[b];
    for (int b = a + 1; b < dims; ++b) inner *= shape[b];
    const Index n = shape[a];
    std::array<HalfWeights, stencil> by_shift;  // by_shift[s]: the stencil starts at i - s
    for (int s = 0; s < stencil; ++s) by_shift[static_cast<std::size_t>(s)] = half_weights(-s);

    State out(in.size() * 2);
    for (Index i = 0; i < n; ++i) {
        const Index start = periodic ? i - 2 : std::clamp<Index>(i - 2, 0, n - stencil);
        const HalfWeights& w = by_shift[static_cast<std::size_t>(i - start)];
        std::array<Index, stencil> idx;
        for (int k = 0; k < stencil; ++k) idx[static_cast<std::size_t>(k)] = ((start + k) % n + n) % n;
        for (Index o = 0; o < outer; ++o) {
            const Index lo = (o * 2 * n + 2 * i) * inner, hi = lo + inner;
            for (Index j = 0; j < inner; ++j) {
                double l = 0.0, u = 0.0;
                for (std::size_t k = 0; k < stencil; ++k) {
                    const double v = in[(o * n + idx[k]) * inner + j];
                    l += w.lower[k] * v;
                    u += w.upper[k] * v;
                }
                out[lo + j] = l;
                out[hi + j] = u;
            }
        }
    }
    shape[a] = 2 * n;
    return out;
}

}  // namespace

Grid coarsened(const Grid& fine) {
    Grid c = fine;
    c.whole = nullptr;
    c.offset = {};
    for (int a = 0; a < fine.dims; ++a) {
        if (fine.cells[a] % 2 != 0 || fine.cells[a] < 2 * min_coarse_cells)
            throw InputError("grid.richardson: needs an even number of at least " +
                             std::to_string(2 * min_coarse_cells) + " cells on every axis; axis " +
                             std::to_string(a) + " has " + std::to_string(fine.cells[a]));
        c.cells[a] = fine.cells[a] / 2;
    }
    return c;
}

State restrict_to(const Grid& coarse, const State& fine) {
    Grid f = coarse;
    for (int a = 0; a < coarse.dims; ++a) f.cells[a] *= 2;
    State out = State::Zero(coarse.size());
    for (Index c = 0; c < f.size(); ++c) {
        const auto i = f.unravel(c);
        Index k = 0;
        for (int a = 0; a < coarse.dims; ++a) k = k * coarse.cells[a] + i[a] / 2;
        out[k] += fine[c];
    }
    return out / static_cast<double>(Index{1} << coarse.dims);
}

State prolong(const Grid& coarse, const State& coarse_density) {
    std::array<Index, kMaxAxes> shape = coarse.cells;
    State p = coarse_density;
    for (int a = 0; a < coarse.dims; ++a)
        p = prolong_axis(p, shape, coarse.dims, a, coarse.boundary[a] == Boundary::periodic);
    return p;
}

SpatialExtrapolation richardson_extrapolate(const Grid& fine, const State& fine_density, const Grid& coarse,
                                            const State& coarse_density) {
    const State difference = fine_density - prolong(coarse, coarse_density);
    return {fine_density + difference / 3.0, difference.cwiseAbs().sum() * fine.cell_volume() / 3.0};
}

}  // namespace fpsolve
