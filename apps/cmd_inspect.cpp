// fpsolve inspect: what an fpsolve file holds and the verdicts a user wants at a glance.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

struct InspectOptions {
    std::string file;
    bool json = false;
};

double last_or_nan(const std::vector<double>& v) { return v.empty() ? std::nan("") : v.back(); }

int inspect_command(const InspectOptions& o) {
    const SnapshotFileInfo info = read_snapshot_file(o.file);
    const Grid& g = info.grid;
    double mass_drift = 0.0, min_density = HUGE_VAL;
    for (double m : info.mass) mass_drift = std::max(mass_drift, std::abs(m - info.mass.front()));
    for (double m : info.min_density) min_density = std::min(min_density, m);
    const bool positive = info.min_density.empty() || min_density >= -1e-12;
    // A negative dip relative to the largest density of its snapshot (read only when there is a dip): the scale
    // a user compares with the documented dips of non-monotone schemes (docs/kinetic.md).
    double relative_dip = std::nan(""), dip_time = std::nan("");
    if (!positive && info.min_density.size() == info.times.size()) {
        const auto k = static_cast<long>(std::min_element(info.min_density.begin(), info.min_density.end()) -
                                         info.min_density.begin());
        const Eigen::VectorXd p = read_snapshot(o.file, k);
        if (p.size() > 0 && p.maxCoeff() > 0.0) relative_dip = min_density / p.maxCoeff();
        dip_time = info.times[static_cast<std::size_t>(k)];
    }

    nlohmann::json j;
    j["file"] = o.file;
    j["format_version"] = info.format_version;
    j["program_version"] = info.program_version;
    j["status"] = info.status;
    j["grid"] = {{"dims", g.dims}};
    for (int a = 0; a < g.dims; ++a) {
        j["grid"]["lower"].push_back(g.lower[a]);
        j["grid"]["upper"].push_back(g.upper[a]);
        j["grid"]["cells"].push_back(g.cells[a]);
        j["grid"]["boundary"].push_back(std::string(to_string(g.boundary[a])));
        j["grid"]["variables"].push_back(g.variables[a]);
    }
    j["snapshots"] = info.times.size();
    j["times"] = info.times;
    j["has_reference"] = info.has_reference;
    j["has_current"] = info.has_current;
    j["has_stationary"] = info.has_stationary;
    for (const auto& [name, value] : info.stationary) j["stationary"][name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    j["verdicts"] = {{"mass_drift", num(info.mass.empty() ? std::nan("") : mass_drift)},
                     {"final_mass", num(last_or_nan(info.mass))},
                     {"final_l1_to_reference", num(last_or_nan(info.l1_to_reference))},
                     {"final_kl_to_reference", num(last_or_nan(info.kl_to_reference))},
                     {"min_density", num(info.min_density.empty() ? std::nan("") : min_density)},
                     {"min_density_relative", num(positive ? 0.0 : relative_dip)},
                     {"final_error_estimate", num(last_or_nan(info.error_estimate))},
                     {"positive", positive}};
    if (o.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("%s: fpsolve file, format %lld, written by fpsolve %s, status: %s%s\n", o.file.c_str(),
                static_cast<long long>(info.format_version), info.program_version.c_str(), info.status.c_str(),
                info.status == "running" ? " (being written now, or its writer was killed)" : "");
    std::printf("  grid: %d-D", g.dims);
    for (int a = 0; a < g.dims; ++a)
        std::printf("%s %s in [%g, %g], %lld cells, %s", a ? ";" : "", g.variables[a].c_str(), g.lower[a], g.upper[a],
                    static_cast<long long>(g.cells[a]), std::string(to_string(g.boundary[a])).c_str());
    std::printf("\n");
    if (info.times.empty())
        std::printf("  snapshots: none\n");
    else
        std::printf("  snapshots: %zu, t from %g to %g%s\n", info.times.size(), info.times.front(), info.times.back(),
                    info.has_current ? " (with currents)" : "");
    if (!info.mass.empty())
        std::printf("  mass: final %.12f, largest change %.2e\n", info.mass.back(), mass_drift);
    if (!info.min_density.empty() && std::isfinite(relative_dip))
        std::printf("  positivity: NO, smallest density %.3e at t = %g, %.2e of that snapshot's largest%s\n",
                    min_density, dip_time, relative_dip,
                    !info.error_estimate.empty() ? "; grid.richardson's extrapolation need not be positive" : "");
    else if (!info.min_density.empty())
        std::printf("  positivity: %s (smallest density %.3e)%s\n", positive ? "yes" : "NO", min_density,
                    !positive && !info.error_estimate.empty() ? "; grid.richardson's extrapolation need not be positive"
                                                              : "");
    if (!info.error_estimate.empty())
        std::printf("  grid.richardson: fourth-order densities; the plain scheme's L1 error was about %.3e at the end\n",
                    info.error_estimate.back());
    if (!info.l1_to_reference.empty())
        std::printf("  reference: final L1 %.3e, KL %.3e\n", info.l1_to_reference.back(),
                    last_or_nan(info.kl_to_reference));
    else if (info.has_reference)
        std::printf("  reference: /reference/density (closed form)\n");
    else
        std::printf("  reference: none\n");
    if (info.has_stationary) {
        std::printf("  stationary:");
        for (const auto& [name, value] : info.stationary) std::printf(" %s %.3e", name.c_str(), value);
        std::printf("\n");
    }
    return 0;
}

}  // namespace

CommandEntry register_inspect(CLI::App& app) {
    auto o = std::make_shared<InspectOptions>();
    CLI::App* sub = app.add_subcommand("inspect", "Summarise an fpsolve HDF5 file and its verdicts");
    sub->add_option("file", o->file, "An HDF5 file written by fpsolve")->required();
    sub->add_flag("--json", o->json, "Print one JSON object instead of text");
    return {sub, [o] { return inspect_command(*o); }};
}

}  // namespace fpsolve
