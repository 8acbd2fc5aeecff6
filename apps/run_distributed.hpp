// fpsolve run on more than one MPI process (FPSOLVE_MPI builds): see run_distributed.cpp.
#pragma once
#include <string>

#include "common.hpp"

namespace fpsolve {

// Processes in MPI_COMM_WORLD (1 when started without mpirun or srun: MPI is then not initialised).
int mpi_processes();
int mpi_rank();

// Collective over MPI_COMM_WORLD. Returns the exit code; throws InputError / RunError on every rank alike.
int run_distributed(const std::string& config, const std::string& resume, const OutputOptions& out);

}  // namespace fpsolve
