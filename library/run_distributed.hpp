// fpsolve::run and fpsolve::resume on more than one MPI process (FPSOLVE_MPI builds): see run_distributed.cpp.
#pragma once
#include <string>
#include <vector>

#include "fpsolve/fpsolve.hpp"

namespace fpsolve {

// Processes in MPI_COMM_WORLD (1 when started without mpirun or srun: MPI is then not initialised).
int mpi_processes();
int mpi_rank();

// Collective over MPI_COMM_WORLD: a run of `config`, or (config null) a resume of the file at `resume_path` with
// `overrides`. Throws InputError / RunError on every rank alike. The result's densities are this rank's owned
// cells; its diagnostics are the whole grid's.
RunResult run_distributed(const Config* config, const std::string& resume_path,
                          const std::vector<std::string>& overrides, const RunOptions& options);

}  // namespace fpsolve
