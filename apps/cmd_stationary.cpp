// fpsolve stationary: the command line of fpsolve::stationary (library/stationary_solve.cpp): the steady state
// of the discrete generator, its current, relaxation spectrum and, with absorbing walls, mean first-passage
// times and the escape rate, written to the DESIGN §4 file with its /stationary group.
//
//   fpsolve stationary data/scenarios/two-temperatures.toml -o tt.h5
//
// The optional [stationary] table: eigenvalues = 6 (how many of the slowest to compute; 0 skips the spectrum).
#include <cstdio>

#include "common.hpp"
#ifdef FPSOLVE_MPI
#include "run_distributed.hpp"
#endif

namespace fpsolve {

namespace {

struct StationaryCommandOptions {
    std::string config;
    OutputOptions out;
};

void report(const StationaryCommandOptions& o, const StationaryResult& r) {
    std::printf("fpsolve stationary: %s (%d-D, %lld cells)\n", r.title.empty() ? o.config.c_str() : r.title.c_str(),
                r.grid.dims, static_cast<long long>(r.grid.size()));
    std::printf("  %s density: residual %.2e, min %.2e, max |J| %.3e\n",
                r.absorbing ? "quasi-stationary" : "stationary", r.residual, r.min_density, r.max_abs_current);
    if (r.guided_passes > 0)
        std::printf("  transport faces: %d guided re-solve%s to remove negative dips ([stationary] positive)\n",
                    r.guided_passes, r.guided_passes > 1 ? "s" : "");
    if (r.reference)
        std::printf("  L1 distance to the %s closed form: %.3e\n", r.reference_kind.c_str(), r.l1_to_reference);
    if (!r.eigenvalues.empty())
        std::printf("  spectral gap %.6g, relaxation time %.6g\n", r.spectral_gap, r.relaxation_time);
    if (r.absorbing)
        std::printf("  escape rate %.6g (1/rate %.6g); mean first-passage time from the initial density %.6g\n",
                    r.escape_rate, 1.0 / r.escape_rate, r.mfpt_from_initial);
    std::printf("  wrote %s\n", r.output.c_str());
}

int stationary_command(const StationaryCommandOptions& o) {
    bool quiet = o.out.quiet;
#ifdef FPSOLVE_MPI
    quiet = quiet || mpi_rank() != 0;
#endif
    const Config config = command_config(o.config, o.out.set);
    StationaryOptions options;
    options.output = output_path(config, o.out);
    options.force = o.out.force;
    options.on_warning = warning_printer(quiet);
    const StationaryResult r = stationary(config, options);
    if (!quiet) report(o, r);
    return 0;
}

}  // namespace

CommandEntry register_stationary(CLI::App& app) {
    auto o = std::make_shared<StationaryCommandOptions>();
    CLI::App* sub = app.add_subcommand(
        "stationary", "Steady state of the discrete generator, its current, spectral gap and first-passage times");
    sub->add_option("config", o->config, "The TOML config (see docs/stationary.md and data/scenarios/)")->required();
    add_output_options(sub, o->out);
    sub->footer("Example: fpsolve stationary data/scenarios/two-temperatures.toml -o tt.h5");
    return {sub, [o] { return stationary_command(*o); }};
}

}  // namespace fpsolve
