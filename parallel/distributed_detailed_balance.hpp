// Discrete detailed balance (solver/detailed_balance.hpp) of a decomposed generator, without gathering it:
//
//   A_ij w_j = A_ji w_i   for every coupled pair i != j of the whole grid.
//
// Each rank builds log w on its owned cells from the couplings among them (the serial test on the owned
// block: w is fixed up to one constant C per connected set of owned cells, a "piece"; a block has one piece
// but in odd cases) and checks them. A coupling between an owned cell i of piece a and a ghost g of piece b
// (another rank's, or this rank's across a periodic wrap) fixes
//
//   C_a - C_b = log A_ig - log A_gi + log w_g - log w_i        (log w_g from the owner, by halo exchange)
//
// and all couplings of one pair of pieces must give the same offset. The offsets (a few per rank) are
// gathered by every rank, which builds the C along a breadth-first tree of the pieces and checks every
// offset against them, so that a current circulating around the ranks (a periodic axis cut, a 2x2 block
// corner) is found. Every rank computes the same verdict from the same numbers. Tolerance: as serially.
#pragma once
#include <string>

#include "distributed_operator.hpp"

namespace fpsolve {

struct DistributedBalance {
    bool holds = false;
    std::string why;  // when it does not hold: the first coupling or cycle of ranks that breaks it, in words
};

// Collective; the same answer on every rank.
DistributedBalance detailed_balance(const DistributedOperator& op, double t, double tolerance = 1e-9);

}  // namespace fpsolve
