// fpsolve::run and fpsolve::resume on one process (DESIGN §2, §4, §6):
//
//   grid -> problem -> FokkerPlanckOperator -> odeint stepper -> run_loop (diagnostics, file, memory)
//
// With grid.richardson the same problem is first integrated on the grid of half the cells per axis over
// the same snapshot times, and every snapshot recorded is the extrapolation (4 p_h - I p_2h) / 3
// (richardson.hpp), with the plain scheme's error estimate in /diagnostics/error_estimate; the snapshot at
// the start is the initial density as given (estimate 0). Both grids start from the same density (the
// coarse one from its restriction), so a resumed run extrapolates anew from its last snapshot.
// Under mpirun with several processes the grid is decomposed instead (run_distributed.cpp).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "initial_density.hpp"
#include "library_support.hpp"
#include "richardson.hpp"
#include "run_driver.hpp"
#include "snapshot_file.hpp"
#include "subnormals.hpp"
#include "thread_budget.hpp"
#ifdef FPSOLVE_MPI
#include "run_distributed.hpp"
#endif

namespace fpsolve {

const char* version() { return program_version; }

Config Config::from_toml(std::string text, std::string name) {
    effective_table(text, name, {});  // the syntax, now: the rest when a run reads it
    Config c;
    c.text_ = std::move(text);
    c.name_ = std::move(name);
    return c;
}

Config Config::from_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw ConfigError(path + ": no such config file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read");
    std::ostringstream os;
    os << in.rdbuf();
    Config c = from_toml(os.str(), path);
    c.path_ = path;
    return c;
}

Config& Config::set(const std::string& key, const std::string& value) {
    const std::string item = key + "=" + value;
    effective_table("", name_, {item});  // throws for a key or value that does not parse
    overrides_.push_back(item);
    return *this;
}

ParsedConfig parse(const Config& config, const std::vector<std::string>& extra_tables, bool read_snapshot) {
    ParsedConfig c = parse_run_config(config.text(), config.name(), config.overrides(), extra_tables, read_snapshot);
    if (!config.path().empty() && c.output_file.empty())
        c.output_file = std::filesystem::path(config.path()).stem().string() + ".h5";
    return c;
}

void warn(std::vector<std::string>& warnings, const std::function<void(const std::string&)>& on_warning,
          const std::string& what) {
    if (what.empty()) return;
    warnings.push_back(what);
    if (on_warning) on_warning(what);
}

namespace {

// grid.richardson: the densities of the grid with half the cells, at every time the fine run observes
// (times[0] included), integrated before the fine run opens its file.
struct CoarseCompanion {
    Problem problem;
    std::vector<State> snapshots;
    IntegrationReport report;
};

CoarseCompanion integrate_coarse(const Problem& fine, const State& fine_start, const TimeSettings& settings,
                                 const std::atomic<bool>* interrupt) {
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
                detail::check_state(x, t, cc.problem.grid.cell_volume(), {}, negative_mass_limit_of(cc.problem));
                cc.snapshots.push_back(x);
            },
            interrupt);
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

// `out`: the file to create (or, with `resumed`, to append to); empty: none.
RunResult run_one_process(const ParsedConfig& c, const std::optional<Resume>& resumed, const std::string& out,
                          const RunOptions& options) {
    const Problem& pb = c.problem;
    const Grid& g = pb.grid;
    RunResult result = result_header(c, out, resumed ? &*resumed : nullptr);

    FokkerPlanckOperator op(pb);
    auto reference = stationary_reference(pb);
    // A resumed run continues exactly from the last snapshot, without renormalising.
    State p = resumed ? read_snapshot(out, -1) : initial_state(g, pb.initial);
    const TimeSettings ts = resolve(c.time, op);
    warn(result.warnings, options.on_warning, monotonicity_warning(op.cross_monotonicity_ratio()));

    std::optional<CoarseCompanion> coarse;
    if (c.richardson) {
        try {
            coarse = integrate_coarse(pb, p, c.time, options.interrupt);
        } catch (const Interrupted&) {
            result.status = "interrupted";  // nothing recorded; a new file was not created
            if (!resumed) result.output.clear();
            return result;
        }
        reference = extrapolated_reference(std::move(reference), g, coarse->problem);
        result.richardson = RunResult::Coarse{coarse->problem.grid, std::string(to_string(coarse->report.integrator)),
                                              coarse->report.rhs_evaluations};
    }
    if (reference) result.reference_kind = reference->kind;
    // The one copy of the reference during the run (result.reference is filled at the end, after the stepper's
    // vectors are gone: not on top of them).
    const DiagnosticsCalculator diagnostics(op, std::move(reference));
    const std::optional<Reference>& kept = diagnostics.reference();
    RunHooks hooks;
    hooks.diagnose = [&](const State& x, double t) { return diagnostics(x, t); };
    if (coarse)
        hooks.extrapolate = [&](const State& x, std::size_t k, double& estimate) -> State {
            if (k == 0) {  // the start is the initial density's cell averages themselves: no error
                estimate = 0.0;
                return x;
            }
            State& pc = coarse->snapshots.at(k);
            SpatialExtrapolation e = richardson_extrapolate(g, x, coarse->problem.grid, pc);
            pc = State();  // recorded once: its memory goes back
            estimate = e.error_estimate;
            return std::move(e.density);
        };

    std::unique_ptr<SnapshotWriter> writer;
    if (!out.empty()) {
        const FileMetadata meta{c.text, program_version};
        writer = resumed ? std::make_unique<SnapshotWriter>(out, SnapshotWriter::Append{}, meta)
                         : std::make_unique<SnapshotWriter>(
                               out, g, meta, c.output_current,
                               kept ? std::optional<Eigen::VectorXd>(kept->density) : std::nullopt,
                               c.richardson);
        writer->start_swmr();
    }
    run_loop(op, p, ts, c, writer.get(), [&](const std::string& status) { writer->set_status(status); }, hooks,
             options, result);
    writer.reset();
    p = State();
    if (kept) result.reference = kept->density;
    return result;
}

}  // namespace

RunResult run(const Config& config, const RunOptions& options) {
    return in_run_scope(options.threads, [&] {
#ifdef FPSOLVE_MPI
        if (mpi_processes() > 1) return run_distributed(&config, "", {}, options);
#endif
        const ParsedConfig c = parse(config, {}, true);
        if (!options.output.empty()) check_output_path(options.output, options.force);
        return run_one_process(c, std::nullopt, options.output, options);
    });
}

RunResult resume(const std::string& path, const std::vector<std::string>& overrides, const RunOptions& options) {
    return in_run_scope(options.threads, [&] {
#ifdef FPSOLVE_MPI
        if (mpi_processes() > 1) return run_distributed(nullptr, path, overrides, options);
#endif
        Resume r = prepare_resume(path, overrides);
        if (r.config.time.times.size() < 2) {  // already at the last snapshot time: nothing to do
            RunResult done = result_header(r.config, path, &r);
            done.status = "complete";
            return done;
        }
        const ParsedConfig c = r.config;
        return run_one_process(c, std::move(r), path, options);
    });
}

}  // namespace fpsolve
