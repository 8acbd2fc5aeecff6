// Two-point face fluxes of the 1-D drift–diffusion flux J = v p - d dp/dx between points a
// distance `dist` apart, written F = a p_L - b p_R. `v_dist` is the drift times the distance
// (for a gradient drift, the potential difference itself, so that no gradient is sampled).
//
//   exponential:  a = d/dist B(-z),  b = d/dist B(z),  z = v dist / d,  B(z) = z / expm1(z)
//                 (Scharfetter & Gummel 1969; Chang & Cooper 1970). Exact for constant v, d;
//                 positive for every cell Peclet number z; second order.
//   upwind:       a = d/dist + max(v, 0),  b = d/dist + max(-v, 0)        first order, positive
//   central:      a = d/dist + v/2,        b = d/dist - v/2               second order, positive iff |z| <= 2
#pragma once
#include <algorithm>
#include <cmath>

#include "problem.hpp"

namespace fpsolve {

// Bernoulli function z / (e^z - 1), accurate for all z (series near 0, no overflow for large |z|).
inline double bernoulli(double z) {
    if (std::abs(z) < 1e-5) return 1.0 - z * (0.5 - z / 12.0);
    return z / std::expm1(z);
}

struct FaceCoefficients {
    double a;  // multiplies p on the lower side
    double b;  // multiplies p on the upper side
};

inline FaceCoefficients face_coefficients(Scheme scheme, double v_dist, double d, double dist) {
    const double v = v_dist / dist;
    if (!(d > 0.0)) return {std::max(v, 0.0), std::max(-v, 0.0)};  // pure transport: upwind is exact
    const double k = d / dist;
    switch (scheme) {
        case Scheme::exponential: {
            const double z = v_dist / d;
            return {k * bernoulli(-z), k * bernoulli(z)};
        }
        case Scheme::upwind: return {k + std::max(v, 0.0), k + std::max(-v, 0.0)};
        case Scheme::central: return {k + 0.5 * v, k - 0.5 * v};
    }
    return {0.0, 0.0};
}

// Pure transport (no diffusion along the axis): the upwind-biased reconstruction of the face value from
// the cell averages (van Leer's kappa = 1/3 scheme, third order in the face value; second order overall
// through the face drift), F = v (5 p_U + 2 p_D - p_UU) / 6 with U the upwind cell, D the downwind one and
// UU the next upwind. It is linear, so the generator stays a matrix (expm, implicit, stationary), and its
// fourth-order dissipation damps the odd-even modes that a central flux would leave undamped; it is not
// monotone (a linear second-order transport scheme cannot be), so a density may dip slightly below zero.
// Written F = a p_L - b p_R + far p_far, far = p_{L-1} for v >= 0 and p_{R+1} for v < 0.
struct TransportCoefficients {
    double a, b, far;
};
inline TransportCoefficients transport_coefficients(double v) {
    if (v >= 0.0) return {5.0 * v / 6.0, -v / 3.0, -v / 6.0};
    return {v / 3.0, -5.0 * v / 6.0, -v / 6.0};
}

// Formal order of accuracy of each scheme in the grid spacing (tests measure it).
inline int scheme_order(Scheme s) { return s == Scheme::upwind ? 1 : 2; }

}  // namespace fpsolve
