// sgd_study(): the FP density of the SGD SDE against SGD chains (sgd_study.hpp carries the equations).
//
//   config -> model (data) -> Problem (sgd_problem) -> FokkerPlanckOperator -> integrate, the chains advanced at
//   each snapshot -> stationary comparisons -> per-parameter rates -> eta sweep -> /sgd in the file
// With sgd.momentum the same stages run in phase space (sgd_momentum_study.cpp).
#include "sgd_study.hpp"

#include <Eigen/SparseLU>
#include <cstdio>
#include <memory>

#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "library_support.hpp"
#include "sgd_config.hpp"
#include "sgd_study_parts.hpp"
#include "study_support.hpp"

namespace fpsolve {

namespace sgd_parts {

Eigen::VectorXd stationary_density(const FokkerPlanckOperator& op) {
    const Eigen::SparseMatrix<double> a = op.matrix(0.0);
    const Index n = a.rows();
    std::vector<Eigen::Triplet<double>> t;
    for (Index k = 0; k < a.outerSize(); ++k)
        for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
            if (it.row() != n - 1) t.emplace_back(it.row(), it.col(), it.value());
    const double v = op.grid().cell_volume();
    for (Index c = 0; c < n; ++c) t.emplace_back(n - 1, c, v);
    Eigen::SparseMatrix<double> m(n, n);
    m.setFromTriplets(t.begin(), t.end());
    Eigen::SparseLU<Eigen::SparseMatrix<double>> lu(m);
    if (lu.info() != Eigen::Success) throw RunError("the stationary solve failed (singular generator)");
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n);
    rhs[n - 1] = 1.0;
    Eigen::VectorXd p = lu.solve(rhs);
    if (!p.allFinite()) throw RunError("the stationary solve failed (non-finite density)");
    return p;
}

std::string correlation_warning(double ratio) {
    if (!(ratio > 1.0)) return "";
    char msg[240];
    std::snprintf(msg, sizeof msg,
                  "the gradient noise is too correlated for the 9-point stencil on this grid (ratio %.3g > 1); "
                  "densities may dip below 0: choose h_y/h_x nearer sqrt(D_yy/D_xx)",
                  ratio);
    return msg;
}

std::vector<long> snapshot_steps(long steps, int snapshots) {
    std::vector<long> out;
    for (int j = 0; j < snapshots; ++j) {
        const long k = static_cast<long>(std::llround(static_cast<double>(steps) * j / (snapshots - 1)));
        if (out.empty() || k > out.back()) out.push_back(k);
    }
    return out;
}

}  // namespace sgd_parts

namespace {

using sgd_parts::correlation_warning;
using sgd_parts::snapshot_steps;
using sgd_parts::stationary_density;

// Gibbs p ∝ exp(-2 L / T) at cell centres, mass 1.
Eigen::VectorXd gibbs_density(const Grid& g, const Eigen::VectorXd& loss, double temperature) {
    Eigen::VectorXd p = (-2.0 * (loss.array() - loss.minCoeff()) / temperature).exp().matrix();
    return p / (p.sum() * g.cell_volume());
}

// Per-parameter rates eta_a = eta' / sigma_a^2 (sigma_a^2 = Sigma_aa(Phi*)/b).
Vector2 gibbs_rates(double eta_prime, const Matrix2& sigma_b) {
    return Vector2(eta_prime / sigma_b(0, 0), eta_prime / sigma_b(1, 1));
}

std::vector<double> flat(const Matrix2& m) { return {m(0, 0), m(0, 1), m(1, 0), m(1, 1)}; }

using Fourth = std::function<Matrix2(const Matrix2&)>;

// What the stages share: the model near its minimum and the configured chains.
struct Setup {
    ParsedConfig config;
    SgdSettings settings;
    std::shared_ptr<const SgdModel> model;
    SgdModel::Statistics at_star;
    Fourth k_map;  // K(C) for linear regression (the second moments close), else none
    InitialDensity init;
    ChainSettings chains;
};

// The densities the stationary comparison produces, for the file.
struct StationaryDensities {
    Eigen::VectorXd loss, fp, sgd_histogram, gibbs, lyapunov, per_parameter_fp, per_parameter_gibbs;
    Matrix2 lyapunov_covariance = Matrix2::Zero();
    Matrix2 sde_covariance = Matrix2::Zero(), sgd_covariance_exact = Matrix2::Zero();  // linear regression
};

void check_sweep(const Setup& s, const SgdStudyResult& r) {
    const Vector2 shape = r.rates / r.eta_bar;
    for (double eta : s.settings.sweep) {  // refuse unstable rates before a file is written
        const Matrix2 ref = stationary_covariance(r.hessian, s.at_star.covariance, eta * shape, r.batch, s.k_map,
                                                  r.linear);
        if (!(ref.determinant() > 0.0) || !(ref(0, 0) > 0.0) ||
            second_moment_contraction(r.hessian, eta * shape, r.batch, s.k_map) >= 1.0)
            throw InputError("--sweep-eta " + std::to_string(eta) + ": SGD has no stationary covariance at this rate "
                             "(eta too large for the curvature)");
    }
}

// Stationarity: the FP steady state, the last SGD iterates, the two approximations.
void compare_stationary(const Setup& s, const FokkerPlanckOperator& op, const SgdChains& chains,
                        const Eigen::VectorXd& p_last, StationaryDensities& d, SgdStudyResult& r) {
    const Grid& g = op.grid();
    d.loss = potential_at_centres(op.problem());
    d.fp = stationary_density(op);
    const Histogram h_end = histogram(g, chains.positions());
    d.sgd_histogram = h_end.density;
    d.gibbs = gibbs_density(g, d.loss, r.gibbs_temperature);
    d.lyapunov_covariance = stationary_covariance(r.hessian, s.at_star.covariance, r.rates, r.batch);
    d.lyapunov = gaussian_density(g, r.minimum, d.lyapunov_covariance);
    auto& rows = r.stationary;
    rows.push_back({"SGD iterates, k = " + std::to_string(r.evolution.back().step), std::nan(""),
                    sample_moments(chains.positions())});
    rows.push_back({"Fokker-Planck stationary (grid)", l1_distance(g, h_end, d.fp), density_moments(g, d.fp)});
    rows.push_back({"Fokker-Planck at t_end (grid)", l1_distance(g, h_end, p_last), density_moments(g, p_last)});
    rows.push_back({"Gibbs exp(-2L/(eta s)), isotropic", l1_distance(g, h_end, d.gibbs), density_moments(g, d.gibbs)});
    rows.push_back({"Lyapunov Gaussian at Phi*", l1_distance(g, h_end, d.lyapunov), {r.minimum, d.lyapunov_covariance}});
    if (r.linear) {
        d.sde_covariance = stationary_covariance(r.hessian, s.at_star.covariance, r.rates, r.batch, s.k_map, false);
        d.sgd_covariance_exact =
            stationary_covariance(r.hessian, s.at_star.covariance, r.rates, r.batch, s.k_map, true);
        rows.push_back({"SDE moments, closed form", std::nan(""), {r.minimum, d.sde_covariance}});
        rows.push_back({"exact SGD moments, closed form", std::nan(""), {r.minimum, d.sgd_covariance_exact}});
    }
    r.stationary_floor = l1_floor(g, d.fp, r.chains);
    r.fp_end_to_stationary = (p_last - d.fp).cwiseAbs().sum() * g.cell_volume();
}

// Per-parameter rates eta_a = eta'/sigma_a^2, eta' = the isotropic temperature: Gibbs exp(-2L/eta')?
SgdPerParameter per_parameter_rates(const Setup& s, const Grid& g, StationaryDensities& d, const SgdStudyResult& r) {
    SgdPerParameter pp;
    pp.rates = gibbs_rates(r.gibbs_temperature, r.noise_at_minimum);
    const Problem pb2 = sgd_problem(s.model, g, pp.rates, r.batch, s.init);
    const FokkerPlanckOperator op2(pb2);
    d.per_parameter_fp = stationary_density(op2);
    d.per_parameter_gibbs = gibbs_density(g, d.loss, r.gibbs_temperature);
    pp.steps = static_cast<long>(std::ceil(static_cast<double>(r.steps) * r.eta_bar / pb2.eta_bar()));
    ChainSettings cs2 = s.chains;
    cs2.rates = pp.rates;
    SgdChains ch2(*s.model, cs2);
    ch2.advance(pp.steps);
    const Histogram h2 = histogram(g, ch2.positions());
    pp.fp_to_gibbs = (d.per_parameter_fp - d.per_parameter_gibbs).cwiseAbs().sum() * g.cell_volume();
    pp.scalar_fp_to_gibbs = (d.fp - d.gibbs).cwiseAbs().sum() * g.cell_volume();
    pp.sgd_to_gibbs = l1_distance(g, h2, d.per_parameter_gibbs);
    pp.sgd_to_fp = l1_distance(g, h2, d.per_parameter_fp);
    pp.floor = l1_floor(g, d.per_parameter_fp, r.chains);
    pp.fp = density_moments(g, d.per_parameter_fp);
    pp.sgd = sample_moments(ch2.positions());
    pp.gibbs = density_moments(g, d.per_parameter_gibbs);
    return pp;
}

// The eta sweep: stationary covariance of SGD chains, the FP grid, and the closed forms.
SgdSweepRow sweep_row(const Setup& s, const Grid& g, double eta, const SgdStudyResult& r) {
    SgdSweepRow row;
    row.eta = eta;
    const Vector2 rates = eta * (r.rates / r.eta_bar);
    const Matrix2& sigma = s.at_star.covariance;
    row.lyapunov = stationary_covariance(r.hessian, sigma, rates, r.batch);
    if (r.linear) {
        row.sde = stationary_covariance(r.hessian, sigma, rates, r.batch, s.k_map, false);
        row.exact = stationary_covariance(r.hessian, sigma, rates, r.batch, s.k_map, true);
    }
    const Matrix2 ref = r.linear ? row.exact : row.lyapunov;
    Grid gs = g;  // the same cells, fitted to +-7 standard deviations of this eta
    for (int a = 0; a < 2; ++a) {
        const double half = 7.0 * std::sqrt(ref(a, a));
        gs.lower[a] = r.minimum[a] - half;
        gs.upper[a] = r.minimum[a] + half;
    }
    const FokkerPlanckOperator ops(sgd_problem(s.model, gs, rates, r.batch, s.init));
    row.fp = density_moments(gs, stationary_density(ops)).covariance;
    ChainSettings c3 = s.chains;
    c3.rates = rates;
    c3.start = r.minimum;
    c3.start_sd = 0.0;
    c3.chains = s.settings.sweep_chains > 0 ? s.settings.sweep_chains : s.settings.chains;
    SgdChains ch3(*s.model, c3);
    // Long enough for the transient of the covariance (~ rho^k) to fall below 1e-4 of it.
    const double rho = second_moment_contraction(r.hessian, rates, r.batch, s.k_map);
    row.steps = std::max(static_cast<long>(std::ceil(r.t_end / eta)),
                         static_cast<long>(std::ceil(std::log(1e-4) / std::log(rho))));
    ch3.advance(row.steps);
    const SampleMoments m3 = sample_moments(ch3.positions());
    row.sgd = m3.covariance;
    // Standard error of the trace: the sample standard deviation of |Phi - mean|^2 over sqrt(N).
    const Eigen::VectorXd sq = (ch3.positions().rowwise() - m3.mean.transpose()).rowwise().squaredNorm();
    row.se_trace = std::sqrt((sq.array() - sq.mean()).square().sum() / static_cast<double>(sq.size() - 1) /
                             static_cast<double>(sq.size()));
    return row;
}

// The evolution's histograms, the loss, gradient and noise on the grid, and the comparisons: /sgd/...
void write_sgd_group(SnapshotWriter& writer, const Setup& s, const Grid& g, const std::vector<double>& histograms,
                     const StationaryDensities& d, const SgdStudyResult& r) {
    auto put = [&](const std::string& path, std::vector<std::size_t> shape, const std::vector<double>& v) {
        writer.write_array("/sgd/" + path, shape, v.data());
    };
    const auto c0 = static_cast<std::size_t>(g.cells[0]), c1 = static_cast<std::size_t>(g.cells[1]);
    auto put_cells = [&](const std::string& path, const Eigen::VectorXd& v) {
        writer.write_array("/sgd/" + path, {c0, c1}, v.data());
    };
    auto put_matrices = [&](const std::string& path, const auto& rows, auto member) {
        std::vector<double> v;
        for (const auto& x : rows)
            for (double e : flat(member(x))) v.push_back(e);
        put(path, {rows.size(), 2, 2}, v);
    };
    const std::size_t ns = r.evolution.size();
    std::vector<double> steps, time, l1, floors, outside, mean_fp, mean_sgd;
    for (const SgdSnapshot& e : r.evolution) {
        steps.push_back(static_cast<double>(e.step));
        time.push_back(e.time);
        l1.push_back(e.l1);
        floors.push_back(e.floor);
        outside.push_back(e.outside);
        for (int a = 0; a < 2; ++a) {
            mean_fp.push_back(e.fp.mean[a]);
            mean_sgd.push_back(e.sgd.mean[a]);
        }
    }
    put("steps", {ns}, steps);
    put("time", {ns}, time);
    put("histogram", {ns, c0, c1}, histograms);
    put("l1", {ns}, l1);
    put("l1_floor", {ns}, floors);
    put("outside", {ns}, outside);
    put("mean_fp", {ns, 2}, mean_fp);
    put("mean_sgd", {ns, 2}, mean_sgd);
    put_matrices("covariance_fp", r.evolution, [](const SgdSnapshot& e) { return e.fp.covariance; });
    put_matrices("covariance_sgd", r.evolution, [](const SgdSnapshot& e) { return e.sgd.covariance; });
    put_cells("loss", d.loss);
    {
        std::vector<double> grad, noise;
        for (Index cell = 0; cell < g.size(); ++cell) {
            const Point x = g.centre_of(cell);
            const auto st = s.model->at(Vector2(x[0], x[1]));
            grad.push_back(st.gradient[0]);
            grad.push_back(st.gradient[1]);
            for (double v : flat(st.covariance / static_cast<double>(r.batch))) noise.push_back(v);
        }
        put("gradient", {c0, c1, 2}, grad);
        put("noise", {c0, c1, 2, 2}, noise);
    }
    put("minimum", {2}, {r.minimum[0], r.minimum[1]});
    put("hessian", {2, 2}, flat(r.hessian));
    put("noise_at_minimum", {2, 2}, flat(r.noise_at_minimum));
    put("temperatures", {2}, {r.temperatures[0], r.temperatures[1]});
    put_cells("stationary/fp_density", d.fp);
    put_cells("stationary/sgd_histogram", d.sgd_histogram);
    put_cells("stationary/gibbs_density", d.gibbs);
    put_cells("stationary/lyapunov_density", d.lyapunov);
    put("stationary/lyapunov_covariance", {2, 2}, flat(d.lyapunov_covariance));
    if (r.linear) {
        put("stationary/sde_covariance", {2, 2}, flat(d.sde_covariance));
        put("stationary/sgd_covariance_exact", {2, 2}, flat(d.sgd_covariance_exact));
    }
    {
        std::vector<double> l1v;
        for (const auto& c : r.stationary) l1v.push_back(c.l1);
        put("stationary/l1", {l1v.size()}, l1v);
        std::string row_names;
        for (const auto& c : r.stationary) row_names += (row_names.empty() ? "" : "; ") + c.name;
        writer.write_attribute("/sgd/stationary", "l1_rows", row_names);
        writer.write_attribute("/sgd/stationary", "l1_floor", r.stationary_floor);
        writer.write_attribute("/sgd/stationary", "gibbs_temperature", r.gibbs_temperature);
    }
    if (const auto& pp = r.per_parameter) {
        put("per_parameter/learning_rate", {2}, {pp->rates[0], pp->rates[1]});
        put_cells("per_parameter/fp_density", d.per_parameter_fp);
        put_cells("per_parameter/gibbs_density", d.per_parameter_gibbs);
        writer.write_attribute("/sgd/per_parameter", "eta_prime", r.gibbs_temperature);
        writer.write_attribute("/sgd/per_parameter", "l1_fp_to_gibbs", pp->fp_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_fp_to_gibbs_scalar_eta", pp->scalar_fp_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_sgd_to_gibbs", pp->sgd_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_sgd_to_fp", pp->sgd_to_fp);
        writer.write_attribute("/sgd/per_parameter", "l1_floor", pp->floor);
    }
    if (!r.sweep.empty()) {
        std::vector<double> etas;
        for (const auto& row : r.sweep) etas.push_back(row.eta);
        put("sweep/eta", {r.sweep.size()}, etas);
        put_matrices("sweep/covariance_sgd", r.sweep, [](const SgdSweepRow& x) { return x.sgd; });
        put_matrices("sweep/covariance_fp", r.sweep, [](const SgdSweepRow& x) { return x.fp; });
        put_matrices("sweep/covariance_lyapunov", r.sweep, [](const SgdSweepRow& x) { return x.lyapunov; });
        if (r.linear) {
            put_matrices("sweep/covariance_sde", r.sweep, [](const SgdSweepRow& x) { return x.sde; });
            put_matrices("sweep/covariance_sgd_exact", r.sweep, [](const SgdSweepRow& x) { return x.exact; });
        }
    }
    writer.write_attribute("/sgd", "model", r.model);
    writer.write_attribute("/sgd", "parameters", r.parameters[0] + "," + r.parameters[1]);
    writer.write_attribute("/sgd", "batch_size", static_cast<double>(r.batch));
    writer.write_attribute("/sgd", "chains", static_cast<double>(r.chains));
    writer.write_attribute("/sgd", "seed", static_cast<double>(r.seed));
    writer.write_attribute("/sgd", "learning_rate_0", r.rates[0]);
    writer.write_attribute("/sgd", "learning_rate_1", r.rates[1]);
    writer.write_attribute("/sgd", "eta_bar", r.eta_bar);
}

// The config, the settings with the command's sweep, and the model of the data, all checked.
Setup read_setup(const SgdStudyOptions& o) {
    Setup s;
    s.config = load_sgd_config(o.config, o.overrides);
    const ParsedConfig& c = s.config;
    std::string data_path;
    const ModelOptions mo = read_model(c, data_path);
    const int d = parameter_count(mo);
    s.settings = read_sgd(c, d);
    SgdSettings& st = s.settings;
    const bool momentum = st.momentum > 0.0;
    if (!o.sweep.empty()) st.sweep = o.sweep;
    for (double e : st.sweep)
        if (!(e > 0.0) || !std::isfinite(e)) throw InputError("--sweep-eta: learning rates must be positive");
    const Grid& g = c.problem.grid;
    if (momentum) {
        check_phase_space_grid(g, d);
    } else {
        if (d != 2)
            throw InputError("model.intercept: false leaves one parameter, and fpsolve sgd without momentum needs two "
                             "(with sgd.momentum its phase space (w, p) is 2-D)");
        if (g.dims != 2) throw InputError("grid: fpsolve sgd needs a 2-D grid (one axis per parameter)");
    }
    for (int a = 0; a < g.dims; ++a)
        if (g.boundary[a] != Boundary::reflecting)
            throw InputError("grid.boundary: fpsolve sgd needs reflecting walls (SGD mass stays on the grid)");
    if (st.start_sd == 0.0) st.start_sd = d == 2 ? std::max(g.spacing(0), g.spacing(1)) : g.spacing(0);
    if (momentum && st.start_velocity_sd == 0.0) st.start_velocity_sd = st.start_sd;
    s.model = std::make_shared<const SgdModel>(SgdModel::from_data(read_csv(data_path), mo));
    return s;
}

// The settings and the minimum with the local quadratic picture.
void describe(Setup& s, SgdStudyResult& r) {
    const SgdModel& model = *s.model;
    const SgdSettings& st = s.settings;
    r.title = s.config.title;
    r.model = model.description();
    r.parameters = model.parameter_names();
    r.linear = model.kind() == ModelKind::linear;
    r.rates = st.rates;
    r.batch = st.batch;
    r.steps = st.steps;
    r.chains = st.chains;
    r.seed = st.seed;
    r.minimum = model.minimum();
    s.at_star = model.at(r.minimum);
    r.loss_at_minimum = s.at_star.loss;
    r.hessian = model.hessian(r.minimum);
    r.noise_at_minimum = s.at_star.covariance / static_cast<double>(st.batch);
    if (r.linear) s.k_map = [model = s.model](const Matrix2& cv) { return model->fourth_moment(cv); };
    r.temperatures = Vector2(st.rates[0] * r.noise_at_minimum(0, 0), st.rates[1] * r.noise_at_minimum(1, 1));
    r.gibbs_temperature = 0.5 * (r.temperatures[0] + r.temperatures[1]);
}

SgdStudyResult study(const SgdStudyOptions& o) {
    Setup s = read_setup(o);
    if (s.settings.momentum > 0.0) return momentum_study(o, s.config, s.settings, s.model);
    const ParsedConfig& c = s.config;
    const SgdSettings& st = s.settings;
    const Grid& g = c.problem.grid;
    SgdStudyResult r;
    r.output = study_output_path(c, o.output, o.force);
    describe(s, r);

    // The FP problem with the configured rates; the chains start where the FP density starts.
    s.init.gaussian =
        GaussianDensity{Eigen::Vector2d(st.start), Eigen::Matrix2d::Identity() * st.start_sd * st.start_sd};
    s.init.where = "sgd.start";
    const Problem pb = sgd_problem(s.model, g, st.rates, st.batch, s.init);
    r.eta_bar = pb.eta_bar();
    r.t_end = static_cast<double>(st.steps) * r.eta_bar;
    check_noise(pb, "model (Sigma(Phi) on the grid)");
    const FokkerPlanckOperator op(pb);

    // Snapshot times t_j = k_j eta_bar.
    const std::vector<long> steps = snapshot_steps(st.steps, st.snapshots);
    TimeSettings ts = c.time;
    ts.times.clear();
    for (long k : steps) ts.times.push_back(static_cast<double>(k) * r.eta_bar);
    ts = resolve(ts, op);

    check_sweep(s, r);
    warn(r.warnings, o.on_warning, correlation_warning(op.cross_monotonicity_ratio()));
    s.chains = ChainSettings{st.rates, st.batch, st.seed, st.chains, st.threads, st.start,
                             st.start_sd, 0.0, 2, Vector2::Zero(), 0.0};  // no momentum, two parameters
    SgdChains chains(*s.model, s.chains);
    const DiagnosticsCalculator diagnostics(op, std::nullopt);
    SnapshotWriter writer(r.output, g, {c.text, program_version}, false, std::nullopt);

    std::vector<double> histograms;
    State p = initial_state(g, pb.initial);
    State p_last;
    auto observe = [&](const State& x, double t) {
        if (!x.allFinite()) throw RunError("the density became non-finite by t = " + std::to_string(t));
        writer.append(t, x, diagnostics(x, t));
        SgdSnapshot e;
        e.step = steps[r.evolution.size()];
        e.time = t;
        chains.advance(e.step - chains.steps_done());
        const Histogram h = histogram(g, chains.positions());
        histograms.insert(histograms.end(), h.density.data(), h.density.data() + g.size());
        e.l1 = l1_distance(g, h, x);
        e.floor = l1_floor(g, x, st.chains);
        e.outside = h.outside;
        e.fp = density_moments(g, x);
        e.sgd = sample_moments(chains.positions());
        r.evolution.push_back(e);
        p_last = x;
        if (o.on_progress) o.on_progress(t, ts.times.back());
    };
    if (!integrate_into_file(writer, op, p, ts, observe, o.interrupt)) {
        r.status = "interrupted";
        return r;
    }

    StationaryDensities d;
    compare_stationary(s, op, chains, p_last, d, r);
    if (st.per_parameter) r.per_parameter = per_parameter_rates(s, g, d, r);
    for (double eta : st.sweep) r.sweep.push_back(sweep_row(s, g, eta, r));
    write_sgd_group(writer, s, g, histograms, d, r);
    writer.set_status("complete");
    r.status = "complete";
    return r;
}

}  // namespace

SgdStudyResult sgd_study(const SgdStudyOptions& options) {
    return in_run_scope(0, [&] { return study(options); });
}

}  // namespace fpsolve
