// The one run loop of fpsolve::run and fpsolve::resume, for one process (run.cpp) and for a grid decomposed
// over MPI ranks (run_distributed.cpp):
//
//   operator -> integrate(op, p, times, observer) -> observer: check, [extrapolate], diagnostics,
//               [file], [memory], [callback]  -> final status on the file
//
// The caller sets up the operator, the initial state, the diagnostics and the writer (each its own type per
// path); everything that happens per snapshot and at the end is here, once.
#pragma once
#include <cmath>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

#include "diagnostics.hpp"
#include "fpsolve/fpsolve.hpp"
#include "integrator.hpp"
#include "reference.hpp"
#include "run_support.hpp"
#include "xdmf.hpp"

namespace fpsolve {

// Mass below zero beyond what round-off and the integrator's tolerance explain: the run has gone wrong. The
// upwind-biased flux of a transport-only axis is not monotone, so its runs dip below zero by design (bounded,
// O(h^3) where the density is resolved; docs/kinetic.md): there the limit only catches a run that has gone wrong.
inline constexpr double negative_mass_limit = 1e-6;
inline constexpr double negative_mass_limit_transport = 1e-3;
inline double negative_mass_limit_of(const Problem& pb) {
    return has_transport_axis(pb) ? negative_mass_limit_transport : negative_mass_limit;
}

// What differs between the paths, beside the operator and the writer's types.
struct RunHooks {
    std::function<Diagnostics(const State& p, double t)> diagnose;
    BlockReductions reduce;  // over the ranks (identity on one process)
    // grid.richardson (one process): the density to record for observation k, and its error estimate.
    std::function<State(const State& p, std::size_t k, double& estimate)> extrapolate;
    bool writes_xdmf = true;  // this process writes the XDMF file beside the HDF5 one (rank 0)
};

// A run's result before its first snapshot: what the config, the output file and a resume say.
inline RunResult result_header(const ParsedConfig& c, const std::string& out, const Resume* resumed) {
    RunResult r;
    r.title = c.title;
    r.config = c.text;
    r.output = out;
    r.grid = c.problem.grid;
    if (resumed) {
        r.resumed_at = resumed->start;
        r.snapshots_before = resumed->snapshots;
    }
    return r;
}

namespace detail {
struct StoppedByCallback {};

inline void check_state(const State& x, double t, double cell_volume, const BlockReductions& reduce, double limit) {
    if (!reduce.all(x.allFinite()))
        throw RunError("the density became non-finite by t = " + std::to_string(t) +
                       "; use integrator = \"implicit\" or \"dopri5\", a smaller time.dt, or a finer grid");
    const double negative = -reduce.sum(x.cwiseMin(0.0).sum()) * cell_volume;
    if (negative > limit) {
        std::ostringstream msg;
        msg << "the density went negative (mass " << -negative << " below zero) by t = " << t << "; use ";
        if (limit == negative_mass_limit_transport)
            msg << "a finer grid, or scheme = \"upwind\" (first order, positive) for the transport-only axes";
        else
            msg << "scheme = \"exponential\", integrator = \"implicit\", smaller rtol/atol or time.dt";
        throw RunError(msg.str());
    }
}

inline void append_diagnostics(DiagnosticSeries& s, const Diagnostics& d, int dims) {
    s.time.push_back(d.time);
    s.mass.push_back(d.mass);
    s.entropy.push_back(d.entropy);
    s.free_energy.push_back(d.free_energy);
    s.l1_to_reference.push_back(d.l1_to_reference);
    s.kl_to_reference.push_back(d.kl_to_reference);
    s.outflux.push_back(d.outflux);
    s.min_density.push_back(d.min_density);
    s.error_estimate.push_back(d.error_estimate);
    s.mean.emplace_back(d.mean.head(dims));
    s.covariance.emplace_back(d.covariance.topLeftCorner(dims, dims));
}
}  // namespace detail

// Integrates `p` over `ts` and records every snapshot into `result` (and `writer`, when not null). Sets
// result.status ("complete", "stopped", "interrupted"), writes it to the file, and throws RunError (the file
// marked "failed: <why>") when the integration fails. `finish(status)` sets the file's status and closes it.
template <class Operator, class Writer>
void run_loop(const Operator& op, State& p, const TimeSettings& ts, const ParsedConfig& c, Writer* writer,
              const std::function<void(const std::string&)>& finish, const RunHooks& hooks,
              const RunOptions& options, RunResult& result) {
    const Grid& g = c.problem.grid;
    bool skip = !c.observe_first;
    double reached = ts.times.front();
    std::size_t observed = 0;  // observer calls, the skipped first one included
    auto observe = [&](const State& x, double t) {
        const std::size_t k = observed++;
        if (skip) {
            skip = false;
            return;
        }
        detail::check_state(x, t, g.cell_volume(), hooks.reduce, negative_mass_limit_of(c.problem));
        double estimate = NAN;
        State extrapolated;
        if (hooks.extrapolate) extrapolated = hooks.extrapolate(x, k, estimate);
        const State& density = hooks.extrapolate ? extrapolated : x;
        Diagnostics d = hooks.diagnose(density, t);
        if (hooks.extrapolate) d.error_estimate = estimate;
        std::optional<Eigen::MatrixXd> current;
        if (c.output_current && (writer || options.keep_currents)) current = op.cell_current(density, t);
        if (writer) writer->append(t, density, d, current ? &*current : nullptr);
        result.time.push_back(t);
        detail::append_diagnostics(result.diagnostics, d, g.dims);
        if (options.keep_snapshots) result.density.push_back(density);
        if (current && options.keep_currents) result.current.push_back(std::move(*current));
        reached = t;
        // Every rank calls back (with its own cells) and all stop together if any callback says so.
        if (options.on_snapshot && !hooks.reduce.all(options.on_snapshot(t, density)))
            throw detail::StoppedByCallback{};
    };

    auto end_file = [&](const std::string& status) {
        if (!writer) return;
        finish(status);
        if (hooks.writes_xdmf) write_xdmf_or_warn(result.output);  // beside OUT.h5, for ParaView
    };
    result.integrator = std::string(to_string(ts.integrator));  // resolved: the report confirms it at the end
    result.integrator_reason = ts.reason;
    if (options.on_start) options.on_start(g, ts.times.front(), ts.times.back(), ts.times.size() - (skip ? 1 : 0));
    IntegrationReport report;
    try {
        report = integrate(op, p, ts, observe, options.interrupt);
        result.status = "complete";
    } catch (const detail::StoppedByCallback&) {
        result.status = "stopped";
    } catch (const Interrupted&) {
        result.status = "interrupted";
    } catch (const std::exception& e) {
        throw run_failed(e, reached, result.output, [&](const std::string& status) { end_file(status); });
    }
    end_file(result.status);
    if (result.status == "complete") {
        result.integrator = std::string(to_string(report.integrator));
        result.integrator_reason = report.reason;
        result.rhs_evaluations = report.rhs_evaluations;
    }
}

}  // namespace fpsolve
