// compare_particles(): the PDE and the particles of one config (particle_comparison.hpp).
//
//   config -> Problem -> FokkerPlanckOperator -> integrate (file: /snapshots, /diagnostics) -> simulate_particles
//   from the same initial density -> histograms against the PDE snapshots -> /particles
#include "particle_comparison.hpp"

#include <cmath>
#include <thread>

#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "library_support.hpp"
#include "particles.hpp"
#include "run_support.hpp"
#include "study_support.hpp"

namespace fpsolve {

namespace {

// The particles' histograms against the PDE snapshots, into the result and /particles.
void write_particles(SnapshotWriter& writer, const Problem& pb, const std::vector<ParticleSnapshot>& particles,
                     const std::vector<State>& pde, const std::vector<std::size_t>& kept,
                     ParticleComparisonResult& r) {
    const Grid& g = pb.grid;
    const std::size_t n = kept.size();
    const double volume = g.cell_volume();
    const std::size_t ncell = static_cast<std::size_t>(g.size());
    std::vector<double> time(n), mass(n), l1(n), floor(n), density(n * ncell);
    for (std::size_t i = 0; i < n; ++i) {
        const ParticleSnapshot& s = particles[kept[i]];
        time[i] = s.time;
        mass[i] = s.mass;
        l1[i] = l1_distance(s.density, pde[i], volume);
        floor[i] = l1_statistical_floor(pde[i], volume, r.particles);
        std::copy(s.density.data(), s.density.data() + ncell, density.begin() + static_cast<std::ptrdiff_t>(i * ncell));
        r.snapshots.push_back({time[i], l1[i], floor[i], mass[i]});
    }
    std::vector<std::size_t> shape{n};
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<std::size_t>(g.cells[a]));
    writer.write_array("/particles/time", {n}, time.data());
    writer.write_array("/particles/density", shape, density.data());
    writer.write_array("/particles/mass", {n}, mass.data());
    writer.write_array("/particles/l1_to_pde", {n}, l1.data());
    writer.write_array("/particles/l1_floor", {n}, floor.data());
    writer.write_attribute("/particles", "particles", static_cast<double>(r.particles));
    writer.write_attribute("/particles", "seed", static_cast<double>(r.seed));
    writer.write_attribute("/particles", "dt", r.dt);
    writer.write_attribute("/particles", "method", "Euler-Maruyama, Ito form of the " + std::string(to_string(pb.convention)) +
                                                       " convention (mu + noise-induced drift + 1/2 div D)");
}

ParticleComparisonResult compare(const ParticleComparisonOptions& o) {
    if (o.particles < 1) throw InputError("--particles: expected at least 1");
    if (!(std::isfinite(o.dt) && o.dt > 0.0)) throw InputError("--dt: expected a number > 0");
    if (o.threads < 0 || o.threads > 1024) throw InputError("--threads: expected 0 (all cores) to 1024");
    ParsedConfig c = load_config(o.config, o.overrides);
    attach_initial_snapshot(c, true);
    refuse_richardson(c, "fpsolve sample");
    const std::string out = study_output_path(c, o.output, o.force);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;

    ParticleComparisonResult r;
    r.title = c.title;
    r.output = out;
    r.particles = o.particles;
    r.seed = o.seed;
    r.dt = o.dt;
    r.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    FokkerPlanckOperator op(pb);
    const auto reference = stationary_reference(pb);
    State p = initial_state(g, pb.initial);
    const State p0 = p;
    const TimeSettings ts = resolve(c.time, op);
    DiagnosticsCalculator diagnostics(op, reference);
    SnapshotWriter writer(out, g, {c.text, program_version}, c.output_current,
                          reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
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
        if (o.on_progress) o.on_progress(t, ts.times.back());
    };
    r.status = "interrupted";  // until the PDE and the particles are done
    if (!integrate_into_file(writer, op, p, ts, observe, o.interrupt)) return r;

    ParticleSettings ps;
    ps.particles = r.particles;
    ps.seed = r.seed;
    ps.dt = r.dt;
    ps.threads = r.threads;
    std::vector<ParticleSnapshot> particles;
    try {
        particles = simulate_particles(pb, p0, ts.times, ps, o.interrupt);
    } catch (const std::exception& e) {
        throw study_failed(writer, e);
    }
    if (particles.empty()) {
        writer.set_status("interrupted");
        return r;
    }

    write_particles(writer, pb, particles, pde, kept, r);
    writer.set_status("complete");
    r.status = "complete";
    return r;
}

}  // namespace

ParticleComparisonResult compare_particles(const ParticleComparisonOptions& options) {
    return in_run_scope(0, [&] { return compare(options); });
}

}  // namespace fpsolve
