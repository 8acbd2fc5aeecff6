// fpsolve run: the command line of fpsolve::run and fpsolve::resume (library/run.cpp; DESIGN §2, §4).
//
//   fpsolve run CONFIG.toml [-o OUT.h5] [--set key=value]... [--force] [--quiet]
//   fpsolve run --resume OUT.h5 [--set time.end=10]
//
// This file holds the options, the signal flag, the progress bar and the report; the run is the library's.
#include <cstdio>

#include "common.hpp"
#include "snapshot_file.hpp"
#ifdef FPSOLVE_MPI
#include "run_distributed.hpp"
#endif

namespace fpsolve {

namespace {

struct RunCommandOptions {
    std::string config;
    std::string resume;
    OutputOptions out;
};

bool prints() {
#ifdef FPSOLVE_MPI
    return mpi_rank() == 0;
#else
    return true;
#endif
}

std::string describe_ranks() {
#ifdef FPSOLVE_MPI
    if (mpi_processes() > 1) return " on " + std::to_string(mpi_processes()) + " MPI ranks";
#endif
    return "";
}

void report(const RunCommandOptions& o, const RunResult& r) {
    const DiagnosticSeries& d = r.diagnostics;
    const std::string name = r.title.empty() ? (o.resume.empty() ? o.config : r.output) : r.title;
    std::printf("fpsolve run: %s (%s%s, %s, %zu right-hand sides)\n", name.c_str(), describe_grid(r.grid).c_str(),
                describe_ranks().c_str(), r.integrator.c_str(), r.rhs_evaluations);
    if (!r.integrator_reason.empty()) std::printf("  integrator: %s\n", r.integrator_reason.c_str());
    const std::size_t last = d.time.size() - 1;
    if (r.richardson)
        std::printf("  richardson: coarse grid %s, %s, %zu right-hand sides; the plain scheme's L1 error "
                    "at t = %g is about %.3e\n",
                    describe_grid(r.richardson->grid).c_str(), r.richardson->integrator.c_str(),
                    r.richardson->rhs_evaluations, d.time[last], d.error_estimate[last]);
    if (!o.resume.empty())
        std::printf("  resumed at t = %g after %zu snapshots\n", r.resumed_at, r.snapshots_before);
    std::printf("  t = %g: mass %.12f (change %.1e), min density %.2e\n", d.time[last], d.mass[last],
                d.mass[last] - d.mass[0], d.min_density[last]);
    if (r.reference)
        std::printf("  distance to the %s stationary density: L1 %.3e (at t = %g: %.3e), KL %.3e\n",
                    r.reference_kind.c_str(), d.l1_to_reference[last], d.time[0], d.l1_to_reference[0],
                    d.kl_to_reference[last]);
    else
        std::printf("  no closed-form stationary density for this problem\n");
    std::printf("  wrote %s (%zu snapshots%s)\n", r.output.c_str(), d.time.size() + r.snapshots_before,
                describe_ranks().empty() ? "" : ", parallel HDF5");
}

int run_command(const RunCommandOptions& o) {
    const bool quiet = o.out.quiet || !prints();
    RunOptions options;
    options.keep_snapshots = false;  // the file holds them
    options.keep_currents = false;
    options.interrupt = &stop_requested();
    options.on_warning = warning_printer(quiet);
    ProgressBar progress(quiet);
    double end = 0.0;
    options.on_start = [&](const Grid&, double, double last, std::size_t) { end = last; };
    options.on_snapshot = [&](double t, const Eigen::VectorXd&) {
        progress(t, end);
        return true;
    };
    install_signal_handlers();

    RunResult r;
    if (o.resume.empty()) {
        const Config config = command_config(o.config, o.out.set);
        options.output = output_path(config, o.out);
        options.force = o.out.force;
        r = run(config, options);
    } else {
        r = resume(o.resume, o.out.set, options);
    }
    progress.done();

    if (r.status == "interrupted") {
        if (r.time.empty() && r.output.empty())
            std::fprintf(stderr, "fpsolve: interrupted on the coarse grid of grid.richardson; %s was not written\n",
                         options.output.c_str());
        else if (prints())
            std::fprintf(stderr,
                         "fpsolve: interrupted at t = %g; %s holds every snapshot written so far; continue with: "
                         "fpsolve run --resume %s\n",
                         r.time.empty() ? r.resumed_at : r.time.back(), r.output.c_str(), r.output.c_str());
        return 130;
    }
    if (r.time.empty()) {  // a resume with nothing left to do
        if (!quiet)
            std::printf("fpsolve run: %s already reaches t = %g, the last snapshot time; extend it with "
                        "--set time.end=...\n",
                        r.output.c_str(), r.resumed_at);
        return 0;
    }
    if (!quiet) report(o, r);
    return 0;
}

}  // namespace

CommandEntry register_run(CLI::App& app) {
    auto o = std::make_shared<RunCommandOptions>();
    CLI::App* sub = app.add_subcommand("run", "Evolve the density in time and write HDF5 snapshots");
    sub->add_option("config", o->config, "The TOML config (see docs/usage.md and data/scenarios/)");
    sub->add_option("--resume", o->resume,
                    "Continue OUT.h5 from its last snapshot, with the config stored in it (--set may change "
                    "time.end); appends to the same file")
        ->type_name("OUT.h5");
    add_output_options(sub, o->out);
    sub->footer("Examples:\n  fpsolve run data/scenarios/double-well.toml -o dw.h5 --set time.end=2\n"
                "  fpsolve run --resume dw.h5 --set time.end=10\n"
                "While a run writes, read its file with fpsolve inspect, or h5py.File(path, \"r\", swmr=True).\n");
    sub->callback([o] {
        if (o->resume.empty() == o->config.empty())
            throw CLI::ValidationError("run", "give either a CONFIG file or --resume OUT.h5");
        if (!o->resume.empty() && (!o->out.output.empty() || o->out.force))
            throw CLI::ValidationError("run", "--resume appends to its own file: -o and --force do not apply");
    });
    return {sub, [o] { return run_command(*o); }};
}

}  // namespace fpsolve
