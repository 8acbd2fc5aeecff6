#include "common.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "snapshot_file.hpp"

namespace fpsolve {

void add_output_options(CLI::App* sub, OutputOptions& o) {
    sub->add_option("-o,--output", o.output, "Output HDF5 file (default: output.file, else <config name>.h5)");
    sub->add_option("--set", o.set, "Override a config key, TOML value syntax: --set grid.cells=[128,128]")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    sub->add_flag("--force", o.force, "Overwrite the output file if it exists");
    sub->add_flag("-q,--quiet", o.quiet, "No progress or summary on the terminal");
}

std::string output_path(const Config& c, const OutputOptions& o) {
    const std::string path = o.output.empty() ? c.output_file : o.output;
    if (path.empty()) throw InputError("no output file: give -o OUT.h5 or output.file");
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
        throw InputError(path + ": the folder " + parent.string() + " does not exist");
    if (fs::exists(path, ec)) {
        if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, not a file");
        if (!o.force) throw InputError(path + ": exists; use --force to overwrite it or -o to write elsewhere");
    }
    return path;
}

Config load_run_config(const std::string& path, const std::vector<std::string>& overrides,
                       const std::vector<std::string>& extra_tables, bool read_snapshot_values) {
    Config c = load_config(path, overrides, extra_tables);
    InitialDensity& init = c.problem.initial;
    if (!init.snapshot_file.empty()) {
        const SnapshotFileInfo info = read_snapshot_file(init.snapshot_file);
        const Grid& g = c.problem.grid;
        bool same = info.grid.dims == g.dims;
        for (int a = 0; same && a < g.dims; ++a)
            same = info.grid.cells[a] == g.cells[a] && std::abs(info.grid.lower[a] - g.lower[a]) <= 1e-12 * g.length(a) &&
                   std::abs(info.grid.upper[a] - g.upper[a]) <= 1e-12 * g.length(a);
        if (!same) throw InputError("initial.snapshot: " + init.snapshot_file + " is on a different grid than [grid]");
        if (read_snapshot_values) init.values = read_snapshot(init.snapshot_file, -1);
    }
    return c;
}

void refuse_richardson(const Config& config, const std::string& what) {
    if (config.richardson)
        throw InputError("grid.richardson: " + what +
                         " does not extrapolate in space (only fpsolve run on one "
                         "process does); remove the key or add --set grid.richardson=false");
}

Resume prepare_resume(const std::string& path, const std::vector<std::string>& overrides) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    if (info.times.empty()) throw InputError(path + ": holds no snapshot to resume from");
    Resume r;
    r.config = parse_config(info.config, path + " (stored config)", overrides);
    const Grid& g = r.config.problem.grid;
    bool same = g.dims == info.grid.dims;
    for (int a = 0; same && a < g.dims; ++a) same = g.cells[a] == info.grid.cells[a];
    if (!same) throw InputError("--set: a resumed run keeps the grid of " + path);
    r.start = info.times.back();
    r.snapshots = info.times.size();
    InitialDensity& init = r.config.problem.initial;
    init = InitialDensity{};
    init.where = path;
    // Only the snapshot times after the last one written remain.
    std::vector<double> rest{r.start};
    for (double t : r.config.time.times)
        if (t > r.start * (1 + 1e-12) + 1e-300) rest.push_back(t);
    r.config.time.times = rest;
    r.config.observe_first = false;
    return r;
}

RunError run_failed(const std::exception& e, double reached, const std::string& out,
                    const std::function<void(const std::string&)>& set_status) {
    std::string why = e.what();
    if (why.find("by t =") == std::string::npos) why += " (after t = " + std::to_string(reached) + ")";
    try {
        set_status("failed: " + why);
    } catch (...) {
        // The file keeps every snapshot appended before; only the status could not be set.
    }
    return RunError(why + "; " + out + " keeps the snapshots written before");
}

namespace {
std::atomic<bool> g_stop{false};  // the one global: a signal handler can reach nothing else
extern "C" void on_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& stop_requested() { return g_stop; }

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // Open MPI's mpirun ends a job it is sent SIGINT/SIGTERM for with its own exit code (1), but forwards
    // SIGUSR1 to the ranks: `kill -USR1 <mpirun>` stops a decomposed run cleanly with exit 130.
    sigaction(SIGUSR1, &sa, nullptr);
    // A file-size limit (ulimit -f) must fail a write with EFBIG, not kill the process mid-snapshot.
    std::signal(SIGXFSZ, SIG_IGN);
}

Progress::Progress(double end, bool quiet) : end_(end), enabled_(!quiet && isatty(STDERR_FILENO)) {}

void Progress::update(double t) {
    if (!enabled_) return;
    const int width = 30;
    const double f = end_ > 0 ? std::clamp(t / end_, 0.0, 1.0) : 1.0;
    const int filled = static_cast<int>(f * width);
    std::fprintf(stderr, "\r  t = %-10.4g / %-10.4g [%s%s] %3d%%", t, end_, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), static_cast<int>(100 * f));
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::done() {
    if (drawn_) std::fprintf(stderr, "\r%70s\r", "");
    drawn_ = false;
}

}  // namespace fpsolve
