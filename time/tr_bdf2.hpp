// TR-BDF2 for a linear system dp/dt = A(t) p with a sparse A: a trapezoidal stage to t + gamma h, then
// BDF2 through t, t + gamma h, t + h (Bank et al. 1985; Hosea & Shampine 1996). L-stable, second order.
// With gamma = 2 - sqrt 2 both stages solve with the same matrix M = I - d h A, d = gamma / 2:
//
//   (I - d h A(t_g)) y_g = y + d h f,                          t_g = t + gamma h,  f = A(t) y
//   (I - d h A(t_1)) y_1 = (1 - w) y + w y_g,                  w = 1 / (gamma (2 - gamma))
//   est = M^-1 2 k h ( f / gamma - f_g / (gamma (1 - gamma)) + f_1 / (1 - gamma) ),
//         k = (-3 gamma^2 + 4 gamma - 2) / (12 (2 - gamma))     (the h^3 p''' local error, filtered by M^-1
//                                                               so stiff modes do not inflate it)
//
// Mass: the columns of A sum to 0 (no absorbing wall), so 1^T M = 1^T and every stage keeps the mass to
// round-off (with an iterative solver: to its tolerance). Positivity is enforced by the step control
// (dense_adaptive_stepper.hpp).
// The linear algebra is a parameter (`Slot`: A(t) and the solver of I - d h A(t)), so the scheme is written
// once: SparseLuSlot here (TrBdf2Method), hypre on a decomposed grid (parallel/distributed_integrator.cpp).
// The system must provide `bool time_dependent()`, and for SparseLuSlot `Eigen::SparseMatrix<double>
// matrix(double t)`. For a time-independent A the LU of M is computed once per step size and reused
// (Eigen::SparseLU, the column ordering analysed once); a time-dependent A is re-assembled and factorised at
// t_g and t_1.
#pragma once
#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace fpsolve {

// One stage matrix of TR-BDF2 with Eigen's sparse LU: A(t) from sys.matrix(t) and the LU of I - dh A(t).
struct SparseLuSlot {
    using Matrix = Eigen::SparseMatrix<double>;
    Matrix a;                                        // A at time t
    double t = NAN, dh = NAN;                        // what a and lu were made for
    Eigen::Index analysed_nonzeros = -1;            // the pattern the column ordering was made for
    Eigen::SparseLU<Matrix, Eigen::COLAMDOrdering<int>> lu;

    // A(t), re-assembled only when t changed (a time-dependent A) or on first use.
    template <class System>
    void at(System& sys, double time, bool varies) {
        if (varies ? t != time : a.rows() == 0) {
            a = sys.matrix(time);
            t = time;
            dh = NAN;
        }
    }
    // The LU of I - dh A(t), recomputed only when t (for a time-dependent A) or dh changed. Returns whether
    // it factorised.
    template <class System>
    bool prepare(System& sys, double time, double new_dh, bool varies) {
        at(sys, time, varies);
        if (dh == new_dh) return false;
        Matrix id(a.rows(), a.cols());
        id.setIdentity();
        Matrix m = id - new_dh * a;
        m.makeCompressed();
        if (analysed_nonzeros != m.nonZeros()) {
            lu.analyzePattern(m);
            analysed_nonzeros = m.nonZeros();
        }
        lu.factorize(m);
        if (lu.info() != Eigen::Success)
            throw std::runtime_error("TR-BDF2: the sparse LU of I - d h A failed: " + lu.lastErrorMessage());
        dh = new_dh;
        return true;
    }
    void multiply(const Eigen::VectorXd& y, Eigen::VectorXd& out) const { out = a * y; }
    // x = M^-1 b (x on entry: a starting guess, which a direct solver ignores).
    void solve(const Eigen::VectorXd& b, Eigen::VectorXd& x) { x = lu.solve(b); }
};

template <class Slot>
class TrBdf2Scheme {
public:
    static constexpr unsigned short order = 2;
    static constexpr bool keeps_step = true;

    TrBdf2Scheme() : whole_(std::make_unique<Slot>()), stage_(std::make_unique<Slot>()) {}
    TrBdf2Scheme(std::unique_ptr<Slot> whole, std::unique_ptr<Slot> stage)
        : whole_(std::move(whole)), stage_(std::move(stage)) {}

    std::size_t factorisations() const { return factorisations_; }
    std::size_t solves() const { return solves_; }

    template <class System>
    void derivative(System& sys, const Eigen::VectorXd& y, double t, Eigen::VectorXd& f) {
        whole_->at(sys, t, sys.time_dependent());
        whole_->multiply(y, f);
    }

    template <class System>
    void step(System& sys, double t, const Eigen::VectorXd& y, const Eigen::VectorXd& f, double h, Eigen::VectorXd& y1,
              Eigen::VectorXd& f1, Eigen::VectorXd& est) {
        const double dh = d * h;
        const bool varies = sys.time_dependent();
        Slot& mg = varies ? prepare(*stage_, sys, t + gamma * h, dh) : prepare(*whole_, sys, t, dh);
        rhs_ = y + dh * f;
        yg_ = y;
        solve(mg, rhs_, yg_);
        mg.multiply(yg_, fg_);
        Slot& m1 = varies ? prepare(*whole_, sys, t + h, dh) : *whole_;
        rhs_ = (1.0 - w) * y + w * yg_;
        y1 = yg_;
        solve(m1, rhs_, y1);
        m1.multiply(y1, f1);
        rhs_ = (2.0 * k * h) * (f / gamma - fg_ / (gamma * (1.0 - gamma)) + f1 / (1.0 - gamma));
        est.setZero(y.size());
        solve(m1, rhs_, est);
    }

private:
    static constexpr double gamma = 2.0 - 1.4142135623730951;  // 2 - sqrt 2
    static constexpr double d = gamma / 2.0;
    static constexpr double w = 1.0 / (gamma * (2.0 - gamma));
    static constexpr double k = (-3.0 * gamma * gamma + 4.0 * gamma - 2.0) / (12.0 * (2.0 - gamma));

    template <class System>
    Slot& prepare(Slot& slot, System& sys, double t, double dh) {
        if (slot.prepare(sys, t, dh, sys.time_dependent())) ++factorisations_;
        return slot;
    }

    void solve(Slot& slot, const Eigen::VectorXd& b, Eigen::VectorXd& x) {
        ++solves_;
        slot.solve(b, x);
    }

    // whole_: A at t_1 (and the only matrix when A does not depend on t). Held by pointer: SparseLU does
    // not copy or move, and odeint passes steppers by value.
    std::unique_ptr<Slot> whole_, stage_;
    Eigen::VectorXd rhs_, yg_, fg_;
    std::size_t factorisations_ = 0, solves_ = 0;
};

using TrBdf2Method = TrBdf2Scheme<SparseLuSlot>;

}  // namespace fpsolve
