// Cartesian domain decomposition of a uniform grid over the ranks of a communicator.
//
// The ranks form a p_0 x ... x p_{d-1} grid (MPI_Cart_create; periodic where the grid axis is; d <= kMaxAxes).
// Along axis a with n_a cells, process coordinate c owns the contiguous block
//   begin_a = c floor(n_a / p_a) + min(c, n_a mod p_a),   count_a = floor(n_a / p_a) + [c < n_a mod p_a].
// The factorisation p cuts as few periodic axes as it can, then has the fewest halo cells per rank (ties: the
// earlier axes are cut first, so that the contiguous last axis keeps its long rows); every block along a cut
// axis holds at least as many cells as that axis's ghost layers (p_a w_a <= n_a).
// A cut periodic axis moves its wrap-around face to the rank holding cell 0, which evaluates the face's
// coefficients at the lower end of the axis where a serial run evaluates them at the upper end: the same for
// periodic coefficients (a tilted potential included) up to round-off; coefficients that are not periodic
// on a periodic axis are not supported across a cut.
//
// Each rank works on its block EXTENDED by w_a ghost layers along axis a on every side that borders another
// rank. w_a = 1 is what the 9-point stencil reaches (one cell in every direction, corners included); w_a = 2
// along an axis with transport-only faces (no diffusion along it, D_aa = 0: the position axes of kinetic
// Langevin dynamics), whose upwind-biased flux reads the cell two steps upstream (solver/face_flux.hpp,
// transport_coefficients). ghost_widths() finds the axes from the problem. The extended block is an
// ordinary serial Grid: its lower/upper are moved by whole cells so that its cell centres are the global
// ones; a side on a true wall keeps the global boundary, a cut side gets any boundary (the ghost cells'
// own results are discarded). halo() fills the ghost layers from the neighbours, one axis after the other,
// each slab spanning the whole extended block along the other axes, so that the corner ghosts (needed by the
// cross-diffusion stencil) come along with the later exchanges.
//
// The exchange can also run in two halves around other work: start_halo() posts the first cut axis's
// receives and sends (MPI_Irecv/MPI_Isend, the same slab types and tags as halo()) and returns;
// finish_halo() waits for them and only then exchanges the later cut axes, one after the other, because
// their slabs carry the earlier axes' ghosts (the corners). Posting every axis at once would need slabs
// without the other axes' ghost layers and would leave the corners unfilled, which the cross-diffusion
// stencil reads; with one cut axis (e.g. 2 ranks) the whole exchange overlaps, with several the first.
// Between the halves the ghost layers must not be read and the vector must not be written (reading the
// owned cells is fine: MPI-3 lets send buffers be read).
#pragma once
#include <mpi.h>

#include <Eigen/Dense>
#include <array>
#include <vector>

#include "grid.hpp"
#include "problem.hpp"

namespace fpsolve {

using AxisInts = std::array<int, kMaxAxes>;  // one integer per axis (rank grid, ghost widths)
constexpr AxisInts one_per_axis() {
    AxisInts w{};
    w.fill(1);
    return w;
}

// The ghost layers of each axis that the operator of `problem` reads across a cut: 2 along an axis where the
// diagonal diffusion D_aa vanishes on some face (and the scheme is not "upwind", whose transport faces read
// their two cells only), 1 elsewhere. D_aa is evaluated as the operator does: once when it is constant; at
// every face when it depends on x, each rank taking a share of the faces (reduced over `comm`); a D_aa that
// depends on t is taken to vanish (it may at some t). Collective.
AxisInts ghost_widths(MPI_Comm comm, const Problem& problem);

// Every rank grid p_0 x ... x p_{kMaxAxes-1} = ranks with p_a = 1 beyond the grid's axes and p_a w_a <= cells_a
// along every cut axis (each block holds its neighbours' ghost layers), in lexicographic order.
std::vector<AxisInts> factorisations(int ranks, const Grid& global, const AxisInts& ghosts = one_per_axis());

class Decomposition {
public:
    // Collective over `comm`. Throws InputError when the grid has fewer cells along every useful
    // factorisation than there are ranks. `procs` (all zero: chosen as above) forces the rank grid.
    // The ghost widths of the problem's operator (ghost_widths).
    Decomposition(MPI_Comm comm, const Problem& problem, const AxisInts& procs = {});
    // Given ghost widths (1 or 2 per axis): for a grid without an operator, or widths found before.
    Decomposition(MPI_Comm comm, const Grid& global, const AxisInts& procs = {},
                  const AxisInts& ghosts = one_per_axis());
    Decomposition(const Decomposition&) = delete;
    Decomposition& operator=(const Decomposition&) = delete;
    ~Decomposition();

    MPI_Comm comm() const { return cart_; }
    int rank() const { return rank_; }
    int size() const { return size_; }
    const Grid& global() const { return global_; }
    const Grid& extended() const { return extended_; }   // the rank's block with its ghost layers
    const AxisInts& procs() const { return procs_; }
    const AxisInts& coords() const { return coords_; }
    const std::array<Index, kMaxAxes>& begin() const { return begin_; }  // first owned cell per axis (global index)
    const std::array<Index, kMaxAxes>& count() const { return count_; }  // owned cells per axis
    const AxisInts& ghost_width() const { return width_; }               // 1 or 2 per axis, where it is cut
    // Ghost layers below and above the owned block per axis: the axis's width towards a neighbour, else 0.
    const std::array<Index, kMaxAxes>& ghost_lower() const { return lo_; }
    const std::array<Index, kMaxAxes>& ghost_upper() const { return hi_; }
    bool cuts_periodic_axis() const {
        for (int a = 0; a < global_.dims; ++a)
            if (procs_[a] > 1 && global_.boundary[a] == Boundary::periodic) return true;
        return false;
    }
    Index owned_size() const { return static_cast<Index>(owned_.size()); }
    // Extended-block linear index of each owned cell, in the owned block's row-major order.
    const std::vector<Index>& owned_cells() const { return owned_; }
    // Whether an extended-block cell is owned (not a ghost).
    bool is_owned(Index extended_cell) const { return mask_[static_cast<std::size_t>(extended_cell)] != 0; }
    // The owned block as a grid of its own (lower/upper on its faces), boundaries as the global grid.
    Grid owned_grid() const;

    // owned -> extended (ghosts filled from the neighbours) and extended -> owned.
    void to_extended(const Eigen::VectorXd& owned, Eigen::VectorXd& extended) const;
    void from_extended(const Eigen::VectorXd& extended, Eigen::VectorXd& owned) const;
    void halo(Eigen::VectorXd& extended) const;
    // owned -> extended, ghosts untouched (the block is allocated and zeroed when its size differs).
    void copy_owned(const Eigen::VectorXd& owned, Eigen::VectorXd& extended) const;
    // The halo exchange in two halves (see above). `extended` must stay alive and unresized until finish.
    struct PendingHalo {
        double* data = nullptr;
        int axis = -1;  // the axis whose messages are in flight (-1: none)
        std::array<MPI_Request, 4> requests{MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL,
                                            MPI_REQUEST_NULL};
    };
    PendingHalo start_halo(Eigen::VectorXd& extended) const;
    void finish_halo(PendingHalo& pending) const;

    // Owned rows along the last axis, numbered as in the owned block (row r = owned cells r n .. r n + n - 1,
    // n = count()[dims - 1]); row_start(r) is its first cell in the extended block.
    Index owned_rows() const { return static_cast<Index>(rows_.size()); }
    Index row_start(Index r) const { return rows_[static_cast<std::size_t>(r)]; }
    // The owned rows whose stencil reads no ghost cell: no cell up to ghost_width()[a] steps away along each
    // other axis a, diagonals included (the cross-diffusion terms), is a ghost. Empty when the last axis is
    // cut (every row's ends are ghosts). border_rows() are the others; together every owned row, each once, ascending.
    const std::vector<Index>& inner_rows() const { return inner_rows_; }
    const std::vector<Index>& border_rows() const { return border_rows_; }
    bool cuts_last_axis() const { return procs_[global_.dims - 1] > 1; }
    bool has_ghosts() const { return extended_.size() != owned_size(); }
    // The owned part of a vector over the whole grid (row-major global order).
    Eigen::VectorXd slice(const Eigen::VectorXd& global_values) const;

    // Collective reductions over the ranks.
    double sum(double x) const;
    double max(double x) const;
    double min(double x) const;
    bool all(bool x) const;

private:
    MPI_Comm cart_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    Grid global_, extended_;
    AxisInts procs_ = one_per_axis(), coords_{}, width_ = one_per_axis();
    std::array<Index, kMaxAxes> begin_{}, count_{}, lo_{}, hi_{};
    AxisInts lower_rank_{}, upper_rank_{};  // MPI_PROC_NULL without a neighbour
    // Per axis: subarray types of the extended block for the slabs (w_a thick) sent down/up and received from
    // below/above; MPI_DATATYPE_NULL towards no neighbour.
    std::array<MPI_Datatype, kMaxAxes> send_down_{}, send_up_{}, recv_below_{}, recv_above_{};
    std::vector<Index> owned_;
    std::vector<Index> rows_;   // extended index of the first owned cell of each owned row (the last axis)
    std::vector<Index> inner_rows_, border_rows_;
    Index row_length_ = 1;
    std::vector<char> mask_;
};

}  // namespace fpsolve
