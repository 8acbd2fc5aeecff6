// One fuzz input, run the same way by the libFuzzer target (fuzz_config.cpp) and by the regression test
// (tests/test_fuzz_regressions.cpp). The text is tried twice:
//   1. as a formula of x and y: compiled, then evaluated at a few points (finite and not);
//   2. as a config file: parsed and checked, then, for a small grid, the operator is built, the initial
//      density averaged over the cells and dp/dt = A p evaluated once (that is where every
//      expression of the config is evaluated over the domain).
// Returns if the input is accepted; throws InputError if it is refused (DESIGN §3). Anything else that
// escapes, and any crash or sanitizer report, is a bug.
#pragma once
#include <limits>
#include <string>

#include "config.hpp"
#include "expression.hpp"
#include "fokker_planck_operator.hpp"
#include "initial_density.hpp"

namespace fpsolve::fuzz {

// Larger grids are parsed and checked but not assembled, so one input takes milliseconds.
inline constexpr Index max_cells = 4096;

inline void run_one(const std::string& text) {
    try {
        const Expression e(text, {"x", "y"}, {}, "fuzz");
        const double inf = std::numeric_limits<double>::infinity();
        const Point points[] = {{0.0, 0.0, 0.0}, {0.5, -1.25, 0.0}, {1e300, -1e-300, 0.0}, {inf, -inf, 0.0}};
        for (const Point& x : points) (void)e(x, 0.5);
    } catch (const InputError&) {
    }

    ParsedConfig c = parse_config(text, "fuzz.toml", {});
    const Problem& pb = c.problem;
    if (pb.grid.size() > max_cells) return;
    const FokkerPlanckOperator op(pb);
    (void)op.cross_monotonicity_ratio();
    if (!pb.initial.snapshot_file.empty()) return;  // reading the file is the I/O layer's part
    const State p = initial_state(pb.grid, pb.initial);
    State dpdt(p.size());
    op(p, dpdt, 0.0);
    op(p, dpdt, c.time.times.back());
}

}  // namespace fpsolve::fuzz
