// Counter-based random numbers: draw k of stream `stream` under seed S is a pure function of (S, stream, k),
//   key = mix(S ^ mix(stream + gamma)),   u_k = mix(key + (k + 1) gamma)
// (SplitMix64, Steele, Lea & Flood 2014: mix is its output function, gamma the golden-ratio increment), so a
// particle's path does not depend on which thread runs it or in which order. Normals by Box–Muller from the
// pair of draws (2j, 2j + 1).
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>

namespace fpsolve {

class CounterRng {
public:
    CounterRng(std::uint64_t seed, std::uint64_t stream) : key_(mix(seed ^ mix(stream + gamma))) {}

    // Uniform in (0, 1), never 0 or 1 (53 random bits, centred in their interval).
    double uniform(std::uint64_t k) const {
        return (static_cast<double>(mix(key_ + (k + 1) * gamma) >> 11) + 0.5) * 0x1.0p-53;
    }
    double normal(std::uint64_t j) const {
        const double u1 = uniform(2 * j), u2 = uniform(2 * j + 1);
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

    static std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

private:
    static constexpr std::uint64_t gamma = 0x9e3779b97f4a7c15ULL;
    std::uint64_t key_;
};

}  // namespace fpsolve
