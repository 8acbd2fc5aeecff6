// The C++ library's entry points (<fpsolve/fpsolve.hpp>, DESIGN §6): the same snapshots as the command line,
// bit for bit; ConfigError with the command line's message and nothing written; on_snapshot, interrupt and
// threads; load and resume round trips; the steady state against the OU closed form.
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fpsolve/fpsolve.hpp"

namespace fs = std::filesystem;
using namespace fpsolve;

namespace {

// dX = -X dt + sqrt(s) dW from N(1.5, 0.05): Gibbs exp(-x^2/s), spectrum 0, -1, -2, ...
const char* ou_toml = R"(
title = "OU"
[grid]
lower = [-4.0]
upper = [4.0]
cells = [160]
[dynamics]
potential = "x^2/2"
noise = 0.5
[initial]
gaussian = { mean = [1.5], covariance = [[0.05]] }
[time]
end = 1.0
snapshots = 5
)";

struct TempDir {
    fs::path path;
    // ctest runs the test cases as concurrent processes: the pid and a counter keep their folders apart.
    TempDir() : path(fs::temp_directory_path() / ("fpsolve-lib-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(counter()++))) {
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    static int& counter() {
        static int n = 0;
        return n;
    }
};

std::string source_dir() {
    const char* s = std::getenv("FPSOLVE_SOURCE");
    return s ? s : FPSOLVE_SOURCE_DIR;
}

// Runs the command line (FPSOLVE, set by ctest) and returns its exit code; stderr goes to `err`.
int command_line(const std::string& args, const fs::path& err) {
    const char* exe = std::getenv("FPSOLVE");
    REQUIRE(exe);
    const std::string cmd = std::string(exe) + " " + args + " 2> " + err.string();
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string first_line(const fs::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

TEST_CASE("fpsolve::run in memory gives the command line's snapshots bit for bit") {
    TempDir tmp;
    const std::string scenario = source_dir() + "/data/scenarios/double-well.toml";
    const fs::path out = tmp.path / "cli.h5";
    REQUIRE(command_line("run " + scenario + " -o " + out.string() + " --quiet --set grid.cells=[120] --set time.end=2",
                         tmp.path / "err.txt") == 0);
    Config c = Config::from_file(scenario);
    c.set("grid.cells", "[120]").set("time.end", "2");
    const RunResult r = run(c);
    const RunResult f = load(out.string());
    REQUIRE(r.status == "complete");
    REQUIRE(f.status == "complete");
    REQUIRE(r.time == f.time);
    REQUIRE(r.density.size() == f.density.size());
    for (std::size_t k = 0; k < r.density.size(); ++k) CHECK(r.density[k] == f.density[k]);
    CHECK(r.diagnostics.mass == f.diagnostics.mass);
    CHECK(r.diagnostics.l1_to_reference == f.diagnostics.l1_to_reference);
    CHECK(*r.reference == *f.reference);
    CHECK(r.config == f.config);
    CHECK(r.output.empty());
}

TEST_CASE("fpsolve::run against the OU closed forms, with a callback that sees every snapshot") {
    std::vector<double> seen;
    RunOptions o;
    o.on_snapshot = [&](double t, const Eigen::VectorXd&) {
        seen.push_back(t);
        return true;
    };
    std::size_t announced = 0;
    o.on_start = [&](const Grid& g, double t0, double t1, std::size_t n) {
        CHECK(g.cells[0] == 160);
        CHECK(t0 == 0.0);
        CHECK(t1 == 1.0);
        announced = n;
    };
    const RunResult r = run(Config::from_toml(ou_toml), o);
    REQUIRE(r.time.size() == 5);
    CHECK(announced == 5);
    CHECK(seen == r.time);
    const double h = 8.0 / 160;
    for (std::size_t k = 0; k < r.time.size(); ++k) {
        CHECK(std::abs(r.density[k].sum() * h - 1.0) < 1e-12);
        // The OU mean 1.5 e^{-t}, to the scheme's O(h^2).
        CHECK(std::abs(r.diagnostics.mean[k](0) - 1.5 * std::exp(-r.time[k])) < 1.5 * h * h);
    }
}

TEST_CASE("on_snapshot returning false stops the run; the file says so") {
    TempDir tmp;
    RunOptions o;
    o.output = (tmp.path / "stopped.h5").string();
    o.on_snapshot = [](double t, const Eigen::VectorXd&) { return t < 0.4; };
    const RunResult r = run(Config::from_toml(ou_toml), o);
    CHECK(r.status == "stopped");
    CHECK(r.time.size() == 3);
    const RunResult f = load(o.output);
    CHECK(f.status == "stopped");
    CHECK(f.time == r.time);
}

TEST_CASE("the interrupt flag ends the run as interrupted, keeping what was written") {
    TempDir tmp;
    std::atomic<bool> stop{false};
    RunOptions o;
    o.output = (tmp.path / "interrupted.h5").string();
    o.interrupt = &stop;
    o.on_snapshot = [&](double, const Eigen::VectorXd&) {
        stop = true;  // as a signal handler would, after the first snapshot
        return true;
    };
    const RunResult r = run(Config::from_toml(ou_toml), o);
    CHECK(r.status == "interrupted");
    CHECK(r.time.size() == 1);
    CHECK(load(o.output).status == "interrupted");
}

TEST_CASE("bad input throws ConfigError with the command line's message and writes nothing") {
    TempDir tmp;
    const fs::path out = tmp.path / "bad.h5";
    const std::string scenario = source_dir() + "/data/scenarios/double-well.toml";
    for (const std::string& item : {std::string("grid.cellz=[10]"), std::string("time.end=-1"),
                                    std::string("dynamics.potential=\"x^^2\"")}) {
        INFO(item);
        Config c = Config::from_file(scenario);
        const auto eq = item.find('=');
        c.set(item.substr(0, eq), item.substr(eq + 1));
        RunOptions o;
        o.output = out.string();
        std::string message;
        try {
            run(c, o);
        } catch (const ConfigError& e) {
            message = e.what();
        }
        REQUIRE(!message.empty());
        CHECK(!fs::exists(out));
        CHECK(command_line("run " + scenario + " -o " + out.string() + " --set '" + item + "'", tmp.path / "err.txt") == 2);
        CHECK(first_line(tmp.path / "err.txt") == "fpsolve: error: " + message);
    }
    CHECK_THROWS_AS(Config::from_toml("[grid", "x.toml"), ConfigError);
    CHECK_THROWS_AS(Config::from_file((tmp.path / "missing.toml").string()), ConfigError);
    Config c = Config::from_toml(ou_toml);
    CHECK_THROWS_AS(c.set("grid.cells", "[1,"), ConfigError);
    CHECK_THROWS_AS(load((tmp.path / "missing.h5").string()), ConfigError);
    // ConfigError is a std::invalid_argument (DESIGN §6).
    CHECK_THROWS_AS(Config::from_toml("= 1"), std::invalid_argument);
}

TEST_CASE("an existing output file is kept without force") {
    TempDir tmp;
    const fs::path out = tmp.path / "exists.h5";
    { std::ofstream(out) << "keep me"; }
    RunOptions o;
    o.output = out.string();
    CHECK_THROWS_AS(run(Config::from_toml(ou_toml), o), ConfigError);
    std::ifstream in(out);
    std::string kept;
    std::getline(in, kept);
    CHECK(kept == "keep me");
    o.force = true;
    CHECK(run(Config::from_toml(ou_toml), o).status == "complete");
}

TEST_CASE("threads: the same bits for 1 and 2, and the caller's settings back afterwards") {
    Config c = Config::from_toml(ou_toml);
    c.set("grid.cells", "[70000]").set("time.integrator", "\"rkc\"").set("time.end", "0.05").set("time.snapshots", "2");
    RunOptions one, two;
    one.threads = 1;
    two.threads = 2;
#ifdef _OPENMP
    const int before = omp_get_max_threads();
#endif
    const RunResult a = run(c, one), b = run(c, two);
#ifdef _OPENMP
    CHECK(omp_get_max_threads() == before);
#endif
    REQUIRE(a.density.size() == b.density.size());
    for (std::size_t k = 0; k < a.density.size(); ++k) CHECK(a.density[k] == b.density[k]);
}

TEST_CASE("resume appends to the file and returns the new snapshots") {
    TempDir tmp;
    RunOptions o;
    o.output = (tmp.path / "r.h5").string();
    run(Config::from_toml(ou_toml), o);
    const RunResult r = resume(o.output, {"time.end=2", "time.snapshots=9"});
    CHECK(r.time == std::vector<double>{1.25, 1.5, 1.75, 2.0});
    CHECK(r.snapshots_before == 5);
    CHECK(load(o.output).time.size() == 9);
}

TEST_CASE("fpsolve::stationary: exact discrete Gibbs, the OU spectrum, and the file read back") {
    TempDir tmp;
    StationaryOptions o;
    o.output = (tmp.path / "st.h5").string();
    o.eigenvalues = 4;
    const StationaryResult s = stationary(Config::from_toml(ou_toml), o);
    const double h = 8.0 / 160;
    CHECK(s.l1_to_reference < 1e-12);
    CHECK(s.residual < 1e-12);
    REQUIRE(s.eigenvalues.size() >= 3);
    // -n to the scheme's O(h^2), which grows like n^2 (measured 0.67 n^2 h^2 here); 0 to round-off.
    for (int n = 0; n < 3; ++n)
        CHECK(std::abs(s.eigenvalues[static_cast<std::size_t>(n)].real() + n) < 1.5 * n * n * h * h + 1e-12);
    CHECK(std::abs(s.spectral_gap - 1.0) < h * h);
    CHECK(!s.absorbing);
    REQUIRE(has_stationary(o.output));
    const StationaryResult f = load_stationary(o.output);
    CHECK(f.density == s.density);
    CHECK(f.eigenvalues == s.eigenvalues);
    CHECK(f.spectral_gap == s.spectral_gap);
    CHECK_THROWS_AS(load_stationary((tmp.path / "st.h5").string() + ".missing"), ConfigError);
}
