// fpsolve sample: the command line of compare_particles (library/particle_comparison.hpp): the SDE's particles
// against its Fokker–Planck solution on the same grid, in /particles beside the usual groups (DESIGN §4).
//
//   fpsolve sample data/scenarios/double-well.toml --particles 100000 --seed 7 -o dw-particles.h5
//
// This file holds the options, the signal flag, the progress bar and the report; the comparison is the library's.
#include <cstdio>

#include "common.hpp"
#include "particle_comparison.hpp"

namespace fpsolve {

namespace {

struct SampleOptions {
    std::string config;
    OutputOptions out;
    std::uint64_t particles = 0;
    std::uint64_t seed = 1;
    double dt = 1e-3;
    int threads = 0;
};

void report(const SampleOptions& o, const ParticleComparisonResult& r) {
    std::printf("fpsolve sample: %s, %llu particles (seed %llu, dt <= %g, %d threads)\n",
                r.title.empty() ? o.config.c_str() : r.title.c_str(), static_cast<unsigned long long>(r.particles),
                static_cast<unsigned long long>(r.seed), r.dt, r.threads);
    std::printf("  %-10s %-12s %-12s %-10s %s\n", "t", "L1 to PDE", "noise floor", "ratio", "particle mass");
    const std::size_t n = r.snapshots.size();
    const std::size_t every = std::max<std::size_t>(1, n / 10);
    for (std::size_t i = 0; i < n; ++i) {
        const ParticleSnapshotComparison& s = r.snapshots[i];
        if (i % every == 0 || i + 1 == n)
            std::printf("  %-10.4g %-12.4e %-12.4e %-10.3f %.6f\n", s.time, s.l1, s.floor, s.l1 / s.floor, s.mass);
    }
    std::printf("  (ratio near 1: the particles agree with the PDE within their sampling noise)\n");
    std::printf("  wrote %s (%zu snapshots, /particles)\n", r.output.c_str(), n);
}

int sample_command(const SampleOptions& o) {
    ParticleComparisonOptions options;
    options.config = o.config;
    options.overrides = o.out.set;
    options.output = o.out.output;
    options.force = o.out.force;
    options.particles = o.particles;
    options.seed = o.seed;
    options.dt = o.dt;
    options.threads = o.threads;
    options.interrupt = &stop_requested();
    ProgressBar progress(o.out.quiet);
    options.on_progress = progress.callback();
    install_signal_handlers();

    const ParticleComparisonResult r = compare_particles(options);
    progress.done();
    if (r.status == "interrupted") {
        std::fprintf(stderr, "fpsolve: interrupted; %s holds the PDE snapshots written so far and no particles\n",
                     r.output.c_str());
        return 130;
    }
    if (!o.out.quiet) report(o, r);
    return 0;
}

}  // namespace

CommandEntry register_sample(CLI::App& app) {
    auto o = std::make_shared<SampleOptions>();
    CLI::App* sub = app.add_subcommand("sample", "Euler-Maruyama particles of the SDE vs its Fokker-Planck solution");
    sub->add_option("config", o->config, "The TOML config (as for fpsolve run)")->required();
    sub->add_option("--particles", o->particles, "Number of particles N")->required();
    sub->add_option("--seed", o->seed, "Seed of the counter-based random numbers (default 1)");
    sub->add_option("--dt", o->dt, "Largest Euler-Maruyama step (default 0.001)");
    sub->add_option("--threads", o->threads, "Threads for the particles (default all cores; results do not depend on it)");
    add_output_options(sub, o->out);
    sub->footer("Example: fpsolve sample data/scenarios/double-well.toml --particles 100000 --seed 7 -o dw-particles.h5");
    return {sub, [o] { return sample_command(*o); }};
}

}  // namespace fpsolve
