#include "reference.hpp"

#include <cmath>
#include <limits>

namespace fpsolve {

bool has_gibbs_energy(const Problem& pb) { return pb.kinetic || pb.potential; }

double gibbs_energy_at(const Problem& pb, const Point& x) {
    if (!pb.kinetic) return (*pb.potential)(x, 0.0);
    const KineticForm& k = *pb.kinetic;
    double e = k.potential(x, 0.0);
    for (int a = k.positions; a < pb.grid.dims; ++a) e += 0.5 * x[a] * x[a];
    return e;
}

namespace {
// gibbs_energy_at the centres of g (the whole grid, or a block of it).
Eigen::VectorXd energy_on(const Problem& pb, const Grid& g) {
    Eigen::VectorXd e(g.size());
    for (Index c = 0; c < g.size(); ++c) e[c] = gibbs_energy_at(pb, g.centre_of(c));
    return e;
}
}  // namespace

Eigen::VectorXd potential_at_centres(const Problem& pb) { return potential_at_centres(pb, pb.grid); }

Eigen::VectorXd potential_at_centres(const Problem& pb, const Grid& block) {
    if (!has_gibbs_energy(pb)) return {};
    return energy_on(pb, block);
}

namespace {

// p / (sum p * cell volume), the sum over every block.
Eigen::VectorXd normalised(Eigen::VectorXd p, const Grid& g, const BlockReductions& reduce) {
    return p / (reduce.sum(p.sum()) * g.cell_volume());
}
// exp(v - max v), the maximum over every block; +inf stands for the maximum of an empty block.
Eigen::VectorXd exp_below_max(const Eigen::VectorXd& v, const BlockReductions& reduce) {
    const double top = reduce.max(v.size() ? v.maxCoeff() : -std::numeric_limits<double>::infinity());
    return (v.array() - top).exp().matrix();
}

// A periodic axis admits a Gibbs density only if L itself is periodic along it.
bool potential_is_periodic(const Problem& pb) {
    const Grid& g = pb.grid;
    for (int a = 0; a < g.dims; ++a) {
        if (g.boundary[a] != Boundary::periodic) continue;
        for (Index c = 0; c < g.size(); c += std::max<Index>(1, g.size() / 97)) {
            Point lo = g.centre_of(c), hi = lo;
            lo[a] = g.lower[a];
            hi[a] = g.upper[a];
            const double l0 = (*pb.potential)(lo, 0.0), l1 = (*pb.potential)(hi, 0.0);
            if (std::abs(l0 - l1) > 1e-9 * (1.0 + std::abs(l0))) return false;
        }
    }
    return true;
}

// The potential along each axis line through cell 0: line[a][i] = L at the centre with index i along axis a and 0
// along the others (of the whole grid `g`).
std::array<std::vector<double>, kMaxAxes> axis_lines(const Problem& pb, const Grid& g) {
    std::array<std::vector<double>, kMaxAxes> line;
    for (int a = 0; a < g.dims; ++a)
        for (Index i = 0; i < g.cells[a]; ++i) {
            Point x{};
            for (int b = 0; b < g.dims; ++b) x[b] = g.centre(b, b == a ? i : 0);
            line[a].push_back((*pb.potential)(x, 0.0));
        }
    return line;
}

// Additive separability L = sum_a L_a(x_a) on the grid: L(i,j,k) - L(i,0,0) - L(0,j,0) - L(0,0,k) + 2 L(0,0,0) = 0,
// checked on the block `b` whose potential is `l`.
bool separates(const Grid& b, const Eigen::VectorXd& l, const std::array<std::vector<double>, kMaxAxes>& line,
               const BlockReductions& reduce) {
    const double scale = 1.0 + reduce.max(l.size() ? l.cwiseAbs().maxCoeff() : 0.0);
    const double base = line[0][0];
    bool ok = true;
    for (Index c = 0; ok && c < b.size(); ++c) {
        const auto i = b.unravel(c);
        double sum = l[c] + (b.dims - 1) * base;
        for (int a = 0; a < b.dims; ++a) sum -= line[a][static_cast<std::size_t>(i[a] + b.offset[a])];
        ok = std::abs(sum) <= 1e-11 * scale;
    }
    return reduce.all(ok);
}

std::optional<Reference> one_dimensional(const Problem& pb) {
    const Grid& g = pb.grid;
    const double alpha = alpha_of(pb.convention);
    const Index n = g.cells[0];
    auto d_at = [&](double x) { return pb.diffusion({x}, 0.0)(0, 0); };
    auto mu_at = [&](double x) { return pb.drift_at({x}, 0.0)[0]; };
    // psi(x) = ∫ 2 mu / D from the first centre, by 5-point Gauss–Legendre between centres.
    static constexpr double node[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831,
                                       0.9061798459386640};
    static constexpr double weight[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                                         0.4786286704993665, 0.2369268850561891};
    Eigen::VectorXd logp(n);
    double psi = 0.0;
    for (Index i = 0; i < n; ++i) {
        const double x = g.centre(0, i);
        if (i > 0) {
            const double xl = g.centre(0, i - 1), half = 0.5 * (x - xl), mid = 0.5 * (x + xl);
            for (int q = 0; q < 5; ++q) {
                const double u = mid + half * node[q];
                psi += half * weight[q] * 2.0 * mu_at(u) / d_at(u);
            }
        }
        const double dx = d_at(x);
        if (!(dx > 0.0)) return std::nullopt;
        logp[i] = psi + (alpha - 1.0) * std::log(dx);
    }
    if (!logp.allFinite()) return std::nullopt;
    return Reference{normalised((logp.array() - logp.maxCoeff()).exp().matrix(), g, {}), "one-dimensional", 0.0};
}

}  // namespace

std::optional<Reference> stationary_reference(const Problem& pb) { return stationary_reference(pb, pb.grid, {}); }

std::optional<Reference> stationary_reference(const Problem& pb, const Grid& block, const BlockReductions& reduce) {
    const Grid& g = pb.grid;
    if (pb.time_dependent()) return std::nullopt;
    for (int a = 0; a < g.dims; ++a)
        if (g.boundary[a] == Boundary::absorbing) return std::nullopt;

    if (pb.kinetic) {  // exp(-H / T), the exact fixed point of the kinetic scheme (with periodic positions, if U is)
        const Eigen::VectorXd h = energy_on(pb, block);
        if (!reduce.all(h.allFinite())) return std::nullopt;
        const double t = pb.kinetic->temperature;
        return Reference{normalised(exp_below_max(-h / t, reduce), g, reduce), "gibbs", t};
    }

    if (pb.potential && !pb.noise_depends_on_space() && pb.noise_is_diagonal()) {
        const AxisMatrix d = pb.diffusion(Point{}, 0.0);
        std::array<double, kMaxAxes> temp{};
        bool positive = true, equal = true;
        for (int a = 0; a < g.dims; ++a) {
            temp[a] = d(a, a) / (2.0 * pb.drift_scale(a));
            positive = positive && temp[a] > 0.0;
            equal = equal && std::abs(temp[a] - temp[0]) <= 1e-12 * temp[0];
        }
        if (positive && potential_is_periodic(pb)) {
            const Eigen::VectorXd l = energy_on(pb, block);
            if (!reduce.all(l.allFinite())) return std::nullopt;
            if (equal) {
                const double lmin = reduce.min(l.size() ? l.minCoeff() : std::numeric_limits<double>::infinity());
                return Reference{normalised((-(l.array() - lmin) / temp[0]).exp().matrix(), g, reduce), "gibbs",
                                 temp[0]};
            }
            const auto line = axis_lines(pb, g);
            if (separates(block, l, line, reduce)) {
                Eigen::VectorXd logp(block.size());
                for (Index c = 0; c < block.size(); ++c) {
                    const auto i = block.unravel(c);
                    double s = 0.0;
                    for (int a = 0; a < g.dims; ++a)
                        s -= (line[a][static_cast<std::size_t>(i[a] + block.offset[a])] - line[0][0]) / temp[a];
                    logp[c] = s;
                }
                return Reference{normalised(exp_below_max(logp, reduce), g, reduce), "two-temperature", 0.0};
            }
        }
        return std::nullopt;
    }
    if (g.dims == 1 && g.boundary[0] == Boundary::reflecting) {
        auto r = one_dimensional(pb);
        if (r && block.cells[0] != g.cells[0]) r->density = r->density.segment(block.offset[0], block.cells[0]).eval();
        return r;
    }
    return std::nullopt;
}

}  // namespace fpsolve
