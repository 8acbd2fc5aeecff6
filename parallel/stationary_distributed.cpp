#include "stationary_distributed.hpp"

// As solver/stationary.cpp: GCC 12's false -Wuse-after-free inside Spectra's inlined Eigen code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

#include <Spectra/GenEigsSolver.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "hypre_system.hpp"
#include "reference.hpp"

namespace fpsolve {

namespace {

constexpr double solve_tol = 1e-12;

// The generator on the ranks: A through the distributed operator, M (pinned A, A or A^T) through hypre.
class DistributedGenerator {
  public:
    DistributedGenerator(const DistributedOperator& op, bool conserves)
        : op_(op), dec_(op.decomposition()), sys_(op, HypreSettings{solve_tol, 500}), conserves_(conserves) {
        n_ = sys_.global_rows();
        nloc_ = dec_.owned_size();
        first_ = sys_.first_row();
        int mine = static_cast<int>(nloc_);
        counts_.resize(static_cast<std::size_t>(dec_.size()));
        MPI_Allgather(&mine, 1, MPI_INT, counts_.data(), 1, MPI_INT, dec_.comm());
        displs_.assign(counts_.size(), 0);
        for (std::size_t r = 1; r < counts_.size(); ++r) displs_[r] = displs_[r - 1] + counts_[r - 1];
        // ||A||_inf over the owned rows.
        const Eigen::SparseMatrix<double> a = op.local().matrix(0.0);
        Eigen::VectorXd rows = Eigen::VectorXd::Zero(a.rows());
        for (Index k = 0; k < a.outerSize(); ++k)
            for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it)
                rows[it.row()] += std::abs(it.value());
        double norm = 0.0;
        for (const Index c : dec_.owned_cells()) norm = std::max(norm, rows[c]);
        norm_ = dec_.max(norm);
    }

    Index size() const { return n_; }
    // The global row of a whole-grid cell: its owner knows it (no whole-grid map on any rank). Collective.
    Index row_of(Index cell) const {
        const auto& mine = sys_.grid_index();
        const auto at = std::find(mine.begin(), mine.end(), cell);
        const Index row = at == mine.end() ? -1 : first_ + static_cast<Index>(at - mine.begin());
        return max_index(row);
    }
    // The serial pin hint: the cell of least energy (potential_at_centres), the lowest whole-grid index among
    // equals, as Eigen's minCoeff(&index) on the whole grid; each rank evaluates its owned cells only.
    // -1 when no cell qualifies (every value NaN). Collective.
    Index least_energy_cell(const Problem& pb) const {
        const State e = potential_at_centres(pb, dec_.owned_grid());
        const auto& cells = sys_.grid_index();  // the owned block's row-major order, as owned_grid()'s
        double least = HUGE_VAL;
        for (Index k = 0; k < e.size(); ++k) least = std::min(least, e[k]);  // NaN is never the minimum
        least = dec_.min(least);
        Index cell = std::numeric_limits<Index>::max();
        for (Index k = 0; k < e.size(); ++k)
            if (e[k] == least) cell = std::min(cell, cells[static_cast<std::size_t>(k)]);
        // Two exact reductions rather than MPI_MINLOC: whole-grid indices may pass the int of MPI_DOUBLE_INT.
        cell = -max_index(-cell);
        return cell == std::numeric_limits<Index>::max() ? -1 : cell;
    }
    double norm() const { return norm_; }
    const Decomposition& dec() const { return dec_; }

    State apply_a(const State& x) const {
        State y;
        op_(x, y, 0.0);
        return y;
    }
    double sum(const State& x) const { return dec_.sum(x.sum()); }
    double dot(const State& x, const State& y) const { return dec_.sum(x.dot(y)); }
    double max_abs(const State& x) const { return dec_.max(x.size() ? x.cwiseAbs().maxCoeff() : 0.0); }
    // The owned parts of every rank, in global row order, on every rank.
    State gather(const State& owned) const {
        State all(n_);
        MPI_Allgatherv(owned.data(), static_cast<int>(nloc_), MPI_DOUBLE, all.data(), counts_.data(),
                       displs_.data(), MPI_DOUBLE, dec_.comm());
        return all;
    }
    State owned_part(const State& rows) const { return rows.segment(first_, nloc_); }
    Index max_index(Index i) const {
        std::int64_t out = 0, in = i;
        MPI_Allreduce(&in, &out, 1, MPI_INT64_T, MPI_MAX, dec_.comm());
        return static_cast<Index>(out);
    }

    // The global row of the value max(x) (the lowest such row), as MPI_MAXLOC would give it but with rows
    // beyond the int range.
    Index argmax(const State& x, double& value) const {
        double v = -HUGE_VAL;
        for (Index k = 0; k < x.size(); ++k) v = std::max(v, x[k]);
        value = dec_.max(v);
        Index row = std::numeric_limits<Index>::max();
        for (Index k = 0; k < x.size(); ++k)
            if (x[k] == value) {
                row = first_ + k;
                break;
            }
        row = -max_index(-row);
        return row == std::numeric_limits<Index>::max() ? 0 : row;
    }
    double value_at(const State& x, Index row) const {
        return dec_.sum(row >= first_ && row < first_ + nloc_ ? x[row - first_] : 0.0);
    }

    // Conserved mass: the steady state (pinned at the global row `pin`, moved once as the serial solver
    // does).
    void steady_state(Index pin) {
        pinned_ = pin;
        for (int attempt = 0; attempt < 2; ++attempt) {
            sys_.set(0.0, 0.0, 1.0, pinned_, norm_);
            State b = State::Zero(nloc_);
            if (pinned_ >= first_ && pinned_ < first_ + nloc_) b[pinned_ - first_] = norm_;
            State p = solve(b);
            double pmax = 0.0;
            const Index kmax = argmax(p, pmax);
            if (!dec_.all(p.allFinite())) throw RunError("the steady-state solve produced non-finite values");
            if (!(pmax > 0.0)) throw RunError("the steady-state solve produced no positive density");
            null_ = p / (sum(p) * dec_.global().cell_volume());
            if (value_at(p, pinned_) >= 1e-2 * pmax || attempt == 1) break;
            pinned_ = kmax;
        }
    }
    const State& null() const { return null_; }

    // M x = b to the solver tolerance, refined once with the residual b - M x.
    State solve(const State& b) {
        State x;
        sys_.solve(b, x);
        State mx;
        sys_.apply(x, mx);
        const State r = b - mx;
        if (dec_.sum(r.squaredNorm()) > 0.0) {
            State dx;
            sys_.solve(r, dx, false, std::sqrt(dec_.sum(b.squaredNorm())));
            x += dx;
        }
        return x;
    }

    // x = (A|_W)^-1 y with 1^T x = 0 (conserved mass), or A^-1 y.
    State apply_inverse(const State& y) {
        if (!conserves_) return solve(y);
        State b = y;
        if (pinned_ >= first_ && pinned_ < first_ + nloc_) b[pinned_ - first_] = 0.0;
        const State z = solve(b);
        return z - (sum(z) / sum(null_)) * null_;
    }

    // Absorbing walls: M = A for the inverse iteration and the spectrum, then A^T for the MFPT.
    void use_generator(bool transpose) { sys_.set(0.0, 0.0, 1.0, -1, 1.0, transpose); }

  private:
    const DistributedOperator& op_;
    const Decomposition& dec_;
    HypreSystem sys_;
    bool conserves_;
    Index n_ = 0, nloc_ = 0, first_ = 0, pinned_ = -1;
    double norm_ = 0.0;
    std::vector<int> counts_, displs_;
    State null_;
};

// Spectra's operator: vectors over all global rows, replicated on every rank.
struct InverseOp {
    using Scalar = double;
    DistributedGenerator* g;
    Eigen::Index rows() const { return g->size(); }
    Eigen::Index cols() const { return g->size(); }
    void perform_op(const double* x_in, double* y_out) const {
        const Eigen::Map<const State> x(x_in, g->size());
        Eigen::Map<State>(y_out, g->size()) = g->gather(g->apply_inverse(g->owned_part(x)));
    }
};

bool slower(const std::complex<double>& a, const std::complex<double>& b) {
    if (std::abs(a.real()) != std::abs(b.real())) return std::abs(a.real()) < std::abs(b.real());
    return a.imag() > b.imag();
}

// The serial slowest_eigenvalues (solver/stationary.cpp) on the distributed generator.
std::vector<std::complex<double>> slowest_eigenvalues(DistributedGenerator& gen, bool conserves, int count) {
    const Index n = gen.size();
    std::vector<std::complex<double>> out;
    if (count <= 0) return out;
    const Index wanted = std::min<Index>(count, n - (conserves ? 1 : 0));
    if (conserves) out.emplace_back(0.0, 0.0);
    if (wanted <= 0) return out;
    if (n < 400) {
        // A column by column (A e_j through the operator), gathered: the same dense QR on every rank.
        Eigen::MatrixXd a(n, n);
        const Decomposition& dec = gen.dec();
        State e = State::Zero(dec.owned_size());
        for (Index j = 0; j < n; ++j) {
            State unit = State::Zero(n);
            unit[j] = 1.0;
            e = gen.owned_part(unit);
            a.col(j) = gen.gather(gen.apply_a(e));
        }
        Eigen::EigenSolver<Eigen::MatrixXd> es(a, false);
        if (es.info() != Eigen::Success) throw RunError("the dense eigenvalue solve did not converge");
        std::vector<std::complex<double>> all(es.eigenvalues().data(), es.eigenvalues().data() + n);
        std::sort(all.begin(), all.end(), [](auto x, auto y) { return std::abs(x) < std::abs(y); });
        const std::size_t first = conserves ? 1 : 0;
        for (std::size_t i = first; i < first + static_cast<std::size_t>(wanted); ++i) out.push_back(all[i]);
    } else {
        InverseOp op{&gen};
        const Index nev = std::min<Index>(wanted, n - 2);
        const Index ncv = std::min<Index>(n, std::max<Index>(2 * nev + 1, 20));
        Spectra::GenEigsSolver<InverseOp> eigs(op, nev, ncv);
        eigs.init();
        // The inverse is applied to the solver tolerance, not to round-off: ask Arnoldi for no more.
        eigs.compute(Spectra::SortRule::LargestMagn, 1000, 1e-10);
        if (eigs.info() != Spectra::CompInfo::Successful)
            throw RunError("the Arnoldi eigenvalue solve (Spectra) did not converge");
        const Eigen::VectorXcd nu = eigs.eigenvalues();
        for (Index i = 0; i < nu.size(); ++i) out.push_back(1.0 / nu[i]);
    }
    std::sort(out.begin(), out.end(), slower);
    return out;
}

}  // namespace

namespace {

SteadyState solve_with(const DistributedOperator& op, const SteadyStateOptions& options) {
    const Decomposition& dec = op.decomposition();
    const Grid& g = dec.global();
    if (op.time_dependent())
        throw InputError(
            "dynamics: the drift, potential or noise depends on t; a steady state needs a "
            "time-independent problem (use fpsolve run)");
    bool absorbing = false;
    for (int a = 0; a < g.dims; ++a) absorbing = absorbing || g.boundary[a] == Boundary::absorbing;
    const double volume = g.cell_volume();

    DistributedGenerator gen(op, !absorbing);
    SteadyState r;
    r.absorbing = absorbing;
    State density;  // owned
    if (!absorbing) {
        // The serial pin: the grid's centre cell, or the minimum of the potential.
        Index hint = 0;
        for (int a = 0; a < g.dims; ++a) hint = hint * g.cells[a] + g.cells[a] / 2;
        if (op.global_problem().potential) {
            const Index least = gen.least_energy_cell(op.global_problem());
            if (least >= 0) hint = least;
        }
        gen.steady_state(gen.row_of(hint));
        density = gen.null();
        const double scale = gen.norm() * gen.max_abs(density);
        r.residual = scale > 0.0 ? gen.max_abs(gen.apply_a(density)) / scale : 0.0;
    } else {
        gen.use_generator(false);
        // Inverse iteration q <- A^-1 q, to the accuracy the solves allow.
        State q = State::Ones(dec.owned_size());
        q /= gen.sum(q);
        for (int it = 0; it < 2000; ++it) {
            State next = gen.apply_inverse(q);
            next /= gen.sum(next);
            const double change = gen.max_abs(next - q) / gen.max_abs(next);
            q = std::move(next);
            if (change < 1e-10) break;
        }
        if (!dec.all(q.allFinite())) throw RunError("the quasi-stationary solve produced non-finite values");
        const State aq = gen.apply_a(q);
        const double lambda0 = gen.dot(q, aq) / gen.dot(q, q);
        density = q / (gen.sum(q) * volume);
        r.escape_rate = -lambda0;
        const State ad = gen.apply_a(density);
        r.residual = gen.max_abs(ad - lambda0 * density) / (gen.norm() * gen.max_abs(density));
    }
    r.density = density;
    r.current = op.cell_current(density, 0.0);
    r.max_abs_current = dec.max(r.current.size() ? r.current.cwiseAbs().maxCoeff() : 0.0);

    if (options.eigenvalues > 0) {
        r.eigenvalues = slowest_eigenvalues(gen, !absorbing, options.eigenvalues + (absorbing ? 1 : 0));
        if (r.eigenvalues.size() >= 2) {
            r.spectral_gap = std::abs(r.eigenvalues[1].real()) - std::abs(r.eigenvalues[0].real());
            r.relaxation_time = 1.0 / r.spectral_gap;
        }
    }
    if (absorbing) {
        gen.use_generator(true);
        const State minus_one = -State::Ones(dec.owned_size());
        const State t = gen.solve(minus_one);
        if (!dec.all(t.allFinite()))
            throw RunError("the mean-first-passage-time solve produced non-finite values");
        r.mfpt = t;
    }
    return r;
}

}  // namespace

// As the serial solve_stationary (stationary.hpp): while the density dips, re-solve with it as the transport
// guide. The passes solve for the density alone; the last generator is then solved once more with the spectrum.
SteadyState solve_stationary(const DistributedOperator& op, const SteadyStateOptions& options) {
    const Decomposition& dec = op.decomposition();
    if (!options.positive || op.time_dependent() || !guide_applies(op.global_problem())) return solve_with(op, options);
    SteadyStateOptions density_only = options;
    density_only.eigenvalues = 0;
    SteadyState r = solve_with(op, density_only);
    std::unique_ptr<DistributedOperator> guided;
    State guide;
    auto dipping = [&] {
        const Eigen::VectorXd& p = r.density;
        return dips(dec.min(p.size() ? p.minCoeff() : HUGE_VAL), dec.max(p.size() ? p.maxCoeff() : -HUGE_VAL));
    };
    int passes = 0;
    for (int pass = 1; pass < kGuidedPasses && dipping(); ++pass) {
        State next(r.density.size());
        for (Eigen::Index k = 0; k < next.size(); ++k)
            next[k] = guided && !(guide[k] > 0.0) ? 0.0 : std::max(r.density[k], 0.0);
        guide = std::move(next);
        guided = std::make_unique<DistributedOperator>(dec, op.global_problem(), &guide);
        r = solve_with(*guided, density_only);
        passes = pass;
    }
    if (options.eigenvalues > 0) r = solve_with(guided ? *guided : op, options);
    r.guided_passes = passes;
    return r;
}

}  // namespace fpsolve
