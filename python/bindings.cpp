// fpsolve._core: the library's entry points (<fpsolve/fpsolve.hpp>, DESIGN §6) for the Python package in
// python/fpsolve/__init__.py, which shapes the results into objects. Only conversion lives here:
//   - configs arrive as a TOML file's path, or as "key=value" overrides (TOML value syntax) of an empty config
//     (a dict, flattened by the package), exactly the --set of the command line;
//   - snapshots are copied once each, straight into one numpy array [n, cells...] allocated when the run
//     starts (on_start says how many), of which on_snapshot sees a row;
//   - the engine runs with the GIL released; a SIGINT during it raises the run's interrupt flag (and is passed
//     on to Python's own handler), so Ctrl-C stops the run at the next step and raises KeyboardInterrupt;
//   - ConfigError is fpsolve.ConfigError (a ValueError) with the command line's message.
#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <optional>

#include "fpsolve/fpsolve.hpp"
#include "thread_budget.hpp"

namespace py = pybind11;
using namespace fpsolve;

namespace {

// ------------------------------------------------------------------------------------------------ Ctrl-C

std::atomic<bool> interrupt_flag{false};
struct sigaction python_handler {};

extern "C" void on_sigint(int signal) {
    interrupt_flag.store(true);
    // Python's own handler only marks the signal (async-signal-safe): it raises KeyboardInterrupt later.
    if (python_handler.sa_handler != SIG_DFL && python_handler.sa_handler != SIG_IGN &&
        !(python_handler.sa_flags & SA_SIGINFO))
        python_handler.sa_handler(signal);
}

// While the engine runs on the main thread: SIGINT raises the run's interrupt flag too.
class SigintGuard {
public:
    explicit SigintGuard(bool active) : active_(active) {
        interrupt_flag.store(false);
        if (!active_) return;
        struct sigaction sa {};
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &python_handler);
    }
    ~SigintGuard() {
        if (active_) sigaction(SIGINT, &python_handler, nullptr);
    }
    SigintGuard(const SigintGuard&) = delete;
    SigintGuard& operator=(const SigintGuard&) = delete;

private:
    bool active_;
};

// After an interrupted run: the KeyboardInterrupt Python's handler prepared, or a plain one.
[[noreturn]] void raise_interrupt() {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
}

// ------------------------------------------------------------------------------------------------ configs

Config make_config(const std::string& path, const std::vector<std::string>& overrides) {
    Config c = path.empty() ? Config::from_toml("", "<dict>") : Config::from_file(path);
    for (const auto& o : overrides) {
        const auto eq = o.find('=');
        if (eq == std::string::npos || eq == 0) throw ConfigError("overrides: " + o + ": expected key=value");
        c.set(o.substr(0, eq), o.substr(eq + 1));
    }
    return c;
}

// ------------------------------------------------------------------------------------------------ arrays

std::vector<py::ssize_t> cell_shape(const Grid& g) {
    std::vector<py::ssize_t> shape;
    for (int a = 0; a < g.dims; ++a) shape.push_back(static_cast<py::ssize_t>(g.cells[a]));
    return shape;
}

py::array_t<double> array_of(const double* data, std::vector<py::ssize_t> shape) {
    py::array_t<double> a(shape);
    std::memcpy(a.mutable_data(), data, static_cast<std::size_t>(a.size()) * sizeof(double));
    return a;
}

py::object optional_cells(const std::optional<Eigen::VectorXd>& v, const Grid& g) {
    if (!v) return py::none();
    return array_of(v->data(), cell_shape(g));
}

// cells x d (column-major) -> [cells..., d]
py::array_t<double> cell_vectors(const Eigen::MatrixXd& m, const Grid& g) {
    std::vector<py::ssize_t> shape = cell_shape(g);
    shape.push_back(g.dims);
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = m;
    return array_of(row_major.data(), shape);
}

py::dict grid_dict(const Grid& g) {
    py::dict d;
    py::list lower, upper, cells, boundary, variables, centres;
    for (int a = 0; a < g.dims; ++a) {
        lower.append(g.lower[a]);
        upper.append(g.upper[a]);
        cells.append(g.cells[a]);
        boundary.append(std::string(to_string(g.boundary[a])));
        variables.append(g.variables[a]);
        py::array_t<double> c(static_cast<py::ssize_t>(g.cells[a]));
        for (Index i = 0; i < g.cells[a]; ++i) c.mutable_at(i) = g.centre(a, i);
        centres.append(c);
    }
    d["dims"] = g.dims;
    d["lower"] = lower;
    d["upper"] = upper;
    d["cells"] = cells;
    d["boundary"] = boundary;
    d["variables"] = variables;
    d["centres"] = centres;
    return d;
}

py::dict diagnostics_dict(const DiagnosticSeries& s, int dims) {
    py::dict d;
    const auto n = static_cast<py::ssize_t>(s.time.size());
    auto put = [&](const char* name, const std::vector<double>& v) { d[name] = array_of(v.data(), {n}); };
    put("time", s.time);
    put("mass", s.mass);
    py::array_t<double> mean({n, static_cast<py::ssize_t>(dims)});
    py::array_t<double> cov({n, static_cast<py::ssize_t>(dims), static_cast<py::ssize_t>(dims)});
    for (py::ssize_t k = 0; k < n; ++k)
        for (int a = 0; a < dims; ++a) {
            mean.mutable_at(k, a) = s.mean[static_cast<std::size_t>(k)](a);
            for (int b = 0; b < dims; ++b) cov.mutable_at(k, a, b) = s.covariance[static_cast<std::size_t>(k)](a, b);
        }
    d["mean"] = mean;
    d["covariance"] = cov;
    put("entropy", s.entropy);
    put("free_energy", s.free_energy);
    put("l1_to_reference", s.l1_to_reference);
    put("kl_to_reference", s.kl_to_reference);
    put("outflux", s.outflux);
    put("min_density", s.min_density);
    put("error_estimate", s.error_estimate);
    return d;
}

// Everything but the densities, which the caller adds.
py::dict run_dict(const RunResult& r) {
    py::dict d;
    d["status"] = r.status;
    d["title"] = r.title;
    d["config"] = r.config;
    d["output"] = r.output.empty() ? py::object(py::none()) : py::object(py::str(r.output));
    d["grid"] = grid_dict(r.grid);
    d["time"] = array_of(r.time.data(), {static_cast<py::ssize_t>(r.time.size())});
    d["diagnostics"] = diagnostics_dict(r.diagnostics, r.grid.dims);
    d["reference"] = optional_cells(r.reference, r.grid);
    d["reference_kind"] = r.reference_kind.empty() ? py::object(py::none()) : py::object(py::str(r.reference_kind));
    d["integrator"] = r.integrator;
    d["integrator_reason"] = r.integrator_reason;
    d["rhs_evaluations"] = r.rhs_evaluations;
    d["warnings"] = r.warnings;
    if (r.current.empty()) {
        d["current"] = py::none();
    } else {
        std::vector<py::ssize_t> shape = cell_shape(r.grid);
        shape.insert(shape.begin(), static_cast<py::ssize_t>(r.current.size()));
        shape.push_back(r.grid.dims);
        py::array_t<double> j(shape);
        const auto per = static_cast<std::size_t>(r.grid.size() * r.grid.dims);
        for (std::size_t k = 0; k < r.current.size(); ++k) {
            const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m = r.current[k];
            std::memcpy(j.mutable_data() + k * per, m.data(), per * sizeof(double));
        }
        d["current"] = j;
    }
    return d;
}

// ------------------------------------------------------------------------------------------------ run

// A run from Python: snapshots written once into one array, the user's callback on its rows, Ctrl-C.
py::dict run_from_python(const std::function<RunResult(const RunOptions&)>& call, RunOptions options,
                         py::object on_snapshot, bool handle_sigint) {
    py::object density = py::none();  // [n, cells...], allocated when the run starts
    py::ssize_t per_snapshot = 0, recorded = 0;
    std::optional<py::error_already_set> callback_error;
    options.keep_snapshots = false;  // copied here instead, once
    options.interrupt = &interrupt_flag;
    options.on_start = [&](const Grid& g, double, double, std::size_t n) {
        const py::gil_scoped_acquire gil;
        std::vector<py::ssize_t> shape = cell_shape(g);
        shape.insert(shape.begin(), static_cast<py::ssize_t>(n));
        density = py::array_t<double>(shape);
        per_snapshot = static_cast<py::ssize_t>(g.size());
    };
    options.on_snapshot = [&](double t, const Eigen::VectorXd& p) {
        const py::gil_scoped_acquire gil;
        auto a = py::reinterpret_borrow<py::array_t<double>>(density);
        std::memcpy(a.mutable_data() + recorded * per_snapshot, p.data(),
                    static_cast<std::size_t>(per_snapshot) * sizeof(double));
        const py::ssize_t k = recorded++;
        if (on_snapshot.is_none()) return true;
        try {
            py::object row = a[py::int_(k)];
            return on_snapshot(t, row).cast<bool>();
        } catch (py::error_already_set& e) {
            callback_error.emplace(std::move(e));
            return false;
        }
    };
    RunResult r;
    {
        const SigintGuard guard(handle_sigint);
        const py::gil_scoped_release released;
        r = call(options);
    }
    if (callback_error) throw std::move(*callback_error);
    if (r.status == "interrupted") raise_interrupt();
    py::dict d = run_dict(r);
    if (density.is_none()) {
        std::vector<py::ssize_t> shape = cell_shape(r.grid);
        shape.insert(shape.begin(), 0);
        density = py::array_t<double>(shape);
    }
    d["density"] = density[py::slice(0, recorded, 1)];
    return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "fpsolve's compiled core: use the package fpsolve (run, stationary, load)";
    enable_thread_budget();  // as the command line: the cores other processes leave free (OMP_NUM_THREADS wins)
    static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ConfigError& e) {
            config_error(e.what());
        } catch (const RunError& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
    });
    m.def("version", &fpsolve::version);

    m.def(
        "run",
        [](const std::string& path, const std::vector<std::string>& overrides, const std::string& output, bool force,
           int threads, py::object on_snapshot, bool handle_sigint) {
            const Config c = make_config(path, overrides);
            RunOptions o;
            o.output = output;
            o.force = force;
            o.threads = threads;
            return run_from_python([&](const RunOptions& opts) { return fpsolve::run(c, opts); }, o, on_snapshot,
                                   handle_sigint);
        },
        py::arg("path"), py::arg("overrides"), py::arg("output"), py::arg("force"), py::arg("threads"),
        py::arg("on_snapshot"), py::arg("handle_sigint"));

    m.def(
        "resume",
        [](const std::string& path, const std::vector<std::string>& overrides, int threads, py::object on_snapshot,
           bool handle_sigint) {
            RunOptions o;
            o.threads = threads;
            return run_from_python([&](const RunOptions& opts) { return fpsolve::resume(path, overrides, opts); }, o,
                                   on_snapshot, handle_sigint);
        },
        py::arg("path"), py::arg("overrides"), py::arg("threads"), py::arg("on_snapshot"), py::arg("handle_sigint"));

    m.def(
        "stationary",
        [](const std::string& path, const std::vector<std::string>& overrides, const std::string& output, bool force,
           int threads, std::optional<int> eigenvalues) {
            const Config c = make_config(path, overrides);
            StationaryOptions o;
            o.output = output;
            o.force = force;
            o.threads = threads;
            o.eigenvalues = eigenvalues;
            StationaryResult s;
            {
                const py::gil_scoped_release released;
                s = fpsolve::stationary(c, o);
            }
            return s;
        },
        py::arg("path"), py::arg("overrides"), py::arg("output"), py::arg("force"), py::arg("threads"),
        py::arg("eigenvalues"));

    m.def("load", [](const std::string& path) {
        RunResult r = fpsolve::load(path);
        py::dict d = run_dict(r);
        std::vector<py::ssize_t> shape = cell_shape(r.grid);
        shape.insert(shape.begin(), static_cast<py::ssize_t>(r.density.size()));
        py::array_t<double> density(shape);
        const auto per = static_cast<std::size_t>(r.grid.size());
        for (std::size_t k = 0; k < r.density.size(); ++k) {
            std::memcpy(density.mutable_data() + k * per, r.density[k].data(), per * sizeof(double));
            r.density[k] = Eigen::VectorXd();
        }
        d["density"] = density;
        return d;
    });
    m.def("load_stationary", &fpsolve::load_stationary);
    m.def("has_stationary", &fpsolve::has_stationary);

    // The steady state, as a dict for the package's StationaryResult.
    py::class_<StationaryResult>(m, "_Stationary")
        .def("as_dict", [](const StationaryResult& s) {
            py::dict d;
            d["status"] = s.status;
            d["title"] = s.title;
            d["config"] = s.config;
            d["output"] = s.output.empty() ? py::object(py::none()) : py::object(py::str(s.output));
            d["grid"] = grid_dict(s.grid);
            d["absorbing"] = s.absorbing;
            d["density"] = array_of(s.density.data(), cell_shape(s.grid));
            d["current"] = s.current.size() ? py::object(cell_vectors(s.current, s.grid)) : py::object(py::none());
            d["eigenvalues"] = py::array(py::cast(s.eigenvalues));
            d["spectral_gap"] = s.spectral_gap;
            d["relaxation_time"] = s.relaxation_time;
            d["residual"] = s.residual;
            d["max_abs_current"] = s.max_abs_current;
            d["min_density"] = s.min_density;
            d["l1_to_reference"] = s.l1_to_reference;
            d["reference"] = optional_cells(s.reference, s.grid);
            d["reference_kind"] = s.reference_kind.empty() ? py::object(py::none()) : py::object(py::str(s.reference_kind));
            d["mfpt"] = s.mfpt.size() ? py::object(array_of(s.mfpt.data(), cell_shape(s.grid))) : py::object(py::none());
            d["escape_rate"] = s.escape_rate;
            d["mfpt_from_initial"] = s.mfpt_from_initial;
            d["warnings"] = s.warnings;
            return d;
        });
}
