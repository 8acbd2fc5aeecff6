// The lecture's appendix (solver/appendix_flux.hpp) against closed forms.
//
// For a Gaussian density p = N(0, 1) and the step y' = y (1 - k dt) + c dt + s eps (s^2 = sigma^2 dt), the mass
// below x after the step is Phi((x - c dt) / sqrt((1 - k dt)^2 + s^2)), so the exact net transfer across x is
//   net = Phi(x) - Phi((x - c dt) / sqrt((1 - k dt)^2 + s^2)).
// The remainder after the formula is the dt^2 term plus O(dt^3): remainder / next = 1 + c3 dt, so the observed
// order of the remainder is 2 + O(dt); for pure diffusion c3 = (sigma^2 / 6) p^(5) / p''' (the n = 3 term of
// -sum_n (s^2/2)^n p^(2n-1) / n!).
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <sstream>

#include "appendix_flux.hpp"

using namespace fpsolve;

namespace {

double gauss(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }

FluxSetup gaussian_setup(double x, double sigma) {
    FluxSetup s;
    s.dims = 1;
    s.density = [](const Point& y) { return gauss(y[0]); };
    s.x = {x, 0.0, 0.0};
    s.diffusion = Matrix3::Zero();
    s.diffusion(0, 0) = sigma * sigma;
    return s;
}

std::string rows_table(const std::vector<TransferRow>& rows) {
    std::ostringstream os;
    os << "dt  net  formula  remainder  next\n";
    for (const auto& r : rows) os << r.dt << "  " << r.net << "  " << r.formula << "  " << r.remainder << "  " << r.next_term << "\n";
    return os.str();
}

}  // namespace

TEST_CASE("alpha = 2 int_0^inf u Phi(-u) du = 1/2 and the half-line moments, by quadrature") {
    const QuadratureValue a = alpha_by_quadrature();
    CHECK(std::abs(a.value - 0.5) < 1e-12);
    CHECK(a.error < 1e-12);
    // m_k = E|eps|^(k+1) / (2(k+1)): m_1 = 1/4, m_3 = 3/8 (these give the 1/2 and the 1/8 of the formula).
    CHECK(half_line_moment_exact(1) == Approx(0.25).epsilon(1e-15));
    CHECK(half_line_moment_exact(3) == Approx(0.375).epsilon(1e-15));
    for (int k : {0, 1, 2, 3, 5}) CHECK(half_line_moment(k).value == Approx(half_line_moment_exact(k)).epsilon(1e-12));
}

TEST_CASE("Net transfer of a Gaussian: quadrature exact, remainder of order 2 matching -1/8 sigma^4 p'''") {
    const double x = 0.5, sigma = 1.0;
    const FluxSetup s = gaussian_setup(x, sigma);
    // Derivatives against the closed forms p' = -x p, p''' = -(x^3 - 3x) p (Richardson differences, O(h^4) = 1e-8).
    const DensityDerivatives der = density_derivatives(s);
    CHECK(der.grad[0] == Approx(-x * gauss(x)).epsilon(1e-7));
    CHECK(der.third == Approx(-(x * x * x - 3 * x) * gauss(x)).epsilon(1e-6));

    std::vector<TransferRow> rows;
    for (double dt : {0.04, 0.02, 0.01, 0.005}) rows.push_back(transfer(s, dt));
    INFO(rows_table(rows));
    const double c3 = sigma * sigma / 6.0 * -(std::pow(x, 5) - 10 * std::pow(x, 3) + 15 * x) / -(std::pow(x, 3) - 3 * x);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const TransferRow& r = rows[i];
        const double exact = std::erfc(-x / std::numbers::sqrt2) / 2 -
                             std::erfc(-x / std::sqrt(1.0 + sigma * sigma * r.dt) / std::numbers::sqrt2) / 2;
        CHECK(std::abs(r.net - exact) < 1e-13);   // adaptive quadrature at 1e-13 relative
        CHECK(std::abs(r.up - r.down - r.net) < 1e-13);
        CHECK(r.formula == Approx(-0.5 * sigma * sigma * r.dt * -x * gauss(x)).epsilon(1e-7));
        // remainder / next = 1 + c3 dt + O(dt^2); the O(dt^2) part is below 0.1 c3 dt here.
        CHECK(std::abs(r.remainder / r.next_term - 1.0 - c3 * r.dt) < 0.1 * std::abs(c3) * r.dt + 1e-6);
        if (i > 0) {
            const double order = std::log(rows[i - 1].remainder / r.remainder) / std::log(rows[i - 1].dt / r.dt);
            CHECK(std::abs(order - 2.0) < 1.5 * std::abs(c3) * rows[i - 1].dt);  // 2 + log2(1 + c3 dt)/... <= c3 dt / ln 2
        }
    }
}

TEST_CASE("The transfer is exact for a linear density") {
    FluxSetup s;
    s.density = [](const Point& y) { return 2.0 + 0.3 * y[0]; };
    s.x = {0.2, 0.0, 0.0};
    s.diffusion(0, 0) = 0.49;
    for (double dt : {1.0, 0.1, 0.01}) {
        const TransferRow r = transfer(s, dt);
        CHECK(r.net == Approx(-0.5 * 0.49 * dt * 0.3).epsilon(1e-12));
        CHECK(std::abs(r.remainder) < 1e-12 * std::abs(r.formula));
        CHECK(std::abs(r.next_term) < 1e-9 * std::abs(r.formula));  // p''' = 0 up to the differences' round-off
    }
}

TEST_CASE("Langevin step: drift term p mu dt, and the dt^2 term with a state-dependent drift") {
    // p = N(0,1), mu(y) = c - k y: exact net = Phi(x) - Phi((x - c dt) / sqrt((1 - k dt)^2 + s^2)).
    const double x = 0.3, sigma = 0.8, c = 0.7, k = 1.5;
    FluxSetup s = gaussian_setup(x, sigma);
    s.drift = [&](const Point& y) { return Vector3(c - k * y[0], 0.0, 0.0); };
    std::vector<TransferRow> rows;
    for (double dt : {0.02, 0.01, 0.005, 0.0025}) rows.push_back(transfer(s, dt));
    INFO(rows_table(rows));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const TransferRow& r = rows[i];
        const double var = (1 - k * r.dt) * (1 - k * r.dt) + sigma * sigma * r.dt;
        const double exact = std::erfc(-x / std::numbers::sqrt2) / 2 - std::erfc(-(x - c * r.dt) / std::sqrt(var) / std::numbers::sqrt2) / 2;
        CHECK(std::abs(r.net - exact) < 1e-13);
        CHECK(r.drift_term == Approx((c - k * x) * gauss(x) * r.dt).epsilon(1e-12));
        // The dt^2 term is -1/2 (mu^2 p)' + 1/2 sigma^2 (mu p)'' - 1/8 sigma^4 p''': its relative error is O(dt).
        CHECK(std::abs(r.remainder / r.next_term - 1.0) < 5.0 * r.dt);
        if (i > 0) {
            const double order = std::log(rows[i - 1].remainder / r.remainder) / std::log(rows[i - 1].dt / r.dt);
            CHECK(std::abs(order - 2.0) < 10.0 * rows[i - 1].dt);
        }
    }
}

TEST_CASE("Monte Carlo of the net transfer agrees within 4 standard errors") {
    FluxSetup s = gaussian_setup(0.5, 1.0);
    for (double dt : {0.05, 0.01}) {
        const TransferRow r = transfer(s, dt);
        const MonteCarloValue mc = monte_carlo_transfer(s, dt, 200000, 11);
        INFO("dt " << dt << " net " << r.net << " MC " << mc.value << " +- " << mc.standard_error);
        CHECK(mc.standard_error > 0.0);
        CHECK(std::abs(mc.value - r.net) < 4.0 * mc.standard_error);
    }
    // 2-D, oblique plane, correlated noise, constant drift.
    FluxSetup s2;
    s2.dims = 2;
    s2.density = [](const Point& y) { return std::exp(-0.5 * (y[0] * y[0] + 2.0 * y[1] * y[1])); };
    s2.x = {0.4, -0.3, 0.0};
    s2.normal = Vector3(0.6, 0.8, 0.0);
    s2.diffusion << 1.0, 0.3, 0.0, 0.3, 0.5, 0.0, 0.0, 0.0, 0.0;
    s2.drift = [](const Point&) { return Vector3(0.4, -0.2, 0.0); };
    const TransferRow r = transfer(s2, 0.05);
    const MonteCarloValue mc = monte_carlo_transfer(s2, 0.05, 200000, 5);
    INFO("2-D net " << r.net << " MC " << mc.value << " +- " << mc.standard_error);
    CHECK(std::abs(mc.value - r.net) < 4.0 * mc.standard_error);
}

TEST_CASE("Plane transfer in 2-D and 3-D: -1/2 n^T D grad p dt, remainder of order 2 matching the next term") {
    for (int d : {2, 3}) {
        FluxSetup s;
        s.dims = d;
        s.density = [](const Point& y) { return std::exp(-0.5 * (y[0] * y[0] + 2.0 * y[1] * y[1] + 0.5 * y[2] * y[2])); };
        s.x = {0.4, -0.3, d == 3 ? 0.5 : 0.0};
        s.normal = d == 2 ? Vector3(0.6, 0.8, 0.0) : Vector3(2.0, -1.0, 2.0) / 3.0;
        Matrix3 full;
        full << 1.0, 0.3, 0.1, 0.3, 0.5, 0.0, 0.1, 0.0, 0.8;
        s.diffusion = Matrix3::Zero();
        s.diffusion.topLeftCorner(d, d) = full.topLeftCorner(d, d);
        std::vector<TransferRow> rows;
        for (double dt : {0.02, 0.01, 0.005}) rows.push_back(transfer(s, dt));
        INFO("d = " << d << "\n" << rows_table(rows));
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const TransferRow& r = rows[i];
            CHECK(r.quadrature_error < 1e-6 * std::abs(r.remainder));
            CHECK(std::abs(r.remainder / r.next_term - 1.0) < 5.0 * r.dt);  // the dt^3 term over the dt^2 term
            if (i > 0) {
                const double order = std::log(rows[i - 1].remainder / r.remainder) / std::log(2.0);
                CHECK(std::abs(order - 2.0) < 10.0 * rows[i - 1].dt);
            }
        }
    }
    // A linear density: exact.
    FluxSetup lin;
    lin.dims = 2;
    lin.density = [](const Point& y) { return 3.0 + 0.2 * y[0] - 0.5 * y[1]; };
    lin.normal = Vector3(0.6, 0.8, 0.0);
    lin.diffusion << 1.0, 0.3, 0.0, 0.3, 0.5, 0.0, 0.0, 0.0, 0.0;
    const TransferRow r = transfer(lin, 0.1);
    const double ndg = Vector3(0.6, 0.8, 0.0).dot(lin.diffusion * Vector3(0.2, -0.5, 0.0));
    CHECK(r.net == Approx(-0.5 * ndg * 0.1).epsilon(1e-11));
}

TEST_CASE("The scheme's face flux matches n.mu p - 1/2 n^T D grad p to its order in h") {
    // 1-D, Gaussian with a drift: exponential and central second order, upwind first.
    FluxSetup s = gaussian_setup(0.5, 1.0);
    s.drift = [](const Point& y) { return Vector3(1.0 - y[0], 0.0, 0.0); };
    const double rate = (1.0 - 0.5) * gauss(0.5) - 0.5 * -0.5 * gauss(0.5);  // mu p - 1/2 p', p' = -x p
    for (Scheme scheme : {Scheme::exponential, Scheme::central, Scheme::upwind}) {
        std::vector<double> err;
        for (double h : {0.08, 0.04, 0.02, 0.01}) err.push_back(std::abs(scheme_face_flux(s, scheme, 0, h) - rate));
        INFO(to_string(scheme) << " errors " << err[0] << " " << err[1] << " " << err[2] << " " << err[3]);
        const double expected = scheme == Scheme::upwind ? 1.0 : 2.0;
        for (std::size_t i = 1; i < err.size(); ++i) CHECK(std::abs(std::log2(err[i - 1] / err[i]) - expected) < 0.1);
    }
    // 2-D with correlated noise through a face normal to y: the 9-point stencil is second order.
    FluxSetup s2;
    s2.dims = 2;
    s2.density = [](const Point& y) { return std::exp(-0.5 * (y[0] * y[0] + 2.0 * y[1] * y[1])); };
    s2.x = {0.4, -0.3, 0.0};
    s2.normal = Vector3(0.0, 1.0, 0.0);
    s2.diffusion << 1.0, 0.3, 0.0, 0.3, 0.5, 0.0, 0.0, 0.0, 0.0;
    const DensityDerivatives der = density_derivatives(s2);
    const double rate2 = -0.5 * der.normal_gradient;
    std::vector<double> err;
    for (double h : {0.08, 0.04, 0.02}) err.push_back(std::abs(scheme_face_flux(s2, Scheme::exponential, 1, h) - rate2));
    INFO("2-D errors " << err[0] << " " << err[1] << " " << err[2]);
    for (std::size_t i = 1; i < err.size(); ++i) CHECK(std::abs(std::log2(err[i - 1] / err[i]) - 2.0) < 0.15);
}

TEST_CASE("Bad setups are input errors") {
    FluxSetup s = gaussian_setup(0.0, 1.0);
    CHECK_THROWS_AS(transfer(s, 0.0), InputError);
    CHECK_THROWS_AS(transfer(s, -1.0), InputError);
    s.diffusion = Matrix3::Zero();
    CHECK_THROWS_AS(transfer(s, 0.1), InputError);  // no noise across the plane
}
