// fpsolve sgd: the command line of sgd_study (library/sgd_study.hpp): SGD as an SDE (DESIGN §1.3), checked against
// real minibatch SGD on a real data set.
//
//   SGD      Phi <- Phi - Lambda ghat_B,           ghat_B the mean gradient of b examples drawn with replacement
//   SDE      dPhi = -P g dt + (eta_bar P (Sigma/b) P)^{1/2} dW   (Ito),   t = k eta_bar
//
//   fpsolve sgd data/scenarios/sgd-diabetes.toml -o sgd.h5 [--sweep-eta 0.4,0.2,0.1,0.05]
//
// With sgd.momentum (heavy ball, sgd_momentum.hpp): the kinetic SDE in phase space (w, p = v/sqrt(eta)), t = k sqrt(eta),
//   dw = p dt,   dp = (-g(w) - gamma p) dt + (sqrt(eta) Sigma(w)/b)^{1/2} dW,   gamma = (1 - beta)/sqrt(eta)
//   fpsolve sgd data/scenarios/sgd-diabetes-momentum.toml -o sgd-momentum.h5
//
// This file holds the options, the signal flag, the progress bar and the report; the study is the library's.
#include <cmath>
#include <cstdio>

#include "common.hpp"
#include "sgd_study.hpp"

namespace fpsolve {

namespace {

struct SgdCommandOptions {
    std::string config;
    OutputOptions out;
    std::vector<double> sweep;
};

void print_moments_row(const std::string& name, double l1_to_sgd, const SampleMoments& m) {
    char l1[32];
    if (std::isnan(l1_to_sgd))
        std::snprintf(l1, sizeof l1, "%9s", "-");
    else
        std::snprintf(l1, sizeof l1, "%9.4f", l1_to_sgd);
    std::printf("  %-34s %s  %9.5f %9.5f  %10.4e %11.3e %10.4e\n", name.c_str(), l1, m.mean[0], m.mean[1],
                m.covariance(0, 0), m.covariance(0, 1), m.covariance(1, 1));
}

std::string matrix_text(const Eigen::MatrixXd& m) {
    std::string out = "[";
    char e[32];
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        out += i ? ", [" : "[";
        for (Eigen::Index j = 0; j < m.cols(); ++j) {
            std::snprintf(e, sizeof e, "%s%.5f", j ? ", " : "", m(i, j));
            out += e;
        }
        out += "]";
    }
    return out + "]";
}

// Traces of the parameter (w) and velocity (p) blocks of a 2d x 2d phase-space covariance.
double trace_w(const Eigen::MatrixXd& c, int d) { return c.topLeftCorner(d, d).trace(); }
double trace_p(const Eigen::MatrixXd& c, int d) { return c.bottomRightCorner(d, d).trace(); }

void print_phase_row(const std::string& name, double l1_to_sgd, const PhaseMoments& m, int d) {
    char l1[32];
    if (std::isnan(l1_to_sgd))
        std::snprintf(l1, sizeof l1, "%9s", "-");
    else
        std::snprintf(l1, sizeof l1, "%9.4f", l1_to_sgd);
    std::printf("  %-38s %s  %9.5f %9.5f  %10.4e %11.3e %10.4e", name.c_str(), l1, m.mean[0], m.mean[d],
                m.covariance(0, 0), m.covariance(0, d), m.covariance(d, d));
    if (d > 1) std::printf("  %10.4e %10.4e", trace_w(m.covariance, d), trace_p(m.covariance, d));
    std::printf("\n");
}

void report_momentum(const SgdCommandOptions& o, const SgdStudyResult& r) {
    const SgdMomentumResult& m = *r.momentum;
    const int d = m.parameters;
    const std::string w = m.axes[0], p = m.axes[static_cast<std::size_t>(d)];
    std::printf("fpsolve sgd: %s\n", r.title.empty() ? o.config.c_str() : r.title.c_str());
    std::printf("  model: %s\n", r.model.c_str());
    std::printf("  heavy-ball SGD: eta = %g, momentum beta = %g (gamma = (1 - beta)/sqrt(eta) = %g), batch %d, %ld steps\n",
                m.eta, m.beta, m.friction, r.batch, r.steps);
    std::printf("  (t = k sqrt(eta), t_end = %g), %ld chains, seed %llu; phase space (", r.t_end,
                static_cast<long>(r.chains), static_cast<unsigned long long>(r.seed));
    for (std::size_t a = 0; a < m.axes.size(); ++a) std::printf("%s%s", a ? ", " : "", m.axes[a].c_str());
    std::printf("), velocities p = v/sqrt(eta)\n");
    std::printf("  minimum w* = (");
    for (int a = 0; a < d; ++a) std::printf("%s%.6f", a ? ", " : "", r.minimum[a]);
    std::printf("), L(w*) = %.6f\n", r.loss_at_minimum);
    std::printf("  Hessian H = %s\n", matrix_text(r.hessian.topLeftCorner(d, d)).c_str());
    std::printf("  gradient noise Sigma(w*)/b = %s\n", matrix_text(r.noise_at_minimum.topLeftCorner(d, d)).c_str());
    std::printf("  temperatures sqrt(eta) sigma_a^2 / (2 gamma) = %s (the Gibbs density's T: their mean)\n",
                matrix_text(m.temperatures.transpose()).c_str());
    std::printf("\nevolution: FP density vs histogram of the heavy-ball chains in phase space (L1 floor: an exact sampler)\n");
    std::printf("  %8s %9s %9s %9s  %9s %9s  %9s %9s  %10s %10s  %10s %10s\n", "step", "t", "L1", "floor",
                ("mean " + w + " FP").c_str(), "SGD", ("mean " + p + " FP").c_str(), "SGD", ("var " + w + " FP").c_str(),
                "SGD", ("var " + p + " FP").c_str(), "SGD");
    for (const SgdPhaseSnapshot& e : m.evolution)
        std::printf("  %8ld %9.4g %9.4f %9.4f  %9.5f %9.5f  %9.5f %9.5f  %10.4e %10.4e  %10.4e %10.4e\n", e.step, e.time,
                    e.l1, e.floor, e.fp.mean[0], e.sgd.mean[0], e.fp.mean[d], e.sgd.mean[d], e.fp.covariance(0, 0),
                    e.sgd.covariance(0, 0), e.fp.covariance(d, d), e.sgd.covariance(d, d));
    std::printf("\nstationary: L1 to the histogram of the last iterates (floor %.4f; FP(t_end) to FP stationary: %.4f;\n"
                "  smallest FP stationary value / largest: %.1e)\n",
                m.stationary_floor, m.fp_end_to_stationary, m.stationary_min_relative);
    std::printf("  %-38s %9s  %9s %9s  %10s %11s %10s", "density", "L1 to SGD", ("mean " + w).c_str(),
                ("mean " + p).c_str(), ("var " + w).c_str(), ("cov " + w + " " + p).c_str(), ("var " + p).c_str());
    if (d > 1) std::printf("  %10s %10s", "tr C_ww", "tr C_pp");
    std::printf("\n");
    for (const SgdPhaseComparison& c : m.stationary) print_phase_row(c.name, c.l1, c.moments, d);
    if (!m.sweep.empty()) {
        const std::string tw = d > 1 ? "tr C_ww" : "var " + w, tp = d > 1 ? "tr C_pp" : "var " + p;
        std::printf("\neta sweep at fixed gamma = %g (beta = 1 - gamma sqrt(eta)): stationary covariance (chains from (w*, 0),\n"
                    "  >= %g time units; FP on a fitted grid); chains/FP - 1 is the SDE's error, exact/SDE - 1 its noise-free value\n",
                    m.friction, r.t_end);
        std::printf("  %8s %6s | %-41s | %-41s | %6s %6s | %-15s | %-15s\n", "eta", "beta",
                    (tw + ": chains, +-, exact HB, FP").c_str(), (tp + ": chains, +-, exact HB, FP").c_str(), "L1",
                    "floor", "chains/FP-1 w p", "exact/SDE-1 w p");
        for (const SgdMomentumSweepRow& row : m.sweep) {
            char ew[16] = "-", ep[16] = "-", gw[16] = "-", gp[16] = "-";  // closed forms: linear regression only
            if (r.linear) {
                std::snprintf(ew, sizeof ew, "%.4e", trace_w(row.exact, d));
                std::snprintf(ep, sizeof ep, "%.4e", trace_p(row.exact, d));
                std::snprintf(gw, sizeof gw, "%.4f", trace_w(row.exact, d) / trace_w(row.sde, d) - 1.0);
                std::snprintf(gp, sizeof gp, "%.4f", trace_p(row.exact, d) / trace_p(row.sde, d) - 1.0);
            }
            std::printf("  %8.4g %6.4f | %10.4e %8.1e %10s %10.4e | %10.4e %8.1e %10s %10.4e | %6.4f %6.4f | %7.4f %7.4f | %7s %7s\n",
                        row.eta, row.beta, trace_w(row.sgd, d), row.se_w, ew, trace_w(row.fp, d), trace_p(row.sgd, d),
                        row.se_p, ep, trace_p(row.fp, d), row.l1, row.floor, trace_w(row.sgd, d) / trace_w(row.fp, d) - 1.0,
                        trace_p(row.sgd, d) / trace_p(row.fp, d) - 1.0, gw, gp);
        }
    }
    std::printf("\n  wrote %s (/snapshots: FP density at t = k sqrt(eta); /sgd: phase-space histograms, moments, comparisons)\n",
                r.output.c_str());
}

void report(const SgdCommandOptions& o, const SgdStudyResult& r) {
    if (r.momentum) {
        report_momentum(o, r);
        return;
    }
    const auto& names = r.parameters;
    const Matrix2& h = r.hessian;
    const Matrix2& sb = r.noise_at_minimum;
    std::printf("fpsolve sgd: %s\n", r.title.empty() ? o.config.c_str() : r.title.c_str());
    std::printf("  model: %s\n", r.model.c_str());
    std::printf("  SGD: eta = (%g, %g), batch %d, %ld steps (t = k eta_bar, t_end = %g), %ld chains, seed %llu\n",
                r.rates[0], r.rates[1], r.batch, r.steps, r.t_end, static_cast<long>(r.chains),
                static_cast<unsigned long long>(r.seed));
    std::printf("  minimum Phi* = (%s, %s) = (%.6f, %.6f), L(Phi*) = %.6f\n", names[0].c_str(), names[1].c_str(),
                r.minimum[0], r.minimum[1], r.loss_at_minimum);
    std::printf("  Hessian H = [[%.5f, %.5f], [%.5f, %.5f]]\n", h(0, 0), h(0, 1), h(1, 0), h(1, 1));
    std::printf("  gradient noise Sigma(Phi*)/b = [[%.5f, %.5f], [%.5f, %.5f]]  (correlation %.3f)\n", sb(0, 0),
                sb(0, 1), sb(1, 0), sb(1, 1), sb(0, 1) / std::sqrt(sb(0, 0) * sb(1, 1)));
    std::printf("  per-axis temperatures eta_a sigma_a^2 = (%.5f, %.5f): ratio %.3f (1 would be Gibbs)\n",
                r.temperatures[0], r.temperatures[1], r.temperatures[0] / r.temperatures[1]);
    std::printf("\nevolution: FP density vs histogram of the chains (L1 floor: an exact sampler of the FP density)\n");
    std::printf("  %8s %9s %9s %9s  %10s %10s  %10s %10s\n", "step", "t", "L1", "floor",
                ("mean " + names[0] + " FP").c_str(), "SGD", ("var " + names[0] + " FP").c_str(), "SGD");
    for (const SgdSnapshot& e : r.evolution)
        std::printf("  %8ld %9.4g %9.4f %9.4f  %10.5f %10.5f  %10.4e %10.4e\n", e.step, e.time, e.l1, e.floor,
                    e.fp.mean[0], e.sgd.mean[0], e.fp.covariance(0, 0), e.sgd.covariance(0, 0));
    std::printf("\nstationary: L1 to the histogram of the last iterates (floor %.4f; FP(t_end) to FP stationary: %.4f)\n",
                r.stationary_floor, r.fp_end_to_stationary);
    std::printf("  %-34s %9s  %9s %9s  %10s %11s %10s\n", "density", "L1 to SGD", ("mean " + names[0]).c_str(),
                ("mean " + names[1]).c_str(), ("var " + names[0]).c_str(), "cov", ("var " + names[1]).c_str());
    for (const SgdComparison& c : r.stationary) print_moments_row(c.name, c.l1, c.moments);
    if (const auto& pp = r.per_parameter) {
        std::printf("\nper-parameter rates eta_a = eta'/sigma_a^2 = (%.5g, %.5g), eta' = %.5g (= the mean temperature above)\n",
                    pp->rates[0], pp->rates[1], r.gibbs_temperature);
        std::printf("  L1(FP stationary, Gibbs exp(-2L/eta'))  %.4f   (with the scalar rate: %.4f)\n", pp->fp_to_gibbs,
                    pp->scalar_fp_to_gibbs);
        std::printf("  L1(SGD, %ld steps, to Gibbs)             %.4f   (to FP stationary: %.4f, floor %.4f)\n", pp->steps,
                    pp->sgd_to_gibbs, pp->sgd_to_fp, pp->floor);
        print_moments_row("FP stationary, per-parameter rates", std::nan(""), pp->fp);
        print_moments_row("SGD, per-parameter rates", std::nan(""), pp->sgd);
        print_moments_row("Gibbs exp(-2L/eta')", std::nan(""), pp->gibbs);
    }
    if (!r.sweep.empty()) {
        std::printf("\neta sweep: trace of the stationary covariance (chains from Phi*, >= %g time units; FP on a fitted grid)\n",
                    r.t_end);
        std::printf("  %9s %11s %9s %11s %11s %11s %11s  %9s %9s\n", "eta", "SGD chains", "+-", "exact SGD", "SDE (FP)",
                    "SDE closed", "Lyapunov", "SGD/FP-1", "exact/SDE-1");
        for (const SgdSweepRow& w : r.sweep) {
            char ex[16] = "-", sde[16] = "-", gap[16] = "-";  // the closed forms exist for linear regression only
            if (r.linear) {
                std::snprintf(ex, sizeof ex, "%.4e", w.exact.trace());
                std::snprintf(sde, sizeof sde, "%.4e", w.sde.trace());
                std::snprintf(gap, sizeof gap, "%.4f", w.exact.trace() / w.sde.trace() - 1.0);
            }
            std::printf("  %9.4g %11.4e %9.2e %11s %11.4e %11s %11.4e  %9.4f %9s\n", w.eta, w.sgd.trace(), w.se_trace, ex,
                        w.fp.trace(), sde, w.lyapunov.trace(), w.sgd.trace() / w.fp.trace() - 1.0, gap);
        }
    }
    std::printf("\n  wrote %s (/snapshots: FP density at t = k eta_bar; /sgd: histograms, moments, comparisons)\n",
                r.output.c_str());
}

int sgd_command(const SgdCommandOptions& o) {
    SgdStudyOptions options;
    options.config = o.config;
    options.overrides = o.out.set;
    options.output = o.out.output;
    options.force = o.out.force;
    options.sweep = o.sweep;
    options.interrupt = &stop_requested();
    options.on_warning = warning_printer(o.out.quiet);
    ProgressBar progress(o.out.quiet);
    options.on_progress = progress.callback();
    install_signal_handlers();

    const SgdStudyResult r = sgd_study(options);
    progress.done();
    if (r.status == "interrupted") {
        std::fprintf(stderr, "fpsolve: interrupted; %s holds the %zu snapshots written so far\n", r.output.c_str(),
                     r.momentum ? r.momentum->evolution.size() : r.evolution.size());
        return 130;
    }
    if (!o.out.quiet) report(o, r);
    return 0;
}

}  // namespace

CommandEntry register_sgd(CLI::App& app) {
    auto o = std::make_shared<SgdCommandOptions>();
    CLI::App* sub = app.add_subcommand("sgd", "SGD as an SDE on a real data set: Fokker-Planck density vs SGD chains");
    sub->add_option("config", o->config, "The TOML config with [grid], [model] and [sgd] (see docs/sgd.md)")->required();
    add_output_options(sub, o->out);
    sub->add_option("--sweep-eta", o->sweep, "Learning rates for the stationary-variance sweep (overrides sgd.sweep_eta)")
        ->delimiter(',');
    sub->footer("Example: fpsolve sgd data/scenarios/sgd-diabetes.toml -o sgd.h5 --sweep-eta 0.4,0.2,0.1,0.05");
    return {sub, [o] { return sgd_command(*o); }};
}

}  // namespace fpsolve
