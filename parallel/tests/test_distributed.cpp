// The decomposed grid against the serial one, on every rank count ctest runs it with (mpirun -np 1, 2, 3, 4),
// in 1-D to 4-D, with one ghost layer per cut and with two along transport-only axes (kinetic dynamics):
//   halo exchange     every ghost holds its (wrapped) global neighbour, corners included, one or two layers deep
//   ghost widths      two layers exactly where D_aa vanishes on a face (constant, state- or time-dependent noise)
//   operator          dp/dt, the spectral radius bound, outflux, cell currents, diagnostics: equal to the
//                     serial operator's to round-off (the block's positions are bitwise the serial ones),
//                     on every rank grid of the rank count (np = 4: 4x1, 2x2, 1x4, 2x1x2, ...)
//   overlap           the right-hand side with the halo exchange overlapped: bitwise the blocking one, with
//                     corners (correlated noise) and a time-dependent drift; inner rows read no ghost
//   time              dopri5, cash_karp54, rk4, rkc and expm from 0 to t: equal to the serial run to 1e-12
//                     (expm refused on every rank where detailed balance fails, also only across ranks);
//                     implicit (TR-BDF2, hypre's solves) against the serial TR-BDF2 (sparse LU) to 10 rtol
//   stationary        density, current, eigenvalues, MFPT and escape rate (hypre) against the serial LU to 1e-8
//   kinetic OU        64x48, x cut and v cut: a run to t = 0.5 to 1e-12 (the serial steps), the steady state to
//                     1e-8; one ghost layer along a cut x is wrong; a hypre solve AMG cannot do is redone by ILU(1)
//   snapshot chunks   /snapshots/density chunked per rank block and within h5::kChunkValues; values as written
// Every checked number is first reduced over the ranks (max), so all ranks pass or fail together.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <mpi.h>

#include <cstdio>
#include <sstream>

#include "config.hpp"
#include "distributed_detailed_balance.hpp"
#include "distributed_diagnostics.hpp"
#include "distributed_integrator.hpp"
#include "hypre_system.hpp"
#include "hdf5_handles.hpp"
#include "initial_density.hpp"
#include "parallel_snapshot_writer.hpp"
#include "reference.hpp"
#include "stationary_distributed.hpp"

using namespace fpsolve;

namespace {

double max_over_ranks(double x) {
    double out = 0.0;
    MPI_Allreduce(&x, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

// max |owned - slice(serial)| / max |serial|, over all ranks.
double relative_difference(const Decomposition& dec, const Eigen::VectorXd& owned, const Eigen::VectorXd& serial) {
    const double scale = serial.cwiseAbs().maxCoeff();
    const double diff = owned.size() ? (owned - dec.slice(serial)).cwiseAbs().maxCoeff() : 0.0;
    return max_over_ranks(diff) / (scale > 0 ? scale : 1.0);
}

// The rank grid as "2x1x2".
std::string rank_grid(const AxisInts& p, int dims) {
    std::ostringstream s;
    for (int a = 0; a < dims; ++a) s << (a ? "x" : "") << p[static_cast<std::size_t>(a)];
    return s.str();
}

// Every rank grid of the rank count that the problem's ghost widths allow.
std::vector<AxisInts> rank_grids(int size, const Problem& pb) {
    return factorisations(size, pb.grid, ghost_widths(MPI_COMM_WORLD, pb));
}

// How often an inner row's stencil box (up to ghost_width()[a] cells along every axis a, diagonals included)
// reaches a ghost cell, over all ranks: 0 when the inner rows can be computed before the halo arrives.
double inner_ghost_reads(const Decomposition& dec) {
    const Grid& e = dec.extended();
    const int d = e.dims;
    const Index n = dec.count()[static_cast<std::size_t>(d - 1)];
    std::array<Index, kMaxAxes> reach{};
    Index box = 1;
    for (int a = 0; a < d; ++a) {
        reach[static_cast<std::size_t>(a)] = dec.ghost_width()[static_cast<std::size_t>(a)];
        box *= 2 * reach[static_cast<std::size_t>(a)] + 1;
    }
    double reads = 0.0;
    for (const Index r : dec.inner_rows())
        for (Index j = 0; j < n; ++j) {
            const auto i = e.unravel(dec.row_start(r) + j);
            for (Index s = 0; s < box; ++s) {
                Index rest = s, cell = 0;
                bool inside = true;
                for (int a = 0; a < d; ++a) {
                    const auto ua = static_cast<std::size_t>(a);
                    const Index m = i[ua] + rest % (2 * reach[ua] + 1) - reach[ua];
                    rest /= 2 * reach[ua] + 1;
                    inside = inside && m >= 0 && m < e.cells[a];
                    cell = cell * e.cells[a] + m;
                }
                if (inside && !dec.is_owned(cell)) reads += 1.0;
            }
        }
    return max_over_ranks(reads);
}

struct Case {
    const char* name;
    std::string toml;
};

// Kinetic Ornstein-Uhlenbeck in phase space, dx = v dt, dv = (-x - 0.5 v) dt + dW: no diffusion along x, whose
// faces take the upwind-biased flux that reads two cells upstream (two ghost layers along x).
std::string kinetic_ou(int nx, int nv) {
    return "[grid]\nlower = [-6.0, -6.0]\nupper = [6.0, 6.0]\ncells = [" + std::to_string(nx) + ", " +
           std::to_string(nv) + "]\nvariables = [\"x\", \"v\"]\n"
           "[dynamics]\ndrift = [\"v\", \"-x - 0.5*v\"]\nnoise = [[0, 0], [0, 1]]\n"
           "[initial]\ngaussian = { mean = [1.0, 0.5], covariance = [[0.4, 0.1], [0.1, 0.3]] }\n";
}

std::string grid2(const char* boundary, int nx, int ny) {
    return "[grid]\nlower = [-2.0, -1.5]\nupper = [2.0, 1.5]\ncells = [" + std::to_string(nx) + ", " + std::to_string(ny) +
           "]\nboundary = " + boundary + "\n";
}

// The configurations of the issue: reflecting double well, correlated OU, periodic tilted potential,
// 3-D diffusion, absorbing walls, and state-dependent noise (noise-induced drift by differences).
const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        {"2-D double well, reflecting",
         grid2("\"reflecting\"", 23, 17) + "[dynamics]\npotential = \"(x^2-1)^2 + 0.5*y^2 + 0.3*x*y\"\nnoise = 0.6\n"
                                           "[initial]\ngaussian = { mean = [0.8, 0.2], covariance = [[0.1, 0.02], [0.02, 0.1]] }\n"},
        {"2-D OU, rotational drift, correlated noise",
         grid2("\"reflecting\"", 19, 22) +
             "[dynamics]\ndrift = [\"-(x + 0.6*y)\", \"-(-0.6*x + y)\"]\nnoise = [[0.5, 0.2], [0.2, 0.3]]\n"
             "[initial]\ngaussian = { mean = [0.5, 0.0], covariance = [[0.2, 0.05], [0.05, 0.2]] }\n"},
        {"2-D periodic x and y, correlated noise (corners across the wrap)",
         grid2("\"periodic\"", 17, 20) +
             "[dynamics]\ndrift = [\"0.3 + 0.2*sin(pi*y/1.5)\", \"-0.2 + 0.1*cos(pi*x/2)\"]\nnoise = [[0.5, 0.2], [0.2, 0.3]]\n"
             "[initial]\ndensity = \"exp(-(x^2 + y^2))\"\n"},
        {"1-D periodic tilted potential",
         "[grid]\nlower = [0.0]\nupper = [1.0]\ncells = [37]\nboundary = \"periodic\"\n"
         "[dynamics]\npotential = \"0.2*cos(2*pi*x) - 0.7*x\"\nnoise = 0.3\n[initial]\ndensity = \"1 + 0.5*sin(2*pi*x)\"\n"},
        {"3-D diffusion with drift",
         "[grid]\nlower = [-1.0, -1.0, -1.0]\nupper = [1.0, 1.0, 1.0]\ncells = [9, 8, 7]\n"
         "[dynamics]\ndrift = [\"-x\", \"-y + 0.2*x\", \"-z\"]\nnoise = [[0.3, 0.05, 0.0], [0.05, 0.3, 0.04], [0.0, 0.04, 0.3]]\n"
         "[initial]\ngaussian = { mean = [0.2, 0.0, -0.1], covariance = [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]] }\n"},
        {"2-D absorbing walls",
         grid2("\"absorbing\"", 21, 16) + "[dynamics]\ndrift = [\"0.5\", \"-0.3*y\"]\nnoise = 0.2\n"
                                          "[initial]\ndensity = \"exp(-((x-0.3)^2 + y^2) / 0.3)\"\n"},
        {"2-D state-dependent noise (Stratonovich), absorbing x, periodic y",
         grid2("[\"absorbing\", \"periodic\"]", 18, 20) +
             "[dynamics]\ndrift = [\"-x\", \"0.4\"]\nnoise = [\"0.2 + 0.1*x^2\", \"0.3\"]\nconvention = \"stratonovich\"\n"
             "[initial]\ndensity = \"exp(-(x^2 + y^2))\"\n"},
        {"2-D kinetic OU (transport-only x: two ghost layers)", kinetic_ou(24, 20)},
        {"4-D diagonal OU, 8^4",
         "[grid]\nlower = [-3.0, -3.0, -3.0, -3.0]\nupper = [3.0, 3.0, 3.0, 3.0]\ncells = [8, 8, 8, 8]\n"
         "[dynamics]\ndrift = [\"-x\", \"-0.5*y\", \"-z + 0.2*x\", \"-w\"]\nnoise = [0.6, 0.4, 0.5, 0.7]\n"
         "[initial]\ngaussian = { mean = [0.3, -0.2, 0.1, 0.0], covariance = [[0.3, 0, 0, 0], [0, 0.3, 0, 0], "
         "[0, 0, 0.3, 0], [0, 0, 0, 0.3]] }\n"},
        {"4-D kinetic OU (x, y, vx, vy; transport-only x and y), correlated velocity noise",
         "[grid]\nlower = [-5.0, -5.0, -5.0, -5.0]\nupper = [5.0, 5.0, 5.0, 5.0]\ncells = [8, 8, 8, 8]\n"
         "variables = [\"x\", \"y\", \"vx\", \"vy\"]\n"
         "[dynamics]\ndrift = [\"vx\", \"vy\", \"-x - 0.5*vx\", \"-y - 0.5*vy + 0.2*x\"]\n"
         "noise = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1.0, 0.2], [0, 0, 0.2, 0.8]]\n"
         "[initial]\ngaussian = { mean = [0.5, 0.0, 0.2, -0.3], covariance = [[0.6, 0, 0, 0], [0, 0.6, 0, 0], "
         "[0, 0, 0.6, 0], [0, 0, 0, 0.6]] }\n"},
    };
    return c;
}

}  // namespace

TEST_CASE("halo exchange fills every ghost with its global neighbour, corners included, one or two layers deep") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::string grid3 = "[grid]\nlower = [0, 0, 0]\nupper = [1, 1, 1]\ncells = [7, 6, 5]\nboundary = ";
    const std::string grid4 = "[grid]\nlower = [0, 0, 0, 0]\nupper = [1, 1, 1, 1]\ncells = [6, 5, 4, 4]\nboundary = ";
    const std::string dyn3 = "\n[dynamics]\ndrift = [\"0\", \"0\", \"0\"]\nnoise = 1\n";
    const std::string dyn4 = "\n[dynamics]\ndrift = [\"0\", \"0\", \"0\", \"0\"]\nnoise = 1\n";
    const std::vector<std::string> grids = {
        grid3 + "\"reflecting\"" + dyn3, grid3 + "\"periodic\"" + dyn3,
        grid3 + "[\"periodic\", \"reflecting\", \"periodic\"]" + dyn3, grid4 + "\"reflecting\"" + dyn4,
        grid4 + "[\"periodic\", \"reflecting\", \"periodic\", \"periodic\"]" + dyn4};
    for (const std::string& toml : grids)
    for (const int deep : {1, 2})
    for (int forced = 0; forced < 2; ++forced) {
        const ParsedConfig c = parse_config(toml, "halo.toml", {});
        const Grid& g = c.problem.grid;
        AxisInts ghosts = one_per_axis();
        if (deep == 2) ghosts.fill(2);
        // The chosen rank grid, then one that cuts as many axes as the rank count allows.
        AxisInts procs{};
        if (forced) {
            int most = 0;
            for (const auto& p : factorisations(size, g, ghosts)) {
                int cut = 0;
                for (const int q : p) cut += q > 1;
                if (cut > most) most = cut, procs = p;
            }
        }
        const Decomposition dec(MPI_COMM_WORLD, g, procs, ghosts);
        // The owned cells carry their global linear index.
        Eigen::VectorXd all(g.size());
        for (Index k = 0; k < g.size(); ++k) all[k] = static_cast<double>(k);
        Eigen::VectorXd ext;
        dec.to_extended(dec.slice(all), ext);
        const Grid& e = dec.extended();
        double wrong = 0.0;
        for (Index k = 0; k < e.size(); ++k) {
            const auto i = e.unravel(k);
            Index global = 0;
            for (int a = 0; a < g.dims; ++a) {
                Index j = i[static_cast<std::size_t>(a)] + e.offset[a];
                j = (j + g.cells[a]) % g.cells[a];  // ghosts exist across walls only where the axis is periodic
                global = global * g.cells[a] + j;
            }
            wrong = std::max(wrong, std::abs(ext[k] - static_cast<double>(global)));
        }
        INFO(g.dims << "-D, boundary " << to_string(g.boundary[0]) << ", " << deep << " ghost layers, ranks "
                    << rank_grid(dec.procs(), g.dims));
        CHECK(max_over_ranks(wrong) == 0.0);
        CHECK(dec.sum(static_cast<double>(dec.owned_size())) == static_cast<double>(g.size()));
        for (int a = 0; a < g.dims; ++a) {
            const auto ua = static_cast<std::size_t>(a);
            CHECK(e.cells[a] == dec.count()[ua] + dec.ghost_lower()[ua] + dec.ghost_upper()[ua]);
            if (dec.procs()[ua] > 1) CHECK(dec.count()[ua] >= deep);
        }
    }
}

TEST_CASE("ghost widths: two layers exactly along the axes with transport-only faces") {
    const std::string grid = "[grid]\nlower = [-1, -1, -1]\nupper = [1, 1, 1]\ncells = [6, 5, 4]\n";
    auto widths = [&](const std::string& dynamics, Scheme scheme) {
        ParsedConfig c = parse_config(grid + "[dynamics]\ndrift = [\"y\", \"-x\", \"-z\"]\n" + dynamics, "w.toml", {});
        c.problem.scheme = scheme;
        return ghost_widths(MPI_COMM_WORLD, c.problem);
    };
    const AxisInts thin = one_per_axis();
    AxisInts x_only = thin, x_and_z = thin;
    x_only[0] = 2;
    x_and_z[0] = x_and_z[2] = 2;
    CHECK(widths("noise = 0.5\n", Scheme::exponential) == thin);
    CHECK(widths("noise = [0, 0.5, 0.3]\n", Scheme::exponential) == x_only);
    CHECK(widths("noise = [0, 0.5, 0.3]\n", Scheme::central) == x_only);
    CHECK(widths("noise = [0, 0.5, 0.3]\n", Scheme::upwind) == thin);  // upwind transport reads its two cells
    // State-dependent: evaluated at every face (shared over the ranks); positive everywhere, or zero on one face.
    CHECK(widths("noise = [\"0.2 + x^2\", \"0.5\", \"0.3 + 0.1*z\"]\n", Scheme::exponential) == thin);
    CHECK(widths("noise = [\"max(x, 0)\", \"0.5\", \"max(z, 0)\"]\n", Scheme::exponential) == x_and_z);
    // Time-dependent: it may vanish at some t.
    CHECK(widths("noise = [\"0.5\", \"0.5\", \"1 + 0.5*sin(t)\"]\n", Scheme::exponential)[2] == 2);
}

TEST_CASE("the reference density evaluated on each block alone is the serial one's slice") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::vector<Case> refs = {
        {"gibbs, 2-D", cases()[0].toml},
        {"two-temperature, 3-D",
         "[grid]\nlower = [-2.0, -1.5, -1.0]\nupper = [2.0, 1.5, 1.0]\ncells = [11, 9, 8]\n"
         "[dynamics]\npotential = \"(x^2-1)^2 + 0.5*y^2 + cos(z)\"\nnoise = [0.6, 0.3, 0.4]\n"
         "[initial]\ndensity = \"1\"\n"},
        {"not separable, 2-D (none)",
         grid2("\"reflecting\"", 12, 10) + "[dynamics]\npotential = \"x^2*y^2 + x^2 + y^2\"\nnoise = [0.6, 0.3]\n"
                                           "[initial]\ndensity = \"1\"\n"},
        {"one-dimensional",
         "[grid]\nlower = [-2.0]\nupper = [2.0]\ncells = [41]\n"
         "[dynamics]\ndrift = [\"-x^3\"]\nnoise = \"0.3 + 0.1*x^2\"\n[initial]\ndensity = \"1\"\n"},
    };
    for (const Case& k : refs) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        const Problem& pb = c.problem;
        const std::optional<Reference> serial = stationary_reference(pb);
        for (const auto& procs : rank_grids(size, pb)) {
            const Decomposition dec(MPI_COMM_WORLD, pb, procs);
            BlockReductions reduce;
            reduce.sum = [&](double x) { return dec.sum(x); };
            reduce.min = [&](double x) { return dec.min(x); };
            reduce.max = [&](double x) { return dec.max(x); };
            reduce.all = [&](bool x) { return dec.all(x); };
            const std::optional<Reference> block = stationary_reference(pb, dec.owned_grid(), reduce);
            INFO(k.name << " on " << dec.size() << " ranks (" << rank_grid(dec.procs(), pb.grid.dims) << ")");
            REQUIRE(block.has_value() == serial.has_value());
            if (!serial) continue;
            CHECK(block->kind == serial->kind);
            CHECK(block->density.size() == dec.owned_size());
            // The normalising sum is taken in another order: round-off.
            CHECK(relative_difference(dec, block->density, serial->density) <= 1e-14);
        }
    }
}

TEST_CASE("the distributed operator equals the serial one to round-off, on every rank grid") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (const Case& k : cases()) {
      const ParsedConfig c = parse_config(k.toml, "case.toml", {});
      const Problem& pb = c.problem;
      // Every factorisation of the rank count: with 4 ranks 2x2 (and 2x2x1, 2x1x2, ...) cuts two axes, whose
      // corners the cross-diffusion stencil reads.
      for (const auto& procs : rank_grids(size, pb)) {
        const FokkerPlanckOperator serial(pb);
        const State p = initial_state(pb.grid, pb.initial);
        State f;
        serial(p, f, 0.0);

        const Decomposition dec(MPI_COMM_WORLD, pb, procs);
        const DistributedOperator op(dec, pb);
        State fd;
        op(dec.slice(p), fd, 0.0);
        INFO(k.name << " on " << dec.size() << " ranks (" << rank_grid(dec.procs(), pb.grid.dims) << ")");
        CHECK(inner_ghost_reads(dec) == 0.0);
        State fb, ext, dext;  // the blocking path: the whole extended block after a blocking exchange
        dec.to_extended(dec.slice(p), ext);
        op.local()(ext, dext, 0.0);
        dec.from_extended(dext, fb);
        CHECK(max_over_ranks(fd.size() ? (fd - fb).cwiseAbs().maxCoeff() : 0.0) == 0.0);
        const double rhs = relative_difference(dec, fd, f);
        CHECK(rhs <= 1e-14);
        const double rho = serial.spectral_radius_bound(0.0), rho_d = op.spectral_radius_bound(0.0);
        CHECK(std::abs(rho - rho_d) <= 1e-14 * rho);
        CHECK(std::abs(serial.outflux(p, 0.0) - op.outflux(dec.slice(p), 0.0)) <= 1e-14 * (1.0 + std::abs(serial.outflux(p, 0.0))));
        const Eigen::MatrixXd j = serial.cell_current(p, 0.0), jd = op.cell_current(dec.slice(p), 0.0);
        for (int a = 0; a < pb.grid.dims; ++a) CHECK(relative_difference(dec, jd.col(a), j.col(a)) <= 1e-14);
        CHECK(std::abs(serial.cross_monotonicity_ratio() - op.cross_monotonicity_ratio()) <= 1e-14);
        CHECK(serial.cross_monotonicity_ratio() == op.cross_monotonicity_ratio());

        auto ref = stationary_reference(pb);
        const DiagnosticsCalculator ds(serial, ref);
        if (ref) ref->density = dec.slice(ref->density);
        const DistributedDiagnostics dd(op, ref);
        const Diagnostics a = ds(p, 0.0), b = dd(dec.slice(p), 0.0);
        CHECK(std::abs(a.mass - b.mass) <= 1e-14);
        CHECK((a.mean - b.mean).cwiseAbs().maxCoeff() <= 1e-14);
        CHECK((a.covariance - b.covariance).cwiseAbs().maxCoeff() <= 1e-14);
        CHECK(std::abs(a.entropy - b.entropy) <= 1e-13 * (1 + std::abs(a.entropy)));
        CHECK(a.min_density == b.min_density);
        CHECK(std::abs(a.outflux - b.outflux) <= 1e-14 * (1 + std::abs(a.outflux)));
        if (ref) {
            CHECK(std::abs(a.l1_to_reference - b.l1_to_reference) <= 1e-13);
            CHECK(std::abs(a.kl_to_reference - b.kl_to_reference) <= 1e-13 * (1 + std::abs(a.kl_to_reference)));
            if (std::isfinite(a.free_energy)) CHECK(std::abs(a.free_energy - b.free_energy) <= 1e-13 * (1 + std::abs(a.free_energy)));
        }
      }
    }
}

TEST_CASE("the overlapped right-hand side (inner rows amid the halo exchange) is bitwise the blocking one") {
    // Correlated noise (the stencil reads the corner ghosts) and a time-dependent drift, in 1-D, 2-D and 3-D,
    // on every rank grid of the rank count (np 4: 2x2, 2x2x1, 2x1x2, 1x2x2, ...: two cut axes; a cut last
    // axis takes the blocking path). Two states in turn, so that a row computed before its ghosts arrived
    // would read the other state's ghosts, at times back and forth, so that stale coefficients would show.
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::vector<Case> overlap_cases = {
        {"2-D reflecting, correlated noise, time-dependent drift",
         grid2("\"reflecting\"", 21, 18) +
             "[dynamics]\ndrift = [\"-(x + 0.6*y) + 0.5*sin(3*t)\", \"-(y - 0.4*x)*(1 + 0.3*cos(2*t))\"]\n"
             "noise = [[0.5, 0.2], [0.2, 0.3]]\n"
             "[initial]\ngaussian = { mean = [0.3, 0.1], covariance = [[0.3, 0.05], [0.05, 0.2]] }\n"},
        {"2-D periodic x and y, negative correlation, time-dependent drift",
         grid2("\"periodic\"", 16, 19) +
             "[dynamics]\ndrift = [\"0.3*cos(t) + 0.2*sin(pi*y/1.5)\", \"-0.2 + 0.1*cos(pi*x/2)*sin(2*t)\"]\n"
             "noise = [[0.5, -0.2], [-0.2, 0.3]]\n[initial]\ndensity = \"exp(-(x^2 + 2*y^2))\"\n"},
        {"3-D reflecting / periodic / absorbing, correlated noise, time-dependent drift",
         "[grid]\nlower = [-1.0, -1.0, -1.0]\nupper = [1.0, 1.0, 1.0]\ncells = [9, 8, 7]\n"
         "boundary = [\"reflecting\", \"periodic\", \"absorbing\"]\n"
         "[dynamics]\ndrift = [\"-x + 0.4*sin(2*t)\", \"0.3*sin(pi*y)*cos(t) + 0.2\", "
         "\"-z*(1 + 0.5*sin(t))\"]\n"
         "noise = [[0.3, 0.05, -0.04], [0.05, 0.3, 0.04], [-0.04, 0.04, 0.3]]\n"
         "[initial]\ngaussian = { mean = [0.2, 0.0, -0.1], "
         "covariance = [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]] }\n"},
        {"2-D 420x360, above the threading threshold on 1-2 ranks (threads with OMP_NUM_THREADS > 1)",
         grid2("\"reflecting\"", 420, 360) +
             "[dynamics]\ndrift = [\"-x*(1 + 0.5*sin(t))\", \"-y + 0.3*x*cos(2*t)\"]\n"
             "noise = [[0.4, 0.1], [0.1, 0.3]]\n"
             "[initial]\ngaussian = { mean = [0.3, 0.1], covariance = [[0.3, 0.05], [0.05, 0.2]] }\n"},
        {"2-D kinetic, time-dependent force (two ghost layers along x)",
         grid2("\"reflecting\"", 21, 18) + "[dynamics]\ndrift = [\"y\", \"-x - 0.5*y + 0.3*sin(2*t)\"]\n"
                                           "noise = [[0, 0], [0, 0.5]]\n[initial]\ndensity = \"exp(-(x^2 + 2*y^2))\"\n"},
        {"4-D, transport-only first axis, correlated noise, time-dependent drift, periodic last axis",
         "[grid]\nlower = [-1.0, -1.0, -1.0, -1.0]\nupper = [1.0, 1.0, 1.0, 1.0]\ncells = [10, 6, 5, 4]\n"
         "boundary = [\"reflecting\", \"reflecting\", \"absorbing\", \"periodic\"]\n"
         "[dynamics]\ndrift = [\"y + 0.2*sin(t)\", \"-x - y\", \"-z*(1 + 0.5*sin(t))\", \"0.3\"]\n"
         "noise = [[0, 0, 0, 0], [0, 0.3, 0.05, 0.0], [0, 0.05, 0.3, -0.04], [0, 0.0, -0.04, 0.3]]\n"
         "[initial]\ndensity = \"exp(-(x^2 + y^2 + z^2))\"\n"},
        {"1-D time-dependent drift",
         "[grid]\nlower = [-2.0]\nupper = [2.0]\ncells = [29]\n"
         "[dynamics]\ndrift = [\"-x + sin(3*t)\"]\nnoise = 0.4\n"
         "[initial]\ndensity = \"exp(-x^2)\"\n"},
    };
    for (const Case& k : overlap_cases) {
        const ParsedConfig c = parse_config(k.toml, "overlap.toml", {});
        const Problem& pb = c.problem;
        REQUIRE(pb.time_dependent());
        const State p1 = initial_state(pb.grid, pb.initial);
        const State p2 = p1.reverse() + State::Constant(p1.size(), 0.1);
        for (const auto& procs : rank_grids(size, pb)) {
            const FokkerPlanckOperator serial(pb);
            const Decomposition dec(MPI_COMM_WORLD, pb, procs);
            const DistributedOperator op(dec, pb);
            INFO(k.name << " on " << dec.size() << " ranks (" << rank_grid(dec.procs(), pb.grid.dims) << ")");
            // The inner rows read no ghost: each cell up to the ghost width away along the other axes is owned
            // or outside.
            const int d = pb.grid.dims;
            CHECK(inner_ghost_reads(dec) == 0.0);
            CHECK(static_cast<Index>(dec.inner_rows().size() + dec.border_rows().size()) == dec.owned_rows());
            if (dec.cuts_last_axis()) CHECK(dec.inner_rows().empty());
            // With at least 2 w + 1 cells per block along every cut axis every block has rows clear of the ghosts,
            // and the overlap is exercised.
            bool roomy = !dec.cuts_last_axis() && dec.size() > 1;
            for (int a = 0; a + 1 < d; ++a) {
                const auto ua = static_cast<std::size_t>(a);
                roomy = roomy && (procs[ua] == 1 || pb.grid.cells[a] / procs[ua] >= 2 * dec.ghost_width()[ua] + 1);
            }
            if (roomy) CHECK(dec.min(static_cast<double>(dec.inner_rows().size())) > 0.0);

            for (const double t : {0.0, 0.37, 1.1, 0.37, 2.5}) {
                for (const State* p : {&p1, &p2}) {
                    State f, fd, fb, ext, dext;
                    serial(*p, f, t);
                    op(dec.slice(*p), fd, t);
                    // The blocking path: the whole extended block after a blocking exchange.
                    dec.to_extended(dec.slice(*p), ext);
                    op.local()(ext, dext, t);
                    dec.from_extended(dext, fb);
                    INFO("t = " << t << (p == &p1 ? ", first" : ", second") << " state");
                    CHECK(max_over_ranks(fd.size() ? (fd - fb).cwiseAbs().maxCoeff() : 0.0) == 0.0);
                    CHECK(relative_difference(dec, fd, f) <= 1e-13);
                }
            }
        }
    }
}

TEST_CASE("distributed time integration takes the serial steps: snapshots agree to 1e-12") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (const Case& k : cases()) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        const Problem& pb = c.problem;
        for (const auto& procs : rank_grids(size, pb))
        for (const Integrator integ : {Integrator::dopri5, Integrator::cash_karp54, Integrator::rk4, Integrator::rkc}) {
            TimeSettings ts;
            ts.times = {0.0, 0.05, 0.1};
            ts.integrator = integ;
            ts.rtol = 1e-8;
            ts.atol = 1e-12;
            const FokkerPlanckOperator serial(pb);
            std::vector<State> s_snap, d_snap;
            State p = initial_state(pb.grid, pb.initial);
            const IntegrationReport rs = integrate(serial, p, ts, [&](const State& x, double) { s_snap.push_back(x); });

            const Decomposition dec(MPI_COMM_WORLD, pb, procs);
            const DistributedOperator op(dec, pb);
            State q = dec.slice(initial_state(pb.grid, pb.initial));
            const IntegrationReport rd = integrate(op, q, ts, [&](const State& x, double) { d_snap.push_back(x); });
            INFO(k.name << ", " << to_string(integ) << " on " << rank_grid(procs, pb.grid.dims) << " ranks");
            REQUIRE(d_snap.size() == s_snap.size());
            double worst = 0.0;
            for (std::size_t n = 0; n < s_snap.size(); ++n) worst = std::max(worst, relative_difference(dec, d_snap[n], s_snap[n]));
            INFO("largest relative difference " << worst << ", right-hand sides " << rd.rhs_evaluations << " vs "
                                                << rs.rhs_evaluations << " serially");
            // Bitwise the serial arithmetic (max-norm steppers, no cut periodic axis): the same steps, to round-off.
            // RKC sums its RMS norm in another order, and a cut periodic axis moves its wrap-around face: a step
            // decision near err = 1 may then flip, and the runs differ by a fraction of the tolerance.
            const bool same_bits = integ != Integrator::rkc && !dec.cuts_periodic_axis();
            if (same_bits) {
                CHECK(rd.rhs_evaluations == rs.rhs_evaluations);  // the same steps, accepted and rejected
                CHECK(worst <= 1e-12);
            } else {
                CHECK(worst <= 10 * ts.rtol);
            }
        }
    }
}

TEST_CASE("implicit TR-BDF2 with hypre's solves agrees with the serial TR-BDF2 (sparse LU) to the tolerance") {
    for (const Case& k : cases()) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        const Problem& pb = c.problem;
        TimeSettings ts;
        ts.times = {0.0, 0.05, 0.1};
        ts.integrator = Integrator::implicit;
        ts.rtol = 1e-6;
        ts.atol = 1e-10;
        const FokkerPlanckOperator serial(pb);
        std::vector<State> s_snap, d_snap;
        State p = initial_state(pb.grid, pb.initial);
        const IntegrationReport rs = integrate(serial, p, ts, [&](const State& x, double) { s_snap.push_back(x); });

        const Decomposition dec(MPI_COMM_WORLD, pb);
        const DistributedOperator op(dec, pb);
        State q = dec.slice(initial_state(pb.grid, pb.initial));
        const IntegrationReport rd = integrate(op, q, ts, [&](const State& x, double) { d_snap.push_back(x); });
        REQUIRE(d_snap.size() == s_snap.size());
        double worst = 0.0;
        for (std::size_t n = 0; n < s_snap.size(); ++n) worst = std::max(worst, relative_difference(dec, d_snap[n], s_snap[n]));
        INFO(k.name << ": largest relative difference " << worst << "; steps " << rd.steps << " (" << rd.rejected_steps
                    << " rejected, " << rd.factorisations << " hypre set-ups) vs " << rs.steps << " (" << rs.rejected_steps
                    << ", " << rs.factorisations << " LU) serially");
        // The solves are 1e-4 rtol accurate: with the serial steps the runs differ by far less than rtol; a step
        // decision near err = 1 may flip, and then they differ by a fraction of the tolerance.
        CHECK(worst <= 10 * ts.rtol);
        CHECK(rd.factorisations >= 1);
        CHECK(rd.linear_solves == 3 * (rd.steps + rd.rejected_steps));
    }
}

TEST_CASE("steady states, spectra and first-passage times with hypre agree with the serial sparse LU") {
    for (const Case& k : cases()) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        const Problem& pb = c.problem;
        SteadyStateOptions options;
        options.eigenvalues = 3;
        const FokkerPlanckOperator serial(pb);
        const SteadyState s = solve_stationary(serial, options);
        const Decomposition dec(MPI_COMM_WORLD, pb);
        const DistributedOperator op(dec, pb);
        const SteadyState d = solve_stationary(op, options);
        // The distributed result holds the owned cells; the scales are the whole grid's.
        Eigen::MatrixXd serial_current(dec.owned_size(), pb.grid.dims);
        for (int a = 0; a < pb.grid.dims; ++a) serial_current.col(a) = dec.slice(s.current.col(a));
        auto rel_whole = [&](const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double whole_max) {
            return max_over_ranks((a - b).cwiseAbs().maxCoeff()) / whole_max;
        };
        const double density = rel_whole(d.density, dec.slice(s.density), s.density.cwiseAbs().maxCoeff());
        const double current = rel_whole(d.current, serial_current,
                                         std::max(s.current.cwiseAbs().maxCoeff(), s.density.cwiseAbs().maxCoeff()));
        CHECK(d.density.size() == dec.owned_size());
        double eig = 0.0;
        REQUIRE(d.eigenvalues.size() == s.eigenvalues.size());
        // As sets: a conjugate pair has equal |Re| serially, and may come in either order from the other solver.
        for (const auto& e : s.eigenvalues) {
            double nearest = HUGE_VAL;
            for (const auto& f : d.eigenvalues) nearest = std::min(nearest, std::abs(e - f));
            eig = std::max(eig, nearest / std::abs(s.eigenvalues.back()));
        }
        const double worst = max_over_ranks(std::max({density, current, eig}));
        INFO(k.name << ": density " << density << ", current " << current << ", eigenvalues " << eig
                    << "; residual " << d.residual << " (serial " << s.residual << ")");
        CHECK(d.absorbing == s.absorbing);
        CHECK(worst <= 1e-8);
        CHECK(max_over_ranks(d.residual) <= 1e-10);
        CHECK(std::abs(d.spectral_gap - s.spectral_gap) <= 1e-8 * std::abs(s.eigenvalues.back()));
        if (s.absorbing) {
            CHECK(rel_whole(d.mfpt, dec.slice(s.mfpt), s.mfpt.cwiseAbs().maxCoeff()) <= 1e-8);
            CHECK(std::abs(d.escape_rate - s.escape_rate) <= 1e-8 * s.escape_rate);
        }
    }
}

TEST_CASE("kinetic OU, 64x48: decomposed along x (two ghost layers) and along v, as one process") {
    // Runs to t = 0.5 agree to 1e-12 with the same steps, steady states (hypre) to the solver tolerance, on every
    // rank grid (np 2: 2x1 cuts the transport-only x, 1x2 the velocity). One ghost layer along a cut x is not
    // enough: the rows next to the cut then differ.
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const ParsedConfig c = parse_config(kinetic_ou(64, 48), "kinetic.toml", {});
    const Problem& pb = c.problem;
    AxisInts expected = one_per_axis();
    expected[0] = 2;
    REQUIRE(ghost_widths(MPI_COMM_WORLD, pb) == expected);
    const FokkerPlanckOperator serial(pb);
    REQUIRE(serial.row_reach(0.0) == 2);
    const State p0 = initial_state(pb.grid, pb.initial);
    State f;
    serial(p0, f, 0.0);

    TimeSettings ts;
    ts.times = std::vector<double>{0.0, 0.25, 0.5};  // not = {...}: a false -Wnonnull from g++ 12
    ts.integrator = Integrator::dopri5;
    ts.rtol = 1e-8;
    ts.atol = 1e-12;
    std::vector<State> s_snap;
    State p = p0;
    const IntegrationReport rs = integrate(serial, p, ts, [&](const State& x, double) { s_snap.push_back(x); });
    SteadyStateOptions no_spectrum;  // the spectrum of the kinetic case: in the cases() test, at 24x20
    no_spectrum.eigenvalues = 0;
    const SteadyState ss = solve_stationary(serial, no_spectrum);

    const std::vector<AxisInts> grids = rank_grids(size, pb);
    for (const auto& procs : grids) {
        const Decomposition dec(MPI_COMM_WORLD, pb, procs);
        const DistributedOperator op(dec, pb);
        INFO("ranks " << rank_grid(procs, 2));
        CHECK(dec.ghost_lower()[0] == (dec.coords()[0] > 0 ? 2 : 0));  // walls, not periodic: ghosts towards ranks
        CHECK(dec.ghost_upper()[1] == (dec.coords()[1] + 1 < procs[1] ? 1 : 0));
        State fd;
        op(dec.slice(p0), fd, 0.0);
        CHECK(relative_difference(dec, fd, f) <= 1e-14);
        CHECK_FALSE(detailed_balance(op, 0.0).holds);  // transport faces: negative rates, as serially
        if (procs[0] > 1) {
            const Decomposition thin(MPI_COMM_WORLD, pb.grid, procs, one_per_axis());
            const DistributedOperator wrong(thin, pb);
            State fw;
            wrong(thin.slice(p0), fw, 0.0);
            const double miss = relative_difference(thin, fw, f);
            INFO("one ghost layer along the cut x: right-hand side off by " << miss);
            CHECK(miss > 1e-6);
        }

        std::vector<State> d_snap;
        State q = dec.slice(p0);
        const IntegrationReport rd = integrate(op, q, ts, [&](const State& x, double) { d_snap.push_back(x); });
        REQUIRE(d_snap.size() == s_snap.size());
        double worst = 0.0;
        for (std::size_t n = 0; n < s_snap.size(); ++n) worst = std::max(worst, relative_difference(dec, d_snap[n], s_snap[n]));
        INFO("run to t = 0.5: largest relative difference " << worst << ", right-hand sides " << rd.rhs_evaluations
                                                             << " vs " << rs.rhs_evaluations << " serially");
        CHECK(rd.rhs_evaluations == rs.rhs_evaluations);
        CHECK(worst <= 1e-12);

        const SteadyState ds = solve_stationary(op, no_spectrum);
        const double scale = ss.density.cwiseAbs().maxCoeff();
        const double density = max_over_ranks((ds.density - dec.slice(ss.density)).cwiseAbs().maxCoeff()) / scale;
        double current = 0.0;
        for (int a = 0; a < 2; ++a)
            current = std::max(current, max_over_ranks((ds.current.col(a) - dec.slice(ss.current.col(a))).cwiseAbs().maxCoeff()) /
                                            std::max(scale, ss.current.cwiseAbs().maxCoeff()));
        INFO("steady state: density " << density << ", current " << current << "; residual " << ds.residual
                                      << " (serial " << ss.residual << ")");
        CHECK(density <= 1e-8);
        CHECK(current <= 1e-8);
        CHECK(max_over_ranks(ds.residual) <= 1e-10);
    }
}

TEST_CASE("hypre: a solve that does not converge is repeated once with the other preconditioner") {
    // The kinetic steady state at 64x24, where GMRES/BoomerAMG stalls: a decomposition that leaves x whole with one
    // ghost layer (so the system starts with AMG) still gets the serial steady state, through ILU(1).
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const ParsedConfig c = parse_config(kinetic_ou(64, 24), "kinetic.toml", {});
    const Problem& pb = c.problem;
    SteadyStateOptions no_spectrum;
    no_spectrum.eigenvalues = 0;
    no_spectrum.positive = false;  // the plain generator's null vector: the system below has no guided re-solves
    const SteadyState ss = solve_stationary(FokkerPlanckOperator(pb), no_spectrum);
    AxisInts procs = one_per_axis();
    procs[1] = size;  // v cut (or nothing): one layer is all the operator reads
    const Decomposition dec(MPI_COMM_WORLD, pb.grid, procs, one_per_axis());
    const DistributedOperator op(dec, pb);
    HypreSystem sys(op, HypreSettings{1e-12, 500});
    // Pin the centre cell (as the serial solver does): its global row, from the rank that owns it.
    const Index centre = (pb.grid.cells[0] / 2) * pb.grid.cells[1] + pb.grid.cells[1] / 2;
    Index mine = -1;
    for (std::size_t k = 0; k < sys.grid_index().size(); ++k)
        if (sys.grid_index()[k] == centre) mine = sys.first_row() + static_cast<Index>(k);
    const auto pin = static_cast<Index>(dec.max(static_cast<double>(mine)));
    sys.set(0.0, 0.0, 1.0, pin, 1.0);
    const std::size_t setups = sys.setups();
    State b = State::Zero(dec.owned_size()), x;
    if (mine >= 0) b[mine - sys.first_row()] = 1.0;
    sys.solve(b, x);
    const double total = dec.sum(x.sum()) * pb.grid.cell_volume();
    const double diff = max_over_ranks((x / total - dec.slice(ss.density)).cwiseAbs().maxCoeff()) /
                        ss.density.cwiseAbs().maxCoeff();
    INFO("set-ups " << sys.setups() << ", iterations " << sys.iterations() << ", relative residual "
                    << sys.last_residual() << ", error " << diff);
    CHECK(sys.setups() == setups + 1);  // AMG, then ILU(1)
    // Backward error: GMRES stops at 1e-12 ||b|| or, accepted, within 100x of it (HypreSystem::solve).
    CHECK(sys.last_residual() <= 1e-10);
    // Forward error: measured 2.2e-13 of the peak at a relative residual of 7e-13. The bound leaves a factor
    // 100 for the condition number at the largest residual the solver accepts. (The serial reference must be
    // the plain null vector: with stationary.positive its guided re-solve differs by ~3e-8.)
    CHECK(diff <= 1e-8);
}

// Potentials with noise s I (detailed balance): reflecting, a torus (both axes periodic, cut), a 1-D ring.
const std::vector<Case>& reversible_cases() {
    static const std::vector<Case> c = {
        cases()[0],
        {"2-D periodic torus, potential",
         grid2("\"periodic\"", 17, 20) +
             "[dynamics]\npotential = \"cos(pi*x/2) + 0.5*cos(2*pi*y/3) + 0.3*sin(pi*x/2 + 2*pi*y/3)\"\nnoise = 0.8\n"
             "[initial]\ndensity = \"exp(-(x^2 + y^2))\"\n"},
        {"1-D periodic ring, potential",
         "[grid]\nlower = [0.0]\nupper = [1.0]\ncells = [37]\nboundary = \"periodic\"\n"
         "[dynamics]\npotential = \"0.2*cos(2*pi*x)\"\nnoise = 0.3\n[initial]\ndensity = \"1 + 0.5*sin(2*pi*x)\"\n"},
    };
    return c;
}

TEST_CASE("expm under MPI: the serial exact exponential, to 1e-12, on every rank grid") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (const Case& k : reversible_cases()) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        const Problem& pb = c.problem;
        TimeSettings ts;
        ts.times = {0.0, 0.05, 0.3};
        ts.integrator = Integrator::expm;
        ts.rtol = 1e-10;  // the series cut at 1e-12: the serial 2-D sweeps may cut a term apart
        const FokkerPlanckOperator serial(pb);
        std::vector<State> s_snap;
        State p = initial_state(pb.grid, pb.initial);
        integrate(serial, p, ts, [&](const State& x, double) { s_snap.push_back(x); });
        for (const auto& procs : rank_grids(size, pb)) {
            const Decomposition dec(MPI_COMM_WORLD, pb, procs);
            const DistributedOperator op(dec, pb);
            CHECK(detailed_balance(op, 0.0).holds);
            std::vector<State> d_snap;
            State q = dec.slice(initial_state(pb.grid, pb.initial));
            const IntegrationReport rd = integrate(op, q, ts, [&](const State& x, double) { d_snap.push_back(x); });
            INFO(k.name << " on " << rank_grid(procs, pb.grid.dims) << " ranks");
            REQUIRE(d_snap.size() == s_snap.size());
            double worst = 0.0;
            for (std::size_t n = 0; n < s_snap.size(); ++n) worst = std::max(worst, relative_difference(dec, d_snap[n], s_snap[n]));
            INFO("largest relative difference " << worst << ", " << rd.rhs_evaluations << " products");
            CHECK(rd.integrator == Integrator::expm);
            CHECK(worst <= 1e-12);
        }
    }
}

TEST_CASE("expm under MPI is refused without detailed balance, also when only a cycle through the ranks breaks it") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::vector<Case> broken = {
        cases()[1],  // rotational drift: owned couplings break it on every block
        {"1-D periodic ring, constant tilt",  // balanced on every cut piece; only the wrap-around cycle breaks it
         "[grid]\nlower = [0.0]\nupper = [6.283185307179586]\ncells = [40]\nboundary = \"periodic\"\n"
         "[dynamics]\ndrift = [\"1 + cos(x)\"]\nnoise = 0.5\n[initial]\ndensity = \"1\"\n"},
    };
    TimeSettings ts;
    ts.times = {0.0, 1.0};
    ts.integrator = Integrator::expm;
    for (const Case& k : broken) {
        const ParsedConfig c = parse_config(k.toml, "case.toml", {});
        for (const auto& procs : rank_grids(size, c.problem)) {
            const Decomposition dec(MPI_COMM_WORLD, c.problem, procs);
            const DistributedOperator op(dec, c.problem);
            INFO(k.name << " on " << rank_grid(procs, c.problem.grid.dims) << " ranks");
            const DistributedBalance b = detailed_balance(op, 0.0);
            INFO(b.why);
            CHECK_FALSE(b.holds);
            CHECK_THROWS_WITH(resolve(ts, op), Catch::Contains("detailed balance"));
        }
    }
}

TEST_CASE("more ranks than cells along every useful factorisation is bad input") {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const ParsedConfig c = parse_config("[grid]\nlower = [0]\nupper = [1]\ncells = [1]\n[dynamics]\ndrift = [\"0\"]\nnoise = 1\n",
                                  "tiny.toml", {});
    if (size > 1)
        CHECK_THROWS_AS(Decomposition(MPI_COMM_WORLD, c.problem.grid), InputError);
    else
        CHECK_NOTHROW(Decomposition(MPI_COMM_WORLD, c.problem.grid));
}

TEST_CASE("snapshot chunks follow the rank blocks, at most h5::kChunkValues doubles, and the values are the serial ones") {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    Grid g;  // 600 x 400: one rank's block is above the cap, two ranks' (300 x 400) below it
    g.dims = 2;
    g.cells = {600, 400, 1, 1};
    const Decomposition dec(MPI_COMM_WORLD, g);
    const State whole = State::LinSpaced(g.size(), 0.0, 1.0);
    const std::string path = "/tmp/fpsolve_test_chunks_np" + std::to_string(size) + ".h5";
    {
        ParallelSnapshotWriter w(path, dec, {"", program_version}, false, std::nullopt);
        Diagnostics dg;
        w.append(0.0, dec.slice(whole), dg, nullptr);
        w.set_status("complete");
        w.close();
    }
    std::array<hsize_t, 3> chunk{};
    if (rank == 0) {
        const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        const hid_t set = H5Dopen2(file, "/snapshots/density", H5P_DEFAULT);
        const hid_t plist = H5Dget_create_plist(set);
        if (H5Pget_chunk(plist, 3, chunk.data()) != 3) chunk = {};
        H5Pclose(plist);
        H5Dclose(set);
        H5Fclose(file);
    }
    MPI_Bcast(chunk.data(), 3, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    // The largest block along each axis (the split along axis 0 is even here: chunk and rank boundaries
    // coincide), then whole rows up to the cap.
    const hsize_t rows = static_cast<hsize_t>((600 + dec.procs()[0] - 1) / dec.procs()[0]);
    const hsize_t cols = static_cast<hsize_t>((400 + dec.procs()[1] - 1) / dec.procs()[1]);
    INFO("rank grid " << rank_grid(dec.procs(), 2) << ", chunk " << chunk[0] << "x" << chunk[1] << "x" << chunk[2]);
    CHECK(chunk[0] == 1);
    CHECK(chunk[1] == std::min(rows, h5::kChunkValues / cols));
    CHECK(chunk[2] == cols);
    CHECK(chunk[1] * chunk[2] <= h5::kChunkValues);
    const double diff = (read_snapshot(path, 0) - whole).cwiseAbs().maxCoeff();
    CHECK(max_over_ranks(diff) == 0.0);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) std::remove(path.c_str());
}

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    Catch::Session session;
    if (rank != 0) session.configData().outputFilename = "/dev/null";  // one report, from rank 0 (checks are reduced)
    int failed = session.run(argc, argv);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
