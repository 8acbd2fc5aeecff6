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
// round-off. Positivity is enforced by the step control (dense_adaptive_stepper.hpp).
// The system must provide `Eigen::SparseMatrix<double> matrix(double t)` and `bool time_dependent()`.
// For a time-independent A the LU of M is computed once per step size and reused (Eigen::SparseLU,
// the column ordering analysed once); a time-dependent A is re-assembled and factorised at t_g and t_1.
#pragma once
#include <Eigen/Sparse>
#include <Eigen/SparseLU>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace fpsolve {

class TrBdf2Method {
public:
    static constexpr unsigned short order = 2;
    static constexpr bool keeps_step = true;

    std::size_t factorisations() const { return factorisations_; }
    std::size_t solves() const { return solves_; }

    template <class System>
    void derivative(System& sys, const Eigen::VectorXd& y, double t, Eigen::VectorXd& f) {
        f = matrix_at(sys, t) * y;
    }

    template <class System>
    void step(System& sys, double t, const Eigen::VectorXd& y, const Eigen::VectorXd& f, double h, Eigen::VectorXd& y1,
              Eigen::VectorXd& f1, Eigen::VectorXd& est) {
        const double dh = d * h;
        const bool varies = sys.time_dependent();
        Factor& mg = varies ? factor(*stage_, sys, t + gamma * h, dh) : factor(*whole_, sys, t, dh);
        rhs_ = y + dh * f;
        yg_ = solve(mg, rhs_);
        fg_ = mg.a * yg_;
        Factor& m1 = varies ? factor(*whole_, sys, t + h, dh) : *whole_;
        rhs_ = (1.0 - w) * y + w * yg_;
        y1 = solve(m1, rhs_);
        f1 = m1.a * y1;
        rhs_ = (2.0 * k * h) * (f / gamma - fg_ / (gamma * (1.0 - gamma)) + f1 / (1.0 - gamma));
        est = solve(m1, rhs_);
    }

private:
    static constexpr double gamma = 2.0 - 1.4142135623730951;  // 2 - sqrt 2
    static constexpr double d = gamma / 2.0;
    static constexpr double w = 1.0 / (gamma * (2.0 - gamma));
    static constexpr double k = (-3.0 * gamma * gamma + 4.0 * gamma - 2.0) / (12.0 * (2.0 - gamma));

    using Matrix = Eigen::SparseMatrix<double>;
    struct Factor {
        Matrix a;                                        // A at time t
        double t = NAN, dh = NAN;                        // what a and lu were made for
        Eigen::Index analysed_nonzeros = -1;            // the pattern the column ordering was made for
        Eigen::SparseLU<Matrix, Eigen::COLAMDOrdering<int>> lu;
    };

    template <class System>
    const Matrix& matrix_at(System& sys, double t) {
        Factor& w1 = *whole_;
        if (sys.time_dependent() ? w1.t != t : w1.a.rows() == 0) {
            w1.a = sys.matrix(t);
            w1.t = t;
            w1.dh = NAN;
        }
        return w1.a;
    }

    // The LU of I - dh A(t) in `slot`, recomputed only when t (for a time-dependent A) or dh changed.
    template <class System>
    Factor& factor(Factor& slot, System& sys, double t, double dh) {
        const bool varies = sys.time_dependent();
        if (varies && slot.t != t) {
            slot.a = sys.matrix(t);
            slot.t = t;
            slot.dh = NAN;
        } else if (slot.a.rows() == 0) {
            slot.a = sys.matrix(t);
            slot.t = t;
        }
        if (slot.dh == dh) return slot;
        Matrix id(slot.a.rows(), slot.a.cols());
        id.setIdentity();
        Matrix m = id - dh * slot.a;
        m.makeCompressed();
        if (slot.analysed_nonzeros != m.nonZeros()) {
            slot.lu.analyzePattern(m);
            slot.analysed_nonzeros = m.nonZeros();
        }
        slot.lu.factorize(m);
        if (slot.lu.info() != Eigen::Success)
            throw std::runtime_error("TR-BDF2: the sparse LU of I - d h A failed: " + slot.lu.lastErrorMessage());
        slot.dh = dh;
        ++factorisations_;
        return slot;
    }

    Eigen::VectorXd solve(Factor& f, const Eigen::VectorXd& b) {
        ++solves_;
        return f.lu.solve(b);
    }

    // whole_: A at t_1 (and the only factor when A does not depend on t). Held by pointer: SparseLU does
    // not copy or move, and odeint passes steppers by value.
    std::unique_ptr<Factor> whole_ = std::make_unique<Factor>(), stage_ = std::make_unique<Factor>();
    Eigen::VectorXd rhs_, yg_, fg_;
    std::size_t factorisations_ = 0, solves_ = 0;
};

}  // namespace fpsolve
