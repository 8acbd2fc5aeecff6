// fpsolve: the Fokker–Planck equation of an SDE, solved on a finite-volume grid.
//
//   fpsolve run CONFIG.toml [-o OUT.h5] [--set key=value]... [--force] [--quiet]
//   fpsolve stationary | flux | sample | sgd | plot | inspect ... (see docs/usage.md)
//
// Exit codes: 0 success, 1 failure while running, 2 bad input, 130 interrupted.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "common.hpp"
#include "snapshot_file.hpp"
#include "subnormals.hpp"
#include "thread_budget.hpp"
#ifdef FPSOLVE_MPI
#include <mpi.h>

#include <chrono>
#include <thread>

#include "run_distributed.hpp"
#endif

namespace {

bool print_errors = true;  // false on MPI ranks other than 0: one line per run, not one per rank

int fail(int code, const std::string& what) {
    if (print_errors) std::fprintf(stderr, "fpsolve: error: %s\n", what.c_str());
    return code;
}

#ifdef FPSOLVE_MPI
// One MPI session for the whole program, started only under a launcher (mpirun, srun): a process started
// by itself runs the serial code without initialising MPI (whose start-up, e.g., writes shared-memory files).
struct MpiSession {
    bool active = false;
    MpiSession(int& argc, char**& argv) {
        bool launched = false;
        for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
            launched = launched || std::getenv(v);
        if (!launched) return;
        int provided = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);  // OpenMP threads in the operator
        active = true;
    }
    ~MpiSession() {
        if (active) MPI_Finalize();
    }
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;
};
#endif

#ifdef FPSOLVE_MPI
// Runs `work` on rank 0 only and hands its exit code to every rank. The others wait without spinning (a
// blocking broadcast would keep their cores busy polling while rank 0 works).
template <class Work>
int serial_on_rank_zero(Work&& work) {
    int code = fpsolve::mpi_rank() == 0 ? work() : 0;
    MPI_Request request;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
    for (int done = 0;;) {
        MPI_Test(&request, &done, MPI_STATUS_IGNORE);
        if (done) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return code;
}
#endif

}  // namespace

int main(int argc, char** argv) {
    using namespace fpsolve;
#ifdef FPSOLVE_MPI
    const MpiSession mpi(argc, argv);
    const bool distributed = mpi_processes() > 1;
    if (distributed && mpi_rank() != 0) {
        print_errors = false;
        if (!std::freopen("/dev/null", "w", stdout)) return 1;  // only rank 0 prints (help, version, reports)
    }
#endif
    flush_subnormals_to_zero();  // also for the steppers' vector operations (subnormals.hpp)
#ifdef _OPENMP
    // Threads: the cores that other processes leave free, re-measured as the run goes (thread_budget.hpp);
    // OMP_NUM_THREADS or OMP_DYNAMIC set by the user take over. Several ranks (which start at different
    // moments and are not re-measured) keep the runtime's dynamic teams.
    bool several_ranks = false;
#ifdef FPSOLVE_MPI
    several_ranks = distributed;
#endif
    if (!several_ranks)
        enable_thread_budget();
    else if (!std::getenv("OMP_DYNAMIC"))
        omp_set_dynamic(1);
#endif
    CLI::App app{
        "fpsolve: evolves the density p(x, t) of the SDE dX = mu dt + B dW under its Fokker-Planck equation\n"
        "dp/dt = -div(mu p - 1/2 D grad p), D = B B^T, on a finite-volume grid, and checks it against "
        "theory.\n"
        "A run writes density snapshots and diagnostics to HDF5. Config keys: docs/usage.md; the library and Python module: docs/cpp.md, docs/python.md.",
        "fpsolve"};
    app.set_version_flag("--version", std::string("fpsolve ") + program_version);
    app.require_subcommand(1);
    app.footer(
        "Exit codes: 0 success, 1 failure while running, 2 bad input, 130 interrupted.\n"
        "Run 'fpsolve COMMAND --help' for a command's options. Example:\n"
        "  fpsolve run data/scenarios/double-well.toml -o dw.h5 && fpsolve inspect dw.h5\n");

    std::vector<CommandEntry> commands;
    commands.push_back(register_run(app));
    commands.push_back(register_stationary(app));
    commands.push_back(register_flux(app));
    commands.push_back(register_sample(app));
    commands.push_back(register_sgd(app));
    commands.push_back(register_plot(app));
    commands.push_back(register_inspect(app));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        if (dynamic_cast<const CLI::RequiredError*>(&e) && app.get_subcommands().empty()) {
            // CLI11 says "A subcommand is required" also for a misspelt one: name it and the real ones.
            std::string names;
            for (const auto& c : commands) names += (names.empty() ? "" : ", ") + c.sub->get_name();
            const std::string first = argc > 1 ? argv[1] : "";
            const std::string what = first.empty()     ? "no command given"
                                     : first[0] == '-' ? "unknown option \"" + first + "\" before the command"
                                                       : "unknown command \"" + first + "\"";
            return fail(2, what + "; the commands are " + names + " (fpsolve --help)");
        }
        return fail(2, e.what());
    }
    auto execute = [&]() -> int {
        try {
            for (const auto& c : commands)
                if (c.sub->parsed()) return c.run();
            return fail(2, "no command given; try fpsolve --help");
        } catch (const InputError& e) {
            return fail(2, e.what());
        } catch (const RunError& e) {
            return fail(1, e.what());
        } catch (const std::bad_alloc&) {
            return fail(1, "out of memory; use fewer cells");
        } catch (const std::exception& e) {
            return fail(1, e.what());
        }
    };
#ifdef FPSOLVE_MPI
    // run and stationary decompose the grid; the other commands (inspect, flux, sample, sgd, plot) are serial
    // work on one process: rank 0 does it, and every rank exits with its exit code.
    bool decomposed = false;
    for (const auto& c : commands)
        decomposed = decomposed ||
                     (c.sub->parsed() && (c.sub->get_name() == "run" || c.sub->get_name() == "stationary"));
    if (distributed && !decomposed) return serial_on_rank_zero(execute);
#endif
    return execute();
}
