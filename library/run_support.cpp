#include "run_support.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "snapshot_file.hpp"

namespace fpsolve {

void check_output_path(const std::string& path, bool force) {
    if (path.empty()) throw InputError("no output file: give -o OUT.h5 or output.file");
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
        throw InputError(path + ": the folder " + parent.string() + " does not exist");
    if (fs::exists(path, ec)) {
        if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, not a file");
        if (!force) throw InputError(path + ": exists; use --force to overwrite it or -o to write elsewhere");
    }
}

void attach_initial_snapshot(ParsedConfig& c, bool read_snapshot_values) {
    InitialDensity& init = c.problem.initial;
    if (init.snapshot_file.empty()) return;
    const SnapshotFileInfo info = read_snapshot_file(init.snapshot_file);
    const Grid& g = c.problem.grid;
    bool same = info.grid.dims == g.dims;
    for (int a = 0; same && a < g.dims; ++a)
        same = info.grid.cells[a] == g.cells[a] && std::abs(info.grid.lower[a] - g.lower[a]) <= 1e-12 * g.length(a) &&
               std::abs(info.grid.upper[a] - g.upper[a]) <= 1e-12 * g.length(a);
    if (!same) throw InputError("initial.snapshot: " + init.snapshot_file + " is on a different grid than [grid]");
    if (read_snapshot_values) init.values = read_snapshot(init.snapshot_file, -1);
}

ParsedConfig parse_run_config(const std::string& text, const std::string& name,
                              const std::vector<std::string>& overrides,
                              const std::vector<std::string>& extra_tables, bool read_snapshot_values) {
    ParsedConfig c = parse_config(text, name, overrides, extra_tables);
    attach_initial_snapshot(c, read_snapshot_values);
    return c;
}

void refuse_richardson(const ParsedConfig& config, const std::string& what) {
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
    if (out.empty()) return RunError(why);
    try {
        set_status("failed: " + why);
    } catch (...) {
        // The file keeps every snapshot appended before; only the status could not be set.
    }
    return RunError(why + "; " + out + " keeps the snapshots written before");
}

std::string describe_grid(const Grid& g) {
    std::ostringstream s;  // (string concatenation here trips g++ 12's false -Wrestrict)
    s << g.dims << "-D, ";
    for (int a = 0; a < g.dims; ++a) s << (a ? "x" : "") << g.cells[a];
    s << " cells";
    return s.str();
}

std::string monotonicity_warning(double ratio) {
    if (!(ratio > 1.0)) return "";
    char msg[300];
    std::snprintf(msg, sizeof msg,
                  "the correlated noise breaks the 9-point stencil's monotonicity "
                  "(|D_xy| / min(D_xx h_y/h_x, D_yy h_x/h_y) = %.3g > 1): densities may dip below 0; "
                  "choose spacings with h_y/h_x nearer sqrt(D_yy/D_xx)",
                  ratio);
    return msg;
}

}  // namespace fpsolve
