// What the decomposed commands (run_distributed.cpp, cmd_stationary.cpp) share under mpirun.
#pragma once
#include <mpi.h>

#include <string>

#include "decomposition.hpp"
#include "initial_density.hpp"
#include "reference.hpp"

namespace fpsolve {

// Rank 0's string on every rank.
void broadcast(std::string& s, MPI_Comm comm);
// The owned cells of the initial density, normalised to mass 1 over the whole grid (bitwise as a serial
// run). An initial.snapshot is read block by block. Collective; InputError on every rank alike.
State initial_owned(const Decomposition& dec, const InitialDensity& init);
// Sums, minima and maxima over the ranks, for the closed forms evaluated block by block (reference.hpp).
BlockReductions block_reductions(const Decomposition& dec);

}  // namespace fpsolve
