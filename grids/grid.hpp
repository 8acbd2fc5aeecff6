// Uniform Cartesian grid of 1 to kMaxAxes = 4 axes, cell-centred.
//
//   h_a = (upper_a - lower_a) / n_a,   x_{a,i} = lower_a + (i + 1/2) h_a,   i = 0 .. n_a - 1
//
// Cells are stored row-major ("C order", the HDF5 layout): the last axis is contiguous, so
// cell (i0, i1, i2) has linear index (i0 n1 + i1) n2 + i2. Boundaries are chosen per axis. Per-axis arrays hold
// kMaxAxes entries; those beyond dims keep their defaults (bounds [0, 1], one cell, centre 0 in a Point).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "errors.hpp"

namespace fpsolve {

using Index = std::int64_t;
// Four axes: the phase space (x, y, vx, vy) of a 2-D position (DESIGN §5).
inline constexpr int kMaxAxes = 4;
using Point = std::array<double, kMaxAxes>;

enum class Boundary { reflecting, periodic, absorbing };

std::string_view to_string(Boundary b);
Boundary boundary_from_string(std::string_view name);  // throws InputError

struct Grid {
    int dims = 1;
    Point lower{0.0, 0.0, 0.0, 0.0};
    Point upper{1.0, 1.0, 1.0, 1.0};
    std::array<Index, kMaxAxes> cells{1, 1, 1, 1};
    std::array<Boundary, kMaxAxes> boundary{Boundary::reflecting, Boundary::reflecting, Boundary::reflecting,
                                            Boundary::reflecting};
    std::array<std::string, kMaxAxes> variables{"x", "y", "z", "w"};
    // Set only for a block of a larger grid (a rank's part of a decomposed grid, parallel/): cell i here is cell
    // i + offset[a] of `whole`, and spacings and centres are computed in `whole`, so that they are bitwise those
    // of a run on the whole grid. lower/upper stay the block's own faces.
    std::shared_ptr<const Grid> whole;
    std::array<Index, kMaxAxes> offset{0, 0, 0, 0};

    // The grid whose bounds and spacing define the positions: `whole` for a block, else this one.
    const Grid& frame() const { return whole ? *whole : *this; }
    double spacing(int a) const {
        return whole ? whole->spacing(a) : (upper[a] - lower[a]) / static_cast<double>(cells[a]);
    }
    double centre(int a, Index i) const {
        return whole ? whole->centre(a, i + offset[a]) : lower[a] + (static_cast<double>(i) + 0.5) * spacing(a);
    }
    double length(int a) const { return upper[a] - lower[a]; }

    Index size() const {
        Index n = 1;
        for (int a = 0; a < dims; ++a) n *= cells[a];
        return n;
    }
    // Distance in the linear index between neighbours along axis a.
    Index stride(int a) const {
        Index s = 1;
        for (int b = a + 1; b < dims; ++b) s *= cells[b];
        return s;
    }
    double cell_volume() const {
        double v = 1.0;
        for (int a = 0; a < dims; ++a) v *= spacing(a);
        return v;
    }
    // Multi-index of a linear index.
    std::array<Index, kMaxAxes> unravel(Index c) const {
        std::array<Index, kMaxAxes> i{0, 0, 0, 0};
        for (int a = dims - 1; a >= 0; --a) {
            i[a] = c % cells[a];
            c /= cells[a];
        }
        return i;
    }
    Point centre_of(Index c) const {
        const auto i = unravel(c);
        Point x{};
        for (int a = 0; a < dims; ++a) x[a] = centre(a, i[a]);
        return x;
    }
};

// Checks dims, finite bounds, lower < upper, positive cells, distinct variable names, and that the
// state fits in memory; throws InputError naming the key.
void validate(const Grid& grid);

// This machine's physical memory in bytes (1e12 when the system does not say).
double physical_memory_bytes();

}  // namespace fpsolve
