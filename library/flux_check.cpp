// check_flux(): the appendix's transfer integrals, their formula, Monte Carlo and the scheme's face flux
// (flux_check.hpp).
//
//   options -> FluxSetup (density, point, normal, D, drift) -> derivatives, alpha -> one TransferRow per dt
//   (+ Monte Carlo) -> the scheme's face flux at h, h/2, ... (or at the file's own face)
#include "flux_check.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <array>
#include <memory>
#include <sstream>
#include <toml++/toml.h>

#include "config.hpp"
#include "expression.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

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

void validate(const FluxCheckOptions& o) {
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
}

// A snapshot of an fpsolve file with the problem of its config.
struct FileSnapshot {
    Problem problem;
    Eigen::VectorXd cells;
    double time = 0.0;
};

// The file's snapshot as the density (an interpolant, with the quadrature and differences it needs).
FileSnapshot read_file_snapshot(const FluxCheckOptions& o, FluxSetup& s, FluxCheckResult& r) {
    const SnapshotFileInfo info = read_snapshot_file(o.file);
    if (info.grid.dims > 3) {
        std::ostringstream msg;  // not operator+: g++ 12 warns falsely (-Wrestrict) on the concatenation
        msg << o.file << ": holds a " << info.grid.dims << "-D grid; fpsolve flux checks 1 to 3 dimensions";
        throw InputError(msg.str());
    }
    if (info.times.empty()) throw InputError(o.file + ": holds no snapshot");
    const long n = static_cast<long>(info.times.size());
    if (o.snapshot < -n || o.snapshot >= n)
        throw InputError("--snapshot: " + o.file + " holds snapshots 0 to " + std::to_string(n - 1) + ", got " + std::to_string(o.snapshot));
    const long k = o.snapshot < 0 ? n + o.snapshot : o.snapshot;
    FileSnapshot f;
    f.cells = read_snapshot(o.file, k);
    f.time = info.times[static_cast<std::size_t>(k)];
    f.problem = parse_config(info.config, o.file + " (its config)", {}).problem;
    s.dims = info.grid.dims;
    s.density = snapshot_density(info.grid, f.cells);
    r.scheme = f.problem.scheme;
    double hmin = HUGE_VAL;
    for (int a = 0; a < s.dims; ++a) hmin = std::min(hmin, info.grid.spacing(a));
    s.fd_step = hmin;
    // The cubic interpolant has kinks at the centres: adaptive quadrature converges only algebraically there.
    s.quadrature_tolerance = 1e-9;
    s.quadrature_depth = 10;
    r.description = o.file + ", snapshot " + std::to_string(k) + " (t = " + std::to_string(f.time) + ")";
    return f;
}

// The point, the finite-difference step, the scheme and the normal.
void set_geometry(const FluxCheckOptions& o, FluxSetup& s, FluxCheckResult& r) {
    if (s.dims < 1 || s.dims > 3) throw InputError("--at: expected 1 to 3 coordinates");
    if (!o.at.empty() && static_cast<int>(o.at.size()) != s.dims)
        throw InputError("--at: expected " + std::to_string(s.dims) + " coordinates, got " + std::to_string(o.at.size()));
    for (std::size_t a = 0; a < o.at.size(); ++a) s.x[a] = finite(o.at[a], "--at");
    if (!std::isnan(o.fd_step)) s.fd_step = o.fd_step;
    if (!o.scheme.empty()) {
        if (o.scheme == "exponential") r.scheme = Scheme::exponential;
        else if (o.scheme == "upwind") r.scheme = Scheme::upwind;
        else if (o.scheme == "central") r.scheme = Scheme::central;
        else throw InputError("--scheme: expected exponential, upwind or central, got '" + o.scheme + "'");
    }
    const int d = s.dims;
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
}

// D: --sigma, --noise, the file's at the point (frozen over the step), or I.
void set_noise(const FluxCheckOptions& o, const FileSnapshot* file, FluxSetup& s) {
    const int d = s.dims;
    if (!std::isnan(o.sigma)) {
        s.diffusion = Matrix3::Zero();
        for (int a = 0; a < d; ++a) s.diffusion(a, a) = o.sigma * o.sigma;
    } else if (!o.noise.empty()) {
        s.diffusion = parse_noise(o.noise, d);
        check_diffusion(s.diffusion, d);
    } else if (file) {
        s.diffusion = file->problem.diffusion(s.x, file->time).topLeftCorner<3, 3>();
    } else {
        s.diffusion = Matrix3::Zero();
        for (int a = 0; a < d; ++a) s.diffusion(a, a) = 1.0;
    }
}

// The density and drift expressions (the file's drift unless --no-drift).
void set_expressions(const FluxCheckOptions& o, const FileSnapshot* file, FluxSetup& s, FluxCheckResult& r) {
    const int d = s.dims;
    std::vector<std::string> vars{"x", "y", "z"};
    vars.resize(static_cast<std::size_t>(d));
    const Parameters params = parse_params(o.params);
    if (!o.density.empty()) {
        auto e = std::make_shared<Expression>(o.density, vars, params, "--density");
        s.density = [e](const Point& y) { return (*e)(y, 0.0); };
        r.description = "p = " + o.density;
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
    } else if (file && !o.no_drift) {
        auto pb = std::make_shared<Problem>(file->problem);
        s.drift = [pb, t = file->time](const Point& y) -> Vector3 { return pb->drift_at(y, t).head<3>(); };
    }
}

// The observed order of an error between two steps, log(|e0| / |e1|) / log(h0 / h1); NaN where an error is 0.
double observed_order(double e0, double e1, double h0, double h1) {
    const double a = std::abs(e0), b = std::abs(e1);
    if (!(a > 0.0 && b > 0.0)) return std::nan("");
    return std::log(a / b) / std::log(h0 / h1);
}

// The scheme's face flux from the file's own cell values, at the face of its grid nearest to the point, against
// the formula at that face's centre (which need not be the point).
void file_face_flux(const FluxSetup& s, const FileSnapshot& file, FluxCheckResult& r) {
    const int d = s.dims, axis = r.axis;
    const Grid& g = file.problem.grid;
    const double hh = g.spacing(axis);
    const Index k = std::clamp<Index>(static_cast<Index>(std::lround((s.x[axis] - g.lower[axis]) / hh)), 1, g.cells[axis] - 1);
    Point face = s.x;
    face[axis] = g.lower[axis] + static_cast<double>(k) * hh;
    for (int a = 0; a < d; ++a)
        if (a != axis) {
            const Index i = std::clamp<Index>(static_cast<Index>(std::floor((s.x[a] - g.lower[a]) / g.spacing(a))), 0, g.cells[a] - 1);
            face[a] = g.centre(a, i);
        }
    r.face = face;
    Vector3 hv = Vector3::Ones();
    for (int a = 0; a < d; ++a) hv[a] = g.spacing(a);
    const Eigen::VectorXd& v = file.cells;
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
    const double f = s.normal[axis] * scheme_face_flux(r.scheme, d, mu_face, s.diffusion, axis, face, hv, cell);
    FluxSetup at_face = s;
    at_face.x = face;
    const DensityDerivatives df = density_derivatives(at_face);
    r.formula_rate = df.mu.dot(s.normal) * df.p - 0.5 * df.normal_gradient;
    r.scheme_rows.push_back({hh, f, f - r.formula_rate});
}

FluxCheckResult check(const FluxCheckOptions& o) {
    validate(o);
    FluxCheckResult r;
    FluxSetup s;
    std::optional<FileSnapshot> file;
    if (!o.file.empty())
        file = read_file_snapshot(o, s, r);
    else
        s.dims = o.at.empty() ? 1 : static_cast<int>(o.at.size());
    set_geometry(o, s, r);
    set_noise(o, file ? &*file : nullptr, s);
    set_expressions(o, file ? &*file : nullptr, s, r);
    const int d = s.dims;
    r.dims = d;
    r.x = s.x;
    r.normal = s.normal;
    r.diffusion = s.diffusion;
    r.has_drift = static_cast<bool>(s.drift);
    r.particles = o.particles;

    r.derivatives = density_derivatives(s);
    const DensityDerivatives& der = r.derivatives;
    if (!std::isfinite(der.p)) throw InputError("flux: the density is not finite at the point");
    r.alpha = alpha_by_quadrature();
    for (std::size_t i = 0; i < o.dt.size(); ++i) {
        FluxTransfer row{transfer(s, o.dt[i])};
        if (o.particles > 0) {
            const MonteCarloValue mc = monte_carlo_transfer(s, o.dt[i], o.particles, o.seed + i);
            row.transfer.monte_carlo = mc.value;
            row.transfer.monte_carlo_error = mc.standard_error;
        }
        if (i > 0) {
            const TransferRow& prev = r.rows.back().transfer;
            row.order = observed_order(prev.remainder, row.transfer.remainder, prev.dt, row.transfer.dt);
        }
        r.rows.push_back(row);
    }

    // The scheme's face flux: only through an axis-aligned plane.
    for (int a = 0; a < d; ++a)
        if (std::abs(std::abs(s.normal[a]) - 1.0) < 1e-12) r.axis = a;
    r.formula_rate = der.mu.dot(s.normal) * der.p - 0.5 * der.normal_gradient;  // per unit time, at the point
    r.face = s.x;
    r.from_file = file.has_value();
    if (r.axis < 0) return r;
    if (file) {
        file_face_flux(s, *file, r);
        return r;
    }
    for (int k = 0; k < 4; ++k) {
        const double hh = o.h / std::pow(2.0, k);
        const double f = s.normal[r.axis] * scheme_face_flux(s, r.scheme, r.axis, hh);
        SchemeFlux row{hh, f, f - r.formula_rate};
        if (k > 0) row.order = observed_order(r.scheme_rows.back().error, row.error, r.scheme_rows.back().h, hh);
        r.scheme_rows.push_back(row);
    }
    return r;
}

}  // namespace

FluxCheckResult check_flux(const FluxCheckOptions& options) { return check(options); }

}  // namespace fpsolve
