#include "grid.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fpsolve {

std::string_view to_string(Boundary b) {
    switch (b) {
        case Boundary::reflecting: return "reflecting";
        case Boundary::periodic: return "periodic";
        case Boundary::absorbing: return "absorbing";
    }
    return "?";
}

Boundary boundary_from_string(std::string_view name) {
    if (name == "reflecting") return Boundary::reflecting;
    if (name == "periodic") return Boundary::periodic;
    if (name == "absorbing") return Boundary::absorbing;
    throw InputError("grid.boundary: got \"" + std::string(name) +
                     "\", expected \"reflecting\", \"periodic\" or \"absorbing\"");
}

double physical_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || page <= 0) return 1e12;
    return static_cast<double>(pages) * static_cast<double>(page);
}

void validate(const Grid& g) {
    if (g.dims < 1 || g.dims > kMaxAxes) {
        std::ostringstream msg;  // not operator+: g++ 12 warns falsely (-Wrestrict) on the concatenation
        msg << "grid: got " << g.dims << " axes, expected 1 to " << kMaxAxes;
        throw InputError(msg.str());
    }
    std::set<std::string> names;
    double n = 1.0;
    for (int a = 0; a < g.dims; ++a) {
        const std::string axis = "axis " + std::to_string(a);
        if (!std::isfinite(g.lower[a]) || !std::isfinite(g.upper[a]))
            throw InputError("grid.lower/grid.upper: " + axis + " has a non-finite bound");
        if (!(g.lower[a] < g.upper[a]))
            throw InputError("grid.lower/grid.upper: " + axis + " has lower >= upper");
        if (g.cells[a] < 1) throw InputError("grid.cells: " + axis + " must have at least 1 cell");
        if (!(g.spacing(a) > 0.0) || !std::isfinite(g.spacing(a)))
            throw InputError("grid.cells: " + axis + " gives a spacing that is not positive");
        if (g.variables[a].empty()) throw InputError("grid.variables: " + axis + " has an empty name");
        if (!names.insert(g.variables[a]).second)
            throw InputError("grid.variables: \"" + g.variables[a] + "\" is used twice");
        n *= static_cast<double>(g.cells[a]);
    }
    // A run holds two face coefficients per axis and about 16 more state-sized vectors (the density, the stepper's
    // stages, the reference, the snapshot being written): measured peaks of 98-154 B per cell in 2-D, 122 in
    // 3-D (expm) and 179-201 in 4-D (dopri5; docs/performance.md). implicit and stationary need more (the LU).
    const double need = n * 8.0 * (2.0 * g.dims + 16.0);
    const double have = physical_memory_bytes();
    if (need > 0.8 * have) {
        // %.3g, not a cast to an integer: n can be up to 1e36 (undefined behaviour; found by UBSan).
        char msg[200];
        std::snprintf(msg, sizeof msg, "grid.cells: %.3g cells need about %.3g GB, more than this machine's %.3g GB; use fewer cells",
                      n, need / 1e9, have / 1e9);
        throw InputError(msg);
    }
}

}  // namespace fpsolve
