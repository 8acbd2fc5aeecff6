// Errors that every rank sees: agree(comm, f) runs f on every rank; when it throws on any rank, every
// rank throws the error of the lowest failing rank (InputError stays InputError, anything else becomes
// RunError), so that all ranks leave together with one message and one exit code instead of some
// waiting forever in the next collective call. f itself must not call collectives after it may throw.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

#include "errors.hpp"

namespace fpsolve {

template <class F>
void agree(MPI_Comm comm, F&& f) {
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int code = 0;  // 0 fine, 2 input, 1 run
    std::string what;
    try {
        f();
    } catch (const InputError& e) {
        code = 2, what = e.what();
    } catch (const std::exception& e) {
        code = 1, what = e.what();
    }
    int first = code ? rank : size, failing = size;
    MPI_Allreduce(&first, &failing, 1, MPI_INT, MPI_MIN, comm);
    if (failing == size) return;
    int header[2] = {code, static_cast<int>(what.size())};
    MPI_Bcast(header, 2, MPI_INT, failing, comm);
    std::vector<char> text(static_cast<std::size_t>(header[1]));
    if (rank == failing) text.assign(what.begin(), what.end());
    MPI_Bcast(text.data(), header[1], MPI_CHAR, failing, comm);
    const std::string message(text.begin(), text.end());
    if (header[0] == 2) throw InputError(message);
    throw RunError(message);
}

}  // namespace fpsolve
