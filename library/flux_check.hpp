// The lecture's appendix, checked: what `fpsolve flux` computes. The mass one Gaussian step
// x' = y + mu dt + sigma sqrt(dt) eps carries across a point (a plane with normal n in 2-D/3-D), by quadrature of
// the transfer integrals, against
//   net = [n.mu p - 1/2 n^T D grad p] dt + (next term) dt^2 + O(dt^3),   alpha = 2 ∫_0^∞ u Phi(-u) du = 1/2,
// with a Monte Carlo estimate and the finite-volume scheme's own face flux (solver/appendix_flux.hpp carries the
// equations). The density, drift and noise are expressions, or a snapshot of an fpsolve file with its config's.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "appendix_flux.hpp"

namespace fpsolve {

// The inputs as the command line names them; an empty string or NaN is "not given".
struct FluxCheckOptions {
    std::string density;  // p as an expression of x (y, z): exactly one of `density` and `file`
    std::string file;     // an fpsolve file: p, the noise and the drift from its snapshot `snapshot`
    long snapshot = -1;   // negative: from the end
    std::vector<double> at;      // the point (default 0; its size is the dimension with `density`)
    std::vector<double> normal;  // the plane's normal in 2-D/3-D (default +x)
    double sigma = std::nan("");  // D = sigma^2 I
    std::string noise;            // D in TOML value syntax: a number (D = s I), a list (diagonal), a matrix
    std::vector<std::string> drift;  // mu, one expression per axis
    std::string potential;           // mu = -grad L
    bool no_drift = false;           // ignore the file's drift
    std::vector<std::string> params;  // "NAME=VALUE" constants for the expressions
    std::vector<double> dt{0.1, 0.05, 0.025, 0.0125, 0.00625};
    std::uint64_t particles = 0;  // Monte Carlo samples per dt (0: none; else at least 2)
    std::uint64_t seed = 1;       // Monte Carlo seed (seed + i for the i-th dt)
    double h = 0.05;              // cell size of the scheme's face flux (then h/2, h/4, h/8)
    std::string scheme;           // exponential | upwind | central; empty: exponential, or the file's
    double fd_step = std::nan("");  // step of the finite differences for p', p'''; NaN: 0.01, or the file's spacing
};

// The transfer at one dt, with the observed order of its remainder against the previous dt (NaN for the first).
struct FluxTransfer {
    TransferRow transfer;
    double order = std::nan("");
};

// The scheme's face flux F on cells of side h, its difference from the formula's rate, and the observed order.
struct SchemeFlux {
    double h = 0.0, flux = 0.0, error = 0.0;
    double order = std::nan("");
};

struct FluxCheckResult {
    std::string description;  // "p = <expression>" or "<file>, snapshot k (t = ...)"
    int dims = 1;
    Point x{};
    Vector3 normal = Vector3::Zero();
    Matrix3 diffusion = Matrix3::Zero();
    bool has_drift = false;
    DensityDerivatives derivatives;  // at x
    QuadratureValue alpha;
    std::uint64_t particles = 0;
    std::vector<FluxTransfer> rows;  // one per dt
    Scheme scheme = Scheme::exponential;
    int axis = -1;  // the axis the plane is normal to; -1: none, and no scheme face flux
    bool from_file = false;  // the scheme's flux from the file's own cells, at `face`
    Point face{};  // where the scheme's flux is compared (x, or the file's face nearest to x)
    double formula_rate = 0.0;   // n.mu p - 1/2 n^T D grad p per unit time, at `face`
    std::vector<SchemeFlux> scheme_rows;
};

// Throws InputError (naming the option) on bad input.
FluxCheckResult check_flux(const FluxCheckOptions& options);

}  // namespace fpsolve
