// The HDF5 file round trip (DESIGN §4): what the writer stores, the reader returns bit for bit.
#include <catch2/catch.hpp>
#include <filesystem>
#include <numeric>

#include "hdf5_handles.hpp"
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

namespace {
// The chunk shape of a dataset, as stored in the file.
std::vector<hsize_t> chunk_of(const std::string& path, const char* dataset) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t set = H5Dopen2(file, dataset, H5P_DEFAULT);
    const hid_t plist = H5Dget_create_plist(set);
    std::vector<hsize_t> chunk(8, 0);
    const int rank = H5Pget_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
    chunk.resize(static_cast<std::size_t>(std::max(rank, 0)));
    H5Pclose(plist);
    H5Dclose(set);
    H5Fclose(file);
    return chunk;
}
hsize_t values(const std::vector<hsize_t>& v) {
    return std::accumulate(v.begin(), v.end(), hsize_t{1}, std::multiplies<>());
}
}  // namespace

TEST_CASE("cell datasets: serially one block, whole rows, at most h5::kChunkValues doubles a chunk") {
    // 600 x 400 = 240000 doubles, above the cap: a chunk is the most whole rows of 400 that fit.
    Grid g;
    g.dims = 2;
    g.cells = {600, 400, 1, 1};
    const std::string path = (std::filesystem::temp_directory_path() / "fpsolve_chunks.h5").string();
    const State p = State::LinSpaced(g.size(), 0.0, 1.0);
    const Eigen::MatrixXd j = Eigen::MatrixXd::Constant(g.size(), 2, 0.25);
    {
        SnapshotWriter w(path, g, {"", program_version}, true, p);
        Diagnostics dg;
        w.append(0.0, p, dg, &j);
        w.write_array("/stationary/density", {600, 400}, p.data());
        w.set_status("complete");
    }
    const hsize_t rows = h5::kChunkValues / 400;
    CHECK(chunk_of(path, "/snapshots/density") == std::vector<hsize_t>{1, rows, 400});
    CHECK(chunk_of(path, "/snapshots/current") == std::vector<hsize_t>{1, h5::kChunkValues / 800, 400, 2});
    CHECK(chunk_of(path, "/reference/density") == std::vector<hsize_t>{rows, 400});
    CHECK(chunk_of(path, "/stationary/density") == std::vector<hsize_t>{rows, 400});
    CHECK(values(chunk_of(path, "/snapshots/current")) <= h5::kChunkValues);
    CHECK(read_snapshot(path, 0) == p);  // only the storage changed

    // Below the cap: one chunk of the whole grid, as before.
    CHECK(h5::cell_chunk({7, 5}) == std::vector<hsize_t>{7, 5});
    // Split into rank blocks: the largest block along each axis, then the cap along the outermost axis.
    CHECK(h5::cell_chunk({600, 400}, {2, 1}) == std::vector<hsize_t>{300, 400});
    CHECK(h5::cell_chunk({601, 400}, {2, 1}) == std::vector<hsize_t>{301, 400});
    CHECK(h5::cell_chunk({64, 64, 64}, {2, 1, 1}) == std::vector<hsize_t>{32, 64, 64});
    CHECK(h5::cell_chunk({4096, 4096}, {2, 1}) == std::vector<hsize_t>{h5::kChunkValues / 4096, 4096});
    CHECK(h5::cell_chunk({8, 1 << 20}) == std::vector<hsize_t>{1, h5::kChunkValues});
    std::filesystem::remove(path);
}
