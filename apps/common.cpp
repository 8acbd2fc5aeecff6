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

Config command_config(const std::string& path, const std::vector<std::string>& overrides) {
    Config c = Config::from_file(path);
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("--set " + o + ": expected key=value");
        c.set(o.substr(0, eq), o.substr(eq + 1));
    }
    return c;
}

std::string output_path(const Config& c, const OutputOptions& o) {
    return o.output.empty() ? default_output_file(c.text(), c.name(), c.path(), c.overrides()) : o.output;
}

std::function<void(const std::string&)> warning_printer(bool quiet) {
    if (quiet) return {};
    return [](const std::string& what) { std::fprintf(stderr, "fpsolve: warning: %s\n", what.c_str()); };
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
