// fpsolve::load and fpsolve::load_stationary: an fpsolve file (DESIGN §4) as the result a run or a steady-state
// solve returns. A file still being written is read as far as its snapshots are complete (/snapshots/time is
// written last, so n times mean n complete densities).
#include <cmath>

#include "config.hpp"
#include "fpsolve/fpsolve.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

Eigen::Index cells_of(const Grid& g) { return g.size(); }

// Row k of a dataset of n rows of `width` values.
Eigen::VectorXd row(const ArrayData& a, std::size_t k, Eigen::Index width) {
    return Eigen::Map<const Eigen::VectorXd>(a.values.data() + k * static_cast<std::size_t>(width), width);
}

const ArrayData* find(const std::map<std::string, ArrayData>& arrays, const std::string& name) {
    const auto it = arrays.find(name);
    return it == arrays.end() ? nullptr : &it->second;
}

// A [cells..., d] row-major array as cells x d.
Eigen::MatrixXd cell_vectors(const double* data, Eigen::Index cells, int dims) {
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(data, cells, dims);
}

std::string title_of(const std::string& config, const std::string& path) {
    try {
        return effective_table(config, path, {})["title"].value_or(std::string());
    } catch (const ConfigError&) {
        return "";  // a stored config that does not parse has no title to show
    }
}

// What every result read from a file has: status, config, title, the file, the grid.
template <class Result>
Result from_file(const SnapshotFileInfo& info, const std::string& path) {
    Result r;
    r.status = info.status;
    r.config = info.config;
    r.title = title_of(info.config, path);
    r.output = path;
    r.grid = info.grid;
    return r;
}

}  // namespace

bool has_stationary(const std::string& path) { return read_snapshot_file(path).has_stationary; }

RunResult load(const std::string& path) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    RunResult r = from_file<RunResult>(info, path);
    r.time = info.times;
    const std::size_t n = r.time.size();
    const int d = r.grid.dims;
    const Eigen::Index cells = cells_of(r.grid);
    const std::vector<std::string> scalars = {"time",           "mass",        "entropy",     "free_energy",
                                              "l1_to_reference", "kl_to_reference", "outflux", "min_density",
                                              "error_estimate"};
    std::vector<std::string> names = {"/snapshots/density", "/snapshots/current", "/reference/density",
                                      "/diagnostics/mean", "/diagnostics/covariance"};
    for (const auto& s : scalars) names.push_back("/diagnostics/" + s);
    const auto arrays = read_arrays(path, names);

    if (const ArrayData* a = find(arrays, "/snapshots/density"))
        for (std::size_t k = 0; k < n; ++k) r.density.push_back(row(*a, k, cells));
    if (const ArrayData* a = find(arrays, "/snapshots/current"))
        for (std::size_t k = 0; k < n; ++k)
            r.current.push_back(cell_vectors(a->values.data() + k * static_cast<std::size_t>(cells * d), cells, d));
    if (const ArrayData* a = find(arrays, "/reference/density"))
        r.reference = Eigen::Map<const Eigen::VectorXd>(a->values.data(), cells);

    DiagnosticSeries& s = r.diagnostics;
    std::vector<double>* series[] = {&s.time,           &s.mass,            &s.entropy, &s.free_energy,
                                     &s.l1_to_reference, &s.kl_to_reference, &s.outflux, &s.min_density,
                                     &s.error_estimate};
    for (std::size_t i = 0; i < scalars.size(); ++i) {
        const ArrayData* a = find(arrays, "/diagnostics/" + scalars[i]);
        // Absent: NaN per snapshot, as a run without that diagnostic records it (outflux: 0).
        series[i]->assign(n, scalars[i] == "outflux" ? 0.0 : NAN);
        if (a)
            for (std::size_t k = 0; k < n && k < a->values.size(); ++k) (*series[i])[k] = a->values[k];
    }
    const ArrayData* mean = find(arrays, "/diagnostics/mean");
    const ArrayData* cov = find(arrays, "/diagnostics/covariance");
    for (std::size_t k = 0; k < n; ++k) {
        s.mean.push_back(mean ? row(*mean, k, d) : Eigen::VectorXd::Constant(d, NAN));
        s.covariance.push_back(cov ? Eigen::MatrixXd(cell_vectors(cov->values.data() + k * static_cast<std::size_t>(d * d), d, d))
                                   : Eigen::MatrixXd::Constant(d, d, NAN));
    }
    return r;
}

StationaryResult load_stationary(const std::string& path) {
    const SnapshotFileInfo info = read_snapshot_file(path);
    if (!info.has_stationary)
        throw ConfigError(path + ": holds no steady state (/stationary: written by fpsolve stationary)");
    StationaryResult r = from_file<StationaryResult>(info, path);
    const Eigen::Index cells = cells_of(r.grid);
    const auto arrays = read_arrays(path, {"/stationary/density", "/stationary/current", "/stationary/eigenvalues",
                                           "/stationary/mfpt", "/reference/density"});
    r.density = Eigen::Map<const Eigen::VectorXd>(arrays.at("/stationary/density").values.data(), cells);
    if (const ArrayData* a = find(arrays, "/stationary/current"))
        r.current = cell_vectors(a->values.data(), cells, r.grid.dims);
    if (const ArrayData* a = find(arrays, "/stationary/eigenvalues"))
        for (std::size_t k = 0; 2 * k + 1 < a->values.size(); ++k)
            r.eigenvalues.emplace_back(a->values[2 * k], a->values[2 * k + 1]);
    if (const ArrayData* a = find(arrays, "/stationary/mfpt")) r.mfpt = Eigen::Map<const Eigen::VectorXd>(a->values.data(), cells);
    if (const ArrayData* a = find(arrays, "/reference/density"))
        r.reference = Eigen::Map<const Eigen::VectorXd>(a->values.data(), cells);
    auto number = [&](const char* name) {
        const auto it = info.stationary.find(name);
        return it == info.stationary.end() ? NAN : it->second;
    };
    r.residual = number("residual");
    r.spectral_gap = number("spectral_gap");
    r.relaxation_time = number("relaxation_time");
    r.max_abs_current = number("max_abs_current");
    r.l1_to_reference = number("l1_to_reference");
    r.escape_rate = number("escape_rate");
    r.mfpt_from_initial = number("mfpt_from_initial");
    r.min_density = r.density.size() ? r.density.minCoeff() : NAN;
    const auto kind = info.stationary_text.find("kind");
    r.absorbing = kind != info.stationary_text.end() && kind->second == "quasi-stationary";
    if (const auto rk = info.stationary_text.find("reference_kind"); rk != info.stationary_text.end())
        r.reference_kind = rk->second;
    return r;
}

}  // namespace fpsolve
