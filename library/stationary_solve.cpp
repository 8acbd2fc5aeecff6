// fpsolve::stationary: the steady state of the discrete generator directly, with its probability current,
// relaxation spectrum and, with absorbing walls, mean first-passage times and the escape rate
// (solver/stationary.hpp carries the equations).
//
// The file (with StationaryOptions::output) is the DESIGN §4 file (grid, reference, config, status; no
// snapshots) plus
//   /stationary/density [cells...], /stationary/current [cells..., d], /stationary/eigenvalues [k, 2] (re,
//   im), /stationary/mfpt [cells...] (absorbing walls);  attrs on /stationary: kind, residual, spectral_gap,
//   relaxation_time, max_abs_current, l1_to_reference (with a reference), escape_rate and
//   mfpt_from_initial (absorbing walls).
// The optional [stationary] table: eigenvalues = 6 (how many of the slowest to compute; 0 skips the
// spectrum). Under mpirun the grid is decomposed and the solves are hypre's
// (parallel/stationary_distributed.hpp): the same file, agreeing with one process to the solver tolerance.
// Everything is solved before the file is created: a failure leaves no file behind.
#include <cmath>
#include <cstdio>
#include <optional>

#include "initial_density.hpp"
#include "library_support.hpp"
#include "reference.hpp"
#include "run_support.hpp"
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

// A transport problem whose steady state still dips after the guided re-solves (stationary.hpp); empty if not.
std::string dip_warning(const Problem& pb, const SteadyStateOptions& o, const StationaryResult& r,
                        double largest = NAN) {
    if (std::isnan(largest)) largest = r.density.size() ? r.density.maxCoeff() : 0.0;
    if (!o.positive || !guide_applies(pb) || !dips(r.min_density, largest)) return "";
    char msg[256];
    std::snprintf(msg, sizeof msg,
                  "the steady state dips to %.2e of its largest value after %d guided re-solves; refine the grid "
                  "along the transport-only axes",
                  r.min_density / largest, r.guided_passes);
    return msg;
}

SteadyStateOptions read_stationary_table(const ParsedConfig& c, const std::optional<int>& eigenvalues) {
    SteadyStateOptions s;
    if (const auto it = c.extra.find("stationary"); it != c.extra.end())
        for (auto&& [k, v] : it->second) {
            const std::string key(k.str());
            if (key == "positive") {
                const auto b = v.as_boolean();
                if (!b) throw InputError("stationary.positive: expected true or false");
                s.positive = b->get();
                continue;
            }
            if (key != "eigenvalues")
                throw InputError("stationary." + key + ": unknown key (expected eigenvalues or positive)");
            const auto n = v.as_integer();
            if (!n || n->get() < 0 || n->get() > 1000)
                throw InputError("stationary.eigenvalues: expected a whole number from 0 to 1000");
            s.eigenvalues = static_cast<int>(n->get());
        }
    if (eigenvalues) {
        if (*eigenvalues < 0 || *eigenvalues > 1000)
            throw InputError("eigenvalues: expected a whole number from 0 to 1000, got " +
                             std::to_string(*eigenvalues));
        s.eigenvalues = *eigenvalues;
    }
    return s;
}

std::vector<std::size_t> cell_shape(const Grid& g, bool per_axis) {
    std::vector<std::size_t> shape;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<std::size_t>(g.cells[a]));
    if (per_axis) shape.push_back(static_cast<std::size_t>(g.dims));
    return shape;
}

// The attributes of /stationary, the same through either writer.
template <class Writer>
void write_attributes(Writer& writer, const StationaryResult& r) {
    writer.write_attribute("/stationary", "kind", std::string(r.absorbing ? "quasi-stationary" : "stationary"));
    writer.write_attribute("/stationary", "residual", r.residual);
    writer.write_attribute("/stationary", "spectral_gap", r.spectral_gap);
    writer.write_attribute("/stationary", "relaxation_time", r.relaxation_time);
    writer.write_attribute("/stationary", "max_abs_current", r.max_abs_current);
    if (!r.reference_kind.empty()) {
        writer.write_attribute("/stationary", "l1_to_reference", r.l1_to_reference);
        writer.write_attribute("/stationary", "reference_kind", r.reference_kind);
    }
    if (r.absorbing) {
        writer.write_attribute("/stationary", "escape_rate", r.escape_rate);
        writer.write_attribute("/stationary", "mfpt_from_initial", r.mfpt_from_initial);
    }
}

std::vector<double> eigenvalue_rows(const StationaryResult& r) {  // [k, 2]: re, im
    std::vector<double> ev;
    for (const auto& e : r.eigenvalues) ev.insert(ev.end(), {e.real(), e.imag()});
    return ev;
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

// The parts of the result that do not need the whole grid, and the warnings about it.
StationaryResult describe(const ParsedConfig& c, SteadyState s, const std::optional<Reference>& reference,
                          const StationaryOptions& options) {
    StationaryResult r;
    r.status = "complete";
    r.title = c.title;
    r.config = c.text;
    r.output = options.output;
    r.grid = c.problem.grid;
    r.absorbing = s.absorbing;
    r.density = std::move(s.density);
    r.current = std::move(s.current);
    r.eigenvalues = std::move(s.eigenvalues);
    r.spectral_gap = s.spectral_gap;
    r.relaxation_time = s.relaxation_time;
    r.residual = s.residual;
    r.max_abs_current = s.max_abs_current;
    r.mfpt = std::move(s.mfpt);
    r.escape_rate = s.escape_rate;
    r.guided_passes = s.guided_passes;
    r.mfpt_from_initial = NAN;
    r.l1_to_reference = NAN;
    if (reference) {
        r.reference = reference->density;
        r.reference_kind = reference->kind;
    }
    char msg[240];
    if (r.absorbing && !(r.escape_rate > 1e-13 * r.spectral_gap)) {
        std::snprintf(msg, sizeof msg,
                      "the escape rate %.3g is at the round-off level of the generator: the walls are practically "
                      "never reached; the MFPT is not resolved",
                      r.escape_rate);
        warn(r.warnings, options.on_warning, msg);
    }
    if (r.residual > 1e-8) {
        std::snprintf(msg, sizeof msg, "the steady state's relative residual is %.2e; it may not be unique",
                      r.residual);
        warn(r.warnings, options.on_warning, msg);
    }
    return r;
}

#ifdef FPSOLVE_MPI
// Under mpirun: the grid decomposed over the ranks, every solve by hypre
// (parallel/stationary_distributed.hpp), and the file written by all ranks through parallel HDF5, each its
// owned cells: the file one process writes. The result's arrays are this rank's owned cells.
StationaryResult stationary_distributed(const Config& config, const StationaryOptions& options) {
    MPI_Comm world = MPI_COMM_WORLD;
    const bool root = mpi_rank() == 0;
    ParsedConfig c;
    SteadyStateOptions solve_options;
    agree(world, [&] {
        c = parse(config, {"stationary"}, false);
        refuse_richardson(c, "fpsolve stationary");
        solve_options = read_stationary_table(c, options.eigenvalues);
        check_time_independent(c.problem);
    });
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    const bool absorbing = has_absorbing_wall(g);
    agree(world, [&] {  // one rank decides about the output file, before any rank creates it
        if (root && !options.output.empty()) check_output_path(options.output, options.force);
    });

    const Decomposition dec(world, pb);  // ghost layers as wide as the operator reads
    // The initial density only matters for the mean first-passage time from it; checked before solving.
    const State initial = absorbing ? initial_owned(dec, pb.initial) : State();
    const DistributedOperator op(dec, pb);
    const double ratio = op.cross_monotonicity_ratio();
    const std::optional<Reference> reference = stationary_reference(pb, dec.owned_grid(), block_reductions(dec));
    StationaryResult r = describe(c, solve_stationary(op, solve_options), reference, options);
    if (root) warn(r.warnings, options.on_warning, monotonicity_warning(ratio));

    const double v = g.cell_volume();
    if (reference) r.l1_to_reference = dec.sum((r.density - reference->density).cwiseAbs().sum()) * v;
    if (absorbing) r.mfpt_from_initial = dec.sum(r.mfpt.dot(initial)) * v;
    r.min_density = dec.min(r.density.size() ? r.density.minCoeff() : HUGE_VAL);
    {
        const double largest = dec.max(r.density.size() ? r.density.maxCoeff() : -HUGE_VAL);
        if (root) warn(r.warnings, options.on_warning, dip_warning(pb, solve_options, r, largest));
    }
    if (options.output.empty()) return r;
    {
        ParallelSnapshotWriter writer(options.output, dec, {c.text, program_version}, false,
                                      reference ? std::optional<Eigen::VectorXd>(reference->density) : std::nullopt);
        writer.write_cells("/stationary/density", r.density);
        writer.write_cell_vectors("/stationary/current", r.current);
        if (!r.eigenvalues.empty())
            writer.write_array("/stationary/eigenvalues", {r.eigenvalues.size(), 2}, eigenvalue_rows(r).data());
        if (absorbing) writer.write_cells("/stationary/mfpt", r.mfpt);
        write_attributes(writer, r);
        writer.set_status("complete");
        writer.close();
    }
    if (root) write_xdmf_or_warn(options.output);
    return r;
}
#endif

StationaryResult stationary_one_process(const Config& config, const StationaryOptions& options) {
    const ParsedConfig c = parse(config, {"stationary"}, true);
    refuse_richardson(c, "fpsolve stationary");
    const SteadyStateOptions solve_options = read_stationary_table(c, options.eigenvalues);
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    check_time_independent(pb);
    if (!options.output.empty()) check_output_path(options.output, options.force);
    const bool absorbing = has_absorbing_wall(g);
    // The initial density only matters for the mean first-passage time from it; check it before solving.
    const Eigen::VectorXd initial = absorbing ? initial_state(g, pb.initial) : Eigen::VectorXd();

    const FokkerPlanckOperator op(pb);
    const auto reference = stationary_reference(pb);
    StationaryResult r = describe(c, solve_stationary(op, solve_options), reference, options);
    warn(r.warnings, options.on_warning, monotonicity_warning(op.cross_monotonicity_ratio()));
    const double v = g.cell_volume();
    if (reference) r.l1_to_reference = (r.density - reference->density).cwiseAbs().sum() * v;
    if (absorbing) r.mfpt_from_initial = r.mfpt.dot(initial) * v;
    r.min_density = r.density.minCoeff();
    warn(r.warnings, options.on_warning, dip_warning(pb, solve_options, r));
    if (options.output.empty()) return r;

    SnapshotWriter writer(options.output, g, {c.text, program_version}, false,
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
    write_attributes(writer, r);
    writer.set_status("complete");
    write_xdmf_or_warn(options.output);  // beside OUT.h5, for ParaView
    return r;
}

}  // namespace

StationaryResult stationary(const Config& config, const StationaryOptions& options) {
    return in_run_scope(options.threads, [&] {
#ifdef FPSOLVE_MPI
        if (mpi_processes() > 1) return stationary_distributed(config, options);
#endif
        return stationary_one_process(config, options);
    });
}

}  // namespace fpsolve
