// An odeint algebra for Eigen::VectorXd whose element-wise operations run over OpenMP threads in the
// fixed blocks of parallel_blocks.hpp. odeint's own openmp_range_algebra uses schedule(runtime), which
// is slow unless the schedule is set to static, and splits by thread count; here the split is fixed, every
// element is computed exactly as in a serial loop, and norm_inf is a maximum (order-free), so results
// do not depend on the number of threads. Small vectors stay on the calling thread.
//
// odeint calls for_each1 .. for_each15 with the operation last; each applies op(s1[i], s2[i], ...) to every i.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "parallel_blocks.hpp"

namespace fpsolve {

struct BlockAlgebra {
    template <class Op, class S1, class... S>
    static void each(Op& op, S1& s1, S&... s) {
        for_blocks(s1.size(), [&](Eigen::Index begin, Eigen::Index size) {
            for (Eigen::Index i = begin; i < begin + size; ++i) op(s1[i], s[i]...);
        });
    }

    // clang-format off
    template <class S1, class Op> static void for_each1(S1& s1, Op op) { each(op, s1); }
    template <class S1, class S2, class Op> static void for_each2(S1& s1, S2& s2, Op op) { each(op, s1, s2); }
    template <class S1, class S2, class S3, class Op>
    static void for_each3(S1& s1, S2& s2, S3& s3, Op op) { each(op, s1, s2, s3); }
    template <class S1, class S2, class S3, class S4, class Op>
    static void for_each4(S1& s1, S2& s2, S3& s3, S4& s4, Op op) { each(op, s1, s2, s3, s4); }
    template <class S1, class S2, class S3, class S4, class S5, class Op>
    static void for_each5(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, Op op) { each(op, s1, s2, s3, s4, s5); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class Op>
    static void for_each6(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, Op op) { each(op, s1, s2, s3, s4, s5, s6); }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class Op>
    static void for_each7(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class Op>
    static void for_each8(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class Op>
    static void for_each9(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class Op>
    static void for_each10(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class S11, class Op>
    static void for_each11(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10,
                           S11& s11, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class S11, class S12, class Op>
    static void for_each12(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10,
                           S11& s11, S12& s12, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class S11, class S12, class S13, class Op>
    static void for_each13(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10,
                           S11& s11, S12& s12, S13& s13, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class S11, class S12, class S13, class S14, class Op>
    static void for_each14(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10,
                           S11& s11, S12& s12, S13& s13, S14& s14, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14);
    }
    template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class S9, class S10,
              class S11, class S12, class S13, class S14, class S15, class Op>
    static void for_each15(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, S9& s9, S10& s10,
                           S11& s11, S12& s12, S13& s13, S14& s14, S15& s15, Op op) {
        each(op, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15);
    }
    // clang-format on

    template <class S>
    static double norm_inf(const S& s) {
        const Eigen::Index n = s.size();
        const Eigen::Index blocks = (n + block_size - 1) / block_size;
        std::vector<double> block_max(static_cast<std::size_t>(blocks), 0.0);
        for_blocks(n, [&](Eigen::Index begin, Eigen::Index size) {
            block_max[static_cast<std::size_t>(begin / block_size)] = s.segment(begin, size).cwiseAbs().maxCoeff();
        });
        return block_max.empty() ? 0.0 : *std::max_element(block_max.begin(), block_max.end());
    }
};

}  // namespace fpsolve
