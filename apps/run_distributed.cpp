// fpsolve run under mpirun: the grid decomposed over the ranks, the same file as a serial run.
//
//   mpirun -np N build/bin/fpsolve run CONFIG.toml [-o OUT.h5] [--set key=value]... [--force] [--quiet]
//
//   grid -> Decomposition -> DistributedOperator (serial operator on each extended block + halo exchange)
//        -> odeint over mpi_state / RKC with reduced norms / TR-BDF2 with hypre's solves
//        -> DistributedDiagnostics -> ParallelSnapshotWriter
//
// Every rank parses the config and checks the input (the same answer everywhere: exit 2, one line from
// rank 0, no file); only rank 0 prints. --resume: every rank reads its block of the file's last snapshot and
// the ranks append to the file together. Not yet under MPI: SWMR reading while the run writes.
#include "run_distributed.hpp"

#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "collective.hpp"
#include "distributed_diagnostics.hpp"
#include "distributed_integrator.hpp"
#include "distributed_support.hpp"
#include "exact_sum.hpp"
#include "initial_density.hpp"
#include "parallel_snapshot_writer.hpp"
#include "reference.hpp"
#include "xdmf.hpp"

namespace fpsolve {

namespace {
bool mpi_running() {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    return initialised && !finalised;
}
}  // namespace

int mpi_processes() {
    int size = 1;
    if (mpi_running()) MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

int mpi_rank() {
    int rank = 0;
    if (mpi_running()) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

namespace {

constexpr double negative_mass_limit = 1e-6;  // as the serial run (cmd_run.cpp)

// This rank's block of the last snapshot in `path`.
State read_owned_snapshot(const Decomposition& dec, const std::string& path) {
    std::vector<Index> begin, count;
    for (int a = 0; a < dec.global().dims; ++a) {
        begin.push_back(dec.begin()[a]);
        count.push_back(dec.count()[a]);
    }
    return read_snapshot_block(path, -1, begin, count);
}

std::string describe_grid(const Grid& g, const Decomposition& dec) {
    std::string s = std::to_string(g.dims) + "-D, ";
    for (int a = 0; a < g.dims; ++a) s += (a ? "x" : "") + std::to_string(g.cells[a]);
    s += " cells on " + std::to_string(dec.size()) + " MPI ranks (";
    for (int a = 0; a < g.dims; ++a) s += (a ? "x" : "") + std::to_string(dec.procs()[a]);
    return s + ")";
}

}  // namespace

void broadcast(std::string& s, MPI_Comm comm) {
    int n = static_cast<int>(s.size());
    MPI_Bcast(&n, 1, MPI_INT, 0, comm);
    s.resize(static_cast<std::size_t>(n));
    MPI_Bcast(s.data(), n, MPI_CHAR, 0, comm);
}

State initial_owned(const Decomposition& dec, const InitialDensity& init) {
    State p;
    agree(dec.comm(), [&] {
        if (!init.snapshot_file.empty()) {
            InitialDensity block = init;
            block.values = read_owned_snapshot(dec, init.snapshot_file);
            p = initial_values(dec.owned_grid(), block);
        } else {
            p = initial_values(dec.owned_grid(), init);
        }
    });
    // The serial normalisation, bitwise: an order-independent sum (exact_sum.hpp) over all ranks.
    const int e = fixed_exponent(dec.max(p.size() ? p.cwiseAbs().maxCoeff() : 0.0));
    const FixedPoint mine = fixed_sum(p, e);
    std::vector<FixedPoint> parts(static_cast<std::size_t>(dec.size()));
    MPI_Allgather(&mine, sizeof(FixedPoint), MPI_BYTE, parts.data(), sizeof(FixedPoint), MPI_BYTE,
                  dec.comm());
    FixedPoint total = 0;
    for (const FixedPoint part : parts) total += part;
    const double mass = fixed_value(total, e) * dec.global().cell_volume();
    if (!(mass > 0.0) || !std::isfinite(mass))
        throw InputError(init.where + ": the initial density has zero mass on the grid");
    return p / mass;
}

BlockReductions block_reductions(const Decomposition& dec) {
    BlockReductions reduce;
    reduce.sum = [&dec](double x) { return dec.sum(x); };
    reduce.min = [&dec](double x) { return dec.min(x); };
    reduce.max = [&dec](double x) { return dec.max(x); };
    reduce.all = [&dec](bool x) { return dec.all(x); };
    return reduce;
}

int run_distributed(const std::string& config, const std::string& resume, const OutputOptions& o) {
    MPI_Comm world = MPI_COMM_WORLD;
    const bool root = mpi_rank() == 0;
    const bool resuming = !resume.empty();
    Resume resumed;
    Config c;
    agree(world, [&] {
        if (resuming)
            resumed = prepare_resume(resume, o.set);
        else
            c = load_run_config(config, o.set, {}, false);
        refuse_richardson(resuming ? resumed.config : c, "fpsolve run under mpirun with several processes");
    });
    if (resuming) c = std::move(resumed.config);
    // One rank decides about the output file, before any rank creates it.
    std::string out = resume;
    agree(world, [&] {
        if (root && !resuming) out = output_path(c, o);
    });
    broadcast(out, world);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    if (resuming && c.time.times.size() < 2) {
        if (root && !o.quiet)
            std::printf(
                "fpsolve run: %s already reaches t = %g, the last snapshot time; extend it with "
                "--set time.end=...\n",
                out.c_str(), resumed.start);
        return 0;
    }

    const Decomposition dec(world, g);
    const DistributedOperator op(dec, pb);
    const TimeSettings ts = resolve(c.time, op);
    State p0;
    if (resuming) {
        // Each rank reads its block of the last snapshot and continues it exactly, without renormalising.
        agree(world, [&] { p0 = read_owned_snapshot(dec, out); });  // also: every rank has closed it
    } else {
        p0 = initial_owned(dec, pb.initial);
    }
    const double ratio = op.cross_monotonicity_ratio();
    if (ratio > 1.0 && root && !o.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the correlated noise breaks the 9-point stencil's monotonicity "
                     "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): densities may dip below 0; "
                     "choose spacings with h_y/h_x nearer sqrt(D_yy/D_xx)\n",
                     ratio);
    // The closed form on the owned block only, normalised over the whole grid.
    const std::optional<Reference> reference =
        stationary_reference(pb, dec.owned_grid(), block_reductions(dec));
    std::optional<Eigen::VectorXd> reference_owned;
    if (reference) reference_owned = reference->density;
    DistributedDiagnostics diagnostics(op, reference);

    const FileMetadata meta{c.text, program_version};
    std::unique_ptr<ParallelSnapshotWriter> writer =
        resuming
            ? std::make_unique<ParallelSnapshotWriter>(out, dec, SnapshotWriter::Append{}, meta)
            : std::make_unique<ParallelSnapshotWriter>(out, dec, meta, c.output_current, reference_owned);
    install_signal_handlers();
    Progress progress(ts.times.back(), o.quiet || !root);
    Diagnostics first, last;
    bool skip = !c.observe_first;
    std::size_t written = 0;
    double reached = ts.times.front();
    const double volume = g.cell_volume();
    auto observe = [&](const State& x, double t) {
        if (skip) {
            skip = false;
            return;
        }
        if (!dec.all(x.allFinite()))
            throw RunError("the density became non-finite by t = " + std::to_string(t) +
                           "; use integrator = \"rkc\" or \"dopri5\", a smaller time.dt, or a finer grid");
        const double negative = -dec.sum(x.cwiseMin(0.0).sum()) * volume;
        if (negative > negative_mass_limit)
            throw RunError("the density went negative (mass " + std::to_string(-negative) +
                           " below zero) by t = " + std::to_string(t) +
                           "; use scheme = \"exponential\", smaller rtol/atol or time.dt");
        last = diagnostics(x, t);
        if (written == 0) first = last;
        if (c.output_current) {
            const Eigen::MatrixXd j = op.cell_current(x, t);
            writer->append(t, x, last, &j);
        } else {
            writer->append(t, x, last);
        }
        ++written;
        reached = t;
        progress.update(t);
    };

    State p = p0;
    IntegrationReport report;
    auto finish = [&](const std::string& status) {
        writer->set_status(status);
        writer->close();
        if (root) write_xdmf_or_warn(out);
    };
    try {
        report = integrate(op, p, ts, observe, &stop_requested());
    } catch (const Interrupted&) {
        progress.done();
        finish("interrupted");
        if (root)
            std::fprintf(
                stderr,
                "fpsolve: interrupted at t = %g; %s holds every snapshot written so far; continue with: "
                "fpsolve run --resume %s\n",
                reached, out.c_str(), out.c_str());
        return 130;
    } catch (const std::exception& e) {
        // Every error raised inside the integration is collective (reduced norms and checks).
        progress.done();
        throw run_failed(e, reached, out, finish);
    }
    finish("complete");
    progress.done();

    if (root && !o.quiet) {
        const std::string name = c.title.empty() ? (resuming ? out : config) : c.title;
        std::printf("fpsolve run: %s (%s, %s, %zu right-hand sides)\n", name.c_str(),
                    describe_grid(g, dec).c_str(), std::string(to_string(report.integrator)).c_str(),
                    report.rhs_evaluations);
        if (!report.reason.empty()) std::printf("  integrator: %s\n", report.reason.c_str());
        if (resuming)
            std::printf("  resumed at t = %g after %zu snapshots\n", resumed.start, resumed.snapshots);
        std::printf("  t = %g: mass %.12f (change %.1e), min density %.2e\n", last.time, last.mass,
                    last.mass - first.mass, last.min_density);
        if (reference)
            std::printf("  distance to the %s stationary density: L1 %.3e (at t = %g: %.3e), KL %.3e\n",
                        reference->kind.c_str(), last.l1_to_reference, first.time, first.l1_to_reference,
                        last.kl_to_reference);
        else
            std::printf("  no closed-form stationary density for this problem\n");
        std::printf("  wrote %s (%zu snapshots, parallel HDF5)\n", out.c_str(), written + resumed.snapshots);
    }
    return 0;
}

}  // namespace fpsolve
