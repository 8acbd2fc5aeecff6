// What the fpsolve commands share: the options of every command that writes a file, the output-path
// rule (never overwrite without --force), loading a config with its initial snapshot, signals, progress.
#pragma once
#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "config.hpp"

namespace fpsolve {

struct OutputOptions {
    std::string output;                // -o
    std::vector<std::string> set;      // --set key=value
    bool force = false;
    bool quiet = false;
};
void add_output_options(CLI::App* sub, OutputOptions& o);

// The file a command writes: -o, else output.file, else "<config stem>.h5". Throws InputError if it
// exists and --force was not given, or if its folder does not exist.
std::string output_path(const Config& config, const OutputOptions& o);

// load_config + checking that [initial] snapshot's file is on the grid and, with `read_snapshot`, reading its
// last snapshot (a decomposed run reads each rank's block itself).
Config load_run_config(const std::string& path, const std::vector<std::string>& overrides,
                       const std::vector<std::string>& extra_tables = {}, bool read_snapshot = true);

// Throws InputError if the config asks for grid.richardson, which only `fpsolve run` on one process does.
void refuse_richardson(const Config& config, const std::string& what);

// A resumed run (fpsolve run --resume FILE): the config stored in FILE with `overrides` (the grid must stay),
// the snapshot times after its last one, and where it starts. The caller reads the last snapshot
// (read_snapshot, or a block of it) as the initial state: the run continues it exactly.
struct Resume {
    Config config;
    double start = 0.0;
    std::size_t snapshots = 0;
};
Resume prepare_resume(const std::string& path, const std::vector<std::string>& overrides);

// A run that stopped on error `e` after reaching t = `reached`: sets the file's status to "failed: <why>"
// through `set_status` (best effort: the snapshots appended before stay readable either way) and returns
// the error to throw.
RunError run_failed(const std::exception& e, double reached, const std::string& out,
                    const std::function<void(const std::string&)>& set_status);

// Set by SIGINT/SIGTERM (and SIGUSR1, which mpirun forwards to its ranks) once install_signal_handlers() ran.
const std::atomic<bool>& stop_requested();
void install_signal_handlers();

// "\r t = 1.2 / 5 [#####.....]" on stderr when it is a terminal and not --quiet.
class Progress {
public:
    Progress(double end, bool quiet);
    void update(double t);
    void done();

private:
    double end_;
    bool enabled_;
    bool drawn_ = false;
};

struct CommandEntry {
    CLI::App* sub;
    std::function<int()> run;
};

CommandEntry register_run(CLI::App& app);
CommandEntry register_inspect(CLI::App& app);
CommandEntry register_stationary(CLI::App& app);
CommandEntry register_sgd(CLI::App& app);
CommandEntry register_plot(CLI::App& app);
CommandEntry register_flux(CLI::App& app);
CommandEntry register_sample(CLI::App& app);

}  // namespace fpsolve
