// fpsolve plot: pictures of an fpsolve file, drawn by matplotlib in the Python module fpsolve.plot
// (python/fpsolve/plot.py).
//
//   fpsolve plot dw.h5                          -> dw.png: densities over the Gibbs curve, diagnostics
//   fpsolve plot dw.h5 --animate dw.gif         -> the evolution as an animated GIF
//   fpsolve plot ou4.h5 --slices                -> 3-D, 4-D: slices through the densest cell, not 2-D marginals
//
// This command checks that the file is an fpsolve file, finds the folder that holds the fpsolve package
// and a Python 3 with h5py and matplotlib, and runs `python3 -m fpsolve.plot` with that folder first on
// PYTHONPATH; the module owns the pictures, their options and their error messages.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common.hpp"
#include "snapshot_file.hpp"

extern char** environ;

namespace fpsolve {

namespace {

namespace fs = std::filesystem;

struct PlotOptions {
    std::string file;
    std::string output;
    long snapshot = -1;
    bool has_snapshot = false;
    std::vector<double> times;
    std::string animate;
    std::string size;
    double fps = 0.0;
    bool force = false;
    bool quiet = false;
    bool slices = false;
};

// The folder that holds the fpsolve package (a candidate counts if <candidate>/fpsolve/plot.py exists),
// in this order: $FPSOLVE_PYTHONPATH; <exe>/../python (the build tree: build/bin/fpsolve and
// build/python/fpsolve); <exe>/../<FPSOLVE_PYTHON_SITE> and <exe>/../lib/python3{.11,}/dist-packages (an
// installed prefix); the source tree this binary was built from (<source>/python).
std::string find_package() {
    const auto holds_package = [](const fs::path& dir) {
        std::error_code ec;
        return fs::is_regular_file(dir / "fpsolve" / "plot.py", ec);
    };
    if (const char* env = std::getenv("FPSOLVE_PYTHONPATH"); env && *env) {
        if (!holds_package(env))
            throw InputError(std::string("FPSOLVE_PYTHONPATH=") + env + ": no fpsolve/plot.py there");
        return env;
    }
    std::vector<fs::path> candidates;
    const auto add = [&candidates](const fs::path& c) {
        for (const auto& have : candidates)
            if (have == c) return;
        candidates.push_back(c);
    };
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path prefix = exe.parent_path().parent_path();
        add(prefix / "python");
#ifdef FPSOLVE_PYTHON_SITE
        if constexpr (sizeof(FPSOLVE_PYTHON_SITE) > 1) add(prefix / FPSOLVE_PYTHON_SITE);  // or absolute
#endif
        add(prefix / "lib" / "python3.11" / "dist-packages");
        add(prefix / "lib" / "python3" / "dist-packages");
    }
#ifdef FPSOLVE_SOURCE_DIR
    add(fs::path(FPSOLVE_SOURCE_DIR "/python"));
#endif
    for (const auto& c : candidates)
        if (holds_package(c)) return c.string();
    std::string tried;
    for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c.string();
    throw RunError("cannot find the Python module fpsolve.plot (no fpsolve/plot.py in " + tried +
                   "); set FPSOLVE_PYTHONPATH to the folder that holds the fpsolve package");
}

// Runs argv[0] (a path) with `args`; stdout and stderr go to /dev/null when `silent`. `env` entries
// ("NAME=value") replace or add to this process's environment in the child only.
// Returns the exit code, or 128 + signal.
int spawn_and_wait(const std::vector<std::string>& args, bool silent,
                   const std::vector<std::string>& env = {}) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    for (char** e = environ; e && *e; ++e) {
        bool replaced = false;
        for (const auto& mine : env)
            if (const auto eq = mine.find('='); std::strncmp(*e, mine.c_str(), eq + 1) == 0) replaced = true;
        if (!replaced) envp.push_back(*e);
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (silent) {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

    // While the child runs, Ctrl-C is its business: it stops cleanly and we report its exit code.
    struct sigaction ignore {}, old_int {}, old_term {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGTERM, &ignore, &old_term);

    pid_t pid = 0;
    const int err = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    int status = 0;
    if (err == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) return 127;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// The first Python 3 that imports h5py and matplotlib: $FPSOLVE_PYTHON, /usr/bin/python3 (Debian's
// packages live there), then python3 on PATH.
std::string find_python() {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("FPSOLVE_PYTHON"); env && *env) candidates.emplace_back(env);
    candidates.emplace_back("/usr/bin/python3");
    if (const char* path = std::getenv("PATH")) {
        std::stringstream dirs(path);
        for (std::string dir; std::getline(dirs, dir, ':');)
            if (!dir.empty()) candidates.push_back(dir + "/python3");
    }
    // Finds the modules without importing them (importing matplotlib takes a good fraction of a second).
    const char* probe =
        "import importlib.util as u, sys\n"
        "sys.exit(any(u.find_spec(m) is None for m in ('h5py', 'matplotlib', 'numpy')))";
    std::error_code ec;
    for (const auto& c : candidates) {
        if (!fs::is_regular_file(c, ec) || ::access(c.c_str(), X_OK) != 0) continue;
        if (spawn_and_wait({c, "-c", probe}, true) == 0) return c;
    }
    throw RunError("no python3 with h5py and matplotlib found (Debian: python3-h5py python3-matplotlib; "
                   "scripts/install-deps.sh installs them); or set FPSOLVE_PYTHON");
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

int plot_command(const PlotOptions& o) {
    read_snapshot_file(o.file);  // InputError (exit 2) for a missing, non-HDF5 or non-fpsolve file
    const std::string python = find_python();
    // The package folder goes first on PYTHONPATH (the child's only); PYTHONSAFEPATH (Python 3.11+, ignored
    // before) keeps the working folder off sys.path, so a folder named fpsolve there cannot shadow it.
    std::string pythonpath = "PYTHONPATH=" + find_package();
    if (const char* old = std::getenv("PYTHONPATH"); old && *old) pythonpath += std::string(":") + old;
    const std::vector<std::string> env{pythonpath, "PYTHONSAFEPATH=1"};
    std::vector<std::string> args{python, "-m", "fpsolve.plot", o.file};
    if (!o.output.empty()) args.insert(args.end(), {"-o", o.output});
    if (o.has_snapshot) args.insert(args.end(), {"--snapshot", std::to_string(o.snapshot)});
    if (!o.times.empty()) {
        args.emplace_back("--times");
        for (double t : o.times) args.push_back(number(t));
    }
    if (!o.animate.empty()) args.insert(args.end(), {"--animate", o.animate});
    if (!o.size.empty()) args.insert(args.end(), {"--size", o.size});
    if (o.fps > 0) args.insert(args.end(), {"--fps", number(o.fps)});
    if (o.slices) args.emplace_back("--slices");
    if (o.force) args.emplace_back("--force");
    if (o.quiet) args.emplace_back("--quiet");
    // The module prints its own one-line "fpsolve: error: ..." and exits 2 (bad input) or 1.
    const int code = spawn_and_wait(args, false, env);
    if (code == 0 || code == 1 || code == 2 || code == 130) return code;
    if (code == 3) return 1;  // a Python module is missing; the module said which
    if (code == 127) throw RunError("cannot run " + python);
    throw RunError(python + " -m fpsolve.plot stopped with exit code " + std::to_string(code));
}

}  // namespace

CommandEntry register_plot(CLI::App& app) {
    auto o = std::make_shared<PlotOptions>();
    CLI::App* sub = app.add_subcommand("plot", "Draw an fpsolve file: densities, reference, current, diagnostics");
    sub->add_option("file", o->file, "An HDF5 file written by fpsolve")->required();
    sub->add_option("-o,--output", o->output, "The picture: .png, .pdf or .svg (default: FILE with .png)");
    auto* snap = sub->add_option("--snapshot", o->snapshot, "Draw snapshot K (from 0; -1 is the last)");
    auto* times = sub->add_option("--times", o->times, "Draw the snapshots nearest these times")->expected(1, -1);
    snap->excludes(times);
    sub->add_option("--animate", o->animate, "Also write the evolution as an animated GIF")->type_name("FILE.gif");
    sub->add_option("--size", o->size, "Picture size in pixels (default 1500x500)")->type_name("WxH");
    sub->add_option("--fps", o->fps, "Animation frames per second (default 8)")->check(CLI::PositiveNumber);
    sub->add_flag("--slices", o->slices, "3-D and 4-D: slices through the densest cell instead of 2-D marginals");
    sub->add_flag("--force", o->force, "Overwrite existing pictures");
    sub->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
    sub->footer("Example: fpsolve plot dw.h5 -o dw.png --animate dw.gif\n"
                "Runs python3 -m fpsolve.plot (matplotlib) with /usr/bin/python3 or $FPSOLVE_PYTHON;\n"
                "the fpsolve package is found beside the build or install, or in $FPSOLVE_PYTHONPATH.");
    return {sub, [o, snap] {
                o->has_snapshot = snap->count() > 0;
                return plot_command(*o);
            }};
}

}  // namespace fpsolve
