// What the fpsolve commands share: the options of every command that writes a file, the output-path
// rule (never overwrite without --force), loading a config with its initial snapshot, signals, progress.
#pragma once
#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "fpsolve/fpsolve.hpp"
#include "run_support.hpp"

namespace fpsolve {

struct OutputOptions {
    std::string output;                // -o
    std::vector<std::string> set;      // --set key=value
    bool force = false;
    bool quiet = false;
};
void add_output_options(CLI::App* sub, OutputOptions& o);

// The config of a command: CONFIG.toml with the --set overrides (InputError for a file that is missing or a
// syntax error).
Config command_config(const std::string& path, const std::vector<std::string>& overrides);

// The file a command writes: -o, else output.file, else "<config stem>.h5" (checked by the library: it must
// not exist without --force, and its folder must).
std::string output_path(const Config& config, const OutputOptions& o);

// "fpsolve: warning: <what>" on stderr unless --quiet.
std::function<void(const std::string&)> warning_printer(bool quiet);

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

// The progress bar of one library call: bar(t, end) draws it (the first call starts it); done() erases it, and
// so does the destructor when the call throws.
class ProgressBar {
public:
    explicit ProgressBar(bool quiet) : quiet_(quiet) {}
    ~ProgressBar() { done(); }
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    void operator()(double t, double end) {
        if (!bar_) bar_.emplace(end, quiet_);
        bar_->update(t);
    }
    std::function<void(double, double)> callback() {
        return [this](double t, double end) { (*this)(t, end); };
    }
    void done() {
        if (bar_) bar_->done();
    }

private:
    bool quiet_;
    std::optional<Progress> bar_;
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
