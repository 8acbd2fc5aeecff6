// Subnormal numbers (|x| < 2.2e-308) in the far tails of a density: on x86 every arithmetic operation
// that reads or produces one takes a microcode assist of ~100 cycles. A density of exp(-r^2/0.02) on a
// 1024^2 grid has a ring of ~10% subnormal cells, which measured a 1.5x slower right-hand side.
// Values that small carry no information about a probability density, so the operator and the apps
// flush them to zero (MXCSR FTZ: results; DAZ: inputs), as most HPC codes do. No-op off x86.
#pragma once

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace fpsolve {

#if defined(__SSE2__)
inline constexpr unsigned subnormal_flags = 0x8040u;  // FTZ (bit 15) | DAZ (bit 6)

// Process-wide from the calling thread on; threads created afterwards inherit it (the kernel copies the
// floating-point state on clone).
inline void flush_subnormals_to_zero() { _mm_setcsr(_mm_getcsr() | subnormal_flags); }

// For one scope of one thread, restoring the caller's mode on exit (library use: never change the
// caller's floating-point environment behind its back).
class SubnormalsAreZero {
public:
    SubnormalsAreZero() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | subnormal_flags); }
    ~SubnormalsAreZero() { _mm_setcsr(saved_); }
    SubnormalsAreZero(const SubnormalsAreZero&) = delete;
    SubnormalsAreZero& operator=(const SubnormalsAreZero&) = delete;

private:
    unsigned saved_;
};
#else
inline void flush_subnormals_to_zero() {}
class SubnormalsAreZero {};
#endif

}  // namespace fpsolve
