// fpsolve flux: the lecture's appendix, checked. The mass one Gaussian step x' = y + mu dt + sigma sqrt(dt) eps
// carries across a point (a plane with normal n in 2-D/3-D), by quadrature of the transfer integrals, against
//   net = [n.mu p - 1/2 n^T D grad p] dt + (next term) dt^2 + O(dt^3),   alpha = 2 ∫_0^∞ u Phi(-u) du = 1/2,
// with a Monte Carlo estimate and the finite-volume scheme's own face flux (solver/appendix_flux.hpp).
//
//   fpsolve flux --density "exp(-x^2/2)/sqrt(2*pi)" --at 0.5 --sigma 1 --dt 0.1,0.05,0.025 --particles 100000
//   fpsolve flux --file dw.h5 --snapshot 10 --at 0.3 --json
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <toml++/toml.h>

#include "appendix_flux.hpp"
#include "common.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

struct FluxOptions {
    std::string density, file, noise, potential;
    long snapshot = -1;
    std::vector<double> at, normal, dt{0.1, 0.05, 0.025, 0.0125, 0.00625};
    std::vector<std::string> drift, params;
    double sigma = std::nan("");
    double h = 0.05;
    double fd_step = std::nan("");
    std::uint64_t particles = 0, seed = 1;
    std::string scheme;
    bool no_drift = false, json = false;
};

double finite(double v, const std::string& what) {
    if (!std::isfinite(v)) throw InputError(what + ": expected a finite number");
    return v;
}

Parameters parse_params(const std::vector<std::string>& items) {
    Parameters p;
    for (const auto& it : items) {
        const auto eq = it.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("--param: expected NAME=VALUE, got '" + it + "'");
        const std::string name = it.substr(0, eq), value = it.substr(eq + 1);
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0' || !std::isfinite(v))
            throw InputError("--param " + name + ": expected a finite number, got '" + value + "'");
        p[name] = v;
    }
    return p;
}

// --noise in TOML value syntax: a number (Sigma = s I), a list (diagonal) or a list of lists (matrix).
Matrix3 parse_noise(const std::string& text, int d) {
    toml::table t;
    try {
        t = toml::parse("v = " + text);
    } catch (const toml::parse_error&) {
        throw InputError("--noise: expected a number, a list or a list of lists, got '" + text + "'");
    }
    auto number = [&](const toml::node& n) {
        if (auto i = n.as_integer()) return static_cast<double>(i->get());
        if (auto f = n.as_floating_point()) return finite(f->get(), "--noise");
        throw InputError("--noise: expected numbers, got '" + text + "'");
    };
    Matrix3 m = Matrix3::Zero();
    const toml::node& v = *t.get("v");
    if (!v.is_array()) {
        const double s = number(v);
        for (int a = 0; a < d; ++a) m(a, a) = s;
        return m;
    }
    const auto& arr = *v.as_array();
    if (static_cast<int>(arr.size()) != d)
        throw InputError("--noise: expected " + std::to_string(d) + " entries (one per axis), got " + std::to_string(arr.size()));
    for (int a = 0; a < d; ++a) {
        const toml::node& row = arr[static_cast<std::size_t>(a)];
        if (!row.is_array()) {
            m(a, a) = number(row);
            continue;
        }
        const auto& r = *row.as_array();
        if (static_cast<int>(r.size()) != d) throw InputError("--noise: row " + std::to_string(a) + " needs " + std::to_string(d) + " entries");
        for (int b = 0; b < d; ++b) m(a, b) = number(r[static_cast<std::size_t>(b)]);
    }
    return m;
}

void check_diffusion(const Matrix3& m, int d) {
    const double scale = std::max(1e-300, m.cwiseAbs().maxCoeff());
    if ((m - m.transpose()).cwiseAbs().maxCoeff() > 1e-12 * scale) throw InputError("--noise: the matrix is not symmetric");
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m.topLeftCorner(d, d));
    if (es.eigenvalues().minCoeff() < -1e-12 * scale) throw InputError("--noise: the matrix is not positive semidefinite");
}

// A snapshot as a function: tensor cubic Lagrange interpolation through the 4 nearest cell centres per axis
// (cell averages taken as point values: an O(h^2) difference), zero outside the grid.
DensityFn snapshot_density(const Grid& g, Eigen::VectorXd values) {
    return [g, v = std::move(values)](const Point& x) {
        std::array<std::array<Index, 4>, 3> idx{};
        std::array<std::array<double, 4>, 3> w{};
        for (int a = 0; a < 3; ++a) {
            idx[a] = {0, 0, 0, 0};
            w[a] = {1.0, 0.0, 0.0, 0.0};
        }
        for (int a = 0; a < g.dims; ++a) {
            if (x[a] < g.lower[a] || x[a] > g.upper[a]) return 0.0;
            const Index n = g.cells[a];
            const double s = (x[a] - g.lower[a]) / g.spacing(a) - 0.5;  // position in units of centres
            if (n < 4) {  // too few cells for a cubic: nearest centre
                idx[a][0] = std::clamp<Index>(static_cast<Index>(std::lround(s)), 0, n - 1);
                continue;
            }
            const Index i0 = std::clamp<Index>(static_cast<Index>(std::floor(s)) - 1, 0, n - 4);
            for (int k = 0; k < 4; ++k) {
                idx[a][static_cast<std::size_t>(k)] = i0 + k;
                double l = 1.0;
                for (int m = 0; m < 4; ++m)
                    if (m != k) l *= (s - static_cast<double>(i0 + m)) / static_cast<double>(k - m);
                w[a][static_cast<std::size_t>(k)] = l;
            }
        }
        double sum = 0.0;
        const int q1 = g.dims > 1 ? 4 : 1, q2 = g.dims > 2 ? 4 : 1;
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t j = 0; j < static_cast<std::size_t>(q1); ++j)
                for (std::size_t k = 0; k < static_cast<std::size_t>(q2); ++k) {
                    const double wt = w[0][i] * w[1][j] * w[2][k];
                    if (wt == 0.0) continue;
                    Index c = idx[0][i];
                    if (g.dims > 1) c = c * g.cells[1] + idx[1][j];
                    if (g.dims > 2) c = c * g.cells[2] + idx[2][k];
                    sum += wt * v[c];
                }
        return sum;
    };
}

std::string join_point(const Point& x, int d) {
    std::ostringstream os;
    os.precision(6);
    if (d > 1) os << "(";
    for (int a = 0; a < d; ++a) os << (a ? ", " : "") << x[a];
    if (d > 1) os << ")";
    return os.str();
}

// An order for the table: "-" where there is none (the first row).
std::string fixed(double v, int width) {
    char buf[32];
    if (std::isfinite(v))
        std::snprintf(buf, sizeof buf, "% -*.3f", width, v);
    else
        std::snprintf(buf, sizeof buf, " %-*s", width - 1, "-");
    return buf;
}

int flux_command(const FluxOptions& o) {
    // ---- validate everything first
    if (o.density.empty() == o.file.empty()) throw InputError("flux: give exactly one of --density EXPR or --file OUT.h5");
    if (!o.potential.empty() && !o.drift.empty()) throw InputError("flux: give at most one of --drift and --potential");
    if (o.no_drift && (!o.potential.empty() || !o.drift.empty())) throw InputError("flux: --no-drift with a drift");
    if (!std::isnan(o.sigma) && !o.noise.empty()) throw InputError("flux: give at most one of --sigma and --noise");
    if (!std::isnan(o.sigma) && !(std::isfinite(o.sigma) && o.sigma > 0.0)) throw InputError("--sigma: expected a number > 0");
    if (o.dt.empty()) throw InputError("--dt: give at least one step");
    for (double dt : o.dt)
        if (!(std::isfinite(dt) && dt > 0.0)) throw InputError("--dt: every step must be a finite number > 0");
    if (!(std::isfinite(o.h) && o.h > 0.0)) throw InputError("--h: expected a number > 0");
    if (!std::isnan(o.fd_step) && !(std::isfinite(o.fd_step) && o.fd_step > 0.0)) throw InputError("--fd-step: expected a number > 0");
    if (o.particles == 1) throw InputError("--particles: at least 2 (or 0 for no Monte Carlo)");

    FluxSetup s;
    std::string description;
    Scheme scheme = Scheme::exponential;
    std::optional<Problem> problem;  // from the file
    std::optional<Eigen::VectorXd> cells;
    double t_snapshot = 0.0;
    if (!o.file.empty()) {
        const SnapshotFileInfo info = read_snapshot_file(o.file);
        if (info.times.empty()) throw InputError(o.file + ": holds no snapshot");
        const long n = static_cast<long>(info.times.size());
        if (o.snapshot < -n || o.snapshot >= n)
            throw InputError("--snapshot: " + o.file + " holds snapshots 0 to " + std::to_string(n - 1) + ", got " + std::to_string(o.snapshot));
        const long k = o.snapshot < 0 ? n + o.snapshot : o.snapshot;
        cells = read_snapshot(o.file, k);
        t_snapshot = info.times[static_cast<std::size_t>(k)];
        problem = parse_config(info.config, o.file + " (its config)", {}).problem;
        s.dims = info.grid.dims;
        s.density = snapshot_density(info.grid, *cells);
        scheme = problem->scheme;
        double hmin = HUGE_VAL;
        for (int a = 0; a < s.dims; ++a) hmin = std::min(hmin, info.grid.spacing(a));
        s.fd_step = hmin;
        // The cubic interpolant has kinks at the centres: adaptive quadrature converges only algebraically there.
        s.quadrature_tolerance = 1e-9;
        s.quadrature_depth = 10;
        description = o.file + ", snapshot " + std::to_string(k) + " (t = " + std::to_string(t_snapshot) + ")";
    } else {
        s.dims = o.at.empty() ? 1 : static_cast<int>(o.at.size());
    }
    if (s.dims < 1 || s.dims > 3) throw InputError("--at: expected 1 to 3 coordinates");
    if (!o.at.empty() && static_cast<int>(o.at.size()) != s.dims)
        throw InputError("--at: expected " + std::to_string(s.dims) + " coordinates, got " + std::to_string(o.at.size()));
    for (std::size_t a = 0; a < o.at.size(); ++a) s.x[a] = finite(o.at[a], "--at");
    if (!std::isnan(o.fd_step)) s.fd_step = o.fd_step;
    if (!o.scheme.empty()) {
        if (o.scheme == "exponential") scheme = Scheme::exponential;
        else if (o.scheme == "upwind") scheme = Scheme::upwind;
        else if (o.scheme == "central") scheme = Scheme::central;
        else throw InputError("--scheme: expected exponential, upwind or central, got '" + o.scheme + "'");
    }
    const int d = s.dims;
    // normal
    s.normal = Vector3::Zero();
    if (o.normal.empty()) {
        s.normal[0] = 1.0;
    } else {
        if (static_cast<int>(o.normal.size()) != d)
            throw InputError("--normal: expected " + std::to_string(d) + " components, got " + std::to_string(o.normal.size()));
        for (int a = 0; a < d; ++a) s.normal[a] = finite(o.normal[static_cast<std::size_t>(a)], "--normal");
        if (!(s.normal.norm() > 0.0)) throw InputError("--normal: must not be zero");
        s.normal /= s.normal.norm();
        if (d == 1 && s.normal[0] < 0.0) throw InputError("--normal: in 1-D the normal is +x");
    }
    // noise
    if (!std::isnan(o.sigma)) {
        s.diffusion = Matrix3::Zero();
        for (int a = 0; a < d; ++a) s.diffusion(a, a) = o.sigma * o.sigma;
    } else if (!o.noise.empty()) {
        s.diffusion = parse_noise(o.noise, d);
        check_diffusion(s.diffusion, d);
    } else if (problem) {
        s.diffusion = problem->diffusion(s.x, t_snapshot);  // D at the point, frozen over the step
    } else {
        s.diffusion = Matrix3::Zero();
        for (int a = 0; a < d; ++a) s.diffusion(a, a) = 1.0;
    }
    // density and drift expressions
    std::vector<std::string> vars{"x", "y", "z"};
    vars.resize(static_cast<std::size_t>(d));
    const Parameters params = parse_params(o.params);
    if (!o.density.empty()) {
        auto e = std::make_shared<Expression>(o.density, vars, params, "--density");
        s.density = [e](const Point& y) { return (*e)(y, 0.0); };
        description = "p = " + o.density;
    }
    if (!o.drift.empty()) {
        if (static_cast<int>(o.drift.size()) != d)
            throw InputError("--drift: expected " + std::to_string(d) + " expressions (one per axis), got " + std::to_string(o.drift.size()));
        auto es = std::make_shared<std::vector<Expression>>();
        for (const auto& t : o.drift) es->emplace_back(t, vars, params, "--drift");
        s.drift = [es, d](const Point& y) {
            Vector3 m = Vector3::Zero();
            for (int a = 0; a < d; ++a) m[a] = (*es)[static_cast<std::size_t>(a)](y, 0.0);
            return m;
        };
    } else if (!o.potential.empty()) {
        auto e = std::make_shared<Expression>(o.potential, vars, params, "--potential");
        s.drift = [e, d](const Point& y) {  // mu = -grad L by central differences
            Vector3 m = Vector3::Zero();
            for (int a = 0; a < d; ++a) {
                const double hh = 1e-5 * std::max(1.0, std::abs(y[a]));
                Point yp = y, ym = y;
                yp[a] += hh;
                ym[a] -= hh;
                m[a] = -((*e)(yp, 0.0) - (*e)(ym, 0.0)) / (2.0 * hh);
            }
            return m;
        };
    } else if (problem && !o.no_drift) {
        auto pb = std::make_shared<Problem>(*problem);
        s.drift = [pb, t_snapshot](const Point& y) { return pb->drift_at(y, t_snapshot); };
    }

    // ---- compute
    const DensityDerivatives der = density_derivatives(s);
    if (!std::isfinite(der.p)) throw InputError("flux: the density is not finite at the point");
    const QuadratureValue alpha = alpha_by_quadrature();
    std::vector<TransferRow> rows;
    for (std::size_t i = 0; i < o.dt.size(); ++i) {
        TransferRow r = transfer(s, o.dt[i]);
        if (o.particles > 0) {
            const MonteCarloValue mc = monte_carlo_transfer(s, o.dt[i], o.particles, o.seed + i);
            r.monte_carlo = mc.value;
            r.monte_carlo_error = mc.standard_error;
        }
        rows.push_back(r);
    }
    auto order = [&](std::size_t i) {  // observed order of the remainder between rows i-1 and i
        if (i == 0) return std::nan("");
        const double a = std::abs(rows[i - 1].remainder), b = std::abs(rows[i].remainder);
        if (!(a > 0.0 && b > 0.0)) return std::nan("");
        return std::log(a / b) / std::log(rows[i - 1].dt / rows[i].dt);
    };

    // scheme face flux: only through an axis-aligned plane
    int axis = -1;
    for (int a = 0; a < d; ++a)
        if (std::abs(std::abs(s.normal[a]) - 1.0) < 1e-12) axis = a;
    double rate = der.mu.dot(s.normal) * der.p - 0.5 * der.normal_gradient;  // per unit time, at the point
    struct SchemeRow {
        double h, flux, error;
    };
    std::vector<SchemeRow> scheme_rows;
    Point face_centre = s.x;
    if (axis >= 0) {
        const double sign = s.normal[axis];
        if (cells) {  // the solver's own cell values at the face nearest to the point
            const Grid& g = problem->grid;
            const double hh = g.spacing(axis);
            const Index k = std::clamp<Index>(static_cast<Index>(std::lround((s.x[axis] - g.lower[axis]) / hh)), 1, g.cells[axis] - 1);
            Point face = s.x;
            face[axis] = g.lower[axis] + static_cast<double>(k) * hh;
            for (int a = 0; a < d; ++a)
                if (a != axis) {
                    const Index i = std::clamp<Index>(static_cast<Index>(std::floor((s.x[a] - g.lower[a]) / g.spacing(a))), 0, g.cells[a] - 1);
                    face[a] = g.centre(a, i);
                }
            face_centre = face;
            Vector3 hv = Vector3::Ones();
            for (int a = 0; a < d; ++a) hv[a] = g.spacing(a);
            const Eigen::VectorXd& v = *cells;
            auto cell = [&](const Point& c) {
                Index lin = 0;
                for (int a = 0; a < d; ++a) {
                    Index i = static_cast<Index>(std::floor((c[a] - g.lower[a]) / g.spacing(a)));
                    if (g.boundary[a] == Boundary::periodic) i = (i % g.cells[a] + g.cells[a]) % g.cells[a];
                    i = std::clamp<Index>(i, 0, g.cells[a] - 1);
                    lin = lin * g.cells[a] + i;
                }
                return v[lin];
            };
            Vector3 mu_face = Vector3::Zero();
            if (s.drift) mu_face = s.drift(face);
            const double f = sign * scheme_face_flux(scheme, d, mu_face, s.diffusion, axis, face, hv, cell);
            // The formula at the face's centre, which need not be the point.
            FluxSetup at_face = s;
            at_face.x = face;
            const DensityDerivatives df = density_derivatives(at_face);
            rate = df.mu.dot(s.normal) * df.p - 0.5 * df.normal_gradient;
            scheme_rows.push_back({hh, f, f - rate});
        } else {
            for (int k = 0; k < 4; ++k) {
                const double hh = o.h / std::pow(2.0, k);
                const double f = sign * scheme_face_flux(s, scheme, axis, hh);
                scheme_rows.push_back({hh, f, f - rate});
            }
        }
    }
    auto scheme_order = [&](std::size_t i) {
        if (i == 0) return std::nan("");
        const double a = std::abs(scheme_rows[i - 1].error), b = std::abs(scheme_rows[i].error);
        if (!(a > 0.0 && b > 0.0)) return std::nan("");
        return std::log(a / b) / std::log(scheme_rows[i - 1].h / scheme_rows[i].h);
    };

    // ---- report
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    if (o.json) {
        nlohmann::json j;
        j["density"] = description;
        j["dims"] = d;
        for (int a = 0; a < d; ++a) {
            j["point"].push_back(s.x[a]);
            j["normal"].push_back(s.normal[a]);
            j["gradient"].push_back(der.grad[a]);
            j["drift"].push_back(der.mu[a]);
            nlohmann::json row;
            for (int b = 0; b < d; ++b) row.push_back(s.diffusion(a, b));
            j["diffusion"].push_back(row);
        }
        j["alpha"] = {{"value", alpha.value}, {"error", alpha.error}, {"exact", 0.5}};
        j["p"] = der.p;
        j["normal_gradient"] = der.normal_gradient;  // n^T D grad p
        j["third_derivative"] = der.third;            // (n^T D grad)(grad^T D grad) p
        j["rows"] = nlohmann::json::array();
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const TransferRow& r = rows[i];
            nlohmann::json x = {{"dt", r.dt},
                                {"up", r.up},
                                {"down", r.down},
                                {"net", r.net},
                                {"quadrature_error", r.quadrature_error},
                                {"diffusion_formula", r.diffusion_formula},
                                {"drift_term", r.drift_term},
                                {"formula", r.formula},
                                {"remainder", r.remainder},
                                {"next_term", r.next_term},
                                {"remainder_order", num(order(i))}};
            if (r.monte_carlo) {
                x["monte_carlo"] = *r.monte_carlo;
                x["monte_carlo_error"] = *r.monte_carlo_error;
                x["particles"] = o.particles;
            }
            j["rows"].push_back(x);
        }
        j["scheme"] = {{"name", std::string(to_string(scheme))}, {"formula_rate", rate}, {"rows", nlohmann::json::array()}};
        if (cells)
            for (int a = 0; a < d; ++a) j["scheme"]["face"].push_back(face_centre[a]);
        for (std::size_t i = 0; i < scheme_rows.size(); ++i)
            j["scheme"]["rows"].push_back({{"h", scheme_rows[i].h},
                                           {"flux", scheme_rows[i].flux},
                                           {"error", scheme_rows[i].error},
                                           {"order", num(scheme_order(i))}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("fpsolve flux: %s, %s %s", description.c_str(), d == 1 ? "across x =" : "at", join_point(s.x, d).c_str());
    if (d > 1) std::printf(", normal %s", join_point({s.normal[0], s.normal[1], s.normal[2]}, d).c_str());
    std::printf("\n");
    if (d == 1)
        std::printf("  sigma^2 = %.6g; p = %.6e, p' = %.6e, sigma^4 p''' = %.6e", s.diffusion(0, 0), der.p, der.grad[0], der.third);
    else
        std::printf("  p = %.6e, n^T D grad p = %.6e, (n^T D grad)(grad^T D grad) p = %.6e", der.p, der.normal_gradient, der.third);
    if (s.drift) std::printf(", drift n.mu = %.6e", der.mu.dot(s.normal));
    std::printf("\n  alpha = 2 int_0^inf u Phi(-u) du = %.15f (quadrature error estimate %.1e)\n\n", alpha.value, alpha.error);
    std::printf("  net = up - down, by quadrature;  formula = [%s- 1/2 %s] dt;  next = the predicted dt^2 term\n",
                s.drift ? "n.mu p " : "", d == 1 ? "sigma^2 p'" : "n^T D grad p");
    std::printf("  %-10s %-13s %-13s %-13s %-13s %-11s %-11s %-8s %-6s", "dt", "up", "down", "net", "formula", "remainder",
                "next", "rem/next", "order");
    if (o.particles > 0) std::printf(" %-24s %s", "Monte Carlo net +- se", "(net-MC)/se");
    std::printf("\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const TransferRow& r = rows[i];
        std::printf("  %-10.4g % -13.6e % -13.6e % -13.6e % -13.6e % -11.3e % -11.3e % -8.4f %s", r.dt, r.up, r.down, r.net,
                    r.formula, r.remainder, r.next_term, r.remainder / r.next_term, fixed(order(i), 6).c_str());
        if (r.monte_carlo)
            std::printf(" % -12.4e +- %-8.2e % .2f", *r.monte_carlo, *r.monte_carlo_error,
                        (r.net - *r.monte_carlo) / *r.monte_carlo_error);
        std::printf("\n");
    }
    if (axis < 0) {
        std::printf("\n  scheme face flux: only through a plane normal to an axis\n");
    } else {
        std::printf("\n  finite-volume face flux (%s scheme) vs n.mu p - 1/2 n^T D grad p = %.6e (per unit time)%s\n",
                    std::string(to_string(scheme)).c_str(), rate,
                    cells ? (", at the face " + join_point(face_centre, d) + " of the file's grid").c_str() : "");
        std::printf("  %-10s %-14s %-11s %s\n", "h", "F", "F - rate", "order");
        for (std::size_t i = 0; i < scheme_rows.size(); ++i)
            std::printf("  %-10.4g % -14.7e % -11.3e %s\n", scheme_rows[i].h, scheme_rows[i].flux, scheme_rows[i].error,
                        fixed(scheme_order(i), 6).c_str());
    }
    return 0;
}

}  // namespace

CommandEntry register_flux(CLI::App& app) {
    auto o = std::make_shared<FluxOptions>();
    CLI::App* sub = app.add_subcommand(
        "flux", "The appendix checked: mass carried across a point by one Gaussian step vs -1/2 sigma^2 dt p'");
    sub->add_option("--density", o->density, "The density p as an expression of x (y, z); its normalisation does not matter");
    sub->add_option("--file", o->file, "Take p, the noise and the drift from a snapshot of an fpsolve file instead");
    sub->add_option("--snapshot", o->snapshot, "Snapshot index in --file (negative: from the end; default the last)");
    sub->add_option("--at", o->at, "The point x (comma separated in 2-D/3-D; default 0)")->delimiter(',');
    sub->add_option("--normal", o->normal, "Unit normal of the plane in 2-D/3-D (default +x)")->delimiter(',');
    sub->add_option("--sigma", o->sigma, "Noise scale sigma: D = sigma^2 I (default 1, or the file's noise)");
    sub->add_option("--noise", o->noise, "Noise covariance Sigma = D: a number, a list (diagonal) or a matrix [[..],[..]]");
    sub->add_option("--drift", o->drift, "Drift mu, one expression per axis (repeat the option; --drift=-x for a leading minus)")
        ->allow_extra_args(false);
    sub->add_option("--potential", o->potential, "Potential L: drift mu = -grad L (the Langevin step)");
    sub->add_flag("--no-drift", o->no_drift, "Ignore the file's drift (pure diffusion)");
    sub->add_option("--param", o->params, "A named constant for the expressions: NAME=VALUE")->allow_extra_args(false);
    sub->add_option("--dt", o->dt, "Time steps, comma separated (default 0.1,0.05,0.025,0.0125,0.00625)")->delimiter(',');
    sub->add_option("--particles", o->particles, "Monte Carlo: particles per dt (0: none)");
    sub->add_option("--seed", o->seed, "Monte Carlo seed (default 1)");
    sub->add_option("--h", o->h, "Cell size for the scheme's face flux (then h/2, h/4, h/8; default 0.05)");
    sub->add_option("--scheme", o->scheme, "exponential | upwind | central (default exponential, or the file's)");
    sub->add_option("--fd-step", o->fd_step, "Step of the finite differences for p', p''' (default 0.01, or the file's spacing)");
    sub->add_flag("--json", o->json, "Print one JSON object instead of the table");
    sub->footer("Example: fpsolve flux --density \"exp(-x^2/2)/sqrt(2*pi)\" --at 0.5 --sigma 1 --particles 200000\n"
                "See docs/appendix.md for the derivation of the formula and of its next term.");
    return {sub, [o] { return flux_command(*o); }};
}

}  // namespace fpsolve
