// What the run and stationary drivers (serial and decomposed) share before and after the integration: the
// output-path rule (never overwrite without force), the config with its initial snapshot, resuming a file,
// and marking a file whose run failed.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "config.hpp"

namespace fpsolve {

// Throws InputError if `path` is empty, exists without `force`, is a folder, or its folder does not exist.
void check_output_path(const std::string& path, bool force);

// Checks that [initial] snapshot's file is on the grid and, with `read_snapshot`, reads its last snapshot.
void attach_initial_snapshot(ParsedConfig& c, bool read_snapshot);

// parse_config + checking that [initial] snapshot's file is on the grid and, with `read_snapshot`, reading its
// last snapshot (a decomposed run reads each rank's block itself).
ParsedConfig parse_run_config(const std::string& text, const std::string& name,
                              const std::vector<std::string>& overrides,
                              const std::vector<std::string>& extra_tables = {}, bool read_snapshot = true);

// Throws InputError if the config asks for grid.richardson, which only a run on one process does.
void refuse_richardson(const ParsedConfig& config, const std::string& what);

// A resumed run: the config stored in the file at `path` with `overrides` (the grid must stay), the snapshot
// times after its last one, and where it starts. The caller reads the last snapshot (read_snapshot, or a
// block of it) as the initial state: the run continues it exactly.
struct Resume {
    ParsedConfig config;
    double start = 0.0;
    std::size_t snapshots = 0;
};
Resume prepare_resume(const std::string& path, const std::vector<std::string>& overrides);

// A run that stopped on error `e` after reaching t = `reached`: sets the file's status to "failed: <why>"
// through `set_status` (best effort: the snapshots appended before stay readable either way) and returns
// the error to throw.
RunError run_failed(const std::exception& e, double reached, const std::string& out,
                    const std::function<void(const std::string&)>& set_status);

// "2-D, 128x128 cells"
std::string describe_grid(const Grid& g);

// The warning of a correlated noise that breaks the 9-point stencil's monotonicity (ratio > 1), or "".
std::string monotonicity_warning(double ratio);

}  // namespace fpsolve
