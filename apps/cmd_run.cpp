// fpsolve run: evolve the density from its initial state and write snapshots (DESIGN §2, §4).
//
//   grid -> problem -> FokkerPlanckOperator -> odeint stepper -> observers (diagnostics, file, progress)
#include <cmath>
#include <cstdio>

#include "common.hpp"
#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "snapshot_file.hpp"
#include "xdmf.hpp"

namespace fpsolve {

namespace {

struct RunOptions {
    std::string config;
    OutputOptions out;
};

std::string describe_grid(const Grid& g) {
    std::string s = std::to_string(g.dims) + "-D, ";
    for (int a = 0; a < g.dims; ++a) s += (a ? "x" : "") + std::to_string(g.cells[a]);
    return s + " cells";
}

int run_command(const RunOptions& o) {
    Config c = load_run_config(o.config, o.out.set);
    const std::string out = output_path(c, o.out);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;

    FokkerPlanckOperator op(pb);
    const auto reference = stationary_reference(pb);
    State p = initial_state(g, pb.initial);
    const TimeSettings ts = resolve(c.time, op);
    if (op.cross_monotonicity_ratio() > 1.0 && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the correlated noise breaks the 9-point stencil's monotonicity "
                     "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): densities may dip below 0; "
                     "choose spacings with h_y/h_x nearer sqrt(D_yy/D_xx)\n",
                     op.cross_monotonicity_ratio());

    DiagnosticsCalculator diagnostics(op, reference);
    SnapshotWriter writer(out, g, {c.text, program_version}, c.output_current,
                          reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
    install_signal_handlers();
    Progress progress(ts.times.back(), o.out.quiet);
    Diagnostics first, last;
    bool skip = !c.observe_first;
    std::size_t written = 0;
    auto observe = [&](const State& x, double t) {
        if (skip) {
            skip = false;
            return;
        }
        if (!x.allFinite())
            throw RunError("the density became non-finite by t = " + std::to_string(t) +
                           "; use a smaller time.dt, integrator = \"dopri5\", or a finer grid");
        last = diagnostics(x, t);
        if (written == 0) first = last;
        if (c.output_current) {
            const Eigen::MatrixXd j = op.cell_current(x, t);
            writer.append(t, x, last, &j);
        } else {
            writer.append(t, x, last);
        }
        ++written;
        progress.update(t);
    };

    IntegrationReport report;
    try {
        report = integrate(op, p, ts, observe, &stop_requested());
    } catch (const Interrupted&) {
        progress.done();
        writer.set_status("interrupted");
        write_xdmf_or_warn(out);
        std::fprintf(stderr, "fpsolve: interrupted; %s holds the %zu snapshots written so far\n", out.c_str(), written);
        return 130;
    } catch (const std::exception& e) {
        progress.done();
        try {
            writer.set_status(std::string("failed: ") + e.what());
        } catch (...) {
        }
        throw RunError(e.what());
    }
    writer.set_status("complete");
    write_xdmf_or_warn(out);  // beside OUT.h5, for ParaView
    progress.done();

    if (!o.out.quiet) {
        std::printf("fpsolve run: %s (%s, %s, %zu right-hand sides)\n", c.title.empty() ? o.config.c_str() : c.title.c_str(),
                    describe_grid(g).c_str(), std::string(to_string(report.integrator)).c_str(), report.rhs_evaluations);
        std::printf("  t = %g: mass %.12f (change %.1e), min density %.2e\n", last.time, last.mass, last.mass - first.mass,
                    last.min_density);
        if (reference)
            std::printf("  distance to the %s stationary density: L1 %.3e (at t = 0: %.3e), KL %.3e\n",
                        reference->kind.c_str(), last.l1_to_reference, first.l1_to_reference, last.kl_to_reference);
        else
            std::printf("  no closed-form stationary density for this problem\n");
        std::printf("  wrote %s (%zu snapshots)\n", out.c_str(), written);
    }
    return 0;
}

}  // namespace

CommandEntry register_run(CLI::App& app) {
    auto o = std::make_shared<RunOptions>();
    CLI::App* sub = app.add_subcommand("run", "Evolve the density in time and write HDF5 snapshots");
    sub->add_option("config", o->config, "The TOML config (see README.md and data/scenarios/)")->required();
    add_output_options(sub, o->out);
    sub->footer("Example: fpsolve run data/scenarios/double-well.toml -o dw.h5 --set time.end=2");
    return {sub, [o] { return run_command(*o); }};
}

}  // namespace fpsolve
