// fpsolve::run under mpirun: the grid decomposed over the ranks, the same file as a serial run.
//
//   mpirun -np N build/bin/fpsolve run CONFIG.toml [-o OUT.h5] [--set key=value]... [--force] [--quiet]
//
//   grid -> Decomposition -> DistributedOperator (serial operator on each extended block + halo exchange)
//        -> odeint over mpi_state / RKC with reduced norms / TR-BDF2 with hypre's solves
//        -> DistributedDiagnostics -> ParallelSnapshotWriter, through the one run loop (run_driver.hpp)
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
#include "library_support.hpp"
#include "parallel_snapshot_writer.hpp"
#include "reference.hpp"
#include "run_driver.hpp"

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

// This rank's block of the last snapshot in `path`.
State read_owned_snapshot(const Decomposition& dec, const std::string& path) {
    std::vector<Index> begin, count;
    for (int a = 0; a < dec.global().dims; ++a) {
        begin.push_back(dec.begin()[a]);
        count.push_back(dec.count()[a]);
    }
    return read_snapshot_block(path, -1, begin, count);
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

RunResult run_distributed(const Config* config, const std::string& resume_path,
                          const std::vector<std::string>& overrides, const RunOptions& options) {
    MPI_Comm world = MPI_COMM_WORLD;
    const bool root = mpi_rank() == 0;
    const bool resuming = !config;
    Resume resumed;
    ParsedConfig c;
    agree(world, [&] {
        if (resuming)
            resumed = prepare_resume(resume_path, overrides);
        else
            c = parse(*config, {}, false);
        refuse_richardson(resuming ? resumed.config : c, "fpsolve run under mpirun with several processes");
    });
    if (resuming) c = std::move(resumed.config);
    // One rank decides about the output file, before any rank creates it.
    const std::string out = resuming ? resume_path : options.output;
    agree(world, [&] {
        if (root && !resuming && !out.empty()) check_output_path(out, options.force);
    });
    const Problem& pb = c.problem;
    RunResult result = result_header(c, out, resuming ? &resumed : nullptr);
    if (resuming && c.time.times.size() < 2) {
        result.status = "complete";
        return result;
    }

    const Decomposition dec(world, pb);  // ghost layers as wide as the operator reads
    const DistributedOperator op(dec, pb);
    const TimeSettings ts = resolve(c.time, op);
    State p;
    if (resuming) {
        // Each rank reads its block of the last snapshot and continues it exactly, without renormalising.
        agree(world, [&] { p = read_owned_snapshot(dec, out); });  // also: every rank has closed it
    } else {
        p = initial_owned(dec, pb.initial);
    }
    const std::string warning = monotonicity_warning(op.cross_monotonicity_ratio());  // collective
    if (root) warn(result.warnings, options.on_warning, warning);
    // The closed form on the owned block only, normalised over the whole grid.
    const std::optional<Reference> reference = stationary_reference(pb, dec.owned_grid(), block_reductions(dec));
    if (reference) {
        result.reference = reference->density;
        result.reference_kind = reference->kind;
    }
    const DistributedDiagnostics diagnostics(op, reference);
    RunHooks hooks;
    hooks.diagnose = [&](const State& x, double t) { return diagnostics(x, t); };
    hooks.reduce = block_reductions(dec);
    hooks.writes_xdmf = root;

    std::unique_ptr<ParallelSnapshotWriter> writer;
    if (!out.empty()) {
        const FileMetadata meta{c.text, program_version};
        writer = resuming ? std::make_unique<ParallelSnapshotWriter>(out, dec, SnapshotWriter::Append{}, meta)
                          : std::make_unique<ParallelSnapshotWriter>(
                                out, dec, meta, c.output_current,
                                reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
    }
    run_loop(op, p, ts, c, writer.get(),
             [&](const std::string& status) {
                 writer->set_status(status);
                 writer->close();
             },
             hooks, options, result);
    return result;
}

}  // namespace fpsolve
