#include "sgd_chains.hpp"

#include <cmath>
#include <numbers>
#include <thread>

#include "initial_density.hpp"

namespace fpsolve {

namespace {

constexpr std::uint64_t golden = 0x9E3779B97F4A7C15ULL;

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The counter-th output of chain `key`'s splitmix64 stream.
std::uint64_t draw(std::uint64_t key, std::uint64_t counter) { return mix64(key + (counter + 1) * golden); }
double uniform(std::uint64_t u) { return static_cast<double>(u >> 11) * 0x1.0p-53; }  // [0, 1)

std::uint64_t chain_key(std::uint64_t seed, Eigen::Index chain) {
    return mix64(mix64(seed) ^ mix64(static_cast<std::uint64_t>(chain) * golden + 0x5DEECE66DULL));
}

// Runs f(begin, end) over [0, n) in `threads` contiguous parts.
template <class F>
void parallel_ranges(Eigen::Index n, int threads, F&& f) {
    const int t = static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(threads, n / 256)));
    if (t <= 1) {
        f(Eigen::Index{0}, n);
        return;
    }
    std::vector<std::thread> pool;
    for (int k = 0; k < t; ++k)
        pool.emplace_back([&, k] { f(n * k / t, n * (k + 1) / t); });
    for (auto& th : pool) th.join();
}

// A pair of independent N(0, sd^2) by Box–Muller from counters `first`, `first + 1` of a stream.
std::array<double, 2> normal_pair(std::uint64_t key, std::uint64_t first, double sd) {
    const double u1 = 1.0 - uniform(draw(key, first)), u2 = uniform(draw(key, first + 1));
    const double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * std::numbers::pi * u2;
    return {sd * r * std::cos(th), sd * r * std::sin(th)};
}

}  // namespace

SgdChains::SgdChains(const SgdModel& model, const ChainSettings& s)
    : model_(model), s_(s), phi_(s.chains, 2), v_(Eigen::MatrixX2d::Zero(s.chains, 2)) {
    if (s.chains < 1) throw InputError("sgd.chains: must be at least 1");
    if (s.batch < 1) throw InputError("sgd.batch_size: must be at least 1");
    if (s.parameters != model.parameters()) throw InputError("sgd: the chains and the model differ in parameters");
    if (!(s.momentum >= 0.0 && s.momentum < 1.0)) throw InputError("sgd.momentum: expected 0 <= beta < 1");
    if (s.momentum > 0.0 && s.rates[0] != s.rates[1]) throw InputError("sgd.learning_rate: momentum takes one rate");
    // Start: Box–Muller on counters 0, 1 (and 2, 3 for the velocities) of a stream of its own.
    const double v_scale = std::sqrt(s.rates[0]);
    for (Eigen::Index c = 0; c < s.chains; ++c) {
        const std::uint64_t key = chain_key(s.seed ^ 0xA5A5A5A5A5A5A5A5ULL, c);
        const auto z = normal_pair(key, 0, s.start_sd);
        phi_(c, 0) = s.start[0] + z[0];
        phi_(c, 1) = s.parameters == 1 ? 0.0 : s.start[1] + z[1];
        if (s.momentum > 0.0) {
            const auto zv = normal_pair(key, 2, s.start_velocity_sd);
            for (int a = 0; a < s.parameters; ++a)
                v_(c, a) = v_scale * (s.start_velocity[a] + zv[static_cast<std::size_t>(a)]);
        }
    }
}

void SgdChains::advance(long steps) {
    if (steps <= 0) return;
    const auto n = static_cast<double>(model_.size());
    const auto b = static_cast<std::uint64_t>(s_.batch);
    const double inv_b = 1.0 / static_cast<double>(s_.batch);
    const double beta = s_.momentum;
    const long first = steps_;
    parallel_ranges(s_.chains, s_.threads, [&](Eigen::Index begin, Eigen::Index end) {
        for (Eigen::Index c = begin; c < end; ++c) {
            const std::uint64_t key = chain_key(s_.seed, c);
            Vector2 phi(phi_(c, 0), phi_(c, 1));
            Vector2 v(v_(c, 0), v_(c, 1));
            for (long k = first; k < first + steps; ++k) {
                Vector2 g = Vector2::Zero();
                for (std::uint64_t j = 0; j < b; ++j) {
                    const auto idx = static_cast<Eigen::Index>(uniform(draw(key, static_cast<std::uint64_t>(k) * b + j)) * n);
                    g += model_.example_gradient(idx, phi);
                }
                if (beta == 0.0) {
                    phi -= s_.rates.cwiseProduct(g) * inv_b;
                } else {  // heavy ball
                    v = beta * v - s_.rates.cwiseProduct(g) * inv_b;
                    phi += v;
                }
            }
            phi_(c, 0) = phi[0];
            phi_(c, 1) = phi[1];
            v_(c, 0) = v[0];
            v_(c, 1) = v[1];
        }
    });
    steps_ += steps;
}

Eigen::MatrixXd SgdChains::phase_space() const {
    const int d = s_.parameters;
    Eigen::MatrixXd z(s_.chains, 2 * d);
    z.leftCols(d) = phi_.leftCols(d);
    z.rightCols(d) = v_.leftCols(d) / std::sqrt(s_.rates[0]);
    return z;
}

namespace {

// Mean and sample covariance of the rows of x, for the 2-D and the any-axes types alike.
template <class Samples, class Vector, class Matrix>
void moments_of(const Samples& x, Vector& mean, Matrix& covariance) {
    const auto n = static_cast<double>(x.rows());
    mean = x.colwise().sum().transpose() / n;
    const Samples d = x.rowwise() - mean.transpose();
    covariance = d.transpose() * d / (n - 1.0);
}

}  // namespace

SampleMoments sample_moments(const Eigen::MatrixX2d& x) {
    SampleMoments m;
    moments_of(x, m.mean, m.covariance);
    return m;
}

PhaseMoments phase_sample_moments(const Eigen::MatrixXd& x) {
    PhaseMoments m;
    moments_of(x, m.mean, m.covariance);
    return m;
}

SampleMoments density_moments(const Grid& g, const Eigen::VectorXd& p) {
    const PhaseMoments m = phase_density_moments(g, p);
    return {m.mean.head<2>(), m.covariance.topLeftCorner<2, 2>()};
}

PhaseMoments phase_density_moments(const Grid& g, const Eigen::VectorXd& p) {
    const int d = g.dims;
    PhaseMoments m{Eigen::VectorXd::Zero(d), Eigen::MatrixXd::Zero(d, d)};
    double mass = 0.0;
    Eigen::MatrixXd second = Eigen::MatrixXd::Zero(d, d);
    for (Index c = 0; c < g.size(); ++c) {
        const Point x = g.centre_of(c);
        mass += p[c];
        m.mean += p[c] * Eigen::Map<const Eigen::VectorXd>(x.data(), d);
    }
    m.mean /= mass;
    Eigen::VectorXd v(d);
    for (Index c = 0; c < g.size(); ++c) {
        const Point x = g.centre_of(c);
        v = Eigen::Map<const Eigen::VectorXd>(x.data(), d) - m.mean;
        second += p[c] * v * v.transpose();
    }
    m.covariance = second / mass;
    return m;
}

Histogram histogram(const Grid& g, const Eigen::MatrixX2d& x) { return phase_histogram(g, Eigen::MatrixXd(x)); }

Histogram phase_histogram(const Grid& g, const Eigen::MatrixXd& x) {
    Histogram h;
    h.density = Eigen::VectorXd::Zero(g.size());
    Eigen::Index outside = 0;
    for (Eigen::Index k = 0; k < x.rows(); ++k) {
        Index cell = 0;
        bool in = true;
        for (int a = 0; a < g.dims && in; ++a) {
            const double f = (x(k, a) - g.lower[a]) / g.spacing(a);
            in = f >= 0.0 && f < static_cast<double>(g.cells[a]);
            cell = cell * g.cells[a] + (in ? static_cast<Index>(f) : 0);
        }
        if (in)
            h.density[cell] += 1.0;
        else
            ++outside;
    }
    const auto n = static_cast<double>(x.rows());
    h.density /= n * g.cell_volume();
    h.outside = static_cast<double>(outside) / n;
    return h;
}

double l1_distance(const Grid& g, const Histogram& h, const Eigen::VectorXd& q) {
    return (h.density - q).cwiseAbs().sum() * g.cell_volume() + h.outside;
}

double l1_floor(const Grid& g, const Eigen::VectorXd& q, Eigen::Index samples) {
    const auto n = static_cast<double>(samples);
    const double v = g.cell_volume();
    double sum = 0.0;
    for (Index c = 0; c < q.size(); ++c) {
        const double p = std::clamp(q[c] * v, 0.0, 1.0);
        if (p <= 0.0 || p >= 1.0) continue;
        const double m = std::floor(n * p) + 1.0;
        if (m > n) continue;
        const double log_mad = std::log(2.0 * m) + std::lgamma(n + 1.0) - std::lgamma(m + 1.0) - std::lgamma(n - m + 1.0) +
                               m * std::log(p) + (n - m + 1.0) * std::log1p(-p);
        sum += std::exp(log_mad) / n;
    }
    return sum;
}

Eigen::VectorXd gaussian_density(const Grid& g, const Vector2& mean, const Matrix2& cov) {
    const Matrix2 inv = cov.inverse();
    Eigen::VectorXd p = cell_averages(g, [&](const Point& x) {
        const Vector2 r(x[0] - mean[0], x[1] - mean[1]);
        return std::exp(-0.5 * r.dot(inv * r));
    });
    return p / (p.sum() * g.cell_volume());
}

Eigen::VectorXd phase_gaussian_density(const Grid& g, const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov) {
    using Small = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxAxes, 1>;  // no allocation per point
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxAxes, kMaxAxes> inv = cov.inverse();
    const auto d = mean.size();
    Eigen::VectorXd p = cell_averages(g, [&](const Point& x) {
        const Small r = Eigen::Map<const Eigen::VectorXd>(x.data(), d) - mean;
        const Small ir = inv * r;
        return std::exp(-0.5 * r.dot(ir));
    });
    return p / (p.sum() * g.cell_volume());
}

}  // namespace fpsolve
