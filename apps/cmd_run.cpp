// fpsolve run: evolve the density from its initial state and write snapshots (DESIGN §2, §4).
//
//   grid -> problem -> FokkerPlanckOperator -> odeint stepper -> observers (diagnostics, file, progress)
//
// `--resume OUT.h5` continues a file from its last snapshot with the config stored in it (and --set
// overrides, e.g. a later time.end): the snapshot times after the last one are integrated and appended.
//
// With grid.richardson the same problem is first integrated on the grid of half the cells per axis over
// the same snapshot times, and every snapshot written is the extrapolation (4 p_h - I p_2h) / 3
// (richardson.hpp), with the plain scheme's error estimate in /diagnostics/error_estimate; the snapshot at
// the start is the initial density as given (estimate 0). Both grids start from the same density (the
// coarse one from its restriction), so a resumed run extrapolates anew from its last snapshot.
#include <cmath>
#include <cstdio>

#include "common.hpp"
#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "richardson.hpp"
#include "snapshot_file.hpp"
#include "xdmf.hpp"
#ifdef FPSOLVE_MPI
#include "run_distributed.hpp"
#endif

namespace fpsolve {

namespace {

struct RunOptions {
    std::string config;
    std::string resume;
    OutputOptions out;
};

std::string describe_grid(const Grid& g) {
    std::string s = std::to_string(g.dims) + "-D, ";
    for (int a = 0; a < g.dims; ++a) s += (a ? "x" : "") + std::to_string(g.cells[a]);
    return s + " cells";
}

// Mass below zero beyond what round-off and the integrator's tolerance explain: the run has gone wrong.
constexpr double negative_mass_limit = 1e-6;

void check_state(const State& x, double t, double cell_volume) {
    if (!x.allFinite())
        throw RunError("the density became non-finite by t = " + std::to_string(t) +
                       "; use integrator = \"implicit\" or \"dopri5\", a smaller time.dt, or a finer grid");
    const double negative = -x.cwiseMin(0.0).sum() * cell_volume;
    if (negative > negative_mass_limit)
        throw RunError("the density went negative (mass " + std::to_string(-negative) + " below zero) by t = " +
                       std::to_string(t) +
                       "; use scheme = \"exponential\", integrator = \"implicit\", smaller rtol/atol or time.dt");
}

// grid.richardson: the densities of the grid with half the cells, at every time the fine run observes
// (times[0] included), integrated before the fine run opens its file.
struct CoarseCompanion {
    Problem problem;
    std::vector<State> snapshots;
    IntegrationReport report;
};

CoarseCompanion integrate_coarse(const Problem& fine, const State& fine_start, const TimeSettings& settings) {
    CoarseCompanion cc;
    cc.problem = fine;
    cc.problem.grid = coarsened(fine.grid);
    const FokkerPlanckOperator op(cc.problem);
    State p = restrict_to(cc.problem.grid, fine_start);
    const TimeSettings ts = resolve(settings, op);
    try {
        cc.report = integrate(
            op, p, ts,
            [&](const State& x, double t) {
                check_state(x, t, cc.problem.grid.cell_volume());
                cc.snapshots.push_back(x);
            },
            &stop_requested());
    } catch (const RunError& e) {
        throw RunError("grid.richardson's coarse run (" + describe_grid(cc.problem.grid) + "): " + e.what());
    }
    return cc;
}

// The fine reference extrapolated with the coarse grid's: the state an extrapolated run tends to.
std::optional<Reference> extrapolated_reference(std::optional<Reference> fine, const Grid& fine_grid,
                                                const Problem& coarse) {
    const std::optional<Reference> c = stationary_reference(coarse);
    if (!fine || !c) return fine;
    fine->density = richardson_extrapolate(fine_grid, fine->density, coarse.grid, c->density).density;
    return fine;
}

int run_command(const RunOptions& o) {
#ifdef FPSOLVE_MPI
    // Under mpirun with more than one process the grid is decomposed (parallel/); one process runs serially.
    if (mpi_processes() > 1) return run_distributed(o.config, o.resume, o.out);
#endif
    const bool resuming = !o.resume.empty();
    Resume resumed;
    if (resuming) resumed = prepare_resume(o.resume, o.out.set);
    Config c = resuming ? std::move(resumed.config) : load_run_config(o.config, o.out.set);
    const std::string out = resuming ? o.resume : output_path(c, o.out);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    if (resuming && c.time.times.size() < 2) {
        if (!o.out.quiet)
            std::printf("fpsolve run: %s already reaches t = %g, the last snapshot time; extend it with "
                        "--set time.end=...\n",
                        out.c_str(), resumed.start);
        return 0;
    }

    FokkerPlanckOperator op(pb);
    auto reference = stationary_reference(pb);
    // A resumed run continues exactly from the last snapshot, without renormalising.
    State p = resuming ? read_snapshot(out, -1) : initial_state(g, pb.initial);
    const TimeSettings ts = resolve(c.time, op);
    if (op.cross_monotonicity_ratio() > 1.0 && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the correlated noise breaks the 9-point stencil's monotonicity "
                     "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): densities may dip below 0; "
                     "choose spacings with h_y/h_x nearer sqrt(D_yy/D_xx)\n",
                     op.cross_monotonicity_ratio());

    install_signal_handlers();
    std::optional<CoarseCompanion> coarse;
    if (c.richardson) {
        try {
            coarse = integrate_coarse(pb, p, c.time);
        } catch (const Interrupted&) {
            std::fprintf(stderr,
                         "fpsolve: interrupted on the coarse grid of grid.richardson; %s was not %s\n",
                         out.c_str(), resuming ? "changed" : "written");
            return 130;
        }
        reference = extrapolated_reference(std::move(reference), g, coarse->problem);
    }

    DiagnosticsCalculator diagnostics(op, reference);
    const FileMetadata meta{c.text, program_version};
    std::unique_ptr<SnapshotWriter> writer =
        resuming ? std::make_unique<SnapshotWriter>(out, SnapshotWriter::Append{}, meta)
                 : std::make_unique<SnapshotWriter>(
                       out, g, meta, c.output_current,
                       reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt,
                       c.richardson);
    writer->start_swmr();
    Progress progress(ts.times.back(), o.out.quiet);
    Diagnostics first, last;
    bool skip = !c.observe_first;
    std::size_t written = 0;
    double reached = ts.times.front();
    std::size_t observed = 0;  // observer calls, the skipped first one included: the coarse snapshot's index
    auto observe = [&](const State& x, double t) {
        const std::size_t k = observed++;
        if (skip) {
            skip = false;
            return;
        }
        check_state(x, t, g.cell_volume());
        // The start is the initial density's cell averages themselves: nothing to extrapolate, no error.
        const bool extrapolate = coarse && k > 0;
        SpatialExtrapolation extrapolated;
        if (extrapolate) {
            State& pc = coarse->snapshots.at(k);
            extrapolated = richardson_extrapolate(g, x, coarse->problem.grid, pc);
            pc = State();  // written once: its memory goes back
        }
        const State& density = extrapolate ? extrapolated.density : x;
        last = diagnostics(density, t);
        if (coarse) last.error_estimate = extrapolated.error_estimate;
        if (written == 0) first = last;
        if (c.output_current) {
            const Eigen::MatrixXd j = op.cell_current(density, t);
            writer->append(t, density, last, &j);
        } else {
            writer->append(t, density, last);
        }
        ++written;
        reached = t;
        progress.update(t);
    };

    IntegrationReport report;
    try {
        report = integrate(op, p, ts, observe, &stop_requested());
    } catch (const Interrupted&) {
        progress.done();
        writer->set_status("interrupted");
        write_xdmf_or_warn(out);
        std::fprintf(stderr,
                     "fpsolve: interrupted at t = %g; %s holds every snapshot written so far; continue with: "
                     "fpsolve run --resume %s\n",
                     reached, out.c_str(), out.c_str());
        return 130;
    } catch (const std::exception& e) {
        progress.done();
        throw run_failed(e, reached, out, [&](const std::string& status) {
            writer->set_status(status);
            write_xdmf_or_warn(out);
        });
    }
    writer->set_status("complete");
    write_xdmf_or_warn(out);  // beside OUT.h5, for ParaView
    progress.done();

    if (!o.out.quiet) {
        const std::string name = c.title.empty() ? (resuming ? out : o.config) : c.title;
        std::printf("fpsolve run: %s (%s, %s, %zu right-hand sides)\n", name.c_str(), describe_grid(g).c_str(),
                    std::string(to_string(report.integrator)).c_str(), report.rhs_evaluations);
        if (!report.reason.empty()) std::printf("  integrator: %s\n", report.reason.c_str());
        if (coarse)
            std::printf(
                "  richardson: coarse grid %s, %s, %zu right-hand sides; the plain scheme's L1 error "
                "at t = %g is about %.3e\n",
                describe_grid(coarse->problem.grid).c_str(),
                std::string(to_string(coarse->report.integrator)).c_str(), coarse->report.rhs_evaluations,
                last.time, last.error_estimate);
        if (resuming) std::printf("  resumed at t = %g after %zu snapshots\n", resumed.start, resumed.snapshots);
        std::printf("  t = %g: mass %.12f (change %.1e), min density %.2e\n", last.time, last.mass, last.mass - first.mass,
                    last.min_density);
        if (reference)
            std::printf("  distance to the %s stationary density: L1 %.3e (at t = %g: %.3e), KL %.3e\n",
                        reference->kind.c_str(), last.l1_to_reference, first.time, first.l1_to_reference,
                        last.kl_to_reference);
        else
            std::printf("  no closed-form stationary density for this problem\n");
        std::printf("  wrote %s (%zu snapshots)\n", out.c_str(), written + resumed.snapshots);
    }
    return 0;
}

}  // namespace

CommandEntry register_run(CLI::App& app) {
    auto o = std::make_shared<RunOptions>();
    CLI::App* sub = app.add_subcommand("run", "Evolve the density in time and write HDF5 snapshots");
    sub->add_option("config", o->config, "The TOML config (see README.md and data/scenarios/)");
    sub->add_option("--resume", o->resume,
                    "Continue OUT.h5 from its last snapshot, with the config stored in it (--set may change "
                    "time.end); appends to the same file")
        ->type_name("OUT.h5");
    add_output_options(sub, o->out);
    sub->footer("Examples:\n  fpsolve run data/scenarios/double-well.toml -o dw.h5 --set time.end=2\n"
                "  fpsolve run --resume dw.h5 --set time.end=10\n"
                "While a run writes, read its file with fpsolve inspect, or h5py.File(path, \"r\", swmr=True).\n");
    sub->callback([sub, o] {
        if (o->resume.empty() == o->config.empty())
            throw CLI::ValidationError("run", "give either a CONFIG file or --resume OUT.h5");
        if (!o->resume.empty() && (!o->out.output.empty() || o->out.force))
            throw CLI::ValidationError("run", "--resume appends to its own file: -o and --force do not apply");
        (void)sub;
    });
    return {sub, [o] { return run_command(*o); }};
}

}  // namespace fpsolve
