// fpsolve sample: the SDE's particles against its Fokker–Planck solution on the same grid.
//
// Runs the PDE of the config (as `fpsolve run` does) and N Euler–Maruyama particles of the same SDE
// (solver/particles.hpp: the Ito form of every convention, the same walls), histograms them on the grid at the
// snapshot times, and writes, besides the usual groups (DESIGN §4),
//   /particles/time [n], density [n, cells...], mass [n], l1_to_pde [n], l1_floor [n]
// where l1_floor is the L1 distance expected from N particles alone (binomial counts around the PDE's cell masses).
//
//   fpsolve sample data/scenarios/double-well.toml --particles 100000 --seed 7 -o dw-particles.h5
#include <cmath>
#include <cstdio>
#include <thread>

#include "common.hpp"
#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "particles.hpp"
#include "snapshot_file.hpp"

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

int sample_command(const SampleOptions& o) {
    if (o.particles < 1) throw InputError("--particles: expected at least 1");
    if (!(std::isfinite(o.dt) && o.dt > 0.0)) throw InputError("--dt: expected a number > 0");
    if (o.threads < 0 || o.threads > 1024) throw InputError("--threads: expected 0 (all cores) to 1024");
    ParsedConfig c = load_run_config(o.config, o.out.set);
    refuse_richardson(c, "fpsolve sample");
    const std::string out = output_path(c, o.out);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;

    FokkerPlanckOperator op(pb);
    const auto reference = stationary_reference(pb);
    State p = initial_state(g, pb.initial);
    const State p0 = p;
    const TimeSettings ts = resolve(c.time, op);
    ParticleSettings ps;
    ps.particles = o.particles;
    ps.seed = o.seed;
    ps.dt = o.dt;
    ps.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    DiagnosticsCalculator diagnostics(op, reference);
    SnapshotWriter writer(out, g, {c.text, program_version}, c.output_current,
                          reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
    install_signal_handlers();
    Progress progress(ts.times.back(), o.out.quiet);
    std::vector<State> pde;         // the observed PDE snapshots
    std::vector<std::size_t> kept;  // their indices in ts.times
    std::size_t index = 0;
    auto observe = [&](const State& x, double t) {
        const std::size_t k = index++;
        if (k == 0 && !c.observe_first) return;
        if (!x.allFinite()) throw RunError("the density became non-finite by t = " + std::to_string(t));
        const Diagnostics dg = diagnostics(x, t);
        if (c.output_current) {
            const Eigen::MatrixXd j = op.cell_current(x, t);
            writer.append(t, x, dg, &j);
        } else {
            writer.append(t, x, dg);
        }
        pde.push_back(x);
        kept.push_back(k);
        progress.update(t);
    };
    auto interrupted = [&] {
        progress.done();
        writer.set_status("interrupted");
        std::fprintf(stderr, "fpsolve: interrupted; %s holds the PDE snapshots written so far and no particles\n", out.c_str());
        return 130;
    };
    try {
        integrate(op, p, ts, observe, &stop_requested());
    } catch (const Interrupted&) {
        return interrupted();
    } catch (const std::exception& e) {
        progress.done();
        try {
            writer.set_status(std::string("failed: ") + e.what());
        } catch (...) {
        }
        throw RunError(e.what());
    }
    progress.done();

    std::vector<ParticleSnapshot> particles;
    try {
        particles = simulate_particles(pb, p0, ts.times, ps, &stop_requested());
    } catch (const std::exception& e) {
        writer.set_status(std::string("failed: ") + e.what());
        throw RunError(e.what());
    }
    if (particles.empty()) return interrupted();

    const std::size_t n = kept.size();
    const double volume = g.cell_volume();
    const std::size_t ncell = static_cast<std::size_t>(g.size());
    std::vector<double> time(n), mass(n), l1(n), floor(n), density(n * ncell);
    for (std::size_t i = 0; i < n; ++i) {
        const ParticleSnapshot& s = particles[kept[i]];
        time[i] = s.time;
        mass[i] = s.mass;
        l1[i] = l1_distance(s.density, pde[i], volume);
        floor[i] = l1_statistical_floor(pde[i], volume, ps.particles);
        std::copy(s.density.data(), s.density.data() + ncell, density.begin() + static_cast<std::ptrdiff_t>(i * ncell));
    }
    std::vector<std::size_t> shape{n};
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<std::size_t>(g.cells[a]));
    writer.write_array("/particles/time", {n}, time.data());
    writer.write_array("/particles/density", shape, density.data());
    writer.write_array("/particles/mass", {n}, mass.data());
    writer.write_array("/particles/l1_to_pde", {n}, l1.data());
    writer.write_array("/particles/l1_floor", {n}, floor.data());
    writer.write_attribute("/particles", "particles", static_cast<double>(ps.particles));
    writer.write_attribute("/particles", "seed", static_cast<double>(ps.seed));
    writer.write_attribute("/particles", "dt", ps.dt);
    writer.write_attribute("/particles", "method", "Euler-Maruyama, Ito form of the " + std::string(to_string(pb.convention)) +
                                                       " convention (mu + noise-induced drift + 1/2 div D)");
    writer.set_status("complete");

    if (!o.out.quiet) {
        std::printf("fpsolve sample: %s, %llu particles (seed %llu, dt <= %g, %d threads)\n",
                    c.title.empty() ? o.config.c_str() : c.title.c_str(), static_cast<unsigned long long>(ps.particles),
                    static_cast<unsigned long long>(ps.seed), ps.dt, ps.threads);
        std::printf("  %-10s %-12s %-12s %-10s %s\n", "t", "L1 to PDE", "noise floor", "ratio", "particle mass");
        const std::size_t every = std::max<std::size_t>(1, n / 10);
        for (std::size_t i = 0; i < n; ++i)
            if (i % every == 0 || i + 1 == n)
                std::printf("  %-10.4g %-12.4e %-12.4e %-10.3f %.6f\n", time[i], l1[i], floor[i], l1[i] / floor[i], mass[i]);
        std::printf("  (ratio near 1: the particles agree with the PDE within their sampling noise)\n");
        std::printf("  wrote %s (%zu snapshots, /particles)\n", out.c_str(), n);
    }
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
