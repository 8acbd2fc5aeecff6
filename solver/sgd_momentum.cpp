#include "sgd_momentum.hpp"

#include <Eigen/Eigenvalues>
#include <sstream>

namespace fpsolve {

namespace {

using Fourth = std::function<Matrix2(const Matrix2&)>;

void check(const HeavyBall& hb) {
    if (!(hb.eta > 0.0) || !std::isfinite(hb.eta)) throw InputError("sgd.learning_rate: must be positive");
    if (!(hb.beta >= 0.0 && hb.beta < 1.0)) throw InputError("sgd.momentum: expected 0 <= beta < 1");
}

// The parameters of a phase-space point: its first d coordinates (the second slot 0 with one parameter).
Vector2 parameters_of(const Point& x, int d) { return Vector2(x[0], d == 2 ? x[1] : 0.0); }

// The linear map on symmetric m x m matrices as a matrix on their upper triangles (row-major (i, j), i <= j).
Eigen::MatrixXd symmetric_operator(Eigen::Index m, const std::function<Eigen::MatrixXd(const Eigen::MatrixXd&)>& f) {
    const Eigen::Index n = m * (m + 1) / 2;
    Eigen::MatrixXd out(n, n);
    Eigen::Index col = 0;
    for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = i; j < m; ++j, ++col) {
            Eigen::MatrixXd e = Eigen::MatrixXd::Zero(m, m);
            e(i, j) = e(j, i) = 1.0;
            const Eigen::MatrixXd v = f(e);
            Eigen::Index row = 0;
            for (Eigen::Index a = 0; a < m; ++a)
                for (Eigen::Index b = a; b < m; ++b, ++row) out(row, col) = v(a, b);
        }
    return out;
}

Eigen::VectorXd upper_triangle(const Eigen::MatrixXd& c) {
    const Eigen::Index m = c.rows();
    Eigen::VectorXd v(m * (m + 1) / 2);
    Eigen::Index k = 0;
    for (Eigen::Index a = 0; a < m; ++a)
        for (Eigen::Index b = a; b < m; ++b) v[k++] = c(a, b);
    return v;
}

Eigen::MatrixXd symmetric_from(const Eigen::VectorXd& v, Eigen::Index m) {
    Eigen::MatrixXd c(m, m);
    Eigen::Index k = 0;
    for (Eigen::Index a = 0; a < m; ++a)
        for (Eigen::Index b = a; b < m; ++b, ++k) c(a, b) = c(b, a) = v[k];
    return c;
}

// What the phase-space forms share: H, the step matrices and the state-dependent part of the noise.
struct Blocks {
    int d;
    Eigen::MatrixXd h, id;
    Fourth fourth;
    double inv_b;

    // L(C) = (K(C_ww) - H C_ww H) / b: the growth of E Sigma(w) with the spread of w (0 without K).
    Eigen::MatrixXd growth(const Eigen::MatrixXd& c) const {
        if (!fourth) return Eigen::MatrixXd::Zero(d, d);
        Matrix2 cw = Matrix2::Zero();
        cw.topLeftCorner(d, d) = c.topLeftCorner(d, d);
        const Eigen::MatrixXd cww = c.topLeftCorner(d, d);
        return inv_b * (Eigen::MatrixXd(fourth(cw).topLeftCorner(d, d)) - h * cww * h);
    }
    // The heavy ball's noise covariance for a gradient-noise covariance q: [[eta^2 q, eta^{3/2} q], [.., eta q]].
    Eigen::MatrixXd step_noise(const Eigen::MatrixXd& q, double eta) const {
        Eigen::MatrixXd n(2 * d, 2 * d);
        const double r = std::sqrt(eta);
        n << eta * eta * q, eta * r * q, eta * r * q, eta * q;
        return n;
    }
    Eigen::MatrixXd step(const HeavyBall& hb) const {
        const double r = std::sqrt(hb.eta);
        Eigen::MatrixXd m(2 * d, 2 * d);
        m << id - hb.eta * h, r * hb.beta * id, -r * h, hb.beta * id;
        return m;
    }
};

Blocks blocks(const Matrix2& hessian, int parameters, int batch, const Fourth& fourth) {
    if (parameters != 1 && parameters != 2) throw InputError("model: momentum takes one or two parameters");
    if (batch < 1) throw InputError("sgd.batch_size: must be at least 1");
    const int d = parameters;
    return {d, hessian.topLeftCorner(d, d), Eigen::MatrixXd::Identity(d, d), fourth, 1.0 / static_cast<double>(batch)};
}

}  // namespace

void check_phase_space_grid(const Grid& grid, int d) {
    if (grid.dims == 2 * d) return;
    std::ostringstream msg;
    msg << "grid: sgd.momentum needs " << 2 * d << " axes: the " << (d > 1 ? "2 parameters, then their 2 velocities"
                                                                            : "parameter w, then its velocity p")
        << " (p = v/sqrt(eta)); got " << grid.dims;
    throw InputError(msg.str());
}

Problem momentum_problem(std::shared_ptr<const SgdModel> model, const Grid& grid, const HeavyBall& hb, int batch,
                         InitialDensity initial) {
    check(hb);
    const int d = model->parameters();
    check_phase_space_grid(grid, d);
    if (batch < 1) throw InputError("sgd.batch_size: must be at least 1");
    Problem pb;
    pb.grid = grid;
    const double gamma = hb.friction(), scale = std::sqrt(hb.eta) / static_cast<double>(batch);
    const auto m = static_cast<std::size_t>(2 * d);
    pb.drift.resize(m);
    for (int a = 0; a < d; ++a) {
        const auto ua = static_cast<std::size_t>(a);
        pb.drift[ua] = Expression::from_function([a, d](const Point& x, double) { return x[d + a]; }, true, false,
                                                 "dw = p dt");
        pb.drift[ua + static_cast<std::size_t>(d)] = Expression::from_function(
            [model, a, d, gamma](const Point& x, double) {
                return -cached_statistics(*model, parameters_of(x, d)).gradient[a] - gamma * x[d + a];
            },
            true, false, "dp = (-g(w) - gamma p) dt from the data");
    }
    pb.noise.assign(m, std::vector<Expression>(m, Expression::constant(0.0)));
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j)
            pb.noise[static_cast<std::size_t>(d + i)][static_cast<std::size_t>(d + j)] = Expression::from_function(
                [model, i, j, d, scale](const Point& x, double) {
                    return scale * cached_statistics(*model, parameters_of(x, d)).covariance(i, j);
                },
                true, false, "sqrt(eta) Sigma(w)/b from the data");
    pb.learning_rate.assign(m, 1.0);  // the rates are in the drift and the noise: P = I
    pb.convention = Convention::ito;
    pb.scheme = Scheme::exponential;
    pb.initial = std::move(initial);
    return pb;
}

Eigen::MatrixXd momentum_stationary_covariance(const Matrix2& hessian, const Matrix2& sigma, int parameters,
                                               const HeavyBall& hb, int batch, const Fourth& fourth, bool discrete) {
    check(hb);
    const Blocks k = blocks(hessian, parameters, batch, fourth);
    const int d = k.d;
    const Eigen::MatrixXd s = k.inv_b * sigma.topLeftCorner(d, d);
    const Eigen::Index m = 2 * d;
    Eigen::MatrixXd op, rhs;
    if (discrete) {  // C - M C M^T - N(L(C)) = N(S/b)
        const Eigen::MatrixXd mm = k.step(hb);
        op = symmetric_operator(m, [&](const Eigen::MatrixXd& c) {
            return Eigen::MatrixXd(c - mm * c * mm.transpose() - k.step_noise(k.growth(c), hb.eta));
        });
        rhs = k.step_noise(s, hb.eta);
    } else {  // A C + C A^T + blockdiag(0, sqrt(eta) L(C)) = -blockdiag(0, sqrt(eta) S/b)
        Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, m);
        a.topRightCorner(d, d) = k.id;
        a.bottomLeftCorner(d, d) = -k.h;
        a.bottomRightCorner(d, d) = -hb.friction() * k.id;
        const double r = std::sqrt(hb.eta);
        op = symmetric_operator(m, [&](const Eigen::MatrixXd& c) {
            Eigen::MatrixXd out = a * c + c * a.transpose();
            out.bottomRightCorner(d, d) += r * k.growth(c);
            return out;
        });
        rhs = Eigen::MatrixXd::Zero(m, m);
        rhs.bottomRightCorner(d, d) = -r * s;
    }
    return symmetric_from(op.fullPivLu().solve(upper_triangle(rhs)), m);
}

double momentum_second_moment_contraction(const Matrix2& hessian, int parameters, const HeavyBall& hb, int batch,
                                          const Fourth& fourth) {
    check(hb);
    const Blocks k = blocks(hessian, parameters, batch, fourth);
    const Eigen::MatrixXd mm = k.step(hb);
    const Eigen::MatrixXd t = symmetric_operator(2 * k.d, [&](const Eigen::MatrixXd& c) {
        return Eigen::MatrixXd(mm * c * mm.transpose() + k.step_noise(k.growth(c), hb.eta));
    });
    return t.eigenvalues().cwiseAbs().maxCoeff();
}

}  // namespace fpsolve
