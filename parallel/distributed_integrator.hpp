// Time integration of a decomposed grid: the same steppers as time/integrator.hpp, with every norm and
// every step-size decision global, so that all ranks take identical steps.
//
//   rk4, dopri5, cash_karp54, fehlberg78   Boost.Odeint over its MPI backend: mpi_state<Eigen::VectorXd>
//                                          (the owned cells) with mpi_nested_algebra, whose norm_inf is a
//                                          max over the ranks
//   rkc                                    DenseAdaptiveStepper with its RMS error norm (sums of squares,
//                                          cell count, most negative value) and the spectral radius bound
//                                          reduced over the ranks
//   expm                                   ChebyshevExponential with its maxima (of the state and the series'
//                                          terms) reduced over the ranks; the detailed-balance check of
//                                          parallel/distributed_detailed_balance.hpp before it
//   implicit                               TR-BDF2 (time/tr_bdf2.hpp) with the same step control and reduced
//                                          norms; the solves with I - d h A by hypre's GMRES/BoomerAMG
//                                          (hypre_system.hpp) to a relative residual 1e-4 rtol (within
//                                          [1e-13, 1e-8]), set up once per step size
#pragma once
#include <atomic>

#include "distributed_operator.hpp"
#include "integrator.hpp"

namespace fpsolve {

// resolve() with the global spectral radius bound.
TimeSettings resolve(const TimeSettings& settings, const DistributedOperator& op);

// Collective. `observer` sees the owned cells at every requested time on every rank. `stop` is read on
// every rank and reduced, so an interrupt stops all ranks at the same step.
IntegrationReport integrate(const DistributedOperator& op, State& p, const TimeSettings& settings,
                            const Observer& observer, const std::atomic<bool>* stop = nullptr);

}  // namespace fpsolve
