// Costs of the decomposed right-hand side, each the minimum over repetitions (robust to other load):
//   serial      FokkerPlanckOperator on the whole grid (rank 0 alone, before the others start)
//   rhs         DistributedOperator: copy into the extended block, start the halo exchange, the inner rows,
//               finish the exchange, the border rows (straight into dp/dt; one rank: no copy at all)
//   blocking    the previous path, for comparison: copy in, blocking halo exchange, the local operator on the
//               whole extended block, copy out
//   halo        the blocking halo exchange alone;  wait  finishing the exchange after the inner rows (what
//               the overlap leaves exposed);  allreduce  one MPI_Allreduce of a double (norms, the stop flag)
// Usage: mpirun -np P bench_distributed [CELLS=1024] [REPS=30]     (2-D Brownian motion, CELLS^2 cells)
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "config.hpp"
#include "distributed_operator.hpp"
#include "initial_density.hpp"

using namespace fpsolve;

namespace {
template <class F>
double best_of(int reps, F&& f) {
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto t0 = std::chrono::steady_clock::now();
        f();
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double slowest = 0.0;
        MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        best = std::min(best, slowest);
    }
    return best;
}
}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int cells = argc > 1 ? std::stoi(argv[1]) : 1024;
    const int reps = argc > 2 ? std::stoi(argv[2]) : 30;
    const std::string n = std::to_string(cells);
    const ParsedConfig c = parse_config("[grid]\nlower = [-4, -4]\nupper = [4, 4]\ncells = [" + n + ", " + n +
                                      "]\n[dynamics]\ndrift = [\"-x\", \"-y\"]\nnoise = 0.5\n"
                                      "[initial]\ngaussian = { mean = [0, 0], covariance = [[0.5, 0], [0, 0.5]] }\n",
                                  "bench.toml", {});
    const Problem& pb = c.problem;
    const double ncells = static_cast<double>(pb.grid.size());
    double serial = 0.0;
    if (rank == 0) {
        const FokkerPlanckOperator op(pb);
        const State p = initial_state(pb.grid, pb.initial);
        State f;
        op(p, f, 0.0);
        serial = 1e300;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            op(p, f, 0.0);
            serial = std::min(serial, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
    }
    {  // the decomposition frees its MPI objects before MPI_Finalize
    const Decomposition dec(MPI_COMM_WORLD, pb);
    const DistributedOperator op(dec, pb);
    const State p = dec.slice(initial_state(pb.grid, pb.initial));
    State f, ext, dext;
    op(p, f, 0.0);
    dec.to_extended(p, ext);
    const double rhs = best_of(reps, [&] { op(p, f, 0.0); });
    const double blocking = best_of(reps, [&] {
        dec.to_extended(p, ext);
        op.local()(ext, dext, 0.0);
        dec.from_extended(dext, f);
    });
    const double halo = best_of(reps, [&] { dec.halo(ext); });
    // The overlapped sequence by hand, timing only the wait after the inner rows (minimum over repetitions
    // of the slowest rank's wait).
    double wait = 1e300;
    const Index row = dec.count()[1];
    for (int r = 0; r < reps; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        dec.copy_owned(p, ext);
        Decomposition::PendingHalo pending = dec.start_halo(ext);
        for (const Index k : dec.inner_rows())
            op.local().apply_row(dec.row_start(k) / row, ext.data(), 0.0, f.data() + k * row);
        const auto t0 = std::chrono::steady_clock::now();
        dec.finish_halo(pending);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double slowest = 0.0;
        MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        wait = std::min(wait, slowest);
    }
    const double reduce = best_of(reps * 10, [&] { (void)dec.sum(1.0); });
    double halo_cells = static_cast<double>(dec.extended().size() - dec.owned_size());
    double max_halo = 0.0;
    MPI_Allreduce(&halo_cells, &max_halo, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        std::printf(
            "%d ranks (%dx%d), %dx%d cells: serial rhs %.3f ms (%.2f ns/cell); distributed rhs %.3f ms "
            "(%.2f ns per owned cell; speed-up %.2f); blocking rhs %.3f ms; halo %.1f us (%.0f ghost cells, "
            "%.1f KB), wait after the inner rows %.1f us; allreduce %.1f us\n",
            size, dec.procs()[0], dec.procs()[1], cells, cells, serial * 1e3, serial * 1e9 / ncells,
            rhs * 1e3, rhs * 1e9 / (ncells / size), serial / rhs, blocking * 1e3, halo * 1e6, max_halo,
            max_halo * 8 / 1e3, wait * 1e6, reduce * 1e6);
    }
    MPI_Finalize();
    return 0;
}
