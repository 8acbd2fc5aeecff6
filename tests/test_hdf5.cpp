// The HDF5 file round trip (DESIGN §4): what the writer stores, the reader returns bit for bit.
#include <catch2/catch.hpp>
#include <filesystem>

#include "reference.hpp"
#include "snapshot_file.hpp"
#include "support.hpp"

using namespace fpsolve;

TEST_CASE("SnapshotWriter round trip: grid, snapshots, diagnostics, status") {
    const ParsedConfig c = test::config_from(R"toml(
[grid]
lower = [-1.0, 0.0]
upper = [1.0, 3.0]
cells = [7, 5]
boundary = ["reflecting", "periodic"]
variables = ["u", "v"]
[dynamics]
potential = "u^2 + cos(2*pi*v/3)"
noise = 0.5
)toml");
    const Grid& g = c.problem.grid;
    const FokkerPlanckOperator op(c.problem);
    const auto ref = stationary_reference(c.problem);
    REQUIRE(ref);
    const DiagnosticsCalculator diag(op, ref);
    const std::string path = (std::filesystem::temp_directory_path() / "fpsolve_roundtrip.h5").string();
    std::vector<State> written;
    {
        SnapshotWriter w(path, g, {"title = \"x\"", program_version}, true, ref->density);
        for (int k = 0; k < 3; ++k) {
            State p = State::Random(g.size()).cwiseAbs();
            p /= p.sum() * g.cell_volume();
            const Eigen::MatrixXd j = op.cell_current(p, 0.0);
            w.append(0.5 * k, p, diag(p, 0.5 * k), &j);
            written.push_back(p);
        }
        w.set_status("complete");
    }
    const SnapshotFileInfo info = read_snapshot_file(path);
    CHECK(info.status == "complete");
    CHECK(info.format_version == 1);
    CHECK(info.config == "title = \"x\"");
    CHECK(info.grid.dims == 2);
    CHECK(info.grid.cells[0] == 7);
    CHECK(info.grid.cells[1] == 5);
    CHECK(info.grid.lower[1] == 0.0);
    CHECK(info.grid.upper[1] == 3.0);
    CHECK(info.grid.boundary[1] == Boundary::periodic);
    CHECK(info.grid.variables[0] == "u");
    CHECK(info.times == std::vector<double>{0.0, 0.5, 1.0});
    CHECK(info.has_reference);
    CHECK(info.has_current);
    REQUIRE(info.mass.size() == 3);
    for (int k = 0; k < 3; ++k) {
        CHECK(read_snapshot(path, k) == written[static_cast<std::size_t>(k)]);
        CHECK(info.mass[static_cast<std::size_t>(k)] == Approx(1.0).epsilon(1e-14));
    }
    CHECK(read_snapshot(path, -1) == written.back());
    CHECK_THROWS_AS(read_snapshot(path, 3), InputError);
    std::filesystem::remove(path);
}
