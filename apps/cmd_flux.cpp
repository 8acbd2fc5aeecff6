// fpsolve flux: the command line of check_flux (library/flux_check.hpp): the lecture's appendix, checked. The mass
// one Gaussian step x' = y + mu dt + sigma sqrt(dt) eps carries across a point (a plane with normal n in 2-D/3-D),
// by quadrature of the transfer integrals, against
//   net = [n.mu p - 1/2 n^T D grad p] dt + (next term) dt^2 + O(dt^3),   alpha = 2 ∫_0^∞ u Phi(-u) du = 1/2,
// with a Monte Carlo estimate and the finite-volume scheme's own face flux.
//
//   fpsolve flux --density "exp(-x^2/2)/sqrt(2*pi)" --at 0.5 --sigma 1 --dt 0.1,0.05,0.025 --particles 100000
//   fpsolve flux --file dw.h5 --snapshot 10 --at 0.3 --json
//
// This file holds the options and the report (a table, or one JSON object); the check is the library's.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common.hpp"
#include "flux_check.hpp"

namespace fpsolve {

namespace {

struct FluxCommandOptions {
    FluxCheckOptions check;
    bool json = false;
};

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

void print_json(const FluxCheckResult& r) {
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    const DensityDerivatives& der = r.derivatives;
    nlohmann::json j;
    j["density"] = r.description;
    j["dims"] = r.dims;
    for (int a = 0; a < r.dims; ++a) {
        j["point"].push_back(r.x[a]);
        j["normal"].push_back(r.normal[a]);
        j["gradient"].push_back(der.grad[a]);
        j["drift"].push_back(der.mu[a]);
        nlohmann::json row;
        for (int b = 0; b < r.dims; ++b) row.push_back(r.diffusion(a, b));
        j["diffusion"].push_back(row);
    }
    j["alpha"] = {{"value", r.alpha.value}, {"error", r.alpha.error}, {"exact", 0.5}};
    j["p"] = der.p;
    j["normal_gradient"] = der.normal_gradient;  // n^T D grad p
    j["third_derivative"] = der.third;            // (n^T D grad)(grad^T D grad) p
    j["rows"] = nlohmann::json::array();
    for (const FluxTransfer& row : r.rows) {
        const TransferRow& t = row.transfer;
        nlohmann::json x = {{"dt", t.dt},
                            {"up", t.up},
                            {"down", t.down},
                            {"net", t.net},
                            {"quadrature_error", t.quadrature_error},
                            {"diffusion_formula", t.diffusion_formula},
                            {"drift_term", t.drift_term},
                            {"formula", t.formula},
                            {"remainder", t.remainder},
                            {"next_term", t.next_term},
                            {"remainder_order", num(row.order)}};
        if (t.monte_carlo) {
            x["monte_carlo"] = *t.monte_carlo;
            x["monte_carlo_error"] = *t.monte_carlo_error;
            x["particles"] = r.particles;
        }
        j["rows"].push_back(x);
    }
    j["scheme"] = {{"name", std::string(to_string(r.scheme))},
                   {"formula_rate", r.formula_rate},
                   {"rows", nlohmann::json::array()}};
    if (r.from_file)
        for (int a = 0; a < r.dims; ++a) j["scheme"]["face"].push_back(r.face[a]);
    for (const SchemeFlux& s : r.scheme_rows)
        j["scheme"]["rows"].push_back({{"h", s.h}, {"flux", s.flux}, {"error", s.error}, {"order", num(s.order)}});
    std::printf("%s\n", j.dump(2).c_str());
}

void print_table(const FluxCheckResult& r) {
    const int d = r.dims;
    const DensityDerivatives& der = r.derivatives;
    std::printf("fpsolve flux: %s, %s %s", r.description.c_str(), d == 1 ? "across x =" : "at", join_point(r.x, d).c_str());
    if (d > 1) std::printf(", normal %s", join_point({r.normal[0], r.normal[1], r.normal[2]}, d).c_str());
    std::printf("\n");
    if (d == 1)
        std::printf("  sigma^2 = %.6g; p = %.6e, p' = %.6e, sigma^4 p''' = %.6e", r.diffusion(0, 0), der.p, der.grad[0], der.third);
    else
        std::printf("  p = %.6e, n^T D grad p = %.6e, (n^T D grad)(grad^T D grad) p = %.6e", der.p, der.normal_gradient, der.third);
    if (r.has_drift) std::printf(", drift n.mu = %.6e", der.mu.dot(r.normal));
    std::printf("\n  alpha = 2 int_0^inf u Phi(-u) du = %.15f (quadrature error estimate %.1e)\n\n", r.alpha.value, r.alpha.error);
    std::printf("  net = up - down, by quadrature;  formula = [%s- 1/2 %s] dt;  next = the predicted dt^2 term\n",
                r.has_drift ? "n.mu p " : "", d == 1 ? "sigma^2 p'" : "n^T D grad p");
    std::printf("  %-10s %-13s %-13s %-13s %-13s %-11s %-11s %-8s %-6s", "dt", "up", "down", "net", "formula", "remainder",
                "next", "rem/next", "order");
    if (r.particles > 0) std::printf(" %-24s %s", "Monte Carlo net +- se", "(net-MC)/se");
    std::printf("\n");
    for (const FluxTransfer& row : r.rows) {
        const TransferRow& t = row.transfer;
        std::printf("  %-10.4g % -13.6e % -13.6e % -13.6e % -13.6e % -11.3e % -11.3e % -8.4f %s", t.dt, t.up, t.down, t.net,
                    t.formula, t.remainder, t.next_term, t.remainder / t.next_term, fixed(row.order, 6).c_str());
        if (t.monte_carlo)
            std::printf(" % -12.4e +- %-8.2e % .2f", *t.monte_carlo, *t.monte_carlo_error,
                        (t.net - *t.monte_carlo) / *t.monte_carlo_error);
        std::printf("\n");
    }
    if (r.axis < 0) {
        std::printf("\n  scheme face flux: only through a plane normal to an axis\n");
        return;
    }
    std::printf("\n  finite-volume face flux (%s scheme) vs n.mu p - 1/2 n^T D grad p = %.6e (per unit time)%s\n",
                std::string(to_string(r.scheme)).c_str(), r.formula_rate,
                r.from_file ? (", at the face " + join_point(r.face, d) + " of the file's grid").c_str() : "");
    std::printf("  %-10s %-14s %-11s %s\n", "h", "F", "F - rate", "order");
    for (const SchemeFlux& s : r.scheme_rows)
        std::printf("  %-10.4g % -14.7e % -11.3e %s\n", s.h, s.flux, s.error, fixed(s.order, 6).c_str());
}

int flux_command(const FluxCommandOptions& o) {
    const FluxCheckResult r = check_flux(o.check);
    if (o.json)
        print_json(r);
    else
        print_table(r);
    return 0;
}

}  // namespace

CommandEntry register_flux(CLI::App& app) {
    auto o = std::make_shared<FluxCommandOptions>();
    FluxCheckOptions& c = o->check;
    CLI::App* sub = app.add_subcommand(
        "flux", "The appendix checked: mass carried across a point by one Gaussian step vs -1/2 sigma^2 dt p'");
    sub->add_option("--density", c.density, "The density p as an expression of x (y, z); its normalisation does not matter");
    sub->add_option("--file", c.file, "Take p, the noise and the drift from a snapshot of an fpsolve file instead");
    sub->add_option("--snapshot", c.snapshot, "Snapshot index in --file (negative: from the end; default the last)");
    sub->add_option("--at", c.at, "The point x (comma separated in 2-D/3-D; default 0)")->delimiter(',');
    sub->add_option("--normal", c.normal, "Unit normal of the plane in 2-D/3-D (default +x)")->delimiter(',');
    sub->add_option("--sigma", c.sigma, "Noise scale sigma: D = sigma^2 I (default 1, or the file's noise)");
    sub->add_option("--noise", c.noise, "Noise covariance Sigma = D: a number, a list (diagonal) or a matrix [[..],[..]]");
    sub->add_option("--drift", c.drift, "Drift mu, one expression per axis (repeat the option; --drift=-x for a leading minus)")
        ->allow_extra_args(false);
    sub->add_option("--potential", c.potential, "Potential L: drift mu = -grad L (the Langevin step)");
    sub->add_flag("--no-drift", c.no_drift, "Ignore the file's drift (pure diffusion)");
    sub->add_option("--param", c.params, "A named constant for the expressions: NAME=VALUE")->allow_extra_args(false);
    sub->add_option("--dt", c.dt, "Time steps, comma separated (default 0.1,0.05,0.025,0.0125,0.00625)")->delimiter(',');
    sub->add_option("--particles", c.particles, "Monte Carlo: particles per dt (0: none)");
    sub->add_option("--seed", c.seed, "Monte Carlo seed (default 1)");
    sub->add_option("--h", c.h, "Cell size for the scheme's face flux (then h/2, h/4, h/8; default 0.05)");
    sub->add_option("--scheme", c.scheme, "exponential | upwind | central (default exponential, or the file's)");
    sub->add_option("--fd-step", c.fd_step, "Step of the finite differences for p', p''' (default 0.01, or the file's spacing)");
    sub->add_flag("--json", o->json, "Print one JSON object instead of the table");
    sub->footer("Example: fpsolve flux --density \"exp(-x^2/2)/sqrt(2*pi)\" --at 0.5 --sigma 1 --particles 200000\n"
                "See docs/appendix.md for the derivation of the formula and of its next term.");
    return {sub, [o] { return flux_command(*o); }};
}

}  // namespace fpsolve
