// Time and memory of writing one density snapshot through ParallelSnapshotWriter (collective, deflate 1)
// and, on one rank, through the serial SnapshotWriter. Not a test: timings on a shared machine.
//   write     the slowest rank's time of one append (create the file, then REPS appends; the minimum)
//   rss       the growth of the peak resident set over the appends (rank 0): the deflate's transient buffers
// Usage: mpirun -np P bench_snapshot_write [CELLS=4096] [REPS=5] [DIR=/tmp] [serial]   (2-D, CELLS^2 cells)
//   serial: the serial writer instead (one rank), in its own process so that its peak RSS is its own
#include <mpi.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "parallel_snapshot_writer.hpp"

using namespace fpsolve;

namespace {
double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double slowest(double t) {
    double out = 0.0;
    MPI_Allreduce(&t, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

// A smooth Gaussian density: compresses about as a solution does (not as zeros would).
Eigen::VectorXd density(const Decomposition& dec) {
    const Grid& g = dec.global();
    Eigen::VectorXd p(dec.owned_size());
    Index k = 0;
    for (Index i = 0; i < dec.count()[0]; ++i)
        for (Index j = 0; j < dec.count()[1]; ++j, ++k) {
            const double x = g.centre(0, dec.begin()[0] + i), y = g.centre(1, dec.begin()[1] + j);
            p[k] = std::exp(-(x * x + 2.0 * y * y)) / 3.0;
        }
    return p;
}

template <class Writer>
void measure(const char* what, Writer& w, const Eigen::VectorXd& p, int reps, double cells, int rank) {
    Diagnostics dg;
    const double rss0 = peak_rss_mib();
    double best = 1e300;
    for (int r = 0; r < reps; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto t0 = std::chrono::steady_clock::now();
        w.append(static_cast<double>(r), p, dg, nullptr);
        best = std::min(best, slowest(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    }
    const double rss = peak_rss_mib() - rss0;
    if (rank == 0)
        std::printf("  %-8s write %.3f s (%.0f MB/s of doubles), peak RSS growth %.1f MiB (%.1f B/cell)\n", what,
                    best, cells * 8.0 / best / 1e6, rss, rss * 1048576.0 / cells);
}
}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const Index n = argc > 1 ? std::stol(argv[1]) : 4096;
    const int reps = argc > 2 ? std::stoi(argv[2]) : 5;
    const std::string dir = argc > 3 ? argv[3] : "/tmp";
    const bool serial = argc > 4 && std::string(argv[4]) == "serial";
    Grid g;
    g.dims = 2;
    for (int a = 0; a < 2; ++a) {
        g.lower[a] = -4.0;
        g.upper[a] = 4.0;
        g.cells[a] = n;
    }
    const double cells = static_cast<double>(n) * static_cast<double>(n);
    const FileMetadata meta{"# bench", program_version};
    {  // the decomposition frees its MPI objects before MPI_Finalize
        const Decomposition dec(MPI_COMM_WORLD, g);
        const Eigen::VectorXd p = density(dec);
        if (rank == 0)
            std::printf("%d ranks (%dx%d), %ldx%ld cells (%.1f MB of doubles a snapshot)\n", size, dec.procs()[0],
                        dec.procs()[1], static_cast<long>(n), static_cast<long>(n), cells * 8.0 / 1e6);
        if (!serial) {
            ParallelSnapshotWriter w(dir + "/bench_snapshot_parallel.h5", dec, meta, false, std::nullopt);
            measure("parallel", w, p, reps, cells, rank);
            w.close();
        } else if (size == 1) {
            SnapshotWriter w(dir + "/bench_snapshot_serial.h5", g, meta, false, std::nullopt);
            measure("serial", w, p, reps, cells, rank);
        }
    }
    MPI_Finalize();
    return 0;
}
