// A sum that does not depend on the order of its terms, so that a decomposed run (parallel/) normalises its
// initial density bitwise as a serial run does: every term is cut to a whole multiple of u = 2^(e - 88),
// where 2^e bounds every |term| (e from a bound that all parts agree on), and the multiples are added exactly
// in 128-bit integers (up to 2^39 terms). The cut costs at most u per term (a relative 3e-27 of the largest),
// far below one rounding of the sum for any practical grid; integer addition makes it independent of the order.
#pragma once
#include <Eigen/Dense>
#include <cmath>

namespace fpsolve {

__extension__ typedef __int128 FixedPoint;  // 2^39 terms of at most 2^88 units fit

// The exponent e with |x| < 2^e for every |x| <= bound (0 for a zero bound).
inline int fixed_exponent(double bound) { return bound > 0.0 ? std::ilogb(bound) + 1 : 0; }

// Sum of the terms in units of 2^(e - 88).
inline FixedPoint fixed_sum(const Eigen::VectorXd& x, int e) {
    FixedPoint s = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) s += static_cast<FixedPoint>(std::ldexp(x[i], 88 - e));
    return s;
}

inline double fixed_value(FixedPoint s, int e) { return std::ldexp(static_cast<double>(s), e - 88); }

// The order-independent sum of finite terms.
inline double exact_sum(const Eigen::VectorXd& x) {
    if (x.size() == 0) return 0.0;
    const int e = fixed_exponent(x.cwiseAbs().maxCoeff());
    return fixed_value(fixed_sum(x, e), e);
}

}  // namespace fpsolve
