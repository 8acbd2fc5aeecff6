// The finite-volume semi-discretisation of the Fokker–Planck equation (DESIGN §1.1):
//
//   dp_c/dt = sum_a (F_{a, c-1/2} - F_{a, c+1/2}) / h_a
//   F_{a, f} = a_f p_L - b_f p_R                                   (face_flux.hpp, diagonal D_aa, drift)
//            - 1/2 D_ab(x_f) [d_b p]_f,  b != a                     (9-point stencil, correlated noise)
//
// The cross derivative at an a-face is taken along the diagonal that keeps the stencil monotone for the
// sign of D_ab (for D_ab >= 0: [p(R+e_b) - p(R) + p(L) - p(L-e_b)] / 2h_b); the whole operator is then
// monotone while |D_ab| <= min(D_aa h_b/h_a, D_bb h_a/h_b) (checked; see warnings()).
// With a potential, the face drift uses potential differences between cell centres, so that
// p ∝ exp(-2 L / s) is an exact discrete fixed point when D = s I (Scharfetter & Gummel 1969).
// Walls: reflecting (F = 0), periodic (wrap), absorbing (p = 0 on the wall face, half-cell flux).
//
// A const functor sys(p, dpdt, t) for Boost.Odeint. Coefficients are precomputed when the problem does not
// depend on t and re-assembled for every new t when it does.
#pragma once
#include <Eigen/Dense>
#include <Eigen/Sparse>
#include <functional>
#include <string>
#include <vector>

#include "problem.hpp"

namespace fpsolve {

namespace detail {
struct StridedRow;  // fokker_planck_operator.cpp: a strided axis's face coefficients and neighbours for one row
}

using State = Eigen::VectorXd;

class FokkerPlanckOperator {
public:
    explicit FokkerPlanckOperator(const Problem& problem);

    // dp/dt = A(t) p, matrix-free.
    void operator()(const State& p, State& dpdt, double t) const;

    // A(t) p handed over row by row instead of stored: finish(context, first, count, values) gets the cells
    // first .. first + count - 1 (one grid row along the last axis) while they are still in the cache, on the
    // thread that computed them (rows run in parallel, each exactly once). A stepper that only combines A p
    // with other vectors saves the memory traffic of writing A p and reading it back.
    struct RowSink {
        void* context;
        void (*finish)(void* context, Index first, Index count, const double* values);
    };
    void apply_rows(const State& p, double t, RowSink sink) const;
    // One row of A(t) p: the grid as rows() lines of row_length() cells along the last axis (1-D: one row).
    // Row r (cells r n .. r n + n - 1) reads p in rows r - 1 .. r + 1 in 2-D (and across a periodic first
    // axis, row 0 reads row rows() - 1 and back), in rows r - n_1 - 1 .. r + n_1 + 1 and across periodic axes
    // in 3-D, in rows r - n_1 n_2 - n_2 - 1 .. r + n_1 n_2 + n_2 + 1 and across periodic axes in 4-D. For
    // steppers that take two products per sweep (time/chebyshev_exponential.hpp). Call once
    // from one thread (or use operator()) before calling from several when the coefficients may be unset.
    void apply_row(Index row, const double* p, double t, double* out) const;
    Index rows() const;
    Index row_length() const;
    // How many rows away apply_row reads at most: 1, or 2 when a strided axis has transport-only faces
    // (their upwind-biased flux reads two cells upstream).
    int row_reach(double t) const { return ensure(t).row_reach; }

    // The generator A(t) as a sparse matrix (column sums 0 without absorbing walls).
    Eigen::SparseMatrix<double> matrix(double t) const;
    // Cell-centred probability current (N x dims): the mean of each cell's two face fluxes per axis,
    // from the scheme's own fluxes, so it vanishes at a discrete equilibrium.
    Eigen::MatrixXd cell_current(const State& p, double t) const;
    // Rate at which mass leaves through absorbing walls.
    double outflux(const State& p, double t) const;
    // Upper bound of the spectral radius of A(t) (column Gershgorin): explicit steps need dt ~ 1/this.
    double spectral_radius_bound(double t) const;
    // sum_i |A_ij| for every column j, as matrix(t) would give them (the same bits), assembled a slab of at most
    // max(n/8, 65536) columns at a time, so that the bound never holds the whole matrix.
    Eigen::VectorXd column_abs_sums(double t) const;
    // No negative off-diagonal entry in A(t) (in the rows `counts` accepts, all when empty): then the exact flow
    // and implicit Euler keep p >= 0, and the steppers may insist on positivity. The 9-point cross stencil beyond
    // its monotonicity bound, central differences at high Peclet numbers and the kappa = 1/3 transport faces
    // break it. Checked a slab of columns at a time, like column_abs_sums, never holding the whole matrix.
    bool monotone(double t, const std::function<bool(Index)>& counts = {}) const;
    // Whether A(t) is in detailed balance (solver/detailed_balance.hpp), and if not the first coupling that
    // breaks it in `why`. Like spectral_radius_bound, computed once per set of coefficients.
    bool in_detailed_balance(double t, std::string* why = nullptr) const;

    const Problem& problem() const { return problem_; }
    const Grid& grid() const { return problem_.grid; }
    bool time_dependent() const { return time_dependent_; }
    // Monotonicity of the cross-diffusion stencil: the largest |D_ab| / min(D_aa h_b/h_a, D_bb h_a/h_b)
    // over all faces (<= 1 means monotone); 0 without correlated noise.
    double cross_monotonicity_ratio() const { return ensure(0.0).cross_ratio; }

private:
    struct Cross {                    // flux through one face from correlated noise: sum w_k p[idx_k]
        Index lower, upper;           // the two cells of the face
        std::size_t begin = 0;        // its terms: Coefficients::cross_idx, cross_w [begin, begin + n)
        int axis = 0;
        int n = 0;
    };
    // At most 4 terms per other axis (and one spare); built on the stack, stored packed.
    struct CrossTerms {
        std::array<Index, 4 * (kMaxAxes - 1) + 1> idx;
        std::array<double, 4 * (kMaxAxes - 1) + 1> w;
        int n = 0;
    };
    struct Coefficients {
        // Per axis a, indexed by the lower cell c of the face (c, c + e_a); for the last cell of a
        // non-periodic axis that face is the wall: upper[a] = outflow coefficient, lower... = 0.
        std::array<std::vector<double>, kMaxAxes> a, b;
        std::array<std::vector<double>, kMaxAxes> wall;  // lower wall of cells with i_a = 0: F = -wall * p
                                                          // (absorbing axes only; empty otherwise)
        // Transport-only faces (face_flux.hpp): the far upstream cell's weight w, F += w p_far, with p_far =
        // p(c - e_a) for w < 0 (drift towards +a) and p(c + 2 e_a) for w > 0. Empty for an axis without one.
        std::array<std::vector<double>, kMaxAxes> far;
        std::vector<Cross> cross;     // per face: for matrix(), cell_current(), outflux()
        std::vector<Index> cross_idx;  // the faces' terms, packed
        std::vector<double> cross_w;
        // The same terms gathered per cell (row-major: row c = what the cross fluxes add to dp_c), so that the
        // hot loop reads each cell's row once, in parallel and in a fixed order (no scatter).
        Eigen::SparseMatrix<double, Eigen::RowMajor, int> cross_rows;
        double cross_ratio = 0.0;
        int row_reach = 1;
        double t = 0.0;
        bool ready = false;
        double spectral_radius = -1.0;  // cached: spectral_radius_bound(t), when >= 0
        int balance = -1;               // cached: in_detailed_balance(t) (1, 0; -1 not known yet)
        std::string balance_why;
    };

    const Coefficients& ensure(double t) const;
    void assemble(double t, Coefficients& c) const;
    void assemble_kinetic(double t, Coefficients& c) const;  // the kinetic form's Gibbs-exact scheme
    void gather_cross_rows(Coefficients& c) const;
    // Appends a face's cross terms (none: nothing) to c.cross and the packed arrays.
    static void add_cross(Coefficients& c, Index lower, Index upper, int axis, const Index* idx, const double* w,
                          int n);
    static void set_far(Coefficients& c, int axis, std::size_t face, Index cells, double w);
    template <int Strided>
    void apply_diagonal(const Coefficients& c, const double* p, double* dp, const RowSink* sink = nullptr) const;
    template <int Strided>
    void rows_of(const Coefficients& c, Index r, Index k, const double* p, double* out) const;
    template <int Strided>
    void finish_row(const Coefficients& c, Index c0, const std::array<Index, kMaxAxes>& idx,
                    const detail::StridedRow* sr, const double* p, double* out, bool periodic) const;
    Index run_length(Index r, Index end) const;
    // Visits every face flux as (lower cell or -1, upper cell or -1, terms) for the generic paths.
    template <class Visitor>
    void for_each_face(const Coefficients& c, Visitor&& visit) const;
    // Assembles A a slab of at most max(n/8, 65536) columns at a time (an n x slab matrix) and calls
    // visit(first column, slab); stops when visit returns false.
    template <class Visit>
    void for_each_column_slab(const Coefficients& c, Visit&& visit) const;
    // in_detailed_balance without the matrix where every pair of cells is coupled by one two-point face; false
    // when it cannot tell (the matrix path decides then).
    bool face_detailed_balance(const Coefficients& c) const;

    Problem problem_;
    bool time_dependent_;
    mutable Coefficients coef_;
    std::vector<double> zeros_;
};

}  // namespace fpsolve
