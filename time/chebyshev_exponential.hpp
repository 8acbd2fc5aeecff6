// The exact flow p(t + dt) = exp(dt A) p(t) of a time-independent generator A in detailed balance
// (solver/detailed_balance.hpp: its eigenvalues are real and lie in [-rho, 0], rho the Gershgorin bound),
// by the Chebyshev expansion of the exponential (Tal-Ezer & Kosloff 1984). With Y = (2/rho) A + I, whose
// spectrum lies in [-1, 1], and z = dt rho / 2,
//
//   exp(dt A) = e^-z e^(z Y) = c_0 I + 2 sum_{k>=1} c_k T_k(Y),      c_k = e^-z I_k(z)  (scaled Bessel I),
//   T_0 v = v,  T_1 v = Y v,  T_{k+1} v = 2 Y T_k v - T_{k-1} v,
//
// one product A v per term. The c_k are positive with c_0 + 2 sum c_k = 1 and fall off like
// exp(-k^2 / 2z) beyond k ~ sqrt(z): the series is cut where the coefficients left out add up to less than
// `tolerance`, about sqrt(2 z ln(1/tolerance)) terms. Since ||T_k(Y)|| <= 1 in the norm where Y is
// symmetric, the cut is also the error bound in that norm (round-off: see `series`). There is no time-step error: one step may span any interval, and its cost grows like
// sqrt(dt rho), so the fewer snapshots a run asks for, the cheaper it is. Mass is kept to round-off
// (1^T Y = 1^T when the column sums of A vanish, and the kept c_k are scaled to add up to 1).
//
// An odeint Stepper (stepper_tag): odeint's integrate_times calls do_step once per snapshot interval when
// given a step at least as long as the run.
#pragma once
#include <Eigen/Dense>
#include <array>
#include <atomic>
#include <boost/numeric/odeint/stepper/stepper_categories.hpp>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>
#include <vector>

#include "fokker_planck_operator.hpp"
#include "parallel_blocks.hpp"
#include "subnormals.hpp"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fpsolve {

// c_0, 2 c_1, 2 c_2, ..., 2 c_m with c_k = e^-z I_k(z), cut at the first m whose left-out coefficients
// 2 sum_{k>m} c_k add up to at most `tolerance`, and scaled to add up to 1. Miller's backward recurrence I_{k-1} = I_{k+1} + (2k/z) I_k
// from far enough out, normalised by c_0 + 2 sum c_k = 1 (e^z = I_0(z) + 2 sum I_k(z)).
inline std::vector<double> exponential_chebyshev_coefficients(double z, double tolerance) {
    if (!(z >= 0.0) || !std::isfinite(z)) throw std::invalid_argument("exponential_chebyshev_coefficients: z");
    if (z == 0.0) return {1.0};
    for (std::size_t start = 64 + static_cast<std::size_t>(16.0 * std::sqrt(z));; start *= 2) {
        std::vector<double> f(start + 2, 0.0);
        f[start] = 1.0;
        for (std::size_t k = start; k >= 1; --k) {
            f[k - 1] = f[k + 1] + (2.0 * static_cast<double>(k) / z) * f[k];
            if (f[k - 1] > 1e250)
                for (std::size_t j = k - 1; j <= start; ++j) f[j] *= 1e-250;
        }
        double sum = 0.0;  // smallest first
        for (std::size_t k = start; k >= 1; --k) sum += 2.0 * f[k];
        sum += f[0];
        std::vector<double> c(start + 1);
        c[0] = f[0] / sum;
        for (std::size_t k = 1; k <= start; ++k) c[k] = 2.0 * f[k] / sum;
        // Cut: the tail sum from the far end down.
        std::size_t m = start;
        double tail = 0.0;
        while (m > 0 && tail + c[m] <= tolerance) tail += c[m--];
        // Miller's values are exact well inside the start index; accept when the cut is there.
        if (2 * m < start) {
            c.resize(m + 1);
            // The kept coefficients add up to exactly 1, so that exp(dt A) keeps mass and the stationary
            // density (Y w = w) to round-off; the other modes change by at most `tolerance` relative.
            double kept = 0.0;
            for (std::size_t k = m + 1; k-- > 0;) kept += c[k];
            for (double& ck : c) ck /= kept;
            return c;
        }
    }
}

// The maxima over the state that decide the series' cut and the splitting of steps, as they are: one
// process holds the whole state. A distributed run (parallel/) passes a maximum over its ranks instead, so
// that every rank cuts and splits alike.
struct LocalMaximum {
    double operator()(double x) const { return x; }
};

template <class Reduction = LocalMaximum>
class ChebyshevExponential {
public:
    using state_type = Eigen::VectorXd;
    using deriv_type = Eigen::VectorXd;
    using value_type = double;
    using time_type = double;
    using order_type = unsigned short;
    using stepper_category = boost::numeric::odeint::stepper_tag;
    static constexpr order_type order() { return 0; }  // exact in time: no step-size error

    // `rho`: an upper bound of the spectral radius of A; `tolerance`: the series' cut (see above).
    ChebyshevExponential(double rho, double tolerance, Reduction max = {})
        : rho_(rho), tolerance_(tolerance), max_(std::move(max)) {}

    std::size_t products() const { return products_; }
    std::size_t steps() const { return steps_; }
    std::size_t last_terms() const { return coefficients_.size(); }

    // x <- exp(dt A) x; sys(v, Av, t) gives A v. Split into shorter steps while the series would lose
    // more than `tolerance` to round-off (see `series`).
    template <class System>
    void do_step(System sys, state_type& x, double t, double dt) {
        if (rho_ == 0.0 || dt == 0.0) return;
        if (series(sys, x, t, dt)) {
            ++steps_;
            return;
        }
        ++splits_;
        constexpr int parts = 4;
        for (int j = 0; j < parts; ++j) do_step(sys, x, t + j * (dt / parts), dt / parts);
    }

    // Steps split because the series' terms grew too large (see `series`).
    std::size_t splits() const { return splits_; }

private:
    // x <- exp(dt A) x by the series, or false (x unchanged) when its terms grow so large that round-off
    // would exceed the tolerance. Y is a contraction in the norm in which it is symmetric, but not in the max
    // norm: when x holds mass where the detailed-balance weight w is small (a density started on a hill, or
    // a drift-dominated axis), |T_k(Y) x| can grow to G |x|, up to G = sqrt(max w / min w). Both the terms
    // left out and the round-off of the sum then scale with G (max norms). So the series is cut where the
    // coefficients left out, times the largest G seen so far, fall below the tolerance (a few terms more
    // than for G = 1: the coefficients fall off like exp(-k^2 / 2z)), their sum is added to the last term
    // (the coefficients used add up to 1: mass is kept), and the step is abandoned at once when the
    // round-off u k G of k terms exceeds the tolerance. Shorter steps need fewer terms and start from
    // densities closer to w, so splitting ends.
    template <class System>
    bool series(System& sys, state_type& x, double t, double dt) {
        if (dt != coefficients_dt_) {
            // far beyond the cut for G = 1, so that the cut can move out with G
            coefficients_ = exponential_chebyshev_coefficients(0.5 * dt * rho_, std::max(1e-300, tolerance_ * 1e-12));
            tails_.assign(coefficients_.size(), 0.0);
            for (std::size_t k = coefficients_.size() - 1; k-- > 0;) tails_[k] = tails_[k + 1] + coefficients_[k + 1];
            coefficients_dt_ = dt;
        }
        const std::vector<double>& c = coefficients_;
        const Eigen::Index n = x.size();
        if (c.size() == 1) return true;  // c_0 = 1: dt rho is below round-off
        constexpr double u = 1.1102230246251565e-16;
        const double x_max =
            max_(max_blocks(n, [&](Eigen::Index b, Eigen::Index m) { return x.segment(b, m).cwiseAbs().maxCoeff(); }));
        if (x_max == 0.0) return true;
        double growth = 1.0;  // max_k |T_k(Y) x| / |x| so far
        // The coefficient of term k, and whether the series ends with it.
        auto coefficient = [&](std::size_t k, bool& last) {
            last = k + 1 == c.size() || tails_[k] * growth <= 0.5 * tolerance_;
            return last ? c[k] + tails_[k] : c[k];
        };
        previous_.resize(n);
        current_.resize(n);
        sum_.resize(n);
        // T_0 x = x, T_1 x = (2/rho) A x + x.
        sys(x, product_, t);
        ++products_;
        const double scale = 2.0 / rho_;
        bool last = false;
        const double c0 = c[0], c1 = coefficient(1, last);
        const double t1 = max_blocks(n, [&](Eigen::Index b, Eigen::Index m) {
            previous_.segment(b, m) = x.segment(b, m);
            current_.segment(b, m) = scale * product_.segment(b, m) + x.segment(b, m);
            sum_.segment(b, m) = c0 * x.segment(b, m) + c1 * current_.segment(b, m);
            return current_.segment(b, m).cwiseAbs().maxCoeff();
        });
        growth = std::max(growth, max_(t1) / x_max);
        // T_{k+1} x = (4/rho) A T_k x + 2 T_k x - T_{k-1} x, written over T_{k-1} x; one pass per term, or one
        // pass per `depth` terms on 2-D grids (sweep).
        for (std::size_t k = 1; !last;) {
            bool last_next = false;
            const double c_next = coefficient(k + 1, last_next);
            double largest = 0.0;
            bool swept = false;
            if constexpr (requires { sys.row_operator(std::size_t{2}); }) {
                const FokkerPlanckOperator& op = *sys.row_operator(0);
                if (!last_next && op.grid().dims == 2 && op.rows() >= 4 && op.row_reach(t) == 1) {
                    std::array<double, depth> cs{c_next};
                    int levels = 1;
                    while (levels < depth && !last) cs[static_cast<std::size_t>(levels)] = coefficient(k + 1 + levels, last), ++levels;
                    sys.row_operator(static_cast<std::size_t>(levels));  // counts them, checks the stop flag
                    products_ += static_cast<std::size_t>(levels);
                    largest = sweep(op, t, scale, cs.data(), levels);
                    k += static_cast<std::size_t>(levels);
                    swept = true;
                }
            }
            if (!swept) {
                ++products_;
                Term term{previous_.data(), current_.data(), sum_.data(), scale, c_next, 0.0};
                if constexpr (requires { sys.apply_rows(current_, t, FokkerPlanckOperator::RowSink{}); }) {
                    // fused: each row of A T_k x is combined while in the cache, A T_k x is never stored
                    sys.apply_rows(current_, t, FokkerPlanckOperator::RowSink{&term, &Term::finish});
                } else {
                    sys(current_, product_, t);
                    for_blocks(n, [&](Eigen::Index b, Eigen::Index m) { Term::finish(&term, b, m, product_.data() + b); });
                }
                largest = term.largest.load();
                std::swap(previous_, current_);
                k += 1;
                last = last_next;
            }
            growth = std::max(growth, max_(largest) / x_max);
            if (!(u * static_cast<double>(k) * growth <= tolerance_)) return false;
        }
        std::swap(x, sum_);
        return true;
    }

    // Terms per sweep over the rows of a 2-D grid.
    static constexpr int depth = 4;

    // `levels` terms in one sweep over the rows of a 2-D grid (temporal blocking): level j computes
    // T_{k+1+j} x row by row, one row behind level j - 1 (whose rows r - 1 .. r + 1 it needs), over T_{k-1+j} x,
    // alternating between previous_ and current_; the rows in flight stay in the cache, so the coefficients
    // and vectors stream from memory once per sweep instead of once per product. Threads take fixed chunks
    // of rows. Level j covers its chunk's rows at least j from the chunk's ends in the sweep, and the rest in
    // round j after a barrier (a neighbour chunk still reads those rows' older terms; across a periodic first
    // axis rows 0 and rows - 1 read each other and are such end rows). Each element is the same expression for
    // any thread count. Returns max |T_{k+1+j} x| over the levels.
    double sweep(const FokkerPlanckOperator& op, double t, double scale, const double* coefficients, int levels) {
        const Eigen::Index n = op.row_length(), rows = op.rows();
        double* const buffers[2] = {previous_.data(), current_.data()};
        double* const sum = sum_.data();
        std::atomic<double> largest{0.0};
        // Level j on row q: over[q] <- 2 (scale A from + from)[q] - over[q], sum[q] += c_j over[q].
        auto term = [&](int j, Eigen::Index q, double* row, double& big) {
            const double* from = buffers[(j + 1) % 2];
            double* over = buffers[j % 2];
            op.apply_row(q, from, t, row);
            const Eigen::Index o = q * n;
            const double* __restrict f = from + o;
            double* __restrict w = over + o;
            double* __restrict s = sum + o;
            const double c = coefficients[j];
            for (Eigen::Index i = 0; i < n; ++i) {
                const double next = 2.0 * (scale * row[i] + f[i]) - w[i];
                w[i] = next;
                s[i] += c * next;
                big = std::max(big, std::abs(next));
            }
        };
#ifdef _OPENMP
#pragma omp parallel if (rows * n >= parallel_threshold)
#endif
        {
            const SubnormalsAreZero ftz;
            std::vector<double> row(static_cast<std::size_t>(n));
            double big = 0.0;
            Eigen::Index threads = 1, id = 0;
#ifdef _OPENMP
            threads = omp_get_num_threads(), id = omp_get_thread_num();
#endif
            const Eigen::Index begin = rows * id / threads, end = rows * (id + 1) / threads;
            for (Eigen::Index q = begin; q < end; ++q)
                for (int j = 0; j < levels; ++j)
                    if (q - j >= begin + j && q - j < end - j) term(j, q - j, row.data(), big);
            for (int j = 1; j < levels; ++j) {
#ifdef _OPENMP
#pragma omp barrier
#endif
                for (Eigen::Index q = begin; q < std::min(end, begin + j); ++q) term(j, q, row.data(), big);
                for (Eigen::Index q = std::max(begin + j, end - j); q < end; ++q) term(j, q, row.data(), big);
            }
            double seen = largest.load(std::memory_order_relaxed);
            while (big > seen && !largest.compare_exchange_weak(seen, big, std::memory_order_relaxed)) {
            }
        }
        if (levels % 2 == 1) std::swap(previous_, current_);  // previous_ holds the older of the last two terms
        return largest.load();
    }

    // One term of the recurrence over cells first .. first + count - 1, given (A T_k x) there: T_{k+1} x over
    // T_{k-1} x, the sum, and the largest |T_{k+1} x| (a maximum: the same for any order of the rows).
    struct Term {
        double* previous;
        const double* current;
        double* sum;
        double scale, coefficient;
        std::atomic<double> largest;
        static void finish(void* context, Eigen::Index first, Eigen::Index count, const double* product) {
            Term& t = *static_cast<Term*>(context);
            double* __restrict prev = t.previous + first;
            const double* __restrict cur = t.current + first;
            const double* __restrict av = product;
            double* __restrict s = t.sum + first;
            const double scale = t.scale, ck = t.coefficient;
            double big = 0.0;
            for (Eigen::Index i = 0; i < count; ++i) {
                const double next = 2.0 * (scale * av[i] + cur[i]) - prev[i];
                prev[i] = next;
                s[i] += ck * next;
                big = std::max(big, std::abs(next));
            }
            double seen = t.largest.load(std::memory_order_relaxed);
            while (big > seen && !t.largest.compare_exchange_weak(seen, big, std::memory_order_relaxed)) {
            }
        }
    };

    double rho_, tolerance_;
    Reduction max_;
    double coefficients_dt_ = NAN;
    std::vector<double> coefficients_, tails_;  // c_k and sum_{j>k} c_j
    state_type previous_, current_, product_, sum_;
    std::size_t products_ = 0, steps_ = 0, splits_ = 0;
};

}  // namespace fpsolve
