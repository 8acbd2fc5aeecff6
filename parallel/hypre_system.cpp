#include "hypre_system.hpp"

#include <HYPRE.h>
#include <HYPRE_IJ_mv.h>
#include <HYPRE_krylov.h>
#include <HYPRE_parcsr_ls.h>
#include <HYPRE_utilities.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "collective.hpp"

namespace fpsolve {

namespace {

void check(HYPRE_Int code, const char* what) {
    if (code != 0) {
        char text[256] = {0};
        HYPRE_DescribeError(code, text);
        HYPRE_ClearAllErrors();
        throw RunError(std::string("hypre: ") + what + " failed: " + text);
    }
}

void initialise_hypre() {
    static const bool done = [] {
        HYPRE_Init();
        return true;
    }();
    (void)done;
}

}  // namespace

struct HypreSystem::Impl {
    MPI_Comm comm = MPI_COMM_NULL;
    HYPRE_BigInt lower = 0, upper = -1;
    HYPRE_IJMatrix m = nullptr;
    HYPRE_ParCSRMatrix par_m = nullptr;
    HYPRE_IJVector b = nullptr, x = nullptr;
    HYPRE_ParVector par_b = nullptr, par_x = nullptr;
    HYPRE_Solver solver = nullptr, precond = nullptr;
    std::vector<HYPRE_BigInt> rows;                 // this rank's global rows, in order
    std::vector<HYPRE_BigInt> ext_global;           // global row of every extended-block cell
    std::vector<Index> owned_position;              // extended cell -> owned position, or -1
    HyprePreconditioner made = HyprePreconditioner::amg;  // the kind of `precond`

    void destroy_solver() {
        if (solver) HYPRE_ParCSRGMRESDestroy(solver);
        if (precond) made == HyprePreconditioner::amg ? HYPRE_BoomerAMGDestroy(precond) : HYPRE_ILUDestroy(precond);
        solver = precond = nullptr;
    }
    // GMRES (restart 50) with the preconditioner `kind` for the assembled matrix, set up. Collective.
    void make_solver(const HypreSettings& settings, HyprePreconditioner kind) {
        destroy_solver();
        HYPRE_ParCSRGMRESCreate(comm, &solver);
        HYPRE_GMRESSetKDim(solver, 50);
        HYPRE_GMRESSetMaxIter(solver, settings.max_iterations);
        HYPRE_GMRESSetTol(solver, settings.tol);
        HYPRE_GMRESSetPrintLevel(solver, 0);
        HYPRE_GMRESSetLogging(solver, 1);
        made = kind;
        if (kind == HyprePreconditioner::amg) {  // one V-cycle
            HYPRE_BoomerAMGCreate(&precond);
            HYPRE_BoomerAMGSetPrintLevel(precond, 0);
            HYPRE_BoomerAMGSetTol(precond, 0.0);
            HYPRE_BoomerAMGSetMaxIter(precond, 1);
            HYPRE_GMRESSetPrecond(solver, reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_BoomerAMGSolve),
                                  reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_BoomerAMGSetup), precond);
        } else {  // ILU(1) of each rank's diagonal block (block Jacobi over the ranks), applied once
            HYPRE_ILUCreate(&precond);
            HYPRE_ILUSetType(precond, 0);
            HYPRE_ILUSetLevelOfFill(precond, 1);
            HYPRE_ILUSetMaxIter(precond, 1);
            HYPRE_ILUSetTol(precond, 0.0);
            HYPRE_ILUSetPrintLevel(precond, 0);
            HYPRE_GMRESSetPrecond(solver, reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_ILUSolve),
                                  reinterpret_cast<HYPRE_PtrToSolverFcn>(HYPRE_ILUSetup), precond);
        }
        const State zero = State::Zero(static_cast<Index>(rows.size()));
        fill(b, zero);
        fill(x, zero);
        check(HYPRE_ParCSRGMRESSetup(solver, par_m, par_b, par_x), "GMRES setup");
    }
    void destroy_matrix() {
        if (m) HYPRE_IJMatrixDestroy(m);
        m = nullptr;
        par_m = nullptr;
    }
    ~Impl() {
        destroy_solver();
        destroy_matrix();
        if (b) HYPRE_IJVectorDestroy(b);
        if (x) HYPRE_IJVectorDestroy(x);
    }

    void make_vector(HYPRE_IJVector& v, HYPRE_ParVector& par) {
        check(HYPRE_IJVectorCreate(comm, lower, upper, &v), "IJVectorCreate");
        check(HYPRE_IJVectorSetObjectType(v, HYPRE_PARCSR), "IJVectorSetObjectType");
        check(HYPRE_IJVectorInitialize(v), "IJVectorInitialize");
        check(HYPRE_IJVectorAssemble(v), "IJVectorAssemble");
        void* object = nullptr;
        check(HYPRE_IJVectorGetObject(v, &object), "IJVectorGetObject");
        par = static_cast<HYPRE_ParVector>(object);
    }
    void fill(HYPRE_IJVector v, const State& values) {
        check(HYPRE_IJVectorInitialize(v), "IJVectorInitialize");
        check(HYPRE_IJVectorSetValues(v, static_cast<HYPRE_Int>(rows.size()), rows.data(), values.data()),
              "IJVectorSetValues");
        check(HYPRE_IJVectorAssemble(v), "IJVectorAssemble");
    }
    void read(HYPRE_IJVector v, State& values) {
        values.resize(static_cast<Index>(rows.size()));
        check(HYPRE_IJVectorGetValues(v, static_cast<HYPRE_Int>(rows.size()), rows.data(), values.data()),
              "IJVectorGetValues");
    }
};

HypreSystem::HypreSystem(const DistributedOperator& op, HypreSettings settings)
    : impl_(std::make_unique<Impl>()), op_(op), settings_(settings) {
    initialise_hypre();
    const Decomposition& dec = op.decomposition();
    Impl& s = *impl_;
    s.comm = dec.comm();
    // Contiguous numbering, rank after rank.
    const long long mine = dec.owned_size();
    long long before = 0, total = 0;
    MPI_Exscan(&mine, &before, 1, MPI_LONG_LONG, MPI_SUM, s.comm);
    if (dec.rank() == 0) before = 0;  // MPI_Exscan leaves rank 0's result undefined
    MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, s.comm);
    first_ = static_cast<Index>(before);
    rows_ = static_cast<Index>(total);
    if (rows_ >= (Index{1} << 31)) throw InputError("grid.cells: more than 2^31 cells for hypre's 32-bit indices");
    s.lower = static_cast<HYPRE_BigInt>(first_);
    s.upper = static_cast<HYPRE_BigInt>(first_ + mine - 1);
    s.rows.resize(static_cast<std::size_t>(mine));
    for (std::size_t k = 0; k < s.rows.size(); ++k) s.rows[k] = s.lower + static_cast<HYPRE_BigInt>(k);

    // The numbering of the ghosts: a halo exchange of the numbers themselves (exact in doubles below 2^53).
    State numbers(static_cast<Index>(mine)), ext;
    for (Index k = 0; k < numbers.size(); ++k) numbers[k] = static_cast<double>(first_ + k);
    dec.to_extended(numbers, ext);
    s.ext_global.resize(static_cast<std::size_t>(ext.size()));
    for (Index c = 0; c < ext.size(); ++c) s.ext_global[static_cast<std::size_t>(c)] = static_cast<HYPRE_BigInt>(ext[c]);
    s.owned_position.assign(static_cast<std::size_t>(ext.size()), -1);
    const auto& owned = dec.owned_cells();
    for (std::size_t k = 0; k < owned.size(); ++k) s.owned_position[static_cast<std::size_t>(owned[k])] = static_cast<Index>(k);

    // Row-major whole-grid index of each owned cell (in owned_cells() order, the owned block's row-major one).
    const Grid& g = dec.global();
    grid_index_.reserve(owned.size());
    for (const Index c : owned) {
        const auto i = dec.extended().unravel(c);
        Index gc = 0;
        for (int a = 0; a < g.dims; ++a) gc = gc * g.cells[a] + (i[a] - dec.ghost_lower()[a] + dec.begin()[a]);
        grid_index_.push_back(gc);
    }

    s.make_vector(s.b, s.par_b);
    s.make_vector(s.x, s.par_x);
    // Transport-only axes (two ghost layers): AMG measured to stall on the kinetic steady state where ILU(1) does not.
    for (int a = 0; a < g.dims; ++a)
        if (dec.ghost_width()[static_cast<std::size_t>(a)] > 1) preconditioner_ = HyprePreconditioner::ilu;
}

HypreSystem::~HypreSystem() = default;

void HypreSystem::set(double t, double alpha, double beta, Index pinned, double pin_scale, bool transpose) {
    Impl& s = *impl_;
    const Eigen::SparseMatrix<double> a = op_.local().matrix(t);
    // The owned rows of alpha I + beta A with global column numbers.
    std::vector<std::vector<std::pair<HYPRE_BigInt, double>>> rows(s.rows.size());
    for (Index c = 0; c < a.outerSize(); ++c)
        for (Eigen::SparseMatrix<double>::InnerIterator it(a, c); it; ++it) {
            const Index k = s.owned_position[static_cast<std::size_t>(it.row())];
            if (k >= 0) rows[static_cast<std::size_t>(k)].emplace_back(s.ext_global[static_cast<std::size_t>(c)], beta * it.value());
        }
    std::vector<HYPRE_Int> sizes(rows.size());
    std::vector<HYPRE_BigInt> cols;
    std::vector<double> values;
    double norm = 0.0;  // ||M||_inf (of M, not of its transpose: the floor below only needs its size)
    for (std::size_t k = 0; k < rows.size(); ++k) {
        auto& r = rows[k];
        const HYPRE_BigInt row = s.rows[k];
        if (row == pinned) {
            r.assign(1, {row, pin_scale});
        } else {
            r.emplace_back(row, alpha);
        }
        // A cut periodic axis two cells wide reaches the same cell from both sides: merge repeated columns.
        std::sort(r.begin(), r.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        std::size_t out = 0;
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (out > 0 && r[out - 1].first == r[i].first)
                r[out - 1].second += r[i].second;
            else
                r[out++] = r[i];
        }
        r.resize(out);
        sizes[k] = static_cast<HYPRE_Int>(out);
        double row_norm = 0.0;
        for (const auto& e : r) row_norm += std::abs(e.second);
        norm = std::max(norm, row_norm);
        for (const auto& [col, v] : r) {
            cols.push_back(col);
            values.push_back(v);
        }
    }

    matrix_norm_ = op_.decomposition().max(norm);
    agree(s.comm, [&] {
        s.destroy_solver();
        s.destroy_matrix();
        check(HYPRE_IJMatrixCreate(s.comm, s.lower, s.upper, s.lower, s.upper, &s.m), "IJMatrixCreate");
        check(HYPRE_IJMatrixSetObjectType(s.m, HYPRE_PARCSR), "IJMatrixSetObjectType");
        if (!sizes.empty() && !transpose) check(HYPRE_IJMatrixSetRowSizes(s.m, sizes.data()), "IJMatrixSetRowSizes");
        check(HYPRE_IJMatrixInitialize(s.m), "IJMatrixInitialize");
        if (transpose) {
            // Entry (row, col) goes to (col, row), often a row of another rank: hypre sends those at assembly.
            std::vector<HYPRE_BigInt> row_of(cols.size());
            std::size_t e = 0;
            for (std::size_t k = 0; k < sizes.size(); ++k)
                for (HYPRE_Int i = 0; i < sizes[k]; ++i) row_of[e++] = s.rows[k];
            std::vector<HYPRE_Int> ones(cols.size(), 1);
            if (!cols.empty())
                check(HYPRE_IJMatrixAddToValues(s.m, static_cast<HYPRE_Int>(cols.size()), ones.data(), cols.data(),
                                                row_of.data(), values.data()),
                      "IJMatrixAddToValues");
        } else {
            auto row_numbers = s.rows;
            if (!sizes.empty())
                check(HYPRE_IJMatrixSetValues(s.m, static_cast<HYPRE_Int>(sizes.size()), sizes.data(),
                                              row_numbers.data(), cols.data(), values.data()),
                      "IJMatrixSetValues");
        }
    });
    // Assembly and setup are collective inside hypre: every rank calls them.
    check(HYPRE_IJMatrixAssemble(s.m), "IJMatrixAssemble");
    void* object = nullptr;
    check(HYPRE_IJMatrixGetObject(s.m, &object), "IJMatrixGetObject");
    s.par_m = static_cast<HYPRE_ParCSRMatrix>(object);

    s.make_solver(settings_, preconditioner_);
    ++setups_;
}

namespace {
const char* name_of(HyprePreconditioner p) { return p == HyprePreconditioner::amg ? "BoomerAMG" : "ILU(1)"; }
}  // namespace

int HypreSystem::solve(const State& b, State& x, bool guess, double reference_norm) {
    Impl& s = *impl_;
    if (!s.solver) throw RunError("hypre: solve before set");
    const double b_norm = std::sqrt(op_.decomposition().sum(b.squaredNorm()));
    const double target = settings_.tol * std::max(b_norm, reference_norm);
    const State start = guess ? x : State::Zero(b.size()).eval();
    // One GMRES solve from `start`; whether it reached the target, its iterations and residual.
    struct Outcome {
        bool converged;
        HYPRE_Int iterations;
        double residual;
    };
    auto attempt = [&] {
        HYPRE_GMRESSetAbsoluteTol(s.solver, target);
        s.fill(s.b, b);
        s.fill(s.x, start);
        // GMRES returns a non-zero code when it stops at max_iterations; the residual below decides.
        HYPRE_ParCSRGMRESSolve(s.solver, s.par_m, s.par_b, s.par_x);
        HYPRE_ClearAllErrors();
        HYPRE_Int its = 0;
        HYPRE_Real relative = 0.0;
        HYPRE_GMRESGetNumIterations(s.solver, &its);
        HYPRE_GMRESGetFinalRelativeResidualNorm(s.solver, &relative);
        s.read(s.x, x);
        ++solves_;
        iterations_ += static_cast<std::size_t>(its);
        last_residual_ = b_norm > 0.0 ? relative : 0.0;
        // GMRES stops early when its true residual stagnates: at the round-off floor of the residual itself,
        // ~ eps ||M|| ||x||, which may lie above tol ||b|| (a pinned steady-state system, whose right-hand side
        // is one entry). That is as accurate as the matrix allows, and accepted. Global norms: every rank
        // decides alike.
        const double residual = relative * b_norm;
        const double floor = 1e3 * std::numeric_limits<double>::epsilon() * matrix_norm_ *
                             std::sqrt(op_.decomposition().sum(x.squaredNorm()));
        return Outcome{residual <= 100.0 * std::max(target, floor) || !(b_norm > 0.0), its, residual};
    };
    const HyprePreconditioner first = preconditioner_;
    const Outcome tried = attempt();
    if (tried.converged) return static_cast<int>(tried.iterations);
    if (switched_) {
        char text[200];
        std::snprintf(text, sizeof text, "hypre: GMRES/%s stopped at a residual of %.2e after %d iterations (asked for %.2e)",
                      name_of(first), tried.residual, static_cast<int>(tried.iterations), target);
        throw RunError(text);
    }
    // The other preconditioner, from now on (for later matrices too): neither converges on every generator.
    switched_ = true;
    preconditioner_ = first == HyprePreconditioner::amg ? HyprePreconditioner::ilu : HyprePreconditioner::amg;
    s.make_solver(settings_, preconditioner_);
    ++setups_;
    const Outcome again = attempt();
    if (!again.converged) {
        char text[300];
        std::snprintf(text, sizeof text,
                      "hypre: GMRES stopped at a residual of %.2e after %d iterations with %s and of %.2e after %d with "
                      "%s (asked for %.2e)",
                      tried.residual, static_cast<int>(tried.iterations), name_of(first), again.residual,
                      static_cast<int>(again.iterations), name_of(preconditioner_), target);
        throw RunError(text);
    }
    return static_cast<int>(tried.iterations + again.iterations);
}

void HypreSystem::apply(const State& x, State& y) const {
    Impl& s = *impl_;
    s.fill(s.x, x);
    HYPRE_ParCSRMatrixMatvec(1.0, s.par_m, s.par_x, 0.0, s.par_b);
    s.read(s.b, y);
}

}  // namespace fpsolve
