// The steppers' vector operations over OpenMP threads, with results that do not depend on the thread count.
// A vector of n entries is cut into fixed blocks of `block_size` entries (the cut does not depend on the
// threads); threads share the blocks statically. Element-wise updates are then exact per element, and a
// sum is taken per block and the block sums added in block order, so every thread count gives the same
// bits. Vectors below `parallel_threshold` entries stay on the calling thread (a parallel region costs a
// few microseconds).
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <utility>
#include <vector>

#include "subnormals.hpp"

namespace fpsolve {

inline constexpr Eigen::Index block_size = 16384;
inline constexpr Eigen::Index parallel_threshold = 65536;

// f(begin, size) on every block.
template <class F>
void for_blocks(Eigen::Index n, F&& f) {
    const Eigen::Index blocks = (n + block_size - 1) / block_size;
#ifdef _OPENMP
#pragma omp parallel if (n >= parallel_threshold)
#endif
    {
        // Per thread, as the operator: worker threads a library caller created before need not have it.
        const SubnormalsAreZero ftz;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (Eigen::Index b = 0; b < blocks; ++b) {
            const Eigen::Index begin = b * block_size;
            f(begin, std::min(block_size, n - begin));
        }
    }
}

// f(begin, size) -> double on every block, combined in block order by combine(accumulated, next).
template <class F, class Combine>
double reduce_blocks(Eigen::Index n, double initial, F&& f, Combine&& combine) {
    const Eigen::Index blocks = (n + block_size - 1) / block_size;
    std::vector<double> partial(static_cast<std::size_t>(blocks));
    for_blocks(n, [&](Eigen::Index begin, Eigen::Index size) { partial[static_cast<std::size_t>(begin / block_size)] = f(begin, size); });
    double result = initial;
    for (double p : partial) result = combine(result, p);
    return result;
}

// Sum over blocks of f(begin, size) -> double, added in block order.
template <class F>
double sum_blocks(Eigen::Index n, F&& f) {
    return reduce_blocks(n, 0.0, std::forward<F>(f), [](double a, double b) { return a + b; });
}

// Maximum over blocks of f(begin, size) -> double (at least 0).
template <class F>
double max_blocks(Eigen::Index n, F&& f) {
    return reduce_blocks(n, 0.0, std::forward<F>(f), [](double a, double b) { return std::max(a, b); });
}

}  // namespace fpsolve
