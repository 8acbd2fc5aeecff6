#include "distributed_integrator.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "chebyshev_exponential.hpp"
#include "dense_adaptive_stepper.hpp"
#include "distributed_detailed_balance.hpp"
#include "hypre_system.hpp"
#include "odeint_eigen.hpp"
#include "rkc.hpp"
#include "tr_bdf2.hpp"
// After odeint_eigen.hpp: the MPI backend nests the Eigen algebra.
#include <boost/numeric/odeint/external/mpi/mpi.hpp>

namespace fpsolve {

namespace odeint = boost::numeric::odeint;

TimeSettings resolve(const TimeSettings& in, const DistributedOperator& op) {
    if (in.integrator == Integrator::expm) {
        if (op.time_dependent())
            throw InputError(
                "time.integrator = \"expm\" needs dynamics that do not depend on t; use \"rkc\" or "
                "\"dopri5\"");
        const DistributedBalance balance = detailed_balance(op, in.times.front());
        if (!balance.holds)
            throw InputError(
                "time.integrator = \"expm\" needs a discretised generator in detailed balance "
                "(a potential drift with noise s I, scheme \"exponential\"); this one is not (" +
                balance.why + "); use \"rkc\" or \"dopri5\"");
    }
    TimeSettings s = resolve(in, [&] { return op.spectral_radius_bound(in.times.front()); });
    // The serial rule (time/integrator.cpp), from the same reduced numbers: every rank and a serial run
    // agree.
    if (in.integrator == Integrator::automatic && s.times.size() >= 2 && !op.time_dependent() &&
        detailed_balance(op, in.times.front()).holds)
        prefer_exponential(s, op.spectral_radius_bound(in.times.front()));
    return s;
}

namespace {

using DState = odeint::mpi_state<State>;

// Every rank checks the stop flag of its own signal handler; the flags are reduced so that all ranks
// throw at the same right-hand side. All ranks evaluate the same right-hand sides, so reducing at every
// `every`-th one is collective too, and spares a latency-bound allreduce per right-hand side.
struct StopCheck {
    const Decomposition* dec;
    const std::atomic<bool>* stop;
    std::shared_ptr<std::size_t> calls = std::make_shared<std::size_t>(0);
    static constexpr std::size_t every = 16;
    void operator()() const {
        if (++*calls % every != 0) return;
        const bool mine = stop && stop->load(std::memory_order_relaxed);
        if (!dec->all(!mine)) throw Interrupted();
    }
};

// For odeint's own steppers: the state is the rank's part of an mpi_state.
struct MpiSystem {
    const DistributedOperator* op;
    std::size_t* count;
    StopCheck check;
    void operator()(const DState& p, DState& dpdt, double t) const {
        check();
        ++*count;
        (*op)(p(), dpdt(), t);
    }
};

// For the DenseAdaptiveStepper steppers: the state is the owned cells, the bound global.
struct LocalSystem {
    const DistributedOperator* op;
    std::size_t* count;
    StopCheck check;
    void operator()(const State& p, State& dpdt, double t) const {
        check();
        ++*count;
        (*op)(p, dpdt, t);
    }
    double spectral_radius_bound(double t) const { return op->spectral_radius_bound(t); }
    bool time_dependent() const { return op->time_dependent(); }
};

// One stage matrix of TR-BDF2 on a decomposed grid: A(t) y through the distributed operator (halo
// exchange), I - dh A(t) assembled into hypre and solved by GMRES/BoomerAMG (hypre_system.hpp), set up
// again only when t (a time-dependent A) or dh changed, like the serial LU. Every product honours the stop
// flag (collectively, as the right-hand sides of the other steppers do).
struct HypreSlot {
    const DistributedOperator* op = nullptr;
    StopCheck check;
    HypreSettings settings;
    std::unique_ptr<HypreSystem> system;
    double t = NAN, dh = NAN;
    bool ready = false;

    template <class System>
    void at(System&, double time, bool varies) {
        if (varies ? t != time : !ready) {
            t = time;
            dh = NAN;
            ready = true;
        }
    }
    template <class System>
    bool prepare(System& sys, double time, double new_dh, bool varies) {
        at(sys, time, varies);
        if (dh == new_dh) return false;
        if (!system) system = std::make_unique<HypreSystem>(*op, settings);
        system->set(t, 1.0, -new_dh);
        dh = new_dh;
        return true;
    }
    void multiply(const State& y, State& out) const {
        check();
        (*op)(y, out, t);
    }
    void solve(const State& b, State& x) { system->solve(b, x, true); }
};

struct RankReduction {
    const Decomposition* dec;
    void operator()(double& sum_sq, double& count, double& negative) const {
        double in[2] = {sum_sq, count}, out[2] = {0.0, 0.0};
        MPI_Allreduce(in, out, 2, MPI_DOUBLE, MPI_SUM, dec->comm());
        sum_sq = out[0];
        count = out[1];
        negative = dec->min(negative);
    }
};

struct RankMaximum {
    const Decomposition* dec;
    double operator()(double x) const { return dec->max(x); }
};

using Algebra = odeint::mpi_nested_algebra<odeint::vector_space_algebra>;
using Rk4 = odeint::runge_kutta4<DState, double, DState, double, Algebra>;
using Dopri5 = odeint::runge_kutta_dopri5<DState, double, DState, double, Algebra>;
using CashKarp = odeint::runge_kutta_cash_karp54<DState, double, DState, double, Algebra>;
using Fehlberg = odeint::runge_kutta_fehlberg78<DState, double, DState, double, Algebra>;

}  // namespace

IntegrationReport integrate(const DistributedOperator& op, State& p, const TimeSettings& in,
                            const Observer& observer, const std::atomic<bool>* stop) {
    const TimeSettings s = resolve(in, op);
    const Decomposition& dec = op.decomposition();
    IntegrationReport report;
    report.integrator = s.integrator;
    report.reason = s.reason;
    const auto& times = s.times;
    if (times.size() == 1) {
        observer(p, times.front());
        return report;
    }
    const StopCheck check{&dec, stop};
    const double span = times.back() - times.front();
    auto rho0 = [&] { return op.spectral_radius_bound(times.front()); };
    // The second-order steppers' first step: time.dt, or 1% of the time scale |p| / |A p| of the start, as
    // the serial first_step().
    auto first_step = [&](const LocalSystem& sys) {
        if (s.dt) return *s.dt;
        State f;
        sys(p, f, times.front());
        const double fn = std::sqrt(dec.sum(f.squaredNorm())), pn = std::sqrt(dec.sum(p.squaredNorm()));
        return fn > 0.0 ? std::min(span / 100.0, 0.01 * pn / fn) : span / 100.0;
    };

    if (s.integrator == Integrator::rkc) {
        LocalSystem sys{&op, &report.rhs_evaluations, check};
        const double dt0 = first_step(sys);
        DenseAdaptiveStepper<RkcMethod, RankReduction> stepper(
            RkcMethod{s.rtol}, s.atol, s.rtol, op.monotone(times.front()), RankReduction{&dec});
        odeint::integrate_times(std::ref(stepper), sys, p, times.begin(), times.end(), dt0, observer);
        report.steps = stepper.accepted_steps();
        report.rejected_steps = stepper.rejected_steps();
        return report;
    }

    if (s.integrator == Integrator::expm) {
        // As serially: one step per snapshot interval, the series cut at rtol / 100; the series' maxima
        // reduced.
        LocalSystem sys{&op, &report.rhs_evaluations, check};
        ChebyshevExponential<RankMaximum> stepper(rho0(), 0.01 * s.rtol, RankMaximum{&dec});
        odeint::integrate_times(std::ref(stepper), sys, p, times.begin(), times.end(), 2.0 * span, observer);
        report.steps = stepper.steps();
        report.rejected_steps = stepper.splits();
        return report;
    }
    if (s.integrator == Integrator::implicit) {
        LocalSystem sys{&op, &report.rhs_evaluations, check};
        const double dt0 = first_step(sys);
        // The linear solves far below the step's error tolerance, so that they do not steer the step control.
        HypreSettings hs;
        hs.tol = std::clamp(1e-4 * s.rtol, 1e-13, 1e-8);
        auto slot = [&] {
            auto x = std::make_unique<HypreSlot>();
            x->op = &op;
            x->check = check;
            x->settings = hs;
            return x;
        };
        using Method = TrBdf2Scheme<HypreSlot>;
        DenseAdaptiveStepper<Method, RankReduction> stepper(Method(slot(), slot()), s.atol, s.rtol,
                                                            op.monotone(times.front()), RankReduction{&dec});
        odeint::integrate_times(std::ref(stepper), sys, p, times.begin(), times.end(), dt0, observer);
        report.steps = stepper.accepted_steps();
        report.rejected_steps = stepper.rejected_steps();
        report.factorisations = stepper.method().factorisations();
        report.linear_solves = stepper.method().solves();
        return report;
    }

    MpiSystem sys{&op, &report.rhs_evaluations, check};
    DState x;
    x() = p;
    auto obs = [&](const DState& y, double t) { observer(y(), t); };
    const double rk4_limit = [&] {
        const double rho = rho0();
        return rho > 0.0 ? 2.785 / rho : HUGE_VAL;
    }();
    const double dt0 = s.dt.value_or(std::min(span / 100.0, 0.5 * rk4_limit));
    switch (s.integrator) {
        case Integrator::rk4:
            odeint::integrate_times(Rk4(), sys, x, times.begin(), times.end(), *s.dt, obs);
            break;
        case Integrator::dopri5:
            odeint::integrate_times(odeint::make_dense_output(s.atol, s.rtol, Dopri5()), sys, x,
                                    times.begin(), times.end(), dt0, obs);
            break;
        case Integrator::cash_karp54:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, CashKarp()), sys, x,
                                    times.begin(), times.end(), dt0, obs);
            break;
        case Integrator::fehlberg78:
            odeint::integrate_times(odeint::make_controlled(s.atol, s.rtol, Fehlberg()), sys, x,
                                    times.begin(), times.end(), dt0, obs);
            break;
        default:
            throw InputError("time.integrator: not available under MPI");
    }
    p = x();
    return report;
}

}  // namespace fpsolve
