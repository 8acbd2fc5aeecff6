#include "particles.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>
#include <type_traits>

#include "counter_rng.hpp"

namespace fpsolve {

namespace {

// Central-difference step, as problem.cpp takes it: cube root of epsilon, scaled to the grid.
double fd_step(const Grid& g, int a) { return 6e-6 * std::max(1.0, std::abs(g.upper[a]) + std::abs(g.lower[a])); }

// The Euler–Maruyama algebra in N x N: N = 3 for 1 to 3 axes (zero-padded, as it always was: closed-form 3x3
// eigenvectors and the same bits), N = 4 for 4 axes (Eigen's iterative solver: computeDirect stops at 3x3).
template <int N>
using MatrixN = Eigen::Matrix<double, N, N>;
template <int N>
using VectorN = Eigen::Matrix<double, N, 1>;

template <int N>
MatrixN<N> noise_factor(const MatrixN<N>& d) {  // symmetric square root B, B B^T = D
    Eigen::SelfAdjointEigenSolver<MatrixN<N>> es;
    es.computeDirect(d);
    return es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() * es.eigenvectors().transpose();
}

// Puts x back into the box by the walls' rules; false if it was absorbed.
bool apply_walls(const Grid& g, Point& x) {
    for (int a = 0; a < g.dims; ++a) {
        const double lo = g.lower[a], len = g.length(a);
        if (x[a] >= lo && x[a] <= g.upper[a]) continue;
        switch (g.boundary[a]) {
            case Boundary::absorbing: return false;
            case Boundary::periodic: {
                double y = std::fmod(x[a] - lo, len);
                if (y < 0.0) y += len;
                x[a] = lo + y;
                break;
            }
            case Boundary::reflecting: {  // unfold the mirror images: period 2 len
                double y = std::fmod(x[a] - lo, 2.0 * len);
                if (y < 0.0) y += 2.0 * len;
                x[a] = lo + (y <= len ? y : 2.0 * len - y);
                break;
            }
        }
    }
    return true;
}

// Whether the path between two positions inside the box touched an absorbing wall: for a Brownian bridge of
// variance D_aa h per step, P(touch the wall at distance d0 then d1) = exp(-2 d0 d1 / (D_aa h)) (Gobet 2000).
// Without this test a discrete-time walk misses excursions and over-survives by O(sqrt(h)); with it, O(h).
template <int N>
bool crossed_between(const Grid& g, const Point& x0, const Point& x1, const MatrixN<N>& dm, double h, double u) {
    double survive = 1.0;
    for (int a = 0; a < g.dims; ++a) {
        if (g.boundary[a] != Boundary::absorbing || !(dm(a, a) > 0.0)) continue;
        const double v = dm(a, a) * h;
        survive *= 1.0 - std::exp(-2.0 * (x0[a] - g.lower[a]) * (x1[a] - g.lower[a]) / v);
        survive *= 1.0 - std::exp(-2.0 * (g.upper[a] - x0[a]) * (g.upper[a] - x1[a]) / v);
    }
    return u >= survive;
}

Index cell_of(const Grid& g, const Point& x) {
    Index c = 0;
    for (int a = 0; a < g.dims; ++a) {
        const Index i = std::clamp<Index>(static_cast<Index>(std::floor((x[a] - g.lower[a]) / g.spacing(a))), 0, g.cells[a] - 1);
        c = c * g.cells[a] + i;
    }
    return c;
}

}  // namespace

AxisVector ito_drift(const Problem& pb, const Point& x, double t) {
    AxisVector mu = pb.drift_at(x, t);
    if (pb.convention == Convention::ito || !pb.noise_depends_on_space()) return mu;
    mu += pb.noise_induced_drift(x, t);
    for (int j = 0; j < pb.grid.dims; ++j) {
        const double h = fd_step(pb.grid, j);
        Point xp = x, xm = x;
        xp[j] += h;
        xm[j] -= h;
        const AxisMatrix dd = (pb.diffusion(xp, t) - pb.diffusion(xm, t)) / (2.0 * h);
        for (int i = 0; i < pb.grid.dims; ++i) mu[i] += 0.5 * dd(i, j);
    }
    return mu;
}

std::vector<ParticleSnapshot> simulate_particles(const Problem& problem, const Eigen::VectorXd& p0,
                                                 const std::vector<double>& times, const ParticleSettings& st,
                                                 const std::atomic<bool>* stop) {
    const Grid& g = problem.grid;
    const int d = g.dims;
    const Index cells = g.size();
    if (st.particles < 1) throw InputError("particles: need at least one particle");
    if (!(st.dt > 0.0) || !std::isfinite(st.dt)) throw InputError("particles: the step dt must be a number > 0");
    if (times.empty()) throw InputError("particles: no snapshot times");
    if (p0.size() != cells) throw InputError("particles: the initial density has the wrong number of cells");

    // Cumulative cell masses of the initial density.
    std::vector<double> cumulative(static_cast<std::size_t>(cells));
    double total = 0.0;
    for (Index c = 0; c < cells; ++c) cumulative[static_cast<std::size_t>(c)] = total += std::max(p0[c], 0.0);
    if (!(total > 0.0)) throw InputError("particles: the initial density has zero mass");

    const bool constant_noise = !problem.noise_depends_on_space() && !problem.time_dependent();
    const AxisMatrix d_const = problem.diffusion(Point{}, times.front());
    bool absorbing = false;
    for (int a = 0; a < d; ++a) absorbing = absorbing || g.boundary[a] == Boundary::absorbing;
    const std::size_t nt = times.size();
    std::vector<std::size_t> substeps(nt, 0);
    for (std::size_t k = 1; k < nt; ++k)
        substeps[k] = static_cast<std::size_t>(std::max(1.0, std::ceil((times[k] - times[k - 1]) / st.dt - 1e-9)));

    const int threads = std::max(1, st.threads);
    std::vector<std::vector<std::uint64_t>> counts(static_cast<std::size_t>(threads),
                                                   std::vector<std::uint64_t>(nt * static_cast<std::size_t>(cells), 0));
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
    std::vector<Problem> problems(static_cast<std::size_t>(threads), problem);  // expressions are not thread-safe
    auto work = [&](int w, auto size) {
        constexpr int N = decltype(size)::value;
        try {
            const Problem& pb = problems[static_cast<std::size_t>(w)];
            const MatrixN<N> dn_const = d_const.topLeftCorner<N, N>();
            const MatrixN<N> b_const = noise_factor<N>(dn_const);
            std::uint64_t* cnt = counts[static_cast<std::size_t>(w)].data();
            const std::uint64_t n = st.particles, nw = static_cast<std::uint64_t>(threads);
            const std::uint64_t begin = n * static_cast<std::uint64_t>(w) / nw, end = n * (static_cast<std::uint64_t>(w) + 1) / nw;
            for (std::uint64_t i = begin; i < end; ++i) {
                if (stop && (i & 255) == 0 && stop->load()) return;
                const CounterRng rng(st.seed, i);
                // Initial position: a cell by its mass, then uniform inside it (uniform draws 0..3).
                const double u = rng.uniform(0) * total;
                const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
                const Index c0 = std::min<Index>(static_cast<Index>(it - cumulative.begin()), cells - 1);
                Point x = g.centre_of(c0);
                for (int a = 0; a < d; ++a) x[a] += (rng.uniform(static_cast<std::uint64_t>(1 + a)) - 0.5) * g.spacing(a);
                cnt[cell_of(g, x)] += 1;
                std::uint64_t j = 2;  // normal draws from index 2 on (uniforms 4, 5, ...)
                std::uint64_t bridge = std::uint64_t{1} << 62;  // uniforms for the bridge test, far from those
                bool alive = true;
                for (std::size_t k = 1; k < nt && alive; ++k) {
                    const double h = (times[k] - times[k - 1]) / static_cast<double>(substeps[k]);
                    const double sq = std::sqrt(h);
                    for (std::size_t s = 0; s < substeps[k]; ++s) {
                        const double t = times[k - 1] + static_cast<double>(s) * h;
                        const VectorN<N> mu = ito_drift(pb, x, t).template head<N>();
                        const MatrixN<N> dm =
                            constant_noise ? dn_const : MatrixN<N>(pb.diffusion(x, t).template topLeftCorner<N, N>());
                        const MatrixN<N> b = constant_noise ? b_const : noise_factor<N>(dm);
                        VectorN<N> eta = VectorN<N>::Zero();
                        for (int a = 0; a < d; ++a) eta[a] = rng.normal(j++);
                        const VectorN<N> dx = mu * h + sq * (b * eta);
                        const Point x0 = x;
                        for (int a = 0; a < d; ++a) x[a] += dx[a];
                        if (!std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); }))
                            throw RunError("particles: a position became non-finite at t = " + std::to_string(t) +
                                           "; use a smaller --dt");
                        if (!apply_walls(g, x) || (absorbing && crossed_between(g, x0, x, dm, h, rng.uniform(bridge++)))) {
                            alive = false;
                            break;
                        }
                    }
                    if (alive) cnt[k * static_cast<std::size_t>(cells) + static_cast<std::size_t>(cell_of(g, x))] += 1;
                }
            }
        } catch (...) {
            errors[static_cast<std::size_t>(w)] = std::current_exception();
        }
    };
    auto run = [&](int w) {
        if (d < kMaxAxes)
            work(w, std::integral_constant<int, 3>{});
        else
            work(w, std::integral_constant<int, kMaxAxes>{});
    };
    if (threads == 1) {
        run(0);
    } else {
        std::vector<std::thread> pool;
        for (int w = 0; w < threads; ++w) pool.emplace_back(run, w);
        for (auto& th : pool) th.join();
    }
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    if (stop && stop->load()) return {};

    std::vector<ParticleSnapshot> out(nt);
    const double scale = 1.0 / (static_cast<double>(st.particles) * g.cell_volume());
    for (std::size_t k = 0; k < nt; ++k) {
        out[k].time = times[k];
        out[k].density = Eigen::VectorXd::Zero(cells);
        std::uint64_t alive = 0;
        for (Index c = 0; c < cells; ++c) {
            std::uint64_t sum = 0;
            for (const auto& cw : counts) sum += cw[k * static_cast<std::size_t>(cells) + static_cast<std::size_t>(c)];
            out[k].density[c] = static_cast<double>(sum) * scale;
            alive += sum;
        }
        out[k].mass = static_cast<double>(alive) / static_cast<double>(st.particles);
    }
    return out;
}

double l1_statistical_floor(const Eigen::VectorXd& density, double volume, std::uint64_t particles) {
    const double n = static_cast<double>(particles);
    double sum = 0.0;
    for (Index c = 0; c < density.size(); ++c) {
        const double q = std::clamp(density[c] * volume, 0.0, 1.0);
        if (q <= 0.0 || q >= 1.0) continue;
        const double k = std::floor(n * q) + 1.0;
        if (k > n) continue;
        // E|X - N q| = 2 k C(N, k) q^k (1 - q)^(N - k + 1)
        const double log_mad = std::log(2.0 * k) + std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                               k * std::log(q) + (n - k + 1.0) * std::log1p(-q);
        sum += std::exp(log_mad) / n;
    }
    return sum;
}

double l1_distance(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double volume) {
    return (a - b).cwiseAbs().sum() * volume;
}

}  // namespace fpsolve
