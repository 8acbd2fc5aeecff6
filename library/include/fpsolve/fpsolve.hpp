// fpsolve as a library (DESIGN §6): the Fokker–Planck equation of an SDE dX = mu dt + B dW,
//
//     dp/dt = -div J,   J = mu_eff p - 1/2 D grad p,   D = B B^T,
//
// solved on a finite-volume grid from a TOML config (DESIGN §3). The command line `fpsolve run` and
// `fpsolve stationary`, and the Python module `fpsolve`, are clients of these entry points: the same config
// gives bitwise the same snapshots through each of them.
//
//     fpsolve::Config c = fpsolve::Config::from_file("data/scenarios/double-well.toml");
//     c.set("grid.cells", "[200]");                      // the --set of the command line (TOML value)
//     fpsolve::RunResult r = fpsolve::run(c);            // in memory; RunOptions::output also writes HDF5
//     fpsolve::StationaryResult s = fpsolve::stationary(c);
//
// Bad input throws fpsolve::ConfigError with the message the command line prints after "fpsolve: error: ";
// nothing is written then. A failure while running throws fpsolve::RunError; a file being written keeps
// every snapshot written before, with status "failed: <why>".
#pragma once
#include <Eigen/Dense>
#include <atomic>
#include <complex>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"
#include "grid.hpp"

namespace fpsolve {

// The version of the library, the command line and the file format's writer ("0.1.0").
const char* version();

// A config: TOML text (DESIGN §3) and the overrides applied to it. Only the TOML syntax is checked here;
// every key is checked when run() or stationary() reads it, with the command line's messages.
class Config {
public:
    // `name` stands for the text in messages (a file's path, "<dict>", ...). Throws ConfigError on a syntax
    // error.
    static Config from_toml(std::string text, std::string name = "<config>");
    // Throws ConfigError if the file does not exist or cannot be read.
    static Config from_file(const std::string& path);

    // Overrides a key, as `--set key=value`: `value` in TOML value syntax ("[128,128]", "\"rkc\"", "2.5").
    // Later calls win. Throws ConfigError if it does not parse.
    Config& set(const std::string& key, const std::string& value);

    const std::string& text() const { return text_; }
    const std::string& name() const { return name_; }
    // The path given to from_file (empty otherwise): relative paths in the config are the caller's.
    const std::string& path() const { return path_; }
    const std::vector<std::string>& overrides() const { return overrides_; }  // "key=value", in order

private:
    std::string text_, name_, path_;
    std::vector<std::string> overrides_;
};

// Called once per snapshot written, with its time and density (cell averages, "ij" order); returning false
// stops the run after that snapshot (status "stopped").
using SnapshotCallback = std::function<bool(double t, const Eigen::VectorXd& density)>;

struct RunOptions {
    std::string output;          // HDF5 file to write as `fpsolve run` does (DESIGN §4); empty: none
    bool force = false;          // overwrite `output` if it exists (else ConfigError, nothing written)
    int threads = 0;             // OpenMP threads for this run; 0: as the process is set up
    bool keep_snapshots = true;  // false: RunResult::density stays empty (large runs to a file)
    bool keep_currents = true;   // false: RunResult::current stays empty (with output.current)
    SnapshotCallback on_snapshot;
    // Called once everything is checked (and the file created), before the first snapshot: the grid, the times
    // of the first and the last snapshot, and how many snapshots the run will record (e.g. for a progress bar).
    std::function<void(const Grid& grid, double start, double end, std::size_t snapshots)> on_start;
    // Read between time steps; once true the run stops at the next step with status "interrupted" (the file
    // keeps every snapshot written). The command line points it at its SIGINT/SIGTERM flag.
    const std::atomic<bool>* interrupt = nullptr;
    // Warnings (e.g. a correlated noise that breaks monotonicity), as they arise; they are also collected in
    // the result.
    std::function<void(const std::string&)> on_warning;
};

// The per-snapshot diagnostics (DESIGN §4), one entry per snapshot. l1/kl_to_reference are NaN without a
// reference, error_estimate without grid.richardson.
struct DiagnosticSeries {
    std::vector<double> time, mass, entropy, free_energy, l1_to_reference, kl_to_reference, outflux, min_density,
        error_estimate;
    std::vector<Eigen::VectorXd> mean;        // d entries each
    std::vector<Eigen::MatrixXd> covariance;  // d x d each
};

struct RunResult {
    std::string status;        // "complete", "stopped" (on_snapshot said so), "interrupted"; a loaded file's own
    std::string title, config;  // config: the effective TOML (file and overrides), as the file records it
    std::string output;        // the file written ("" for none)
    Grid grid;
    std::vector<double> time;
    std::vector<Eigen::VectorXd> density;  // one flat array of cell averages per snapshot ("ij", row-major)
    std::vector<Eigen::MatrixXd> current;  // with output.current: cells x d per snapshot
    DiagnosticSeries diagnostics;
    std::optional<Eigen::VectorXd> reference;  // the closed-form stationary density (DESIGN §4), if any
    std::string reference_kind;                // "gibbs", "two-temperature", "one-dimensional"
    std::string integrator, integrator_reason;  // the stepper used, and why "auto" chose it
    std::size_t rhs_evaluations = 0;
    // grid.richardson: the coarse run (half the cells per axis) the snapshots were extrapolated with.
    struct Coarse {
        Grid grid;
        std::string integrator;
        std::size_t rhs_evaluations = 0;
    };
    std::optional<Coarse> richardson;
    double resumed_at = 0.0;          // resume(): the time of the file's last snapshot before this run
    std::size_t snapshots_before = 0;  // resume(): the snapshots the file held before
    std::vector<std::string> warnings;
};

// Evolves the density of `config` and returns the snapshots; `options.output` also writes the HDF5 file.
// Throws ConfigError on bad input (before any file is created), RunError on a failure while running.
RunResult run(const Config& config, const RunOptions& options = {});

// Continues the file at `path` from its last snapshot with the config stored in it and `overrides` ("key=value",
// e.g. "time.end=10"; the grid must stay), appending to the same file (options.output and force are ignored).
// The result holds the snapshots of this run only.
RunResult resume(const std::string& path, const std::vector<std::string>& overrides = {},
                 const RunOptions& options = {});

struct StationaryOptions {
    std::string output;  // HDF5 file to write as `fpsolve stationary` does; empty: none
    bool force = false;
    int threads = 0;
    std::optional<int> eigenvalues;  // the slowest eigenvalues to compute; unset: [stationary] eigenvalues (6)
    std::function<void(const std::string&)> on_warning;
};

// The steady state of the discrete generator A (A p = 0, sum p V = 1), its current and relaxation spectrum;
// with absorbing walls the quasi-stationary density, the escape rate and mean first-passage times.
struct StationaryResult {
    std::string status, title, config, output;
    Grid grid;
    bool absorbing = false;                          // true: `density` is quasi-stationary
    Eigen::VectorXd density;                         // cell averages, sum(density) V = 1
    Eigen::MatrixXd current;                         // cells x d, from the scheme's face fluxes
    std::vector<std::complex<double>> eigenvalues;   // slowest first (by |Re|)
    double spectral_gap = 0.0, relaxation_time = 0.0, residual = 0.0, max_abs_current = 0.0, min_density = 0.0;
    double l1_to_reference = 0.0;                    // NaN without a reference
    std::optional<Eigen::VectorXd> reference;
    std::string reference_kind;
    Eigen::VectorXd mfpt;                            // absorbing walls: mean first-passage time from each cell
    double escape_rate = 0.0, mfpt_from_initial = 0.0;  // absorbing walls (NaN otherwise)
    int guided_passes = 0;  // re-solves with a transport guide to remove dips ([stationary] positive, docs/kinetic.md)
    std::vector<std::string> warnings;
};

// Throws ConfigError on bad input (a time-dependent problem among it), RunError if the solve fails.
StationaryResult stationary(const Config& config, const StationaryOptions& options = {});

// An fpsolve file (DESIGN §4) read back: the snapshots, diagnostics, reference and grid of `fpsolve run`.
// Throws ConfigError if it is not an fpsolve file.
RunResult load(const std::string& path);
// The /stationary group of a file written by `fpsolve stationary`. Throws ConfigError if there is none.
StationaryResult load_stationary(const std::string& path);
// Whether the file holds a /stationary group (written by `fpsolve stationary`).
bool has_stationary(const std::string& path);

}  // namespace fpsolve
