// The Fokker–Planck operator of a decomposed grid: each rank applies an ordinary serial
// FokkerPlanckOperator to its block extended by the ghost layers (decomposition.hpp), so that every owned
// cell's face fluxes and their coefficients come from the same positions and potential values as in a
// serial run, and the owned results agree with the serial operator to round-off:
//
//   dp_owned/dt = R A_ext(t) H(p_owned)       H: copy into the extended block and exchange halos,
//                                             R: keep the owned rows
//
// The state of a rank is its owned cells, row-major within its block. Quantities over the whole grid
// (spectral radius bound, outflux) are reduced over the ranks, so every rank sees the same numbers.
#pragma once
#include "decomposition.hpp"
#include "fokker_planck_operator.hpp"

namespace fpsolve {

class DistributedOperator {
public:
    // `global` is the whole problem (every rank holds the same one); only its owned block is assembled.
    DistributedOperator(const Decomposition& decomposition, const Problem& global);

    // dp/dt on the owned cells. Collective (halo exchange).
    void operator()(const State& p, State& dpdt, double t) const;
    // max over owned columns of the column sums |A_ij| (the serial operator's Gershgorin bound). Collective.
    double spectral_radius_bound(double t) const;
    // Whether A(t) has no negative off-diagonal entry in any owned row (p >= 0 is kept). Collective.
    bool monotone(double t) const;
    // Rate of mass loss through absorbing walls, over the whole grid. Collective.
    double outflux(const State& p, double t) const;
    // Cell-centred current of the owned cells (owned x dims). Collective.
    Eigen::MatrixXd cell_current(const State& p, double t) const;
    // Largest |D_ab| / monotonicity limit over the whole grid. Collective.
    double cross_monotonicity_ratio() const;

    bool time_dependent() const { return local_.time_dependent(); }
    const Decomposition& decomposition() const { return dec_; }
    const FokkerPlanckOperator& local() const { return local_; }
    const Problem& global_problem() const { return global_; }

private:
    static Problem local_problem(const Decomposition& dec, const Problem& global);

    const Decomposition& dec_;
    Problem global_;
    FokkerPlanckOperator local_;
    mutable State ext_, dext_;
};

}  // namespace fpsolve
