// Time integration of dp/dt = A(t) p with Boost.Odeint: the observer sees the state at every requested
// time, exactly (fixed-step rk4 shortens its last step; dopri5 interpolates its dense output;
// cash_karp54 and fehlberg78 are step-size controlled and stop on each time).
//
//   stepper       order   step
//   rk4             4     fixed (time.dt), refused beyond the stability limit 2.78 / rho(A)
//   dopri5          5(4)  adaptive, dense output
//   cash_karp54     5(4)  adaptive
//   fehlberg78      8(7)  adaptive
//   implicit        2     TR-BDF2, L-stable, adaptive, sparse LU once per step size (tr_bdf2.hpp)
//   rkc             2     Runge–Kutta–Chebyshev, stabilised explicit, adaptive stages (rkc.hpp)
//   expm            exact exp(dt A) p per snapshot interval, Chebyshev series (chebyshev_exponential.hpp);
//                         for time-independent generators in detailed balance only (real spectrum)
//
// The two second-order steppers interpolate snapshots with a cubic Hermite and refuse steps that would
// push the density below -atol (dense_adaptive_stepper.hpp). "auto" (see choose_integrator) keeps dopri5
// while its stability limit costs no more steps than accuracy needs, and otherwise takes rkc; then, for a
// time-independent generator in detailed balance, it takes expm instead when the series for the snapshot
// intervals need fewer products of A than that stepper is expected to take (prefer_exponential).
#pragma once
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fokker_planck_operator.hpp"

namespace fpsolve {

enum class Integrator { automatic, rk4, dopri5, cash_karp54, fehlberg78, implicit, rkc, expm };

std::string_view to_string(Integrator i);
Integrator integrator_from_string(std::string_view name);  // throws InputError

struct TimeSettings {
    std::vector<double> times;       // observation times, increasing, times[0] = start
    Integrator integrator = Integrator::automatic;
    double rtol = 1e-8;
    double atol = 1e-12;
    std::optional<double> dt;        // rk4 step (default: 0.9 of the stability limit); initial step otherwise
    std::string reason;              // set by resolve() when it chose the integrator for "auto"
};

// Thrown out of the integration when `stop` was raised (by a signal handler); the observer has seen
// every snapshot up to then.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

struct IntegrationReport {
    Integrator integrator = Integrator::dopri5;   // the one actually used
    std::size_t rhs_evaluations = 0;
    std::size_t steps = 0;            // accepted steps of the adaptive second-order steppers
    std::size_t rejected_steps = 0;
    std::size_t factorisations = 0;   // implicit: sparse LU factorisations
    std::size_t linear_solves = 0;    // implicit: triangular solve pairs
    std::string reason;               // why "auto" chose this integrator (empty otherwise)
};

using Observer = std::function<void(const State& p, double t)>;

// Largest stable rk4 step for this operator (2.785 / spectral radius bound of A(t0)).
double rk4_stability_limit(const FokkerPlanckOperator& op, double t0);

// The explicit steps dopri5 needs on [t0, t1] from its stability limit alone: (t1 - t0) rho(A) / 3.3.
double explicit_step_count(const FokkerPlanckOperator& op, double t0, double t1);

// What "auto" picks, with the reason in words: dopri5 while the explicit step count is at most
// 1000 (more than an adaptive fifth-order method needs for a smooth density at the default
// tolerances), else rkc (measured faster than implicit on every grid of bench_speed).
Integrator choose_integrator(const FokkerPlanckOperator& op, double t0, double t1, std::string* reason = nullptr);

// Resolves `automatic` and checks the settings against the operator (rk4 step within the stability
// limit; expm only for a time-independent generator in detailed balance); throws InputError naming the key.
TimeSettings resolve(const TimeSettings& settings, const FokkerPlanckOperator& op);
// The same from the spectral radius bound of A(times[0]), asked for only when needed (a distributed
// operator reduces it over the ranks: parallel/).
TimeSettings resolve(const TimeSettings& settings, const std::function<double()>& spectral_radius_at_start);

// Products of A that expm takes for these snapshot times (one series per interval, cut at rtol / 100,
// without the splitting that strong non-normal growth may add).
double exponential_product_count(const std::vector<double>& times, double rho, double rtol);
// Right-hand sides dopri5 (its stability limit) or rkc (sqrt(rho (t1 - t0) / 0.65) rtol^(-1/6), a model
// that favours rkc) is expected to take on [t0, t1]; HUGE_VAL for the others.
double expected_rhs_count(Integrator which, double rho, double t0, double t1, double rtol);
// For "auto" once the generator is known to be time-independent and in detailed balance: switches
// s.integrator to expm when exponential_product_count < expected_rhs_count, and says so in s.reason.
void prefer_exponential(TimeSettings& s, double rho);

IntegrationReport integrate(const FokkerPlanckOperator& op, State& p, const TimeSettings& settings,
                            const Observer& observer, const std::atomic<bool>* stop = nullptr);

}  // namespace fpsolve
