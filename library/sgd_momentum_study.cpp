// sgd_study() with sgd.momentum: heavy-ball SGD against the Fokker–Planck density of its kinetic SDE in phase space
// (sgd_momentum.hpp carries the equations; docs/sgd.md the scaling and the measurements).
//
//   config -> model -> Problem (momentum_problem, 2d axes (w, p)) -> FokkerPlanckOperator -> integrate to
//   t = k sqrt(eta), the heavy-ball chains advanced at each snapshot -> stationary comparisons -> eta sweep at
//   fixed gamma -> /sgd in the file
#include <cstdio>

#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "library_support.hpp"
#include "sgd_study_parts.hpp"
#include "study_support.hpp"

namespace fpsolve {

namespace {

using Fourth = std::function<Matrix2(const Matrix2&)>;
using sgd_parts::stationary_density;

// What the stages share.
struct Context {
    const SgdSettings& settings;
    std::shared_ptr<const SgdModel> model;
    HeavyBall hb;
    int d = 1;
    Matrix2 sigma = Matrix2::Zero();  // Sigma(w*) (per example)
    Fourth k_map;                     // K(C) for linear regression, else none
};

// The densities of the stationary comparison, for the file.
struct PhaseDensities {
    Eigen::VectorXd fp, sgd_histogram, gibbs, lyapunov;
    Eigen::MatrixXd lyapunov_covariance, sde_covariance, exact_covariance;
    double gibbs_temperature = 0.0;
};

Eigen::VectorXd phase_minimum(const SgdStudyResult& r, int d) {
    Eigen::VectorXd z = Eigen::VectorXd::Zero(2 * d);
    z.head(d) = r.minimum.head(d);
    return z;
}

std::vector<double> flat(const Eigen::MatrixXd& m) {
    std::vector<double> v;
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) v.push_back(m(i, j));
    return v;
}

// beta = 1 - gamma sqrt(eta) at the configured gamma; refuses rates without a stationary heavy ball, before a file.
HeavyBall sweep_point(const Context& x, const SgdStudyResult& r, double eta) {
    const double gamma = x.hb.friction();
    const HeavyBall h{eta, 1.0 - gamma * std::sqrt(eta)};
    char msg[320];
    if (!(h.beta >= 0.0)) {
        std::snprintf(msg, sizeof msg,
                      "--sweep-eta %g: with momentum the sweep keeps gamma = (1 - beta)/sqrt(eta) = %g fixed, so "
                      "beta = 1 - gamma sqrt(eta) >= 0 needs eta <= 1/gamma^2 = %g",
                      eta, gamma, 1.0 / (gamma * gamma));
        throw InputError(msg);
    }
    const Eigen::MatrixXd ref =
        momentum_stationary_covariance(r.hessian, x.sigma, x.d, h, r.batch, x.k_map, r.linear);
    if (momentum_second_moment_contraction(r.hessian, x.d, h, r.batch, x.k_map) >= 1.0 ||
        !(ref.diagonal().minCoeff() > 0.0)) {
        std::snprintf(msg, sizeof msg,
                      "--sweep-eta %g: heavy ball (beta = %g) has no stationary covariance at this rate (eta too "
                      "large for the curvature)",
                      eta, h.beta);
        throw InputError(msg);
    }
    return h;
}

// Gibbs exp(-(L(w) + |p|^2/2)/T) at the cell centres, mass 1: the stationary density for a frozen isotropic noise.
Eigen::VectorXd phase_gibbs(const Grid& g, const SgdModel& model, int d, double temperature) {
    Eigen::VectorXd e(g.size());
    for (Index c = 0; c < g.size(); ++c) {
        const Point x = g.centre_of(c);
        double kinetic = 0.0;
        for (int a = d; a < 2 * d; ++a) kinetic += 0.5 * x[a] * x[a];
        e[c] = cached_statistics(model, Vector2(x[0], d == 2 ? x[1] : 0.0)).loss + kinetic;
    }
    Eigen::VectorXd p = (-(e.array() - e.minCoeff()) / temperature).exp().matrix();
    return p / (p.sum() * g.cell_volume());
}

void compare_stationary(const Context& x, const FokkerPlanckOperator& op, const SgdChains& chains,
                        const Eigen::VectorXd& p_last, PhaseDensities& dn, SgdStudyResult& r, SgdMomentumResult& m) {
    const Grid& g = op.grid();
    dn.fp = stationary_density(op);
    const Eigen::MatrixXd z = chains.phase_space();
    const Histogram h_end = phase_histogram(g, z);
    dn.sgd_histogram = h_end.density;
    dn.gibbs_temperature = m.temperatures.mean();
    dn.gibbs = phase_gibbs(g, *x.model, x.d, dn.gibbs_temperature);
    dn.lyapunov_covariance = momentum_stationary_covariance(r.hessian, x.sigma, x.d, x.hb, r.batch);
    const Eigen::VectorXd centre = phase_minimum(r, x.d);
    dn.lyapunov = phase_gaussian_density(g, centre, dn.lyapunov_covariance);
    auto& rows = m.stationary;
    rows.push_back({"heavy-ball iterates, k = " + std::to_string(m.evolution.back().step), std::nan(""),
                    phase_sample_moments(z)});
    rows.push_back({"Fokker-Planck stationary (grid)", l1_distance(g, h_end, dn.fp), phase_density_moments(g, dn.fp)});
    rows.push_back({"Fokker-Planck at t_end (grid)", l1_distance(g, h_end, p_last), phase_density_moments(g, p_last)});
    rows.push_back({"Gibbs exp(-(L + |p|^2/2)/T)", l1_distance(g, h_end, dn.gibbs),
                    phase_density_moments(g, dn.gibbs)});
    rows.push_back({"Lyapunov Gaussian at (w*, 0)", l1_distance(g, h_end, dn.lyapunov),
                    {centre, dn.lyapunov_covariance}});
    if (r.linear) {
        dn.sde_covariance = momentum_stationary_covariance(r.hessian, x.sigma, x.d, x.hb, r.batch, x.k_map, false);
        dn.exact_covariance = momentum_stationary_covariance(r.hessian, x.sigma, x.d, x.hb, r.batch, x.k_map, true);
        rows.push_back({"SDE moments, closed form", std::nan(""), {centre, dn.sde_covariance}});
        rows.push_back({"exact heavy-ball moments, closed form", std::nan(""), {centre, dn.exact_covariance}});
    }
    m.stationary_floor = l1_floor(g, dn.fp, r.chains);
    m.fp_end_to_stationary = (p_last - dn.fp).cwiseAbs().sum() * g.cell_volume();
    m.stationary_min_relative = dn.fp.minCoeff() / dn.fp.maxCoeff();
}

// Standard error of the trace of a block of the sample covariance: sd of |z_block - mean|^2 over sqrt(N).
double trace_standard_error(const Eigen::MatrixXd& z, const Eigen::VectorXd& mean, Eigen::Index first, Eigen::Index n) {
    const Eigen::VectorXd sq =
        (z.middleCols(first, n).rowwise() - mean.segment(first, n).transpose()).rowwise().squaredNorm();
    return std::sqrt((sq.array() - sq.mean()).square().sum() / static_cast<double>(sq.size() - 1) /
                     static_cast<double>(sq.size()));
}

// One eta at fixed gamma: chains from (w*, 0) to stationarity, the FP steady state on a fitted grid, closed forms.
SgdMomentumSweepRow sweep_row(const Context& x, const Grid& g, double eta, const SgdStudyResult& r,
                              const InitialDensity& init) {
    const HeavyBall h = sweep_point(x, r, eta);
    const int d = x.d;
    SgdMomentumSweepRow row;
    row.eta = eta;
    row.beta = h.beta;
    row.lyapunov = momentum_stationary_covariance(r.hessian, x.sigma, d, h, r.batch);
    if (r.linear) {
        row.sde = momentum_stationary_covariance(r.hessian, x.sigma, d, h, r.batch, x.k_map, false);
        row.exact = momentum_stationary_covariance(r.hessian, x.sigma, d, h, r.batch, x.k_map, true);
    }
    const Eigen::MatrixXd& ref = r.linear ? row.exact : row.lyapunov;
    const Eigen::VectorXd centre = phase_minimum(r, d);
    Grid gs = g;  // the same cells, fitted to +-7 standard deviations of this eta
    for (int a = 0; a < 2 * d; ++a) {
        const double half = 7.0 * std::sqrt(ref(a, a));
        gs.lower[a] = centre[a] - half;
        gs.upper[a] = centre[a] + half;
    }
    const FokkerPlanckOperator ops(momentum_problem(x.model, gs, h, r.batch, init));
    const Eigen::VectorXd fp = stationary_density(ops);
    row.fp = phase_density_moments(gs, fp).covariance;
    const SgdSettings& st = x.settings;
    ChainSettings cs{Vector2(eta, eta), r.batch, st.seed, st.sweep_chains > 0 ? st.sweep_chains : st.chains,
                     st.threads, r.minimum, 0.0, h.beta, d, Vector2::Zero(), 0.0};
    SgdChains ch(*x.model, cs);
    // Long enough for the transient of the covariance (~ rho^k) to fall below 1e-4 of it.
    const double rho = momentum_second_moment_contraction(r.hessian, d, h, r.batch, x.k_map);
    row.steps = std::max(static_cast<long>(std::ceil(r.t_end / h.step_time())),
                         static_cast<long>(std::ceil(std::log(1e-4) / std::log(rho))));
    ch.advance(row.steps);
    const Eigen::MatrixXd z = ch.phase_space();
    const PhaseMoments mz = phase_sample_moments(z);
    row.sgd = mz.covariance;
    row.se_w = trace_standard_error(z, mz.mean, 0, d);
    row.se_p = trace_standard_error(z, mz.mean, d, d);
    row.l1 = l1_distance(gs, phase_histogram(gs, z), fp);
    row.floor = l1_floor(gs, fp, cs.chains);
    return row;
}

// /sgd for a momentum run: the plain layout's datasets over the phase space, and the momentum's own.
void write_group(SnapshotWriter& writer, const Context& x, const Grid& g, const std::vector<double>& histograms,
                 const PhaseDensities& dn, const SgdStudyResult& r, const SgdMomentumResult& m) {
    const auto d = static_cast<std::size_t>(x.d), nz = 2 * d;
    auto put = [&](const std::string& path, std::vector<std::size_t> shape, const std::vector<double>& v) {
        writer.write_array("/sgd/" + path, shape, v.data());
    };
    std::vector<std::size_t> cells, w_cells;
    for (int a = 0; a < g.dims; ++a) cells.push_back(static_cast<std::size_t>(g.cells[a]));
    w_cells.assign(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(d));
    auto put_cells = [&](const std::string& path, const Eigen::VectorXd& v) {
        writer.write_array("/sgd/" + path, cells, v.data());
    };
    auto with = [](std::vector<std::size_t> shape, std::initializer_list<std::size_t> tail) {
        shape.insert(shape.end(), tail);
        return shape;
    };
    const std::size_t ns = m.evolution.size();
    std::vector<double> steps, time, l1, floors, outside, mean_fp, mean_sgd, cov_fp, cov_sgd;
    for (const SgdPhaseSnapshot& e : m.evolution) {
        steps.push_back(static_cast<double>(e.step));
        time.push_back(e.time);
        l1.push_back(e.l1);
        floors.push_back(e.floor);
        outside.push_back(e.outside);
        for (std::size_t a = 0; a < nz; ++a) {
            mean_fp.push_back(e.fp.mean[static_cast<Eigen::Index>(a)]);
            mean_sgd.push_back(e.sgd.mean[static_cast<Eigen::Index>(a)]);
        }
        for (double v : flat(e.fp.covariance)) cov_fp.push_back(v);
        for (double v : flat(e.sgd.covariance)) cov_sgd.push_back(v);
    }
    put("steps", {ns}, steps);
    put("time", {ns}, time);
    std::vector<std::size_t> histogram_shape{ns};
    histogram_shape.insert(histogram_shape.end(), cells.begin(), cells.end());
    put("histogram", histogram_shape, histograms);
    put("l1", {ns}, l1);
    put("l1_floor", {ns}, floors);
    put("outside", {ns}, outside);
    put("mean_fp", {ns, nz}, mean_fp);
    put("mean_sgd", {ns, nz}, mean_sgd);
    put("covariance_fp", {ns, nz, nz}, cov_fp);
    put("covariance_sgd", {ns, nz, nz}, cov_sgd);
    {  // L, g and Sigma/b at the centres of the parameter axes' cells
        Grid gw;
        gw.dims = x.d;
        for (int a = 0; a < x.d; ++a) {
            gw.lower[a] = g.lower[a];
            gw.upper[a] = g.upper[a];
            gw.cells[a] = g.cells[a];
        }
        std::vector<double> loss, grad, noise;
        for (Index c = 0; c < gw.size(); ++c) {
            const Point w = gw.centre_of(c);
            const auto st = x.model->at(Vector2(w[0], x.d == 2 ? w[1] : 0.0));
            loss.push_back(st.loss);
            for (int a = 0; a < x.d; ++a) grad.push_back(st.gradient[a]);
            for (double v : flat(st.covariance.topLeftCorner(x.d, x.d) / static_cast<double>(r.batch)))
                noise.push_back(v);
        }
        put("loss", w_cells, loss);
        put("gradient", with(w_cells, {d}), grad);
        put("noise", with(w_cells, {d, d}), noise);
    }
    put("minimum", {d}, flat(r.minimum.head(x.d)));
    put("hessian", {d, d}, flat(r.hessian.topLeftCorner(x.d, x.d)));
    put("noise_at_minimum", {d, d}, flat(r.noise_at_minimum.topLeftCorner(x.d, x.d)));
    put("temperatures", {d}, flat(m.temperatures));
    put_cells("stationary/fp_density", dn.fp);
    put_cells("stationary/sgd_histogram", dn.sgd_histogram);
    put_cells("stationary/gibbs_density", dn.gibbs);
    put_cells("stationary/lyapunov_density", dn.lyapunov);
    put("stationary/lyapunov_covariance", {nz, nz}, flat(dn.lyapunov_covariance));
    if (r.linear) {
        put("stationary/sde_covariance", {nz, nz}, flat(dn.sde_covariance));
        put("stationary/sgd_covariance_exact", {nz, nz}, flat(dn.exact_covariance));
    }
    {
        std::vector<double> l1v;
        std::string row_names;
        for (const auto& c : m.stationary) {
            l1v.push_back(c.l1);
            row_names += (row_names.empty() ? "" : "; ") + c.name;
        }
        put("stationary/l1", {l1v.size()}, l1v);
        writer.write_attribute("/sgd/stationary", "l1_rows", row_names);
        writer.write_attribute("/sgd/stationary", "l1_floor", m.stationary_floor);
        writer.write_attribute("/sgd/stationary", "gibbs_temperature", dn.gibbs_temperature);
        writer.write_attribute("/sgd/stationary", "fp_min_relative", m.stationary_min_relative);
    }
    if (!m.sweep.empty()) {
        const std::size_t nw = m.sweep.size();
        std::vector<double> eta, beta, sl1, sfloor, ssteps;
        for (const auto& row : m.sweep) {
            eta.push_back(row.eta);
            beta.push_back(row.beta);
            sl1.push_back(row.l1);
            sfloor.push_back(row.floor);
            ssteps.push_back(static_cast<double>(row.steps));
        }
        put("sweep/eta", {nw}, eta);
        put("sweep/momentum", {nw}, beta);
        put("sweep/steps", {nw}, ssteps);
        put("sweep/l1", {nw}, sl1);
        put("sweep/l1_floor", {nw}, sfloor);
        auto put_matrices = [&](const std::string& path, Eigen::MatrixXd SgdMomentumSweepRow::*member) {
            std::vector<double> v;
            for (const auto& row : m.sweep)
                for (double e : flat(row.*member)) v.push_back(e);
            put(path, {nw, nz, nz}, v);
        };
        put_matrices("sweep/covariance_sgd", &SgdMomentumSweepRow::sgd);
        put_matrices("sweep/covariance_fp", &SgdMomentumSweepRow::fp);
        put_matrices("sweep/covariance_lyapunov", &SgdMomentumSweepRow::lyapunov);
        if (r.linear) {
            put_matrices("sweep/covariance_sde", &SgdMomentumSweepRow::sde);
            put_matrices("sweep/covariance_sgd_exact", &SgdMomentumSweepRow::exact);
        }
    }
    std::string names, axes;
    for (int a = 0; a < x.d; ++a) names += (a ? "," : "") + r.parameters[static_cast<std::size_t>(a)];
    for (const auto& v : m.axes) axes += (axes.empty() ? "" : ",") + v;
    writer.write_attribute("/sgd", "model", r.model);
    writer.write_attribute("/sgd", "parameters", names);
    writer.write_attribute("/sgd", "phase_space", axes + " (parameters, then p = v/sqrt(eta))");
    writer.write_attribute("/sgd", "batch_size", static_cast<double>(r.batch));
    writer.write_attribute("/sgd", "chains", static_cast<double>(r.chains));
    writer.write_attribute("/sgd", "seed", static_cast<double>(r.seed));
    writer.write_attribute("/sgd", "learning_rate", m.eta);
    writer.write_attribute("/sgd", "momentum", m.beta);
    writer.write_attribute("/sgd", "friction", m.friction);
    writer.write_attribute("/sgd", "step_time", m.step_time);
}

}  // namespace

SgdStudyResult momentum_study(const SgdStudyOptions& o, const ParsedConfig& c, const SgdSettings& st,
                              std::shared_ptr<const SgdModel> model) {
    const Grid& g = c.problem.grid;
    SgdStudyResult r;
    r.output = study_output_path(c, o.output, o.force);
    Context x{st, model, HeavyBall{st.rates[0], st.momentum}, model->parameters(), Matrix2::Zero(), nullptr};
    const int d = x.d;

    // The settings and the minimum with its local quadratic picture.
    r.title = c.title;
    r.model = model->description();
    r.parameters = model->parameter_names();
    r.linear = model->kind() == ModelKind::linear;
    r.rates = st.rates;
    r.batch = st.batch;
    r.steps = st.steps;
    r.chains = st.chains;
    r.seed = st.seed;
    r.minimum = model->minimum();
    const SgdModel::Statistics at_star = model->at(r.minimum);
    x.sigma = at_star.covariance;
    r.loss_at_minimum = at_star.loss;
    r.hessian = model->hessian(r.minimum);
    r.noise_at_minimum = at_star.covariance / static_cast<double>(st.batch);
    if (r.linear) x.k_map = [model](const Matrix2& cv) { return model->fourth_moment(cv); };
    r.eta_bar = x.hb.eta;
    r.t_end = static_cast<double>(st.steps) * x.hb.step_time();
    SgdMomentumResult m;
    m.eta = x.hb.eta;
    m.beta = x.hb.beta;
    m.friction = x.hb.friction();
    m.step_time = x.hb.step_time();
    m.parameters = d;
    for (int a = 0; a < g.dims; ++a) m.axes.push_back(g.variables[static_cast<std::size_t>(a)]);
    m.temperatures = r.noise_at_minimum.diagonal().head(d) * x.hb.step_time() / (2.0 * m.friction);

    // The FP problem; the chains start where the FP density starts.
    InitialDensity init;
    Eigen::VectorXd mean(2 * d), var(2 * d);
    for (int a = 0; a < d; ++a) {
        mean[a] = st.start[a];
        mean[d + a] = st.start_velocity[a];
        var[a] = st.start_sd * st.start_sd;
        var[d + a] = st.start_velocity_sd * st.start_velocity_sd;
    }
    init.gaussian = GaussianDensity{mean, var.asDiagonal()};
    init.where = "sgd.start";
    const Problem pb = momentum_problem(model, g, x.hb, st.batch, init);
    check_noise(pb, "model (Sigma(w) on the grid)");
    const FokkerPlanckOperator op(pb);

    // Snapshot times t_j = k_j sqrt(eta).
    const std::vector<long> steps = sgd_parts::snapshot_steps(st.steps, st.snapshots);
    TimeSettings ts = c.time;
    ts.times.clear();
    for (long k : steps) ts.times.push_back(static_cast<double>(k) * m.step_time);
    ts = resolve(ts, op);

    for (double eta : st.sweep) sweep_point(x, r, eta);  // refuse bad rates before the file exists
    warn(r.warnings, o.on_warning, sgd_parts::correlation_warning(op.cross_monotonicity_ratio()));
    const ChainSettings cs{st.rates, st.batch, st.seed, st.chains, st.threads, st.start, st.start_sd,
                           st.momentum, d, st.start_velocity, st.start_velocity_sd};
    SgdChains chains(*model, cs);
    const DiagnosticsCalculator diagnostics(op, std::nullopt);
    SnapshotWriter writer(r.output, g, {c.text, program_version}, false, std::nullopt);

    std::vector<double> histograms;
    State p = initial_state(g, pb.initial);
    State p_last;
    auto observe = [&](const State& s, double t) {
        if (!s.allFinite()) throw RunError("the density became non-finite by t = " + std::to_string(t));
        writer.append(t, s, diagnostics(s, t));
        SgdPhaseSnapshot e;
        e.step = steps[m.evolution.size()];
        e.time = t;
        chains.advance(e.step - chains.steps_done());
        const Eigen::MatrixXd z = chains.phase_space();
        const Histogram h = phase_histogram(g, z);
        histograms.insert(histograms.end(), h.density.data(), h.density.data() + g.size());
        e.l1 = l1_distance(g, h, s);
        e.floor = l1_floor(g, s, st.chains);
        e.outside = h.outside;
        e.fp = phase_density_moments(g, s);
        e.sgd = phase_sample_moments(z);
        m.evolution.push_back(e);
        p_last = s;
        if (o.on_progress) o.on_progress(t, ts.times.back());
    };
    if (!integrate_into_file(writer, op, p, ts, observe, o.interrupt)) {
        r.status = "interrupted";
        r.momentum = std::move(m);
        return r;
    }

    PhaseDensities dn;
    compare_stationary(x, op, chains, p_last, dn, r, m);
    for (double eta : st.sweep) m.sweep.push_back(sweep_row(x, g, eta, r, init));
    write_group(writer, x, g, histograms, dn, r, m);
    writer.set_status("complete");
    r.status = "complete";
    r.momentum = std::move(m);
    return r;
}

}  // namespace fpsolve
