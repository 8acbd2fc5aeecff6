#include "integrator.hpp"

#include <cmath>
#include <sstream>

#include "odeint_eigen.hpp"

namespace fpsolve {

namespace odeint = boost::numeric::odeint;

std::string_view to_string(Integrator i) {
    switch (i) {
        case Integrator::automatic: return "auto";
        case Integrator::rk4: return "rk4";
        case Integrator::dopri5: return "dopri5";
        case Integrator::cash_karp54: return "cash_karp54";
        case Integrator::fehlberg78: return "fehlberg78";
        case Integrator::implicit: return "implicit";
    }
    return "?";
}

Integrator integrator_from_string(std::string_view name) {
    for (auto i : {Integrator::automatic, Integrator::rk4, Integrator::dopri5, Integrator::cash_karp54,
                   Integrator::fehlberg78, Integrator::implicit})
        if (name == to_string(i)) return i;
    throw InputError("time.integrator: got \"" + std::string(name) +
                     "\", expected auto, rk4, dopri5, cash_karp54, fehlberg78 or implicit");
}

double rk4_stability_limit(const FokkerPlanckOperator& op, double t0) {
    const double rho = op.spectral_radius_bound(t0);
    return rho > 0.0 ? 2.785 / rho : HUGE_VAL;
}

TimeSettings resolve(const TimeSettings& in, const FokkerPlanckOperator& op) {
    TimeSettings s = in;
    if (s.integrator == Integrator::automatic) s.integrator = Integrator::dopri5;
    if (s.integrator == Integrator::implicit)
        throw InputError("time.integrator: \"implicit\" is not available yet; use dopri5");
    if (s.integrator == Integrator::rk4) {
        const double limit = rk4_stability_limit(op, s.times.front());
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

// The system as odeint sees it: counts evaluations and honours the stop flag.
struct System {
    const FokkerPlanckOperator* op;
    std::size_t* count;
    const std::atomic<bool>* stop;
    void operator()(const State& p, State& dpdt, double t) const {
        if (stop && stop->load(std::memory_order_relaxed)) throw Interrupted();
        ++*count;
        (*op)(p, dpdt, t);
    }
};

using Rk4 = odeint::runge_kutta4<State, double, State, double, odeint::vector_space_algebra>;
using Dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, odeint::vector_space_algebra>;
using CashKarp = odeint::runge_kutta_cash_karp54<State, double, State, double, odeint::vector_space_algebra>;
using Fehlberg = odeint::runge_kutta_fehlberg78<State, double, State, double, odeint::vector_space_algebra>;

}  // namespace

IntegrationReport integrate(const FokkerPlanckOperator& op, State& p, const TimeSettings& in,
                            const Observer& observer, const std::atomic<bool>* stop) {
    const TimeSettings s = resolve(in, op);
    IntegrationReport report;
    report.integrator = s.integrator;
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
            odeint::integrate_times(odeint::make_dense_output(s.atol, s.rtol, Dopri5()), sys, p, times.begin(),
                                    times.end(), dt0, obs);
            break;
        case Integrator::cash_karp54:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, CashKarp()), sys, p, times.begin(),
                                    times.end(), dt0, obs);
            break;
        case Integrator::fehlberg78:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, Fehlberg()), sys, p, times.begin(),
                                    times.end(), dt0, obs);
            break;
        default: throw InputError("time.integrator: not available");
    }
    return report;
}

}  // namespace fpsolve
