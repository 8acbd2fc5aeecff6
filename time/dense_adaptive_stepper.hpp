// Step-size control and dense output shared by the second-order stiff steppers (tr_bdf2.hpp, rkc.hpp),
// written to Boost.Odeint's DenseOutputStepper concept so that odeint's integrate_times drives them.
//
// A Method advances (t, y, f = y'(t)) by h to (y1, f1) and returns an error estimate `est` of order h^3.
// The step is accepted when
//
//   err = max( sqrt(mean_i (est_i / (atol + rtol max(|y_i|, |y1_i|)))^2),  max_i -y1_i / atol ) <= 1,
//
// a root-mean-square norm as in CVODE and RADAU5 (a max norm lets the far tails of a density, where
// atol dominates, dictate the step), and, when `keep_positive` is set (the caller sets it for a monotone
// spatial scheme, whose exact flow keeps p >= 0), a step is refused and shortened when it would push a
// density below -atol: positivity is kept to atol. The next step is h (0.9 err^(-1/3)), within [0.2 h, 5 h]. A Method that reuses factorisations
// (`keeps_step`) keeps h unchanged unless the controller would at least double it, so the sparse LU of
// I - d h A is computed once per step size rather than once per step.
//
// Dense output: the cubic Hermite interpolant of (y, f) at both ends of the last step (local error O(h^4),
// so snapshots between steps keep the second order of the step). Hairer, Norsett & Wanner I, §II.6.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <boost/numeric/odeint/stepper/stepper_categories.hpp>
#include <boost/numeric/odeint/util/unwrap_reference.hpp>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "parallel_blocks.hpp"

namespace fpsolve {

// The error norm's sums over the state this process holds, as they are: one process holds the whole state.
// A distributed run (parallel/) passes a reduction over its ranks instead, so that every rank computes the
// same norm and takes the same steps.
struct LocalReduction {
    // sum_sq and count are summed, negative is the minimum, over every part of the state.
    void operator()(double& /*sum_sq*/, double& /*count*/, double& /*negative*/) const {}
};

template <class Method, class Reduction = LocalReduction>
class DenseAdaptiveStepper {
public:
    using state_type = Eigen::VectorXd;
    using deriv_type = Eigen::VectorXd;
    using value_type = double;
    using time_type = double;
    using order_type = unsigned short;
    using stepper_category = boost::numeric::odeint::dense_output_stepper_tag;

    DenseAdaptiveStepper(Method method, double atol, double rtol, bool keep_positive = true, Reduction reduce = {})
        : method_(std::move(method)), reduce_(std::move(reduce)), atol_(atol), rtol_(rtol), keep_positive_(keep_positive) {}

    order_type order() const { return Method::order; }
    Method& method() { return method_; }
    const Method& method() const { return method_; }
    std::size_t accepted_steps() const { return accepted_; }
    std::size_t rejected_steps() const { return rejected_; }

    // Starts (or restarts, as integrate_times does for its last step) from x0 at t0 with step dt0.
    void initialize(const state_type& x0, double t0, double dt0) {
        x_ = x0;
        t_ = t0;
        h_ = dt0;
        have_f_ = false;
    }

    template <class System>
    std::pair<double, double> do_step(System system) {
        typename boost::numeric::odeint::unwrap_reference<System>::type& sys = system;
        if (!have_f_) {
            method_.derivative(sys, x_, t_, f_);
            have_f_ = true;
        }
        for (;;) {
            if (!(h_ > 0.0) || t_ + h_ == t_)
                throw std::runtime_error("the step size underflowed at t = " + std::to_string(t_) +
                                         ": the error or positivity control cannot be met");
            // The error estimate goes into x_old_: the previous step's start is only read by calc_state,
            // between steps, and is replaced when this step is accepted (8 B per cell less than its own
            // vector).
            method_.step(sys, t_, x_, f_, h_, x1_, f1_, x_old_);
            const double err = error_norm(x_old_);
            if (err <= 1.0) {
                std::swap(x_old_, x_);
                std::swap(f_old_, f_);
                std::swap(x_, x1_);
                std::swap(f_, f1_);
                t_old_ = t_;
                h_old_ = h_;
                t_ += h_;
                ++accepted_;
                double grow = err > 0.0 ? 0.9 * std::pow(err, -1.0 / 3.0) : 5.0;
                grow = std::min(grow, 5.0);
                if (Method::keeps_step && grow < 2.0) grow = 1.0;
                h_ *= std::max(grow, 1.0);
                return {t_old_, t_};
            }
            ++rejected_;
            h_ *= std::max(0.2, 0.9 * std::pow(err, -1.0 / 3.0));
        }
    }

    // Cubic Hermite interpolation within the last step [t_old, t].
    void calc_state(double t, state_type& x) const {
        const double h = h_old_;
        const double th = (t - t_old_) / h;
        x.resize(x_.size());
        for_blocks(x_.size(), [&](Eigen::Index b, Eigen::Index m) {
            x.segment(b, m) = (1.0 - th) * x_old_.segment(b, m) + th * x_.segment(b, m) +
                              (th * (th - 1.0)) * ((1.0 - 2.0 * th) * (x_.segment(b, m) - x_old_.segment(b, m)) +
                                                   ((th - 1.0) * h) * f_old_.segment(b, m) + (th * h) * f_.segment(b, m));
        });
    }

    const state_type& current_state() const { return x_; }
    double current_time() const { return t_; }
    double current_time_step() const { return h_; }
    const state_type& previous_state() const { return x_old_; }
    double previous_time() const { return t_old_; }

private:
    double error_norm(const state_type& est) const {
        const Eigen::Index n = x_.size();
        // The sum of squares in fixed blocks (parallel_blocks.hpp: the same bits for any thread count); the
        // most negative entry is a minimum, which does not depend on the order.
        double negative = 0.0;
        double sum = sum_blocks(n, [&](Eigen::Index b, Eigen::Index m) {
            double s = 0.0, low = 0.0;
            for (Eigen::Index i = b; i < b + m; ++i) {
                const double e = est[i] / (atol_ + rtol_ * std::max(std::abs(x_[i]), std::abs(x1_[i])));
                s += e * e;
                low = std::min(low, x1_[i]);
            }
#ifdef _OPENMP
#pragma omp critical(fpsolve_error_norm)
#endif
            negative = std::min(negative, low);
            return s;
        });
        double count = static_cast<double>(n);
        reduce_(sum, count, negative);
        const double err = std::sqrt(sum / std::max(count, 1.0));
        return keep_positive_ && negative < -atol_ ? std::max(err, -negative / atol_) : err;
    }

    Method method_;
    Reduction reduce_;
    double atol_, rtol_;
    bool keep_positive_;
    state_type x_, f_, x1_, f1_, x_old_, f_old_;
    double t_ = 0.0, h_ = 0.0, t_old_ = 0.0, h_old_ = 1.0;
    bool have_f_ = false;
    std::size_t accepted_ = 0, rejected_ = 0;
};

}  // namespace fpsolve
