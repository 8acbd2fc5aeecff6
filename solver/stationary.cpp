#include "stationary.hpp"

// GCC 12 reports a false -Wuse-after-free inside Eigen's storage when it inlines Spectra's Hessenberg
// eigenvector code (Eigen/src/Core/util/Memory.h); the warning is emitted late, so it is silenced per file.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

#include <Eigen/Eigenvalues>
#include <Eigen/SparseLU>
#include <Spectra/GenEigsSolver.h>
#include <algorithm>
#include <cmath>
#include <string>

#include "reference.hpp"

namespace fpsolve {

using SparseMatrix = Eigen::SparseMatrix<double>;
using LU = Eigen::SparseLU<SparseMatrix, Eigen::COLAMDOrdering<int>>;

struct FactorisedGenerator::Impl {
    LU lu;
    SparseMatrix m;           // the factorised matrix (A, or A with row `pinned` replaced)
    double pin_scale = 1.0;   // the diagonal entry of the pinned row
    Eigen::VectorXd null;     // conserved mass: the steady state (sum null V = 1)
};

namespace {

double inf_norm(const SparseMatrix& a) {
    Eigen::VectorXd rows = Eigen::VectorXd::Zero(a.rows());
    for (Eigen::Index k = 0; k < a.outerSize(); ++k)
        for (SparseMatrix::InnerIterator it(a, k); it; ++it) rows[it.row()] += std::abs(it.value());
    return rows.size() ? rows.maxCoeff() : 0.0;
}

// A with row k replaced by scale * e_k^T: fixes p_k, and drops the one equation of A p = 0 that the others imply.
SparseMatrix pinned_matrix(const SparseMatrix& a, Eigen::Index k, double scale) {
    std::vector<Eigen::Triplet<double>> t;
    t.reserve(static_cast<std::size_t>(a.nonZeros()) + 1);
    for (Eigen::Index c = 0; c < a.outerSize(); ++c)
        for (SparseMatrix::InnerIterator it(a, c); it; ++it)
            if (it.row() != k) t.emplace_back(it.row(), it.col(), it.value());
    t.emplace_back(k, k, scale);
    SparseMatrix m(a.rows(), a.cols());
    m.setFromTriplets(t.begin(), t.end());
    m.makeCompressed();
    return m;
}

void factorise(LU& lu, const SparseMatrix& m) {
    lu.analyzePattern(m);
    lu.factorize(m);
    if (lu.info() != Eigen::Success)
        throw RunError("the discrete generator could not be factorised (" + lu.lastErrorMessage() +
                       "): the steady state is not unique; is there noise along every axis?");
}

// The Spectra operator y = (A|_W)^{-1} x (or A^{-1} x) of a factorised generator.
struct InverseOp {
    using Scalar = double;
    const FactorisedGenerator* g;
    Eigen::Index rows() const { return g->size(); }
    Eigen::Index cols() const { return g->size(); }
    void perform_op(const double* x_in, double* y_out) const {
        const Eigen::Map<const Eigen::VectorXd> x(x_in, g->size());
        Eigen::Map<Eigen::VectorXd>(y_out, g->size()) = g->apply_inverse(x);
    }
};

bool slower(const std::complex<double>& a, const std::complex<double>& b) {
    if (std::abs(a.real()) != std::abs(b.real())) return std::abs(a.real()) < std::abs(b.real());
    return a.imag() > b.imag();
}

}  // namespace

double relative_residual(const SparseMatrix& a, const Eigen::VectorXd& p) {
    const double scale = inf_norm(a) * p.cwiseAbs().maxCoeff();
    return scale > 0.0 ? (a * p).cwiseAbs().maxCoeff() / scale : 0.0;
}

FactorisedGenerator::FactorisedGenerator(SparseMatrix a, double cell_volume, bool conserves_mass, Eigen::Index pin_hint)
    : impl_(std::make_unique<Impl>()), a_(std::move(a)), volume_(cell_volume), conserves_(conserves_mass) {
    const Eigen::Index n = a_.rows();
    if (!conserves_) {
        impl_->m = a_;
        factorise(impl_->lu, impl_->m);
        return;
    }
    // Pin the cell with the largest steady density: a pinned value far below the others would make the
    // pinned system ill-conditioned. The first guess is the hint (or the middle index); if the steady state
    // is small there, factorise again pinning its maximum.
    const double scale = std::max(inf_norm(a_), 1e-300);
    impl_->pin_scale = scale;
    pinned_ = pin_hint >= 0 && pin_hint < n ? pin_hint : n / 2;
    for (int attempt = 0; attempt < 2; ++attempt) {
        impl_->m = pinned_matrix(a_, pinned_, scale);
        factorise(impl_->lu, impl_->m);
        Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
        b[pinned_] = scale;
        Eigen::VectorXd p = impl_->lu.solve(b);
        // Iterative refinement with the same factors: the residual of the pinned system, twice.
        for (int r = 0; r < 2; ++r) p += impl_->lu.solve(b - impl_->m * p);
        if (!p.allFinite()) throw RunError("the steady-state solve produced non-finite values");
        Eigen::Index kmax = 0;
        const double pmax = p.maxCoeff(&kmax);
        if (!(pmax > 0.0)) throw RunError("the steady-state solve produced no positive density");
        impl_->null = p / (p.sum() * volume_);
        if (p[pinned_] >= 1e-2 * pmax || attempt == 1) break;
        pinned_ = kmax;
    }
}

FactorisedGenerator::~FactorisedGenerator() = default;

Eigen::VectorXd FactorisedGenerator::steady_state() const {
    if (!conserves_) throw RunError("steady_state: the generator does not conserve mass");
    return impl_->null;
}

Eigen::VectorXd FactorisedGenerator::apply_inverse(const Eigen::VectorXd& y) const {
    if (!conserves_) return impl_->lu.solve(y);
    // Rows != k of A z = y with z_k = 0; then remove the null component so that 1^T x = 0.
    Eigen::VectorXd b = y;
    b[pinned_] = 0.0;
    Eigen::VectorXd z = impl_->lu.solve(b);
    const Eigen::VectorXd& p = impl_->null;
    return z - (z.sum() / p.sum()) * p;
}

Eigen::VectorXd FactorisedGenerator::mean_first_passage_time() const {
    if (conserves_) throw RunError("mean_first_passage_time: no absorbing wall");
    const Eigen::VectorXd minus_one = -Eigen::VectorXd::Ones(size());
    Eigen::VectorXd t = impl_->lu.transpose().solve(minus_one);
    const SparseMatrix at = a_.transpose();
    for (int r = 0; r < 2; ++r) t += impl_->lu.transpose().solve(minus_one - at * t);
    if (!t.allFinite()) throw RunError("the mean-first-passage-time solve produced non-finite values");
    return t;
}

std::vector<std::complex<double>> FactorisedGenerator::slowest_eigenvalues(int count) const {
    const Eigen::Index n = size();
    std::vector<std::complex<double>> out;
    if (count <= 0) return out;
    const Eigen::Index wanted = std::min<Eigen::Index>(count, n - (conserves_ ? 1 : 0));
    if (conserves_) out.emplace_back(0.0, 0.0);
    if (wanted <= 0) return out;
    if (n < 400) {
        Eigen::EigenSolver<Eigen::MatrixXd> es(Eigen::MatrixXd(a_), false);
        if (es.info() != Eigen::Success) throw RunError("the dense eigenvalue solve did not converge");
        std::vector<std::complex<double>> all(es.eigenvalues().data(), es.eigenvalues().data() + n);
        std::sort(all.begin(), all.end(), [](auto a, auto b) { return std::abs(a) < std::abs(b); });
        // With conserved mass the eigenvalue nearest 0 is the steady state's (0 up to round-off).
        const std::size_t first = conserves_ ? 1 : 0;
        for (std::size_t i = first; i < first + static_cast<std::size_t>(wanted); ++i) out.push_back(all[i]);
    } else {
        // Arnoldi on the inverse: the largest |nu| are the smallest |lambda| = |1 / nu|.
        InverseOp op{this};
        const Eigen::Index nev = std::min<Eigen::Index>(wanted, n - 2);
        const Eigen::Index ncv = std::min<Eigen::Index>(n, std::max<Eigen::Index>(2 * nev + 1, 20));
        Spectra::GenEigsSolver<InverseOp> eigs(op, nev, ncv);
        eigs.init();
        eigs.compute(Spectra::SortRule::LargestMagn, 1000, 1e-12);
        if (eigs.info() != Spectra::CompInfo::Successful)
            throw RunError("the Arnoldi eigenvalue solve (Spectra) did not converge");
        const Eigen::VectorXcd nu = eigs.eigenvalues();
        for (Eigen::Index i = 0; i < nu.size(); ++i) out.push_back(1.0 / nu[i]);
    }
    std::sort(out.begin(), out.end(), slower);
    return out;
}

std::pair<Eigen::VectorXd, double> FactorisedGenerator::quasi_stationary() const {
    // Inverse iteration q <- A^{-1} q: converges at the rate |lambda_0 / lambda_1| per step.
    Eigen::VectorXd q = Eigen::VectorXd::Ones(size());
    q /= q.sum();
    for (int it = 0; it < 2000; ++it) {
        Eigen::VectorXd next = impl_->lu.solve(q);
        next /= next.sum();
        const double change = (next - q).cwiseAbs().maxCoeff() / next.cwiseAbs().maxCoeff();
        q = std::move(next);
        if (change < 1e-15) break;
    }
    if (!q.allFinite()) throw RunError("the quasi-stationary solve produced non-finite values");
    const double lambda = q.dot(a_ * q) / q.squaredNorm();
    return {q / (q.sum() * volume_), lambda};
}

namespace {

// The steady state (or quasi-stationary density with its escape rate) of one generator.
struct Solved {
    std::unique_ptr<FactorisedGenerator> gen;
    Eigen::VectorXd density;
    double escape_rate = std::numeric_limits<double>::quiet_NaN();
};

Solved solve_once(const FokkerPlanckOperator& op, bool absorbing, Index hint) {
    Solved s;
    s.gen = std::make_unique<FactorisedGenerator>(op.matrix(0.0), op.grid().cell_volume(), !absorbing, hint);
    if (!absorbing) {
        s.density = s.gen->steady_state();
    } else {
        auto [q, lambda0] = s.gen->quasi_stationary();
        s.density = std::move(q);
        s.escape_rate = -lambda0;
    }
    return s;
}

}  // namespace

std::shared_ptr<const std::vector<double>> transport_guide(const Eigen::VectorXd& density,
                                                           const std::vector<double>* previous) {
    auto guide = std::make_shared<std::vector<double>>(static_cast<std::size_t>(density.size()));
    for (Eigen::Index k = 0; k < density.size(); ++k) {
        const auto uk = static_cast<std::size_t>(k);
        (*guide)[uk] = previous && !((*previous)[uk] > 0.0) ? 0.0 : std::max(density[k], 0.0);
    }
    return guide;
}

SteadyState solve_stationary(const FokkerPlanckOperator& op, const SteadyStateOptions& options) {
    const Grid& g = op.grid();
    if (op.time_dependent())
        throw InputError("dynamics: the drift, potential or noise depends on t; a steady state needs a "
                         "time-independent problem (use fpsolve run)");
    bool absorbing = false;
    for (int a = 0; a < g.dims; ++a) absorbing = absorbing || g.boundary[a] == Boundary::absorbing;

    SteadyState r;
    r.absorbing = absorbing;
    // Pin the grid's centre cell, or the minimum of the potential when there is one.
    Index hint = 0;
    for (int a = 0; a < g.dims; ++a) hint = hint * g.cells[a] + g.cells[a] / 2;
    if (op.problem().potential) potential_at_centres(op.problem()).minCoeff(&hint);
    Solved s = solve_once(op, absorbing, hint);
    // Transport-only faces: re-solve with the guide while the density dips (stationary.hpp).
    std::unique_ptr<FokkerPlanckOperator> guided;
    for (int pass = 1; options.positive && pass < kGuidedPasses && guide_applies(op.problem()) &&
                       dips(s.density.minCoeff(), s.density.maxCoeff());
         ++pass) {
        Problem pb = op.problem();
        pb.transport_guide = transport_guide(s.density, guided ? guided->problem().transport_guide.get() : nullptr);
        guided = std::make_unique<FokkerPlanckOperator>(pb);
        s = solve_once(*guided, absorbing, hint);
        r.guided_passes = pass;
    }
    const FokkerPlanckOperator& final_op = guided ? *guided : op;
    const SparseMatrix& a = s.gen->matrix();
    r.density = std::move(s.density);
    if (!absorbing) {
        r.residual = relative_residual(a, r.density);
    } else {
        r.escape_rate = s.escape_rate;
        const double scale = inf_norm(a) * r.density.cwiseAbs().maxCoeff();
        r.residual = (a * r.density + r.escape_rate * r.density).cwiseAbs().maxCoeff() / scale;
        r.mfpt = s.gen->mean_first_passage_time();
    }
    r.current = final_op.cell_current(r.density, 0.0);
    r.max_abs_current = r.current.size() ? r.current.cwiseAbs().maxCoeff() : 0.0;

    if (options.eigenvalues > 0) {
        r.eigenvalues = s.gen->slowest_eigenvalues(options.eigenvalues + (absorbing ? 1 : 0));
        if (r.eigenvalues.size() >= 2) {
            r.spectral_gap = std::abs(r.eigenvalues[1].real()) - std::abs(r.eigenvalues[0].real());
            r.relaxation_time = 1.0 / r.spectral_gap;
        }
    }
    return r;
}

bool guide_applies(const Problem& problem) {
    return !problem.kinetic && problem.scheme != Scheme::upwind && has_transport_axis(problem);
}

}  // namespace fpsolve
