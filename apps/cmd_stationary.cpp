// fpsolve stationary: the steady state of the discrete generator directly, with its probability current,
// relaxation spectrum and, with absorbing walls, mean first-passage times and the escape rate
// (solver/stationary.hpp carries the equations).
//
//   fpsolve stationary data/scenarios/two-temperatures.toml -o tt.h5
//
// Writes the DESIGN §4 file (grid, reference, config, status; no snapshots) plus
//   /stationary/density [cells...], /stationary/current [cells..., d], /stationary/eigenvalues [k, 2] (re,
//   im), /stationary/mfpt [cells...] (absorbing walls);  attrs on /stationary: kind, residual, spectral_gap,
//   relaxation_time, max_abs_current, l1_to_reference (with a reference), escape_rate and
//   mfpt_from_initial (absorbing walls).
// The optional [stationary] table: eigenvalues = 6 (how many of the slowest to compute; 0 skips the
// spectrum). Under mpirun (FPSOLVE_MPI builds) the grid is decomposed and the solves are hypre's
// (parallel/stationary_distributed.hpp): the same file, agreeing with one process to the solver tolerance.
#include <cmath>
#include <cstdio>
#include <optional>

#include "common.hpp"
#include "initial_density.hpp"
#include "reference.hpp"
#include "snapshot_file.hpp"
#include "stationary.hpp"
#include "xdmf.hpp"
#ifdef FPSOLVE_MPI
#include <mpi.h>

#include "collective.hpp"
#include "distributed_support.hpp"
#include "parallel_snapshot_writer.hpp"
#include "run_distributed.hpp"
#include "stationary_distributed.hpp"
#endif

namespace fpsolve {

namespace {

struct StationaryCommandOptions {
    std::string config;
    OutputOptions out;
};

StationaryOptions read_stationary_table(const Config& c) {
    StationaryOptions s;
    const auto it = c.extra.find("stationary");
    if (it == c.extra.end()) return s;
    for (auto&& [k, v] : it->second) {
        const std::string key(k.str());
        if (key != "eigenvalues")
            throw InputError("stationary." + key + ": unknown key (expected eigenvalues)");
        const auto n = v.as_integer();
        if (!n || n->get() < 0 || n->get() > 1000)
            throw InputError("stationary.eigenvalues: expected a whole number from 0 to 1000");
        s.eigenvalues = static_cast<int>(n->get());
    }
    return s;
}

std::vector<std::size_t> cell_shape(const Grid& g, bool per_axis) {
    std::vector<std::size_t> shape;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<std::size_t>(g.cells[a]));
    if (per_axis) shape.push_back(static_cast<std::size_t>(g.dims));
    return shape;
}

// The report's numbers that need the whole grid (reduced over the ranks under MPI).
struct StationarySummary {
    double l1 = NAN;            // to the closed form
    double mfpt_initial = NAN;  // the MFPT averaged over the initial density (absorbing walls)
    double min_density = NAN;
};

// The attributes of /stationary, the same through either writer.
template <class Writer>
void write_attributes(Writer& writer, const StationaryResult& r, const std::optional<Reference>& reference,
                      const StationarySummary& s) {
    writer.write_attribute("/stationary", "kind",
                           std::string(r.absorbing ? "quasi-stationary" : "stationary"));
    writer.write_attribute("/stationary", "residual", r.residual);
    writer.write_attribute("/stationary", "spectral_gap", r.spectral_gap);
    writer.write_attribute("/stationary", "relaxation_time", r.relaxation_time);
    writer.write_attribute("/stationary", "max_abs_current", r.max_abs_current);
    if (reference) {
        writer.write_attribute("/stationary", "l1_to_reference", s.l1);
        writer.write_attribute("/stationary", "reference_kind", reference->kind);
    }
    if (r.absorbing) {
        writer.write_attribute("/stationary", "escape_rate", r.escape_rate);
        writer.write_attribute("/stationary", "mfpt_from_initial", s.mfpt_initial);
    }
}

std::vector<double> eigenvalue_rows(const StationaryResult& r) {  // [k, 2]: re, im
    std::vector<double> ev;
    for (const auto& e : r.eigenvalues) ev.insert(ev.end(), {e.real(), e.imag()});
    return ev;
}

void report(const StationaryCommandOptions& o, const Config& c, const std::string& out,
            const StationaryResult& r, const std::optional<Reference>& reference,
            const StationarySummary& s) {
    const Grid& g = c.problem.grid;
    if (r.absorbing && !(r.escape_rate > 1e-13 * r.spectral_gap) && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the escape rate %.3g is at the round-off level of the generator: the "
                     "walls are practically never reached; the MFPT is not resolved\n",
                     r.escape_rate);
    if (r.residual > 1e-8 && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the steady state's relative residual is %.2e; it may not be unique\n",
                     r.residual);
    if (o.out.quiet) return;
    std::printf("fpsolve stationary: %s (%d-D, %lld cells)\n",
                c.title.empty() ? o.config.c_str() : c.title.c_str(), g.dims,
                static_cast<long long>(g.size()));
    std::printf("  %s density: residual %.2e, min %.2e, max |J| %.3e\n",
                r.absorbing ? "quasi-stationary" : "stationary", r.residual, s.min_density,
                r.max_abs_current);
    if (reference) std::printf("  L1 distance to the %s closed form: %.3e\n", reference->kind.c_str(), s.l1);
    if (!r.eigenvalues.empty())
        std::printf("  spectral gap %.6g, relaxation time %.6g\n", r.spectral_gap, r.relaxation_time);
    if (r.absorbing)
        std::printf(
            "  escape rate %.6g (1/rate %.6g); mean first-passage time from the initial density %.6g\n",
            r.escape_rate, 1.0 / r.escape_rate, s.mfpt_initial);
    std::printf("  wrote %s\n", out.c_str());
}

// The file and the report of a steady state solved by one process (whole-grid `r`).
void write_and_report(const StationaryCommandOptions& o, const Config& c, const std::string& out,
                      const StationaryResult& r, const std::optional<Reference>& reference,
                      const Eigen::VectorXd& initial) {
    const Grid& g = c.problem.grid;
    const double v = g.cell_volume();
    StationarySummary s;
    if (reference) s.l1 = (r.density - reference->density).cwiseAbs().sum() * v;
    if (r.absorbing) s.mfpt_initial = r.mfpt.dot(initial) * v;
    s.min_density = r.density.minCoeff();

    SnapshotWriter writer(out, g, {c.text, program_version}, false,
                          reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
    writer.write_array("/stationary/density", cell_shape(g, false), r.density.data());
    {
        // N x d column-major -> [cells..., d] row-major.
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> j = r.current;
        writer.write_array("/stationary/current", cell_shape(g, true), j.data());
    }
    if (!r.eigenvalues.empty())
        writer.write_array("/stationary/eigenvalues", {r.eigenvalues.size(), 2}, eigenvalue_rows(r).data());
    if (r.absorbing) writer.write_array("/stationary/mfpt", cell_shape(g, false), r.mfpt.data());
    write_attributes(writer, r, reference, s);
    writer.set_status("complete");
    write_xdmf_or_warn(out);  // beside OUT.h5, for ParaView
    report(o, c, out, r, reference, s);
}

bool has_absorbing_wall(const Grid& g) {
    bool absorbing = false;
    for (int a = 0; a < g.dims; ++a) absorbing = absorbing || g.boundary[a] == Boundary::absorbing;
    return absorbing;
}

void check_time_independent(const Problem& pb) {
    if (pb.time_dependent())
        throw InputError(
            "dynamics: the drift, potential or noise depends on t; fpsolve stationary needs a "
            "time-independent problem (use fpsolve run)");
}

#ifdef FPSOLVE_MPI
// Under mpirun: the grid decomposed over the ranks, every solve by hypre
// (parallel/stationary_distributed.hpp), and the file written by all ranks through parallel HDF5, each its
// owned cells: the file one process writes.
int stationary_distributed(const StationaryCommandOptions& o) {
    MPI_Comm world = MPI_COMM_WORLD;
    const bool root = mpi_rank() == 0;
    Config c;
    StationaryOptions options;
    agree(world, [&] {
        c = load_run_config(o.config, o.out.set, {"stationary"}, false);
        refuse_richardson(c, "fpsolve stationary");
        options = read_stationary_table(c);
        check_time_independent(c.problem);
    });
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    const bool absorbing = has_absorbing_wall(g);
    std::string out;
    agree(world, [&] {  // one rank decides about the output file, before any rank creates it
        if (root) out = output_path(c, o.out);
    });
    broadcast(out, world);

    const Decomposition dec(world, g);
    // The initial density only matters for the mean first-passage time from it; checked before solving.
    const State initial = absorbing ? initial_owned(dec, pb.initial) : State();
    const DistributedOperator op(dec, pb);
    const double ratio = op.cross_monotonicity_ratio();
    if (ratio > 1.0 && root && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the correlated noise breaks the 9-point stencil's monotonicity "
                     "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): the density may dip below 0\n",
                     ratio);
    const std::optional<Reference> reference =
        stationary_reference(pb, dec.owned_grid(), block_reductions(dec));
    const StationaryResult r = solve_stationary(op, options);  // density, current, mfpt: the owned cells

    const double v = g.cell_volume();
    StationarySummary s;
    if (reference) s.l1 = dec.sum((r.density - reference->density).cwiseAbs().sum()) * v;
    if (absorbing) s.mfpt_initial = dec.sum(r.mfpt.dot(initial)) * v;
    s.min_density = dec.min(r.density.size() ? r.density.minCoeff() : HUGE_VAL);
    {
        ParallelSnapshotWriter writer(
            out, dec, {c.text, program_version}, false,
            reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
        writer.write_cells("/stationary/density", r.density);
        writer.write_cell_vectors("/stationary/current", r.current);
        if (!r.eigenvalues.empty())
            writer.write_array("/stationary/eigenvalues", {r.eigenvalues.size(), 2},
                               eigenvalue_rows(r).data());
        if (absorbing) writer.write_cells("/stationary/mfpt", r.mfpt);
        write_attributes(writer, r, reference, s);
        writer.set_status("complete");
        writer.close();
    }
    if (root) {
        write_xdmf_or_warn(out);
        report(o, c, out, r, reference, s);
    }
    return 0;
}
#endif

int stationary_command(const StationaryCommandOptions& o) {
#ifdef FPSOLVE_MPI
    if (mpi_processes() > 1) return stationary_distributed(o);
#endif
    Config c = load_run_config(o.config, o.out.set, {"stationary"});
    refuse_richardson(c, "fpsolve stationary");
    const StationaryOptions options = read_stationary_table(c);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    check_time_independent(pb);
    const std::string out = output_path(c, o.out);
    const bool absorbing = has_absorbing_wall(g);
    // The initial density only matters for the mean first-passage time from it; check it before solving.
    const Eigen::VectorXd initial = absorbing ? initial_state(g, pb.initial) : Eigen::VectorXd();

    FokkerPlanckOperator op(pb);
    if (op.cross_monotonicity_ratio() > 1.0 && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the correlated noise breaks the 9-point stencil's monotonicity "
                     "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): the density may dip below 0\n",
                     op.cross_monotonicity_ratio());
    const auto reference = stationary_reference(pb);

    // Solve everything before the file is created: a failure leaves no file behind.
    const StationaryResult r = solve_stationary(op, options);
    write_and_report(o, c, out, r, reference, initial);
    return 0;
}

}  // namespace

CommandEntry register_stationary(CLI::App& app) {
    auto o = std::make_shared<StationaryCommandOptions>();
    CLI::App* sub = app.add_subcommand(
        "stationary",
        "Steady state of the discrete generator, its current, spectral gap and first-passage times");
    sub->add_option("config", o->config, "The TOML config (see docs/stationary.md and data/scenarios/)")
        ->required();
    add_output_options(sub, o->out);
    sub->footer("Example: fpsolve stationary data/scenarios/two-temperatures.toml -o tt.h5");
    return {sub, [o] { return stationary_command(*o); }};
}

}  // namespace fpsolve
