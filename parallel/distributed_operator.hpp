// The Fokker–Planck operator of a decomposed grid: each rank applies an ordinary serial
// FokkerPlanckOperator to its block extended by the ghost layers (decomposition.hpp), so that every owned
// cell's face fluxes and their coefficients come from the same positions and potential values as in a
// serial run, and the owned results agree with the serial operator to round-off:
//
//   dp_owned/dt = R A_ext(t) H(p_owned)       H: copy into the extended block and exchange halos,
//                                             R: keep the owned rows
//
// The right-hand side overlaps the halo exchange with the rows that need no ghost: copy the owned cells into
// the extended block, start the exchange (Decomposition::start_halo), compute the inner rows (stencil clear
// of every ghost) straight into dp/dt, finish the exchange, then compute the border rows. Every owned row is
// the serial kernel's row of the extended block (FokkerPlanckOperator::apply_row), so the result is bitwise
// the one of applying the local operator to the whole extended block after a blocking exchange. With several
// cut axes only the first axis's messages overlap (the later ones carry the corners; decomposition.hpp).
// When the last (contiguous) axis is cut every row reads ghosts at its ends: then there is nothing to
// overlap, and the operator runs the blocking exchange and the local operator on the whole extended block.
// Without any ghost (one rank) the state is used in place, without the copy.
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
    // `guide`: a transport guide on the owned cells (Problem::transport_guide), its ghosts exchanged (collective).
    DistributedOperator(const Decomposition& decomposition, const Problem& global, const State* guide = nullptr);

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
    static Problem local_problem(const Decomposition& dec, const Problem& global, const State* guide);
    // Owned rows `rows` of A(t) x (x: the extended block), into dp/dt's owned rows.
    void apply_owned_rows(const std::vector<Index>& rows, const double* x, double t, double* dpdt) const;

    const Decomposition& dec_;
    Problem global_;
    FokkerPlanckOperator local_;
    mutable State ext_, dext_;
};

}  // namespace fpsolve
