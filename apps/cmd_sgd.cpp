// fpsolve sgd: SGD as an SDE (DESIGN §1.3), checked against real minibatch SGD on a real data set.
//
//   SGD      Phi <- Phi - Lambda ghat_B,           ghat_B the mean gradient of b examples drawn with replacement
//   SDE      dPhi = -P g dt + (eta_bar P (Sigma/b) P)^{1/2} dW   (Ito),   t = k eta_bar
//   FP       dp/dt = -div(-P g p - 1/2 D grad p) on [grid], L, g, Sigma exactly from the data (sgd_model.hpp)
//
// Shows: the FP density next to the histogram of many SGD chains at t = k eta_bar and at stationarity (L1 with its
// statistical floor, means, covariances); the two approximations a reader of the lecture would try (Gibbs
// exp(-2L/(eta s)) with an isotropic s, the Lyapunov Gaussian H C + C H = eta Sigma(Phi*)/b); the per-axis
// temperatures eta_a sigma_a^2 and the rates eta_a = eta'/sigma_a^2 meant to restore Gibbs; and (--sweep-eta) the
// stationary covariance against eta, where SGD and its SDE differ at O(eta).
//
//   fpsolve sgd data/scenarios/sgd-diabetes.toml -o sgd.h5 [--sweep-eta 0.4,0.2,0.1,0.05]
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <Eigen/SparseLU>

#include "common.hpp"
#include "diagnostics.hpp"
#include "initial_density.hpp"
#include "sgd_chains.hpp"
#include "sgd_model.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

struct SgdCommandOptions {
    std::string config;
    OutputOptions out;
    std::vector<double> sweep;
};

struct SgdSettings {
    Vector2 rates{0.1, 0.1};
    int batch = 1;
    long steps = 100;
    int snapshots = 11;
    Eigen::Index chains = 10000;
    std::uint64_t seed = 1;
    int threads = 1;
    Vector2 start = Vector2::Zero();
    double start_sd = 0.0;  // 0: one grid spacing
    bool per_parameter = true;
    std::vector<double> sweep;
    Eigen::Index sweep_chains = 0;  // 0: chains
};

// Reads one table and refuses the keys it did not use.
class Keys {
public:
    Keys(const toml::table& t, std::string name) : t_(t), name_(std::move(name)) {}
    std::string where(const std::string& k) const { return name_ + "." + k; }
    const toml::node* get(const std::string& k) {
        used_.push_back(k);
        return t_.get(k);
    }
    double number(const std::string& k, const toml::node& n) const {
        double v;
        if (auto i = n.as_integer())
            v = static_cast<double>(i->get());
        else if (auto f = n.as_floating_point())
            v = f->get();
        else
            throw InputError(where(k) + ": expected a number");
        if (!std::isfinite(v)) throw InputError(where(k) + ": expected a finite number");
        return v;
    }
    std::vector<double> numbers(const std::string& k, const toml::node& n) const {
        std::vector<double> out;
        if (auto a = n.as_array())
            for (const auto& e : *a) out.push_back(number(k, e));
        else
            out.push_back(number(k, n));
        return out;
    }
    long whole(const std::string& k, long fallback, long min) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        const double v = number(k, *n);
        if (v != std::floor(v) || v < static_cast<double>(min) || v > 1e12)
            throw InputError(where(k) + ": expected a whole number >= " + std::to_string(min));
        return static_cast<long>(v);
    }
    std::string string(const std::string& k, const std::string& fallback) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        if (auto s = n->as_string()) return s->get();
        throw InputError(where(k) + ": expected a string");
    }
    bool boolean(const std::string& k, bool fallback) {
        const toml::node* n = get(k);
        if (!n) return fallback;
        if (auto b = n->as_boolean()) return b->get();
        throw InputError(where(k) + ": expected true or false");
    }
    void finish() const {
        for (auto&& [k, v] : t_)
            if (std::find(used_.begin(), used_.end(), std::string(k.str())) == used_.end())
                throw InputError(where(std::string(k.str())) + ": unknown key");
    }

private:
    const toml::table& t_;
    std::string name_;
    std::vector<std::string> used_;
};

// The config with [model] and [sgd]; [dynamics] and [initial] come from them, the snapshot times from sgd.steps.
ParsedConfig load_sgd_config(const std::string& path, const std::vector<std::string>& overrides) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path + ": no such config file");
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
        throw InputError(os.str());
    }
    for (const char* k : {"dynamics", "initial"})
        if (root.contains(k))
            throw InputError(std::string(k) + ": not used by fpsolve sgd (the loss, drift and noise come from [model] and "
                             "the data; the start from sgd.start and sgd.start_sd)");
    auto refuse_time = [](const std::string& key) {
        for (const char* k : {"end", "snapshots", "times"})
            if (key == std::string("time.") + k)
                throw InputError(key + ": not used by fpsolve sgd (snapshot times are t = k eta from sgd.steps and "
                                 "sgd.snapshots)");
    };
    if (const toml::table* t = root["time"].as_table())
        for (auto&& [k, v] : *t) refuse_time("time." + std::string(k.str()));
    for (const auto& o : overrides) {
        const std::string key = o.substr(0, o.find('='));
        if (key.rfind("dynamics", 0) == 0 || key.rfind("initial", 0) == 0)
            throw InputError("--set " + o + ": [dynamics] and [initial] are not used by fpsolve sgd");
        refuse_time(key);
    }
    toml::table with = root;
    with.insert_or_assign("dynamics", toml::table{{"potential", "0"}, {"noise", 1.0}});
    std::ostringstream os;
    os << with;
    ParsedConfig c = parse_config(os.str(), path, overrides, {"model", "sgd"});
    refuse_richardson(c, "fpsolve sgd");
    toml::table effective = toml::parse(c.text);
    effective.erase("dynamics");
    std::ostringstream text;
    text << effective;
    c.text = text.str();
    if (c.output_file.empty()) c.output_file = std::filesystem::path(path).stem().string() + ".h5";
    return c;
}

ModelOptions read_model(const ParsedConfig& c, std::string& data_path) {
    const auto it = c.extra.find("model");
    if (it == c.extra.end()) throw InputError(c.path + ": the [model] table is missing");
    Keys k(it->second, "model");
    ModelOptions m;
    const std::string type = k.string("type", "linear");
    if (type == "linear")
        m.kind = ModelKind::linear;
    else if (type == "logistic")
        m.kind = ModelKind::logistic;
    else
        throw InputError("model.type: got \"" + type + "\", expected linear or logistic");
    data_path = k.string("data", "");
    if (data_path.empty()) throw InputError("model.data: required (a CSV file with a header line)");
    if (std::filesystem::path(data_path).is_relative())
        data_path = (std::filesystem::path(c.path).parent_path() / data_path).lexically_normal().string();
    const toml::node* f = k.get("features");
    if (!f) throw InputError("model.features: required (the column names)");
    if (auto s = f->as_string()) {
        m.features = {s->get()};
    } else if (auto a = f->as_array()) {
        for (const auto& e : *a) {
            if (!e.is_string()) throw InputError("model.features: expected column names");
            m.features.push_back(e.as_string()->get());
        }
    } else {
        throw InputError("model.features: expected a column name or a list of them");
    }
    m.target = k.string("target", "target");
    m.standardize = k.boolean("standardize", true);
    m.standardize_target = k.boolean("standardize_target", false);
    if (m.standardize_target && m.kind == ModelKind::logistic)
        throw InputError("model.standardize_target: only for linear regression");
    if (const toml::node* t = k.get("threshold")) {
        if (m.kind != ModelKind::logistic) throw InputError("model.threshold: only for logistic regression");
        m.threshold = k.number("threshold", *t);
    }
    k.finish();
    return m;
}

SgdSettings read_sgd(const ParsedConfig& c) {
    const auto it = c.extra.find("sgd");
    if (it == c.extra.end()) throw InputError(c.path + ": the [sgd] table is missing");
    Keys k(it->second, "sgd");
    SgdSettings s;
    const toml::node* lr = k.get("learning_rate");
    if (!lr) throw InputError("sgd.learning_rate: required (a number, or one per parameter)");
    const auto rates = k.numbers("learning_rate", *lr);
    if (rates.size() != 1 && rates.size() != 2)
        throw InputError("sgd.learning_rate: expected one number or two (one per parameter)");
    s.rates = Vector2(rates.front(), rates.back());
    if (!(s.rates.minCoeff() > 0.0)) throw InputError("sgd.learning_rate: must be positive");
    s.batch = static_cast<int>(k.whole("batch_size", 1, 1));
    s.steps = k.whole("steps", 0, 1);
    if (s.steps == 0) throw InputError("sgd.steps: required (SGD steps per chain; t_end = steps * eta)");
    s.snapshots = static_cast<int>(k.whole("snapshots", 11, 2));
    s.chains = static_cast<Eigen::Index>(k.whole("chains", 10000, 2));
    s.seed = static_cast<std::uint64_t>(k.whole("seed", 1, 0));
    s.threads = static_cast<int>(k.whole("threads", 1, 1));
    const toml::node* st = k.get("start");
    if (!st) throw InputError("sgd.start: required (the chains' starting parameters, one per axis)");
    const auto start = k.numbers("start", *st);
    if (start.size() != 2) throw InputError("sgd.start: expected two numbers");
    s.start = Vector2(start[0], start[1]);
    if (const toml::node* sd = k.get("start_sd")) {
        s.start_sd = k.number("start_sd", *sd);
        if (!(s.start_sd > 0.0)) throw InputError("sgd.start_sd: must be positive");
    }
    s.per_parameter = k.boolean("per_parameter", true);
    if (const toml::node* sw = k.get("sweep_eta")) s.sweep = k.numbers("sweep_eta", *sw);
    s.sweep_chains = static_cast<Eigen::Index>(k.whole("sweep_chains", 0, 0));
    k.finish();
    return s;
}

// A p = 0, sum(p) V = 1: one sparse LU with the last row replaced by the normalisation.
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

// Gibbs p ∝ exp(-2 L / T) at cell centres, mass 1.
Eigen::VectorXd gibbs_density(const Grid& g, const Eigen::VectorXd& loss, double temperature) {
    Eigen::VectorXd p = (-2.0 * (loss.array() - loss.minCoeff()) / temperature).exp().matrix();
    return p / (p.sum() * g.cell_volume());
}

// Per-parameter rates eta_a = eta' / sigma_a^2 (sigma_a^2 = Sigma_aa(Phi*)/b).
Vector2 gibbs_rates(double eta_prime, const Matrix2& sigma_b) {
    return Vector2(eta_prime / sigma_b(0, 0), eta_prime / sigma_b(1, 1));
}

struct Compared {
    std::string name;
    double l1 = std::nan("");
    SampleMoments m;
};

void print_moments_row(const Compared& r) {
    char l1[32];
    if (std::isnan(r.l1))
        std::snprintf(l1, sizeof l1, "%9s", "-");
    else
        std::snprintf(l1, sizeof l1, "%9.4f", r.l1);
    std::printf("  %-34s %s  %9.5f %9.5f  %10.4e %11.3e %10.4e\n", r.name.c_str(), l1, r.m.mean[0], r.m.mean[1],
                r.m.covariance(0, 0), r.m.covariance(0, 1), r.m.covariance(1, 1));
}

std::vector<double> flat(const Matrix2& m) { return {m(0, 0), m(0, 1), m(1, 0), m(1, 1)}; }

int sgd_command(const SgdCommandOptions& o) {
    ParsedConfig c = load_sgd_config(o.config, o.out.set);
    std::string data_path;
    const ModelOptions mo = read_model(c, data_path);
    SgdSettings s = read_sgd(c);
    if (!o.sweep.empty()) s.sweep = o.sweep;
    for (double e : s.sweep)
        if (!(e > 0.0) || !std::isfinite(e)) throw InputError("--sweep-eta: learning rates must be positive");
    const Grid& g = c.problem.grid;
    if (g.dims != 2) throw InputError("grid: fpsolve sgd needs a 2-D grid (one axis per parameter)");
    for (int a = 0; a < 2; ++a)
        if (g.boundary[a] != Boundary::reflecting)
            throw InputError("grid.boundary: fpsolve sgd needs reflecting walls (SGD mass stays on the grid)");
    if (s.start_sd == 0.0) s.start_sd = std::max(g.spacing(0), g.spacing(1));
    const auto model = std::make_shared<const SgdModel>(SgdModel::from_data(read_csv(data_path), mo));
    const std::string out = output_path(c, o.out);

    // The minimum and the local quadratic picture.
    const Vector2 phi_star = model->minimum();
    const SgdModel::Statistics at_star = model->at(phi_star);
    const Matrix2 h_star = model->hessian(phi_star);
    const Matrix2 sigma_b = at_star.covariance / static_cast<double>(s.batch);
    const bool linear = model->kind() == ModelKind::linear;
    const auto names = model->parameter_names();
    auto fourth = [&](const Matrix2& cv) { return model->fourth_moment(cv); };
    using Fourth = std::function<Matrix2(const Matrix2&)>;
    const Fourth k_map = linear ? Fourth(fourth) : Fourth(nullptr);

    // The FP problem with the configured rates; the chains start where the FP density starts.
    InitialDensity init;
    init.gaussian = GaussianDensity{Eigen::Vector2d(s.start), Eigen::Matrix2d::Identity() * s.start_sd * s.start_sd};
    init.where = "sgd.start";
    const Problem pb = sgd_problem(model, g, s.rates, s.batch, init);
    const double eta_bar = pb.eta_bar();
    check_noise(pb, "model (Sigma(Phi) on the grid)");
    FokkerPlanckOperator op(pb);

    // Snapshot steps k_j (whole steps), times t_j = k_j eta_bar.
    std::vector<long> steps;
    for (int j = 0; j < s.snapshots; ++j) {
        const long k = static_cast<long>(std::llround(static_cast<double>(s.steps) * j / (s.snapshots - 1)));
        if (steps.empty() || k > steps.back()) steps.push_back(k);
    }
    TimeSettings ts = c.time;
    ts.times.clear();
    for (long k : steps) ts.times.push_back(static_cast<double>(k) * eta_bar);
    ts = resolve(ts, op);

    const Vector2 shape = s.rates / eta_bar;
    for (double eta : s.sweep) {  // refuse unstable rates before a file is written
        const Matrix2 ref = stationary_covariance(h_star, at_star.covariance, eta * shape, s.batch, k_map, linear);
        if (!(ref.determinant() > 0.0) || !(ref(0, 0) > 0.0) ||
            second_moment_contraction(h_star, eta * shape, s.batch, k_map) >= 1.0)
            throw InputError("--sweep-eta " + std::to_string(eta) + ": SGD has no stationary covariance at this rate "
                             "(eta too large for the curvature)");
    }
    if (op.cross_monotonicity_ratio() > 1.0 && !o.out.quiet)
        std::fprintf(stderr,
                     "fpsolve: warning: the gradient noise is too correlated for the 9-point stencil on this grid "
                     "(ratio %.3g > 1); densities may dip below 0: choose h_y/h_x nearer sqrt(D_yy/D_xx)\n",
                     op.cross_monotonicity_ratio());
    ChainSettings cs{s.rates, s.batch, s.seed, s.chains, s.threads, s.start, s.start_sd};
    SgdChains chains(*model, cs);
    DiagnosticsCalculator diagnostics(op, std::nullopt);
    SnapshotWriter writer(out, g, {c.text, program_version}, false, std::nullopt);
    install_signal_handlers();
    Progress progress(ts.times.back(), o.out.quiet);

    const Index n = g.size();
    const auto ns = steps.size();
    std::vector<double> hist_all, l1s, floors, mean_fp, mean_sgd, cov_fp, cov_sgd, outside;
    State p = initial_state(g, pb.initial);
    State p_last;
    std::size_t j = 0;
    auto observe = [&](const State& x, double t) {
        if (!x.allFinite()) throw RunError("the density became non-finite by t = " + std::to_string(t));
        const Diagnostics d = diagnostics(x, t);
        writer.append(t, x, d);
        chains.advance(steps[j] - chains.steps_done());
        const Histogram h = histogram(g, chains.positions());
        hist_all.insert(hist_all.end(), h.density.data(), h.density.data() + n);
        l1s.push_back(l1_distance(g, h, x));
        floors.push_back(l1_floor(g, x, s.chains));
        outside.push_back(h.outside);
        const SampleMoments mf = density_moments(g, x), ms = sample_moments(chains.positions());
        for (int a = 0; a < 2; ++a) {
            mean_fp.push_back(mf.mean[a]);
            mean_sgd.push_back(ms.mean[a]);
        }
        for (double v : flat(mf.covariance)) cov_fp.push_back(v);
        for (double v : flat(ms.covariance)) cov_sgd.push_back(v);
        p_last = x;
        ++j;
        progress.update(t);
    };
    try {
        integrate(op, p, ts, observe, &stop_requested());
    } catch (const Interrupted&) {
        progress.done();
        writer.set_status("interrupted");
        std::fprintf(stderr, "fpsolve: interrupted; %s holds the %zu snapshots written so far\n", out.c_str(), j);
        return 130;
    } catch (const std::exception& e) {
        progress.done();
        try {
            writer.set_status(std::string("failed: ") + e.what());
        } catch (...) {
        }
        throw RunError(e.what());
    }
    progress.done();

    // Stationarity: the FP steady state, the last SGD iterates, the two approximations.
    const Eigen::VectorXd loss = potential_at_centres(pb);
    const Eigen::VectorXd p_inf = stationary_density(op);
    const Histogram h_end = histogram(g, chains.positions());
    const Vector2 temps(s.rates[0] * sigma_b(0, 0), s.rates[1] * sigma_b(1, 1));  // eta_a sigma_a^2
    const double t_iso = 0.5 * (temps[0] + temps[1]);                              // eta s, s isotropic
    const Eigen::VectorXd gibbs = gibbs_density(g, loss, t_iso);
    const Matrix2 c_lyap = stationary_covariance(h_star, at_star.covariance, s.rates, s.batch);
    const Eigen::VectorXd lyap = gaussian_density(g, phi_star, c_lyap);
    std::vector<Compared> rows;
    rows.push_back({"SGD iterates, k = " + std::to_string(steps.back()), std::nan(""), sample_moments(chains.positions())});
    rows.push_back({"Fokker-Planck stationary (grid)", l1_distance(g, h_end, p_inf), density_moments(g, p_inf)});
    rows.push_back({"Fokker-Planck at t_end (grid)", l1_distance(g, h_end, p_last), density_moments(g, p_last)});
    rows.push_back({"Gibbs exp(-2L/(eta s)), isotropic", l1_distance(g, h_end, gibbs), density_moments(g, gibbs)});
    rows.push_back({"Lyapunov Gaussian at Phi*", l1_distance(g, h_end, lyap), {phi_star, c_lyap}});
    Matrix2 c_sde = Matrix2::Zero(), c_sgd = Matrix2::Zero();
    if (linear) {
        c_sde = stationary_covariance(h_star, at_star.covariance, s.rates, s.batch, k_map, false);
        c_sgd = stationary_covariance(h_star, at_star.covariance, s.rates, s.batch, k_map, true);
        rows.push_back({"SDE moments, closed form", std::nan(""), {phi_star, c_sde}});
        rows.push_back({"exact SGD moments, closed form", std::nan(""), {phi_star, c_sgd}});
    }
    const double floor_inf = l1_floor(g, p_inf, s.chains);

    // Per-parameter rates eta_a = eta'/sigma_a^2, eta' = the isotropic temperature above: Gibbs exp(-2L/eta')?
    struct PerParameter {
        Vector2 rates;
        double fp_to_gibbs = 0, sgd_to_gibbs = 0, sgd_to_fp = 0, floor = 0, scalar_fp_to_gibbs = 0;
        long steps = 0;
        Eigen::VectorXd fp, gibbs;
        SampleMoments m_fp, m_sgd;
    } pp;
    if (s.per_parameter) {
        pp.rates = gibbs_rates(t_iso, sigma_b);
        const Problem pb2 = sgd_problem(model, g, pp.rates, s.batch, init);
        const FokkerPlanckOperator op2(pb2);
        pp.fp = stationary_density(op2);
        pp.gibbs = gibbs_density(g, loss, t_iso);
        pp.steps = static_cast<long>(std::ceil(static_cast<double>(s.steps) * eta_bar / pb2.eta_bar()));
        ChainSettings cs2 = cs;
        cs2.rates = pp.rates;
        SgdChains ch2(*model, cs2);
        ch2.advance(pp.steps);
        const Histogram h2 = histogram(g, ch2.positions());
        pp.fp_to_gibbs = (pp.fp - pp.gibbs).cwiseAbs().sum() * g.cell_volume();
        pp.scalar_fp_to_gibbs = (p_inf - gibbs).cwiseAbs().sum() * g.cell_volume();
        pp.sgd_to_gibbs = l1_distance(g, h2, pp.gibbs);
        pp.sgd_to_fp = l1_distance(g, h2, pp.fp);
        pp.floor = l1_floor(g, pp.fp, s.chains);
        pp.m_fp = density_moments(g, pp.fp);
        pp.m_sgd = sample_moments(ch2.positions());
    }

    // The eta sweep: stationary covariance of SGD chains, the FP grid, and the closed forms.
    struct SweepRow {
        double eta;
        Matrix2 sgd, fp, lyap, sde, exact;
        double se_trace;
        long steps;
    };
    std::vector<SweepRow> sweep;
    const double t_end = static_cast<double>(s.steps) * eta_bar;
    for (double eta : s.sweep) {
        SweepRow r{};
        r.eta = eta;
        const Vector2 rates = eta * shape;
        r.lyap = stationary_covariance(h_star, at_star.covariance, rates, s.batch);
        if (linear) {
            r.sde = stationary_covariance(h_star, at_star.covariance, rates, s.batch, k_map, false);
            r.exact = stationary_covariance(h_star, at_star.covariance, rates, s.batch, k_map, true);
        }
        const Matrix2 ref = linear ? r.exact : r.lyap;
        Grid gs = g;  // the same cells, fitted to +-7 standard deviations of this eta
        for (int a = 0; a < 2; ++a) {
            const double half = 7.0 * std::sqrt(ref(a, a));
            gs.lower[a] = phi_star[a] - half;
            gs.upper[a] = phi_star[a] + half;
        }
        const FokkerPlanckOperator ops(sgd_problem(model, gs, rates, s.batch, init));
        r.fp = density_moments(gs, stationary_density(ops)).covariance;
        ChainSettings c3 = cs;
        c3.rates = rates;
        c3.start = phi_star;
        c3.start_sd = 0.0;
        c3.chains = s.sweep_chains > 0 ? s.sweep_chains : s.chains;
        SgdChains ch3(*model, c3);
        // Long enough for the transient of the covariance (~ rho^k) to fall below 1e-4 of it.
        const double rho = second_moment_contraction(h_star, rates, s.batch, k_map);
        r.steps = std::max(static_cast<long>(std::ceil(t_end / eta)), static_cast<long>(std::ceil(std::log(1e-4) / std::log(rho))));
        ch3.advance(r.steps);
        const SampleMoments m3 = sample_moments(ch3.positions());
        r.sgd = m3.covariance;
        // Standard error of the trace: the sample standard deviation of |Phi - mean|^2 over sqrt(N).
        const Eigen::VectorXd sq = (ch3.positions().rowwise() - m3.mean.transpose()).rowwise().squaredNorm();
        r.se_trace = std::sqrt((sq.array() - sq.mean()).square().sum() / static_cast<double>(sq.size() - 1) /
                               static_cast<double>(sq.size()));
        sweep.push_back(r);
    }

    // The file: /sgd/...
    auto put = [&](const std::string& path, std::vector<std::size_t> shape_, const std::vector<double>& v) {
        writer.write_array("/sgd/" + path, shape_, v.data());
    };
    auto put_vec = [&](const std::string& path, const Eigen::VectorXd& v) {
        writer.write_array("/sgd/" + path, {static_cast<std::size_t>(g.cells[0]), static_cast<std::size_t>(g.cells[1])},
                           v.data());
    };
    const auto c0 = static_cast<std::size_t>(g.cells[0]), c1 = static_cast<std::size_t>(g.cells[1]);
    std::vector<double> step_d(steps.begin(), steps.end());
    put("steps", {ns}, step_d);
    put("time", {ns}, ts.times);
    put("histogram", {ns, c0, c1}, hist_all);
    put("l1", {ns}, l1s);
    put("l1_floor", {ns}, floors);
    put("outside", {ns}, outside);
    put("mean_fp", {ns, 2}, mean_fp);
    put("mean_sgd", {ns, 2}, mean_sgd);
    put("covariance_fp", {ns, 2, 2}, cov_fp);
    put("covariance_sgd", {ns, 2, 2}, cov_sgd);
    put_vec("loss", loss);
    {
        std::vector<double> grad, noise;
        for (Index cell = 0; cell < n; ++cell) {
            const Point x = g.centre_of(cell);
            const auto st = model->at(Vector2(x[0], x[1]));
            grad.push_back(st.gradient[0]);
            grad.push_back(st.gradient[1]);
            for (double v : flat(st.covariance / static_cast<double>(s.batch))) noise.push_back(v);
        }
        put("gradient", {c0, c1, 2}, grad);
        put("noise", {c0, c1, 2, 2}, noise);
    }
    put("minimum", {2}, {phi_star[0], phi_star[1]});
    put("hessian", {2, 2}, flat(h_star));
    put("noise_at_minimum", {2, 2}, flat(sigma_b));
    put("temperatures", {2}, {temps[0], temps[1]});
    put_vec("stationary/fp_density", p_inf);
    put_vec("stationary/sgd_histogram", h_end.density);
    put_vec("stationary/gibbs_density", gibbs);
    put_vec("stationary/lyapunov_density", lyap);
    put("stationary/lyapunov_covariance", {2, 2}, flat(c_lyap));
    if (linear) {
        put("stationary/sde_covariance", {2, 2}, flat(c_sde));
        put("stationary/sgd_covariance_exact", {2, 2}, flat(c_sgd));
    }
    {
        std::vector<double> l1v;
        for (const auto& r : rows) l1v.push_back(r.l1);
        put("stationary/l1", {l1v.size()}, l1v);
        std::string row_names;
        for (const auto& r : rows) row_names += (row_names.empty() ? "" : "; ") + r.name;
        writer.write_attribute("/sgd/stationary", "l1_rows", row_names);
        writer.write_attribute("/sgd/stationary", "l1_floor", floor_inf);
        writer.write_attribute("/sgd/stationary", "gibbs_temperature", t_iso);
    }
    if (s.per_parameter) {
        put("per_parameter/learning_rate", {2}, {pp.rates[0], pp.rates[1]});
        put_vec("per_parameter/fp_density", pp.fp);
        put_vec("per_parameter/gibbs_density", pp.gibbs);
        writer.write_attribute("/sgd/per_parameter", "eta_prime", t_iso);
        writer.write_attribute("/sgd/per_parameter", "l1_fp_to_gibbs", pp.fp_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_fp_to_gibbs_scalar_eta", pp.scalar_fp_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_sgd_to_gibbs", pp.sgd_to_gibbs);
        writer.write_attribute("/sgd/per_parameter", "l1_sgd_to_fp", pp.sgd_to_fp);
        writer.write_attribute("/sgd/per_parameter", "l1_floor", pp.floor);
    }
    if (!sweep.empty()) {
        std::vector<double> etas, csgd, cfp, cly, csde, cex;
        for (const auto& r : sweep) {
            etas.push_back(r.eta);
            for (double v : flat(r.sgd)) csgd.push_back(v);
            for (double v : flat(r.fp)) cfp.push_back(v);
            for (double v : flat(r.lyap)) cly.push_back(v);
            for (double v : flat(r.sde)) csde.push_back(v);
            for (double v : flat(r.exact)) cex.push_back(v);
        }
        const std::size_t m = sweep.size();
        put("sweep/eta", {m}, etas);
        put("sweep/covariance_sgd", {m, 2, 2}, csgd);
        put("sweep/covariance_fp", {m, 2, 2}, cfp);
        put("sweep/covariance_lyapunov", {m, 2, 2}, cly);
        if (linear) {
            put("sweep/covariance_sde", {m, 2, 2}, csde);
            put("sweep/covariance_sgd_exact", {m, 2, 2}, cex);
        }
    }
    writer.write_attribute("/sgd", "model", model->description());
    writer.write_attribute("/sgd", "parameters", names[0] + "," + names[1]);
    writer.write_attribute("/sgd", "batch_size", static_cast<double>(s.batch));
    writer.write_attribute("/sgd", "chains", static_cast<double>(s.chains));
    writer.write_attribute("/sgd", "seed", static_cast<double>(s.seed));
    writer.write_attribute("/sgd", "learning_rate_0", s.rates[0]);
    writer.write_attribute("/sgd", "learning_rate_1", s.rates[1]);
    writer.write_attribute("/sgd", "eta_bar", eta_bar);
    writer.set_status("complete");

    if (o.out.quiet) return 0;
    std::printf("fpsolve sgd: %s\n", c.title.empty() ? o.config.c_str() : c.title.c_str());
    std::printf("  model: %s\n", model->description().c_str());
    std::printf("  SGD: eta = (%g, %g), batch %d, %ld steps (t = k eta_bar, t_end = %g), %ld chains, seed %llu\n",
                s.rates[0], s.rates[1], s.batch, s.steps, t_end, static_cast<long>(s.chains),
                static_cast<unsigned long long>(s.seed));
    std::printf("  minimum Phi* = (%s, %s) = (%.6f, %.6f), L(Phi*) = %.6f\n", names[0].c_str(), names[1].c_str(),
                phi_star[0], phi_star[1], at_star.loss);
    std::printf("  Hessian H = [[%.5f, %.5f], [%.5f, %.5f]]\n", h_star(0, 0), h_star(0, 1), h_star(1, 0), h_star(1, 1));
    std::printf("  gradient noise Sigma(Phi*)/b = [[%.5f, %.5f], [%.5f, %.5f]]  (correlation %.3f)\n", sigma_b(0, 0),
                sigma_b(0, 1), sigma_b(1, 0), sigma_b(1, 1), sigma_b(0, 1) / std::sqrt(sigma_b(0, 0) * sigma_b(1, 1)));
    std::printf("  per-axis temperatures eta_a sigma_a^2 = (%.5f, %.5f): ratio %.3f (1 would be Gibbs)\n", temps[0],
                temps[1], temps[0] / temps[1]);
    std::printf("\nevolution: FP density vs histogram of the chains (L1 floor: an exact sampler of the FP density)\n");
    std::printf("  %8s %9s %9s %9s  %10s %10s  %10s %10s\n", "step", "t", "L1", "floor", ("mean " + names[0] + " FP").c_str(),
                "SGD", ("var " + names[0] + " FP").c_str(), "SGD");
    for (std::size_t k = 0; k < ns; ++k)
        std::printf("  %8ld %9.4g %9.4f %9.4f  %10.5f %10.5f  %10.4e %10.4e\n", steps[k], ts.times[k], l1s[k], floors[k],
                    mean_fp[2 * k], mean_sgd[2 * k], cov_fp[4 * k], cov_sgd[4 * k]);
    std::printf("\nstationary: L1 to the histogram of the last iterates (floor %.4f; FP(t_end) to FP stationary: %.4f)\n",
                floor_inf, (p_last - p_inf).cwiseAbs().sum() * g.cell_volume());
    std::printf("  %-34s %9s  %9s %9s  %10s %11s %10s\n", "density", "L1 to SGD", ("mean " + names[0]).c_str(),
                ("mean " + names[1]).c_str(), ("var " + names[0]).c_str(), "cov", ("var " + names[1]).c_str());
    for (const auto& r : rows) print_moments_row(r);
    if (s.per_parameter) {
        std::printf("\nper-parameter rates eta_a = eta'/sigma_a^2 = (%.5g, %.5g), eta' = %.5g (= the mean temperature above)\n",
                    pp.rates[0], pp.rates[1], t_iso);
        std::printf("  L1(FP stationary, Gibbs exp(-2L/eta'))  %.4f   (with the scalar rate: %.4f)\n", pp.fp_to_gibbs,
                    pp.scalar_fp_to_gibbs);
        std::printf("  L1(SGD, %ld steps, to Gibbs)             %.4f   (to FP stationary: %.4f, floor %.4f)\n", pp.steps,
                    pp.sgd_to_gibbs, pp.sgd_to_fp, pp.floor);
        print_moments_row({"FP stationary, per-parameter rates", std::nan(""), pp.m_fp});
        print_moments_row({"SGD, per-parameter rates", std::nan(""), pp.m_sgd});
        print_moments_row({"Gibbs exp(-2L/eta')", std::nan(""), density_moments(g, pp.gibbs)});
    }
    if (!sweep.empty()) {
        std::printf("\neta sweep: trace of the stationary covariance (chains from Phi*, >= %g time units; FP on a fitted grid)\n",
                    t_end);
        std::printf("  %9s %11s %9s %11s %11s %11s %11s  %9s %9s\n", "eta", "SGD chains", "+-", "exact SGD", "SDE (FP)",
                    "SDE closed", "Lyapunov", "SGD/FP-1", "exact/SDE-1");
        for (const auto& r : sweep) {
            char ex[16] = "-", sde[16] = "-", gap[16] = "-";  // the closed forms exist for linear regression only
            if (linear) {
                std::snprintf(ex, sizeof ex, "%.4e", r.exact.trace());
                std::snprintf(sde, sizeof sde, "%.4e", r.sde.trace());
                std::snprintf(gap, sizeof gap, "%.4f", r.exact.trace() / r.sde.trace() - 1.0);
            }
            std::printf("  %9.4g %11.4e %9.2e %11s %11.4e %11s %11.4e  %9.4f %9s\n", r.eta, r.sgd.trace(), r.se_trace, ex,
                        r.fp.trace(), sde, r.lyap.trace(), r.sgd.trace() / r.fp.trace() - 1.0, gap);
        }
    }
    std::printf("\n  wrote %s (/snapshots: FP density at t = k eta_bar; /sgd: histograms, moments, comparisons)\n", out.c_str());
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
