// Runge–Kutta–Chebyshev, second order, damped (Sommeijer, Shampine & Verwer 1997, the RKC code):
// s stages chosen per step so that h rho(A) lies inside the stability interval [-beta(s), 0],
// beta(s) ≈ 0.653 s^2 (damping eps = 2/13). Only right-hand sides and the stepper's vectors: the explicit choice
// for stiff grids too large to factorise. With T_j the Chebyshev polynomials at w0 = 1 + eps / s^2,
//
//   Y_0 = y,   Y_1 = y + mu~_1 h F_0,
//   Y_j = (1 - mu_j - nu_j) y + mu_j Y_{j-1} + nu_j Y_{j-2} + mu~_j h F_{j-1} + gamma~_j h F_0,   j = 2..s
//   b_j = T_j''(w0) / T_j'(w0)^2 (b_0 = b_1 = b_2),  a_j = 1 - b_j T_j(w0),  w1 = T_s'(w0) / T_s''(w0),
//   mu_j = 2 w0 b_j / b_{j-1},  nu_j = -b_j / b_{j-2},  mu~_j = mu_j w1 / w0,  gamma~_j = -a_{j-1} mu~_j
//   est = 0.8 (y - y_1) + 0.4 h (F_0 + F_1)                        (local error, O(h^3))
//
// The system is `sys(p, dpdt, t)` plus `double spectral_radius_bound(double t)` and `bool time_dependent()`.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "parallel_blocks.hpp"

namespace fpsolve {

class RkcMethod {
public:
    static constexpr unsigned short order = 2;
    static constexpr bool keeps_step = false;
    // Round-off inside a step grows with the stage count; like the RKC code, the stages are capped at
    // sqrt(rtol / (10 u)) (u the unit round-off: 2122 at rtol 1e-8, 21221 at rtol 1e-6; at least 50) and
    // the step is shortened instead. A 1024^2 double well at rtol 1e-6 measured 1.4x faster than with a
    // fixed cap of 400 (377 s against 559 s, one thread).
    explicit RkcMethod(double rtol = 1e-8)
        : max_stages_(std::max(50, static_cast<int>(std::sqrt(rtol / (10.0 * 2.220446049250313e-16))))) {}
    int max_stages() const { return max_stages_; }

    std::size_t stages() const { return stages_; }

    template <class System>
    void derivative(System& sys, const Eigen::VectorXd& y, double t, Eigen::VectorXd& f) {
        sys(y, f, t);
    }

    // Stages needed for step h: s = 1 + floor(sqrt(1 + 1.54 h rho)) (the RKC code's rule).
    static int stages_for(double h, double rho) {
        return std::max(2, 1 + static_cast<int>(std::sqrt(1.0 + 1.54 * h * rho)));
    }
    // Longest step max_stages() can take.
    double longest_step(double rho) const {
        const double s1 = static_cast<double>(max_stages_ - 1);
        return rho > 0.0 ? (s1 * s1 - 1.0) / (1.54 * rho) : HUGE_VAL;
    }

    template <class System>
    void step(System& sys, double t, const Eigen::VectorXd& y, const Eigen::VectorXd& f0, double& h,
              Eigen::VectorXd& y1, Eigen::VectorXd& f1, Eigen::VectorXd& est) {
        if (!(rho_t_ == t) && (std::isnan(rho_t_) || sys.time_dependent())) {
            rho_ = sys.spectral_radius_bound(t);
            rho_t_ = t;
        }
        h = std::min(h, longest_step(rho_));
        const int s = stages_for(h, rho_);
        stages_ += static_cast<std::size_t>(s);
        const double sd = static_cast<double>(s);
        const double w0 = 1.0 + eps / (sd * sd);
        const double temp1 = w0 * w0 - 1.0, temp2 = std::sqrt(temp1);
        const double arg = sd * std::log(w0 + temp2);
        const double w1 = std::sinh(arg) * temp1 / (std::cosh(arg) * sd * temp2 - w0 * std::sinh(arg));

        double bjm1 = 1.0 / (4.0 * w0 * w0), bjm2 = bjm1;
        double mus = w1 * bjm1;
        const Eigen::Index n = y.size();
        // No vectors of its own: y1, f1 and est are the caller's scratch until the step ends, so the stages
        // Y_{j-1}, Y_{j-2} live in f1's and est's storage and F_{j-1} is evaluated into y1 and used in place
        // (the arithmetic is unchanged). On a 1024^2 grid this is 24 B per cell less than three own vectors.
        Eigen::VectorXd yjm1, yjm2;
        yjm1.swap(f1);
        yjm2.swap(est);
        yjm2.resize(n);
        yjm1.resize(n);
        y1.resize(n);
        for_blocks(n, [&](Eigen::Index b, Eigen::Index m) {
            yjm2.segment(b, m) = y.segment(b, m);
            yjm1.segment(b, m) = y.segment(b, m) + (h * mus) * f0.segment(b, m);
        });
        double thjm2 = 0.0, thjm1 = mus;                    // c_j, the stage times (t + c_j h)
        double zjm1 = w0, zjm2 = 1.0, dzjm1 = 1.0, dzjm2 = 0.0, d2zjm1 = 0.0, d2zjm2 = 0.0;
        for (int j = 2; j <= s; ++j) {
            const double zj = 2.0 * w0 * zjm1 - zjm2;
            const double dzj = 2.0 * w0 * dzjm1 - dzjm2 + 2.0 * zjm1;
            const double d2zj = 2.0 * w0 * d2zjm1 - d2zjm2 + 4.0 * dzjm1;
            const double bj = d2zj / (dzj * dzj);
            const double ajm1 = 1.0 - zjm1 * bjm1;
            const double mu = 2.0 * w0 * bj / bjm1;
            const double nu = -bj / bjm2;
            mus = mu * w1 / w0;
            sys(yjm1, y1, t + h * thjm1);  // y1 = F_{j-1}, then Y_j element by element
            for_blocks(n, [&](Eigen::Index b, Eigen::Index m) {
                y1.segment(b, m) = mu * yjm1.segment(b, m) + nu * yjm2.segment(b, m) + (1.0 - mu - nu) * y.segment(b, m) +
                                   (h * mus) * (y1.segment(b, m) - ajm1 * f0.segment(b, m));
            });
            const double thj = mu * thjm1 + nu * thjm2 + mus * (1.0 - ajm1);
            yjm2.swap(yjm1);
            yjm1.swap(y1);
            thjm2 = thjm1, thjm1 = thj;
            bjm2 = bjm1, bjm1 = bj;
            zjm2 = zjm1, zjm1 = zj;
            dzjm2 = dzjm1, dzjm1 = dzj;
            d2zjm2 = d2zjm1, d2zjm1 = d2zj;
        }
        y1.swap(yjm1);
        f1.swap(yjm1);
        sys(y1, f1, t + h);
        est.swap(yjm2);
        for_blocks(n, [&](Eigen::Index b, Eigen::Index m) {
            est.segment(b, m) = 0.8 * (y.segment(b, m) - y1.segment(b, m)) + (0.4 * h) * (f0.segment(b, m) + f1.segment(b, m));
        });
    }

private:
    static constexpr double eps = 2.0 / 13.0;
    int max_stages_;
    double rho_ = 0.0, rho_t_ = NAN;
    std::size_t stages_ = 0;
};

}  // namespace fpsolve
