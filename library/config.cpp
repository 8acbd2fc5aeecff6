#include "config.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "richardson.hpp"

namespace fpsolve {

namespace {

// Names an expression may not shadow.
const std::set<std::string> reserved = {"t",    "pi",   "e",     "sin",  "cos",  "tan",  "asin", "acos", "atan",
                                        "sinh", "cosh", "tanh",  "asinh", "acosh", "atanh", "log2", "log10",
                                        "log",  "ln",   "exp",   "sqrt", "sign", "rint", "abs",  "min",  "max",
                                        "sum",  "avg"};

bool is_identifier(const std::string& s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

std::string join(const std::string& prefix, const std::string& key) { return prefix.empty() ? key : prefix + "." + key; }

// Reads one table, remembering which keys were used, so that the rest can be refused.
class TableReader {
public:
    TableReader(const toml::table* t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

    bool has(const std::string& key) const { return t_ && t_->contains(key); }
    const toml::node* node(const std::string& key) {
        used_.insert(key);
        return t_ ? t_->get(key) : nullptr;
    }
    std::string where(const std::string& key) const { return join(prefix_, key); }

    double number(const std::string& key, const toml::node& n) const {
        double v;
        if (auto i = n.as_integer())
            v = static_cast<double>(i->get());
        else if (auto f = n.as_floating_point())
            v = f->get();
        else
            throw InputError(where(key) + ": expected a number, got " + type_name(n));
        if (!std::isfinite(v)) throw InputError(where(key) + ": expected a finite number, got " + std::to_string(v));
        return v;
    }
    double number(const std::string& key, double fallback) {
        const toml::node* n = node(key);
        return n ? number(key, *n) : fallback;
    }
    std::string string(const std::string& key, const std::string& fallback) {
        const toml::node* n = node(key);
        if (!n) return fallback;
        if (auto s = n->as_string()) return s->get();
        throw InputError(where(key) + ": expected a string, got " + type_name(*n));
    }
    bool boolean(const std::string& key, bool fallback) {
        const toml::node* n = node(key);
        if (!n) return fallback;
        if (auto b = n->as_boolean()) return b->get();
        throw InputError(where(key) + ": expected true or false, got " + type_name(*n));
    }
    // A number or a string, as expression text.
    std::string expression_text(const std::string& key, const toml::node& n) const {
        if (auto s = n.as_string()) return s->get();
        std::ostringstream os;
        os.precision(17);
        os << number(key, n);
        return os.str();
    }
    const toml::array& array(const std::string& key, const toml::node& n) const {
        if (auto a = n.as_array()) return *a;
        throw InputError(where(key) + ": expected a list, got " + type_name(n));
    }
    std::vector<double> numbers(const std::string& key, const toml::node& n) const {
        std::vector<double> out;
        if (n.is_array()) {
            for (const auto& e : *n.as_array()) out.push_back(number(key, e));
        } else {
            out.push_back(number(key, n));
        }
        return out;
    }
    void finish() const {
        if (!t_) return;
        for (auto&& [k, v] : *t_)
            if (!used_.count(std::string(k.str())))
                throw InputError(where(std::string(k.str())) + ": unknown key");
    }
    static std::string type_name(const toml::node& n) {
        switch (n.type()) {
            case toml::node_type::string: return "a string";
            case toml::node_type::integer: return "an integer";
            case toml::node_type::floating_point: return "a number";
            case toml::node_type::boolean: return "a boolean";
            case toml::node_type::array: return "a list";
            case toml::node_type::table: return "a table";
            default: return "a date or time";
        }
    }

private:
    const toml::table* t_;
    std::string prefix_;
    std::set<std::string> used_;
};

const toml::table* subtable(const toml::table& root, const std::string& name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) throw InputError(name + ": expected a table [" + name + "], got " + TableReader::type_name(*n));
    return n->as_table();
}

void merge(toml::table& dst, const toml::table& src) {
    for (auto&& [k, v] : src) {
        if (v.is_table() && dst.contains(k) && dst.get(k)->is_table())
            merge(*dst.get(k)->as_table(), *v.as_table());
        else
            dst.insert_or_assign(k, v);
    }
}

std::string kinetic_force_text(const KineticForm& k, const std::vector<std::string>& vars, int a) {
    std::ostringstream s;
    s << "-d/d" << vars[static_cast<std::size_t>(a)] << " (" << k.potential.text() << ") - " << k.friction << " "
      << vars[static_cast<std::size_t>(k.positions + a)];
    return s.str();
}

// dynamics.kinetic = { potential = "U(x)", friction = gamma, temperature = T }: the grid's axes are the n
// positions, then the n velocities; the drift and the (degenerate) noise follow (solver/problem.hpp).
void read_kinetic(const toml::node* node, const std::vector<std::string>& vars, const Parameters& parameters,
                  Problem& pb) {
    const Grid& g = pb.grid;
    if (!node->is_table())
        throw InputError("dynamics.kinetic: expected a table, e.g. kinetic = { potential = \"x^2/2\", friction = 1, "
                         "temperature = 1 }");
    if (g.dims % 2 != 0)
        throw InputError("dynamics.kinetic: the grid needs an even number of axes (positions, then as many "
                         "velocities), got " + std::to_string(g.dims));
    const int n = g.dims / 2;
    TableReader r(node->as_table(), "dynamics.kinetic");
    const toml::node* pot = r.node("potential");
    if (!pot) throw InputError("dynamics.kinetic.potential: required (a formula of the positions, e.g. \"x^2/2\")");
    const std::vector<std::string> positions(vars.begin(), vars.begin() + n);
    KineticForm k;
    // Only the position names are known to this formula: a velocity in it is reported as an unknown name.
    k.potential = Expression(r.expression_text("potential", *pot), positions, parameters, "dynamics.kinetic.potential");
    k.friction = r.number("friction", 1.0);
    k.temperature = r.number("temperature", 1.0);
    k.positions = n;
    r.finish();
    if (!(k.friction > 0.0)) throw InputError("dynamics.kinetic.friction: must be positive");
    if (!(k.temperature > 0.0)) throw InputError("dynamics.kinetic.temperature: must be positive");
    for (int a = n; a < g.dims; ++a)
        if (g.boundary[a] != Boundary::reflecting)
            throw InputError("grid.boundary: the velocity axis " + vars[static_cast<std::size_t>(a)] +
                             " of dynamics.kinetic must be reflecting (its Gibbs density is confined, not "
                             "periodic or absorbed)");
    pb.drift.clear();
    for (int a = 0; a < n; ++a) pb.drift.push_back(Expression(vars[static_cast<std::size_t>(n + a)], vars, parameters,
                                                            "dynamics.kinetic"));
    for (int a = 0; a < n; ++a) {
        // -dU/dx_a by central differences (the step of Problem::drift_at), minus the friction.
        const double h = 6e-6 * std::max(1.0, std::abs(g.upper[a]) + std::abs(g.lower[a]));
        Expression u = k.potential;
        const double gamma = k.friction;
        pb.drift.push_back(Expression::from_function(
            [u, a, n, h, gamma](const Point& x, double t) {
                Point xp = x, xm = x;
                xp[a] += h;
                xm[a] -= h;
                return -(u(xp, t) - u(xm, t)) / (2.0 * h) - gamma * x[n + a];
            },
            true, k.potential.depends_on_time(), kinetic_force_text(k, vars, a)));
    }
    const auto d = static_cast<std::size_t>(g.dims);
    pb.noise.assign(d, std::vector<Expression>(d, Expression::constant(0.0)));
    for (std::size_t a = static_cast<std::size_t>(n); a < d; ++a)
        pb.noise[a][a] = Expression::constant(2.0 * k.friction * k.temperature);
    pb.kinetic = std::move(k);
}

Grid read_grid(TableReader& r) {
    Grid g;
    const toml::node* lo = r.node("lower");
    const toml::node* hi = r.node("upper");
    const toml::node* cells = r.node("cells");
    if (!lo || !hi || !cells) throw InputError("grid: lower, upper and cells are required");
    const auto vlo = r.numbers("lower", *lo), vhi = r.numbers("upper", *hi);
    const auto vcells = r.numbers("cells", *cells);
    if (vlo.size() < 1 || vlo.size() > static_cast<std::size_t>(kMaxAxes))
        throw InputError("grid.lower: expected 1 to 4 entries, one per axis");
    g.dims = static_cast<int>(vlo.size());
    if (vhi.size() != vlo.size())
        throw InputError("grid.upper: has " + std::to_string(vhi.size()) + " entries, grid.lower " +
                         std::to_string(vlo.size()));
    if (vcells.size() != vlo.size())
        throw InputError("grid.cells: has " + std::to_string(vcells.size()) + " entries, grid.lower " +
                         std::to_string(vlo.size()));
    for (int a = 0; a < g.dims; ++a) {
        const auto ua = static_cast<std::size_t>(a);
        g.lower[a] = vlo[ua];
        g.upper[a] = vhi[ua];
        if (vcells[ua] != std::floor(vcells[ua]) || vcells[ua] < 1 || vcells[ua] > 1e12)
            throw InputError("grid.cells: expected positive whole numbers, got " + std::to_string(vcells[ua]));
        g.cells[a] = static_cast<Index>(vcells[ua]);
    }
    if (const toml::node* b = r.node("boundary")) {
        if (auto s = b->as_string()) {
            for (int a = 0; a < g.dims; ++a) g.boundary[a] = boundary_from_string(s->get());
        } else {
            const auto& arr = r.array("boundary", *b);
            if (static_cast<int>(arr.size()) != g.dims)
                throw InputError("grid.boundary: expected one entry per axis (" + std::to_string(g.dims) + ")");
            for (int a = 0; a < g.dims; ++a) {
                auto s2 = arr[static_cast<std::size_t>(a)].as_string();
                if (!s2) throw InputError("grid.boundary: expected strings");
                g.boundary[a] = boundary_from_string(s2->get());
            }
        }
    }
    if (const toml::node* v = r.node("variables")) {
        const auto& arr = r.array("variables", *v);
        if (static_cast<int>(arr.size()) != g.dims)
            throw InputError("grid.variables: expected one name per axis (" + std::to_string(g.dims) + ")");
        for (int a = 0; a < g.dims; ++a) {
            auto s = arr[static_cast<std::size_t>(a)].as_string();
            if (!s || !is_identifier(s->get()) || reserved.count(s->get()))
                throw InputError("grid.variables: entry " + std::to_string(a) +
                                 " must be a name (letters, digits, _) that is not t, pi, e or a function");
            g.variables[a] = s->get();
        }
    }
    r.finish();
    validate(g);
    return g;
}

}  // namespace

toml::table effective_table(const std::string& text, const std::string& name,
                            const std::vector<std::string>& overrides) {
    toml::table root;
    try {
        root = toml::parse(std::string_view(text), std::string_view(name));
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
        throw InputError(os.str());
    }
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("--set " + o + ": expected key=value");
        try {
            const std::string line = o.substr(0, eq) + " = " + o.substr(eq + 1);
            merge(root, toml::parse(std::string_view(line), std::string_view("--set")));
        } catch (const toml::parse_error& e) {
            throw InputError("--set " + o + ": " + std::string(e.description()) +
                             " (the value is TOML: quote strings, e.g. --set dynamics.scheme='\"upwind\"')");
        }
    }
    return root;
}

std::string default_output_file(const std::string& text, const std::string& name, const std::string& config_path,
                                const std::vector<std::string>& overrides) {
    const toml::table root = effective_table(text, name, overrides);
    if (auto file = root["output"]["file"].value<std::string>()) return *file;
    return config_path.empty() ? "" : std::filesystem::path(config_path).stem().string() + ".h5";
}

ParsedConfig parse_config(const std::string& text, const std::string& name, const std::vector<std::string>& overrides,
                    const std::vector<std::string>& extra_tables) {
    toml::table root = effective_table(text, name, overrides);

    ParsedConfig c;
    c.path = name;
    {
        std::ostringstream os;
        os << root;
        c.text = os.str();
    }
    const std::set<std::string> known = {"title", "parameters", "grid", "dynamics", "initial", "time", "output"};
    for (auto&& [k, v] : root) {
        const std::string key(k.str());
        if (known.count(key)) continue;
        if (std::find(extra_tables.begin(), extra_tables.end(), key) != extra_tables.end()) {
            if (!v.is_table()) throw InputError(key + ": expected a table [" + key + "]");
            c.extra[key] = *v.as_table();
            continue;
        }
        throw InputError(key + ": unknown key (expected title, [parameters], [grid], [dynamics], [initial], [time], [output])");
    }
    if (const toml::node* t = root.get("title")) {
        if (!t->is_string()) throw InputError("title: expected a string");
        c.title = t->as_string()->get();
    }

    // [grid]
    const toml::table* grid_t = subtable(root, "grid");
    if (!grid_t) throw InputError(name + ": the [grid] table is missing");
    TableReader gr(grid_t, "grid");
    Problem& pb = c.problem;
    c.richardson = gr.boolean("richardson", false);
    pb.grid = read_grid(gr);
    const Grid& g = pb.grid;
    std::vector<std::string> vars(g.variables.begin(), g.variables.begin() + g.dims);

    // [parameters]
    if (const toml::table* pt = subtable(root, "parameters")) {
        TableReader r(pt, "parameters");
        for (auto&& [k, v] : *pt) {
            const std::string key(k.str());
            if (!is_identifier(key) || reserved.count(key) ||
                std::find(vars.begin(), vars.end(), key) != vars.end())
                throw InputError("parameters." + key + ": not a usable name (it is reserved or an axis variable)");
            c.parameters[key] = r.number(key, v);
        }
    }
    auto expr = [&](const std::string& source, const std::string& where) { return Expression(source, vars, c.parameters, where); };

    // [dynamics]
    {
        const toml::table* dt = subtable(root, "dynamics");
        if (!dt) throw InputError(name + ": the [dynamics] table is missing");
        TableReader r(dt, "dynamics");
        const toml::node* pot = r.node("potential");
        const toml::node* drift = r.node("drift");
        const toml::node* kin = r.node("kinetic");
        if ((pot != nullptr) + (drift != nullptr) + (kin != nullptr) != 1)
            throw InputError("dynamics: give exactly one of potential, drift and kinetic");
        if (kin) {
            if (r.has("noise") || r.has("learning_rate"))
                throw InputError(std::string("dynamics.") + (r.has("noise") ? "noise" : "learning_rate") +
                                 ": not with dynamics.kinetic, which sets the noise (2 friction temperature on the "
                                 "velocity axes); remove it");
            read_kinetic(kin, vars, c.parameters, pb);
        } else if (pot) {
            pb.potential = expr(r.expression_text("potential", *pot), "dynamics.potential");
        } else {
            const auto& arr = r.array("drift", *drift);
            if (static_cast<int>(arr.size()) != g.dims)
                throw InputError("dynamics.drift: expected one expression per axis (" + std::to_string(g.dims) +
                                 "), got " + std::to_string(arr.size()));
            for (int a = 0; a < g.dims; ++a) {
                const std::string w = "dynamics.drift[" + std::to_string(a) + "]";
                pb.drift.push_back(expr(r.expression_text(w, arr[static_cast<std::size_t>(a)]), w));
            }
        }
        // noise: number/expression (s I), list (diagonal), list of lists (matrix)
        const toml::node* noise = r.node("noise");
        if (!noise && !kin) throw InputError("dynamics.noise: required (a number, a list per axis, or a matrix)");
        const auto d = static_cast<std::size_t>(g.dims);
        if (!kin) pb.noise.assign(d, std::vector<Expression>(d));
        auto zero = [&] { return expr("0", "dynamics.noise"); };
        if (kin) {
            // set by read_kinetic
        } else if (!noise->is_array()) {
            const std::string txt = r.expression_text("noise", *noise);
            for (std::size_t a = 0; a < d; ++a)
                for (std::size_t b = 0; b < d; ++b) pb.noise[a][b] = a == b ? expr(txt, "dynamics.noise") : zero();
        } else {
            const auto& arr = *noise->as_array();
            if (arr.size() != d)
                throw InputError("dynamics.noise: expected " + std::to_string(d) + " entries (one per axis), got " +
                                 std::to_string(arr.size()));
            const bool matrix = arr[0].is_array();
            for (std::size_t a = 0; a < d; ++a) {
                if (arr[a].is_array() != matrix)
                    throw InputError("dynamics.noise: mixes numbers and rows; give a list or a list of lists");
                if (!matrix) {
                    const std::string w = "dynamics.noise[" + std::to_string(a) + "]";
                    for (std::size_t b = 0; b < d; ++b)
                        pb.noise[a][b] = a == b ? expr(r.expression_text(w, arr[a]), w) : zero();
                } else {
                    const auto& row = *arr[a].as_array();
                    if (row.size() != d)
                        throw InputError("dynamics.noise: row " + std::to_string(a) + " has " +
                                         std::to_string(row.size()) + " entries, expected " + std::to_string(d));
                    for (std::size_t b = 0; b < d; ++b) {
                        const std::string w = "dynamics.noise[" + std::to_string(a) + "][" + std::to_string(b) + "]";
                        pb.noise[a][b] = expr(r.expression_text(w, row[b]), w);
                    }
                }
            }
            if (matrix)
                for (std::size_t a = 0; a < d; ++a)
                    for (std::size_t b = 0; b < a; ++b)
                        if (pb.noise[a][b].text() != pb.noise[b][a].text() &&
                            !(pb.noise[a][b].is_constant() && pb.noise[b][a].is_constant()))
                            throw InputError("dynamics.noise: the matrix is not symmetric (entries [" +
                                             std::to_string(a) + "][" + std::to_string(b) + "] and [" +
                                             std::to_string(b) + "][" + std::to_string(a) + "] differ)");
        }
        if (kin) {
            pb.learning_rate.assign(d, 1.0);
        } else if (const toml::node* lr = r.node("learning_rate")) {
            pb.learning_rate = r.numbers("learning_rate", *lr);
            if (pb.learning_rate.size() == 1) pb.learning_rate.assign(d, pb.learning_rate[0]);
            if (pb.learning_rate.size() != d)
                throw InputError("dynamics.learning_rate: expected one number or one per axis (" + std::to_string(d) + ")");
            for (double e : pb.learning_rate)
                if (!(e > 0.0)) throw InputError("dynamics.learning_rate: must be positive");
        } else {
            pb.learning_rate.assign(d, 1.0);
        }
        const std::string conv = r.string("convention", "ito");
        if (conv == "ito") pb.convention = Convention::ito;
        else if (conv == "stratonovich") pb.convention = Convention::stratonovich;
        else if (conv == "isothermal") pb.convention = Convention::isothermal;
        else throw InputError("dynamics.convention: got \"" + conv + "\", expected ito, stratonovich or isothermal");
        const std::string scheme = r.string("scheme", "exponential");
        if (scheme == "exponential") pb.scheme = Scheme::exponential;
        else if (scheme == "upwind") pb.scheme = Scheme::upwind;
        else if (scheme == "central") pb.scheme = Scheme::central;
        else throw InputError("dynamics.scheme: got \"" + scheme + "\", expected exponential, upwind or central");
        r.finish();
        check_noise(pb, "dynamics.noise");
    }

    // [initial]
    {
        const toml::table* it = subtable(root, "initial");
        TableReader r(it, "initial");
        const toml::node* dens = r.node("density");
        const toml::node* gauss = r.node("gaussian");
        const toml::node* snap = r.node("snapshot");
        const int given = (dens != nullptr) + (gauss != nullptr) + (snap != nullptr);
        if (given > 1) throw InputError("initial: give only one of density, gaussian and snapshot");
        InitialDensity& init = pb.initial;
        if (dens) {
            init.where = "initial.density";
            init.expression = expr(r.expression_text("density", *dens), "initial.density");
        } else if (gauss) {
            init.where = "initial.gaussian";
            if (!gauss->is_table()) throw InputError("initial.gaussian: expected { mean = [...], covariance = [[...]] }");
            TableReader gr2(gauss->as_table(), "initial.gaussian");
            const toml::node* mean = gr2.node("mean");
            const toml::node* cov = gr2.node("covariance");
            if (!mean || !cov) throw InputError("initial.gaussian: needs mean and covariance");
            const auto m = gr2.numbers("mean", *mean);
            if (static_cast<int>(m.size()) != g.dims)
                throw InputError("initial.gaussian.mean: expected " + std::to_string(g.dims) + " entries");
            GaussianDensity gd;
            gd.mean = Eigen::Map<const Eigen::VectorXd>(m.data(), g.dims);
            gd.covariance = Eigen::MatrixXd::Zero(g.dims, g.dims);
            if (!cov->is_array()) {
                gd.covariance.diagonal().setConstant(gr2.number("covariance", *cov));
            } else {
                const auto& rows = *cov->as_array();
                if (static_cast<int>(rows.size()) != g.dims)
                    throw InputError("initial.gaussian.covariance: expected " + std::to_string(g.dims) + " rows");
                for (int a = 0; a < g.dims; ++a) {
                    const auto row = gr2.numbers("covariance", rows[static_cast<std::size_t>(a)]);
                    if (row.size() == 1 && g.dims > 1) throw InputError("initial.gaussian.covariance: rows must be lists");
                    if (static_cast<int>(row.size()) != g.dims)
                        throw InputError("initial.gaussian.covariance: row " + std::to_string(a) + " has " +
                                         std::to_string(row.size()) + " entries, expected " + std::to_string(g.dims));
                    for (int b = 0; b < g.dims; ++b) gd.covariance(a, b) = row[static_cast<std::size_t>(b)];
                }
            }
            if ((gd.covariance - gd.covariance.transpose()).cwiseAbs().maxCoeff() > 1e-12 * gd.covariance.cwiseAbs().maxCoeff())
                throw InputError("initial.gaussian.covariance: not symmetric");
            gr2.finish();
            init.gaussian = gd;
        } else if (snap) {
            init.where = "initial.snapshot";
            if (!snap->is_string()) throw InputError("initial.snapshot: expected a file name");
            init.snapshot_file = snap->as_string()->get();
        } else {
            init.where = "initial";
            init.expression = expr("1", "initial");  // uniform
        }
        r.finish();
    }

    // [time]
    {
        const toml::table* tt = subtable(root, "time");
        TableReader r(tt, "time");
        TimeSettings& ts = c.time;
        const toml::node* times = r.node("times");
        const toml::node* snaps = r.node("snapshots");
        const toml::node* endn = r.node("end");
        if (times && snaps) throw InputError("time: give snapshots or times, not both");
        if (times) {
            const auto v = r.numbers("times", *times);
            if (v.empty()) throw InputError("time.times: the list is empty");
            for (std::size_t k = 0; k < v.size(); ++k) {
                if (v[k] < 0.0) throw InputError("time.times: times must be >= 0");
                if (k > 0 && !(v[k] > v[k - 1])) throw InputError("time.times: times must increase");
            }
            if (endn && std::abs(r.number("end", *endn) - v.back()) > 0)
                throw InputError("time.end: differs from the last entry of time.times; give one of them");
            c.observe_first = v.front() == 0.0;
            ts.times.clear();
            if (!c.observe_first) ts.times.push_back(0.0);
            ts.times.insert(ts.times.end(), v.begin(), v.end());
        } else {
            const double end = endn ? r.number("end", *endn) : 1.0;
            if (!(end > 0.0)) throw InputError("time.end: must be positive");
            double n = 11;
            if (snaps) {
                n = r.number("snapshots", *snaps);
                if (n != std::floor(n) || n < 2 || n > 1e7)
                    throw InputError("time.snapshots: expected a whole number >= 2");
            }
            const auto ni = static_cast<std::size_t>(n);
            ts.times.resize(ni);
            for (std::size_t k = 0; k < ni; ++k) ts.times[k] = end * static_cast<double>(k) / static_cast<double>(ni - 1);
            ts.times.back() = end;
        }
        ts.integrator = integrator_from_string(r.string("integrator", "auto"));
        ts.rtol = r.number("rtol", 1e-8);
        ts.atol = r.number("atol", 1e-12);
        if (!(ts.rtol > 0.0) || !(ts.atol > 0.0) || ts.rtol >= 1.0) throw InputError("time.rtol/atol: must be in (0, 1)");
        if (const toml::node* dtn = r.node("dt")) {
            ts.dt = r.number("dt", *dtn);
            if (!(*ts.dt > 0.0)) throw InputError("time.dt: must be positive");
        }
        r.finish();
    }

    // [output]
    {
        const toml::table* ot = subtable(root, "output");
        TableReader r(ot, "output");
        c.output_file = r.string("file", "");
        c.output_current = r.boolean("current", false);
        r.finish();
    }
    if (c.richardson) {
        // The coarse run's snapshots wait in memory for the fine run, beside the fine run's own vectors.
        const double need = static_cast<double>(coarsened(pb.grid).size()) * 8.0 *
                                static_cast<double>(c.time.times.size()) +
                            static_cast<double>(pb.grid.size()) * 8.0 * 16.0;
        if (need > 0.8 * physical_memory_bytes()) {
            char msg[240];
            std::snprintf(msg, sizeof msg,
                          "grid.richardson: the coarse run's %zu snapshots and the fine run need about %.3g GB, "
                          "more than this machine's %.3g GB; ask for fewer snapshots or cells",
                          c.time.times.size(), need / 1e9, physical_memory_bytes() / 1e9);
            throw InputError(msg);
        }
        if (pb.scheme == Scheme::upwind)
            throw InputError(
                "grid.richardson: needs a second-order scheme; dynamics.scheme = \"upwind\" is first "
                "order (use \"exponential\" or \"central\")");
    }
    return c;
}

ParsedConfig load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const std::vector<std::string>& extra_tables) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path + ": no such config file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot read");
    std::ostringstream os;
    os << in.rdbuf();
    ParsedConfig c = parse_config(os.str(), path, overrides, extra_tables);
    if (c.output_file.empty()) c.output_file = std::filesystem::path(path).stem().string() + ".h5";
    return c;
}

}  // namespace fpsolve
