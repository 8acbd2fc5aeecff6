// The XDMF companion (io/xdmf.hpp) of files `fpsolve run` does not make: a steady state only (what
// `fpsolve stationary` writes) and snapshots plus a steady state. Each file is checked by the same
// validator as the run outputs (tests/test_xdmf.py --check: XML, shapes, hyperslabs, values).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "reference.hpp"
#include "snapshot_file.hpp"
#include "support.hpp"
#include "xdmf.hpp"

using namespace fpsolve;
namespace fs = std::filesystem;

namespace {

// Runs the Python validator beside this file (or in $FPSOLVE_SOURCE/tests) on `xdmf`; returns its exit
// code (0 = valid).
int validate(const std::string& xdmf) {
    fs::path script = fs::path(__FILE__).parent_path() / "test_xdmf.py";
    if (const char* source = std::getenv("FPSOLVE_SOURCE"); !fs::exists(script) && source)
        script = fs::path(source) / "tests" / "test_xdmf.py";
    REQUIRE(fs::exists(script));
    const std::string cmd = "/usr/bin/python3 '" + script.string() + "' --check '" + xdmf + "'";
    return std::system(cmd.c_str());
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("xdmf_path replaces the extension") {
    CHECK(xdmf_path("runs/dw.h5") == "runs/dw.xdmf");
    CHECK(xdmf_path("dw") == "dw.xdmf");
    CHECK(xdmf_path("a.b/dw.hdf5") == "a.b/dw.xdmf");
}

TEST_CASE("XDMF of a steady state, with and without snapshots") {
    const ParsedConfig c = test::config_from(R"toml(
[grid]
lower = [-1.0, 0.0]
upper = [1.0, 3.0]
cells = [7, 5]
variables = ["u", "v"]
[dynamics]
potential = "u^2 + v^2/4"
noise = 0.5
)toml");
    const Grid& g = c.problem.grid;
    const FokkerPlanckOperator op(c.problem);
    const auto ref = stationary_reference(c.problem);
    REQUIRE(ref);
    const DiagnosticsCalculator diag(op, ref);
    const auto snapshots = GENERATE(0, 2);
    const fs::path dir = fs::temp_directory_path() / ("fpsolve_xdmf_" + std::to_string(snapshots));
    fs::create_directories(dir);
    const std::string h5 = (dir / "steady.h5").string();
    {
        SnapshotWriter w(h5, g, {"title = \"x\"", program_version}, snapshots > 0, ref->density);
        for (int k = 0; k < snapshots; ++k) {
            const Eigen::MatrixXd j = op.cell_current(ref->density, 0.0);
            w.append(0.5 * k, ref->density, diag(ref->density, 0.5 * k), &j);
        }
        const Eigen::MatrixXd j = op.cell_current(ref->density, 0.0);
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = j;
        w.write_array("/stationary/density", {7, 5}, ref->density.data());
        w.write_array("/stationary/current", {7, 5, 2}, rm.data());
        w.write_attribute("/stationary", "residual", 1e-14);
        w.set_status("complete");
    }
    const std::string xdmf = write_xdmf(h5);
    CHECK(xdmf == (dir / "steady.xdmf").string());
    const std::string text = slurp(xdmf);
    CHECK(text.find("stationary_current_v") != std::string::npos);
    CHECK((text.find("CollectionType=\"Temporal\"") != std::string::npos) == (snapshots > 0));
    CHECK(validate(xdmf) == 0);
    fs::remove_all(dir);
}

TEST_CASE("XDMF of a file that is not an fpsolve file: InputError, nothing written") {
    const fs::path dir = fs::temp_directory_path() / "fpsolve_xdmf_bad";
    fs::create_directories(dir);
    const std::string path = (dir / "text.h5").string();
    std::ofstream(path) << "not hdf5\n";
    CHECK_THROWS_AS(write_xdmf(path), InputError);
    CHECK_FALSE(write_xdmf_or_warn(path));
    CHECK_FALSE(fs::exists(dir / "text.xdmf"));
    fs::remove_all(dir);
}
