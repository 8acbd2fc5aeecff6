#include "integrator.hpp"

#include <cmath>
#include <sstream>
#include <type_traits>

#include "block_algebra.hpp"
#include "chebyshev_exponential.hpp"
#include "dense_adaptive_stepper.hpp"
#include "odeint_eigen.hpp"
#include "rkc.hpp"
#include "thread_budget.hpp"
#include "tr_bdf2.hpp"

namespace fpsolve {

namespace odeint = boost::numeric::odeint;

std::string_view to_string(Integrator i) {
    switch (i) {
        case Integrator::automatic:
            return "auto";
        case Integrator::rk4:
            return "rk4";
        case Integrator::dopri5:
            return "dopri5";
        case Integrator::cash_karp54:
            return "cash_karp54";
        case Integrator::fehlberg78:
            return "fehlberg78";
        case Integrator::implicit:
            return "implicit";
        case Integrator::rkc:
            return "rkc";
        case Integrator::expm:
            return "expm";
    }
    return "?";
}

Integrator integrator_from_string(std::string_view name) {
    for (auto i : {Integrator::automatic, Integrator::rk4, Integrator::dopri5, Integrator::cash_karp54,
                   Integrator::fehlberg78, Integrator::implicit, Integrator::rkc, Integrator::expm})
        if (name == to_string(i)) return i;
    throw InputError("time.integrator: got \"" + std::string(name) +
                     "\", expected auto, rk4, dopri5, cash_karp54, fehlberg78, implicit, rkc or expm");
}

namespace {
double rk4_limit(double rho) { return rho > 0.0 ? 2.785 / rho : HUGE_VAL; }
double step_count(double rho, double t0, double t1) {
    return (t1 - t0) * rho / 3.3;  // dopri5's real stability interval is [-3.3, 0]
}
Integrator choose(double rho, double t0, double t1, std::string* reason);
}  // namespace

double rk4_stability_limit(const FokkerPlanckOperator& op, double t0) {
    return rk4_limit(op.spectral_radius_bound(t0));
}

double explicit_step_count(const FokkerPlanckOperator& op, double t0, double t1) {
    return step_count(op.spectral_radius_bound(t0), t0, t1);
}

Integrator choose_integrator(const FokkerPlanckOperator& op, double t0, double t1, std::string* reason) {
    return choose(op.spectral_radius_bound(t0), t0, t1, reason);
}

namespace {
Integrator choose(double rho, double t0, double t1, std::string* reason) {
    constexpr double accuracy_steps = 1000.0;
    const double steps = step_count(rho, t0, t1);
    std::ostringstream why;
    why.precision(3);
    why << "the explicit stability limit needs " << steps << " steps";
    Integrator pick = Integrator::dopri5;
    if (steps <= accuracy_steps) {
        why << " (<= " << accuracy_steps << ")";
    } else {
        // bench_speed measured rkc ahead of implicit on every grid it ran (docs/performance.md):
        // Eigen's SparseLU solves cost more than the sqrt(h rho) stages of a Chebyshev step.
        pick = Integrator::rkc;
        why << " (> " << accuracy_steps << "): stabilised explicit";
    }
    if (reason) *reason = why.str();
    return pick;
}
}  // namespace

TimeSettings resolve(const TimeSettings& in, const FokkerPlanckOperator& op) {
    if (in.integrator == Integrator::expm) {
        if (op.time_dependent())
            throw InputError(
                "time.integrator = \"expm\" needs dynamics that do not depend on t; use \"rkc\", "
                "\"implicit\" or \"dopri5\"");
        std::string why;
        if (!op.in_detailed_balance(in.times.front(), &why))
            throw InputError(
                "time.integrator = \"expm\" needs a discretised generator in detailed balance "
                "(a potential drift with noise s I, scheme \"exponential\"); this one is not (" +
                why + "); use \"rkc\", \"implicit\" or \"dopri5\"");
    }
    TimeSettings s = resolve(in, [&] { return op.spectral_radius_bound(in.times.front()); });
    if (in.integrator == Integrator::automatic && s.times.size() >= 2 && !op.time_dependent() &&
        op.in_detailed_balance(in.times.front()))
        prefer_exponential(s, op.spectral_radius_bound(in.times.front()));
    return s;
}

double exponential_product_count(const std::vector<double>& times, double rho, double rtol) {
    double products = 0.0, last_dt = NAN, last_terms = 0.0;
    for (std::size_t i = 0; i + 1 < times.size(); ++i) {
        const double dt = times[i + 1] - times[i];
        if (!(dt > 0.0)) continue;
        if (!(std::abs(dt - last_dt) <= 1e-9 * dt)) {  // evenly spaced snapshots: one series for all
            // Exact up to z = 1e8 (the recurrence holds ~16 sqrt(z) doubles); beyond, the asymptotic
            // sqrt(2 z ln(1 / tol)) (within 5 % of the exact count at z ~ 3e5).
            const double z = 0.5 * dt * rho, tol = 0.01 * rtol;
            last_terms = z <= 1e8 ? static_cast<double>(exponential_chebyshev_coefficients(z, tol).size() - 1)
                                  : std::sqrt(2.0 * z * std::log(1.0 / tol));
            last_dt = dt;
        }
        products += last_terms;
    }
    return products;
}

double expected_rhs_count(Integrator which, double rho, double t0, double t1, double rtol) {
    const double span = t1 - t0;
    switch (which) {
        case Integrator::dopri5:
            return 6.0 * step_count(rho, t0, t1);  // six new stages per step (FSAL)
        case Integrator::rkc:
            // Steps of length dt take sqrt(rho dt / 0.65) stages (stability interval 0.65 s^2); second order
            // means dt ~ tau rtol^(1/3), so span sqrt(rho / (0.65 dt)) evaluations. tau = span is the most
            // favourable case for rkc (bench_speed: the real counts were 1.6-2.1 times this).
            return std::sqrt(rho * span / 0.65) * std::pow(rtol, -1.0 / 6.0);
        default:
            return HUGE_VAL;
    }
}

void prefer_exponential(TimeSettings& s, double rho) {
    const double products = exponential_product_count(s.times, rho, s.rtol);
    const double explicit_rhs =
        expected_rhs_count(s.integrator, rho, s.times.front(), s.times.back(), s.rtol);
    std::ostringstream why;
    why.precision(3);
    why << "; the generator is in detailed balance: the exact exponential takes " << products
        << " products of A for " << s.times.size() - 1 << " snapshot interval"
        << (s.times.size() == 2 ? "" : "s") << " against ~" << explicit_rhs << " right-hand sides for "
        << to_string(s.integrator);
    if (products < explicit_rhs) {
        s.reason += why.str() + ": expm";
        s.integrator = Integrator::expm;
    } else {
        s.reason += why.str() + ": kept";
    }
}

TimeSettings resolve(const TimeSettings& in, const std::function<double()>& spectral_radius_at_start) {
    TimeSettings s = in;
    if (s.integrator == Integrator::automatic)
        s.integrator = s.times.size() < 2
                           ? Integrator::dopri5
                           : choose(spectral_radius_at_start(), s.times.front(), s.times.back(), &s.reason);
    if (s.integrator == Integrator::rk4) {
        const double limit = rk4_limit(spectral_radius_at_start());
        if (!s.dt) {
            s.dt = 0.9 * limit;
        } else if (*s.dt > limit) {
            std::ostringstream msg;
            msg << "time.dt = " << *s.dt << " exceeds the rk4 stability limit " << limit
                << " of this grid and noise; use time.dt <= " << limit << ", or integrator = \"dopri5\"";
            throw InputError(msg.str());
        }
    }
    return s;
}

namespace {

// The system as odeint sees it: counts evaluations and honours the stop flag. The second-order
// steppers also ask it for the sparse generator and its spectral radius bound.
struct System {
    const FokkerPlanckOperator* op;
    std::size_t* count;
    const std::atomic<bool>* stop;
    void check() const {
        if (stop && stop->load(std::memory_order_relaxed)) throw Interrupted();
        adapt_threads();  // outside any parallel region; re-measures at most every 0.5 s
    }
    void operator()(const State& p, State& dpdt, double t) const {
        check();
        ++*count;
        (*op)(p, dpdt, t);
    }
    // The operator itself, for a stepper that evaluates `products` products row by row (checks the stop flag
    // and counts them first).
    const FokkerPlanckOperator* row_operator(std::size_t products) const {
        check();
        *count += products;
        return op;
    }
    void apply_rows(const State& p, double t, FokkerPlanckOperator::RowSink sink) const {
        check();
        ++*count;
        op->apply_rows(p, t, sink);
    }
    Eigen::SparseMatrix<double> matrix(double t) const {
        check();
        return op->matrix(t);
    }
    double spectral_radius_bound(double t) const { return op->spectral_radius_bound(t); }
    bool time_dependent() const { return op->time_dependent(); }
};

// A first step for the adaptive second-order steppers: 1% of the time scale |p| / |A p| of the start.
double first_step(const System& sys, const State& p, double t, double span) {
    State f;
    sys(p, f, t);
    const double fn = f.norm();
    return fn > 0.0 ? std::min(span / 100.0, 0.01 * p.norm() / fn) : span / 100.0;
}

template <class Method>
void run_dense(Method method, const System& sys, State& p, const TimeSettings& s, double dt0,
               const std::function<void(const State&, double)>& obs, IntegrationReport& report) {
    // No negative off-diagonal rate: the stepper may insist on p >= 0.
    DenseAdaptiveStepper<Method> stepper(std::move(method), s.atol, s.rtol, sys.op->monotone(s.times.front()));
    odeint::integrate_times(std::ref(stepper), sys, p, s.times.begin(), s.times.end(), dt0, obs);
    report.steps = stepper.accepted_steps();
    report.rejected_steps = stepper.rejected_steps();
    if constexpr (std::is_same_v<Method, TrBdf2Method>) {
        report.factorisations = stepper.method().factorisations();
        report.linear_solves = stepper.method().solves();
    }
}

// Element-wise vector operations over threads in fixed blocks (block_algebra.hpp).
using Rk4 = odeint::runge_kutta4<State, double, State, double, BlockAlgebra>;
using Dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, BlockAlgebra>;
using CashKarp = odeint::runge_kutta_cash_karp54<State, double, State, double, BlockAlgebra>;
using Fehlberg = odeint::runge_kutta_fehlberg78<State, double, State, double, BlockAlgebra>;

}  // namespace

IntegrationReport integrate(const FokkerPlanckOperator& op, State& p, const TimeSettings& in,
                            const Observer& observer, const std::atomic<bool>* stop) {
    const TimeSettings s = resolve(in, op);
    IntegrationReport report;
    report.integrator = s.integrator;
    report.reason = s.reason;
    System sys{&op, &report.rhs_evaluations, stop};
    auto obs = [&](const State& x, double t) { observer(x, t); };
    const auto& times = s.times;
    if (times.size() == 1) {
        observer(p, times.front());
        return report;
    }
    const double span = times.back() - times.front();
    const double dt0 = s.dt.value_or(std::min(span / 100.0, 0.5 * rk4_stability_limit(op, times.front())));
    switch (s.integrator) {
        case Integrator::rk4:
            odeint::integrate_times(Rk4(), sys, p, times.begin(), times.end(), *s.dt, obs);
            break;
        case Integrator::dopri5:
            odeint::integrate_times(odeint::make_dense_output(s.atol, s.rtol, Dopri5()), sys, p,
                                    times.begin(), times.end(), dt0, obs);
            break;
        case Integrator::cash_karp54:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, CashKarp()), sys, p,
                                    times.begin(), times.end(), dt0, obs);
            break;
        case Integrator::fehlberg78:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, Fehlberg()), sys, p,
                                    times.begin(), times.end(), dt0, obs);
            break;
        case Integrator::implicit:
            run_dense(TrBdf2Method{}, sys, p, s, s.dt.value_or(first_step(sys, p, times.front(), span)), obs,
                      report);
            break;
        case Integrator::rkc:
            run_dense(RkcMethod{s.rtol}, sys, p, s, s.dt.value_or(first_step(sys, p, times.front(), span)),
                      obs, report);
            break;
        case Integrator::expm: {
            // One step per snapshot interval (a step as long as the run); the series cut at rtol / 100.
            ChebyshevExponential stepper(op.spectral_radius_bound(times.front()), 0.01 * s.rtol);
            odeint::integrate_times(std::ref(stepper), sys, p, times.begin(), times.end(), 2.0 * span, obs);
            report.steps = stepper.steps();
            report.rejected_steps = stepper.splits();
            break;
        }
        default:
            throw InputError("time.integrator: not available");
    }
    return report;
}

}  // namespace fpsolve
