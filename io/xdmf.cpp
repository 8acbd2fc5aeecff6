#include "xdmf.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "hdf5_handles.hpp"
#include "snapshot_file.hpp"

namespace fpsolve {

namespace {

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

template <class T>
std::string join(const std::vector<T>& v) {
    std::ostringstream s;
    for (std::size_t i = 0; i < v.size(); ++i) s << (i ? " " : "") << v[i];
    return s.str();
}

// What one time step (or the single grid of a file without snapshots) shows.
struct Layout {
    int dims = 1;
    std::vector<long long> cells;        // file order: axis 0 first
    std::array<long long, 3> cells3{};   // padded to 3-D, XDMF order (slowest first)
    std::array<double, 3> origin3{}, spacing3{};
    std::vector<std::string> variables;
    std::string h5name;                  // the HDF5 file, relative to the XDMF file
    bool current = false, reference = false, stationary = false, stationary_current = false;
};

// A hyperslab of `dataset` (shape [lead..., cells..., trail...]): the leading index fixed at `lead`
// (if any) and the trailing component fixed at `component` (if >= 0).
std::string hyperslab(const Layout& L, const std::string& dataset, long long total_rows, long long lead,
                      int component, int trailing_size, const std::string& indent) {
    std::vector<long long> shape, start, count;
    if (lead >= 0) {
        shape.push_back(total_rows);
        start.push_back(lead);
        count.push_back(1);
    }
    for (long long c : L.cells) {
        shape.push_back(c);
        start.push_back(0);
        count.push_back(c);
    }
    if (component >= 0) {
        shape.push_back(trailing_size);
        start.push_back(component);
        count.push_back(1);
    }
    const std::vector<long long> stride(shape.size(), 1);
    const std::size_t rank = shape.size();
    std::ostringstream s;
    s << indent << "<DataItem ItemType=\"HyperSlab\" Dimensions=\"" << join(count) << "\" Type=\"HyperSlab\">\n"
      << indent << "  <DataItem Dimensions=\"3 " << rank << "\" NumberType=\"Int\" Format=\"XML\">" << join(start) << " "
      << join(stride) << " " << join(count) << "</DataItem>\n"
      << indent << "  <DataItem Dimensions=\"" << join(shape)
      << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << xml_escape(L.h5name) << ":" << dataset
      << "</DataItem>\n"
      << indent << "</DataItem>\n";
    return s.str();
}

std::string attribute(const std::string& name, const std::string& item, const std::string& indent) {
    return indent + "<Attribute Name=\"" + xml_escape(name) + "\" AttributeType=\"Scalar\" Center=\"Cell\">\n" + item +
           indent + "</Attribute>\n";
}

// One uniform grid; `k` < 0 for a file without snapshots.
std::string uniform_grid(const Layout& L, long long k, long long n, double t, const std::string& indent) {
    const std::string in = indent + "  ", in2 = in + "  ";
    std::ostringstream s;
    s << indent << "<Grid Name=\"" << (k >= 0 ? "snapshot " + std::to_string(k) : std::string("steady state"))
      << "\" GridType=\"Uniform\">\n";
    if (k >= 0) s << in << "<Time Value=\"" << number(t) << "\"/>\n";
    s << in << "<Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << L.cells3[0] + 1 << " " << L.cells3[1] + 1
      << " " << L.cells3[2] + 1 << "\"/>\n"
      << in << "<Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
      << in2 << "<DataItem Name=\"Origin\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">"
      << number(L.origin3[0]) << " " << number(L.origin3[1]) << " " << number(L.origin3[2]) << "</DataItem>\n"
      << in2 << "<DataItem Name=\"Spacing\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">"
      << number(L.spacing3[0]) << " " << number(L.spacing3[1]) << " " << number(L.spacing3[2]) << "</DataItem>\n"
      << in << "</Geometry>\n";
    const int d = L.dims;
    if (k >= 0) {
        s << attribute("density", hyperslab(L, "/snapshots/density", n, k, -1, 0, in2), in);
        if (L.current)
            for (int a = 0; a < d; ++a)
                s << attribute("current_" + L.variables[static_cast<std::size_t>(a)],
                               hyperslab(L, "/snapshots/current", n, k, a, d, in2), in);
    }
    auto whole = [&](const std::string& dataset) {
        return in2 + "<DataItem Dimensions=\"" + join(L.cells) + "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" +
               xml_escape(L.h5name) + ":" + dataset + "</DataItem>\n";
    };
    if (L.reference) s << attribute("reference", whole("/reference/density"), in);
    if (L.stationary) s << attribute("stationary", whole("/stationary/density"), in);
    if (L.stationary_current)
        for (int a = 0; a < d; ++a)
            s << attribute("stationary_current_" + L.variables[static_cast<std::size_t>(a)],
                           hyperslab(L, "/stationary/current", 0, -1, a, d, in2), in);
    s << indent << "</Grid>\n";
    return s.str();
}

bool has_shape(hid_t file, const std::string& name, const std::vector<hsize_t>& expected) {
    return h5::exists(file, name) && h5::dataset_shape(file, name) == expected;
}

}  // namespace

std::string xdmf_path(const std::string& h5path) {
    std::filesystem::path p(h5path);
    p.replace_extension(".xdmf");
    return p.string();
}

std::string write_xdmf(const std::string& h5path) {
    const SnapshotFileInfo info = read_snapshot_file(h5path);  // InputError if not an fpsolve file
    const Grid& g = info.grid;
    if (g.dims > 3) {  // no XDMF topology for four axes (xdmf.hpp); an old companion would describe other data
        std::error_code ec;
        std::filesystem::remove(xdmf_path(h5path), ec);
        return "";
    }
    Layout L;
    L.dims = g.dims;
    L.h5name = std::filesystem::path(h5path).filename().string();
    double hmin = HUGE_VAL;
    for (int a = 0; a < g.dims; ++a) {
        L.cells.push_back(static_cast<long long>(g.cells[a]));
        L.variables.push_back(g.variables[a].empty() ? std::string(1, "xyz"[a]) : g.variables[a]);
        hmin = std::min(hmin, g.spacing(a));
    }
    const int pad = 3 - g.dims;
    for (int i = 0; i < 3; ++i) {
        if (i < pad) {
            L.cells3[static_cast<std::size_t>(i)] = 1;
            L.origin3[static_cast<std::size_t>(i)] = 0.0;
            L.spacing3[static_cast<std::size_t>(i)] = hmin;
        } else {
            const int a = i - pad;
            L.cells3[static_cast<std::size_t>(i)] = static_cast<long long>(g.cells[a]);
            L.origin3[static_cast<std::size_t>(i)] = g.lower[a];
            L.spacing3[static_cast<std::size_t>(i)] = g.spacing(a);
        }
    }

    // Only datasets that exist with the shape the XDMF will claim are described.
    const auto n = static_cast<long long>(info.times.size());
    {
        h5::silence_errors();
        h5::Handle file(H5Fopen(h5path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open " + h5path);
        std::vector<hsize_t> cells;
        for (long long c : L.cells) cells.push_back(static_cast<hsize_t>(c));
        auto with_d = cells;
        with_d.push_back(static_cast<hsize_t>(g.dims));
        if (n > 0) {
            const auto shape = h5::dataset_shape(file, "/snapshots/density");
            if (shape.size() != cells.size() + 1 || static_cast<long long>(shape[0]) < n ||
                !std::equal(cells.begin(), cells.end(), shape.begin() + 1))
                throw InputError(h5path + ": /snapshots/density does not match /grid and /snapshots/time");
            if (info.has_current) {
                const auto cs = h5::dataset_shape(file, "/snapshots/current");
                L.current = cs.size() == with_d.size() + 1 && static_cast<long long>(cs[0]) >= n &&
                            std::equal(with_d.begin(), with_d.end(), cs.begin() + 1);
            }
        }
        L.reference = has_shape(file, "/reference/density", cells);
        L.stationary = has_shape(file, "/stationary/density", cells);
        L.stationary_current = has_shape(file, "/stationary/current", with_d);
    }

    std::ostringstream x;
    x << "<?xml version=\"1.0\" ?>\n"
      << "<!-- Written by fpsolve " << program_version << " beside " << xml_escape(L.h5name)
      << ", which holds the numbers. Axes: the viewer's X, Y, Z are the file's";
    for (int i = 0; i < 3; ++i) {
        const int a = g.dims - 1 - i;
        x << (i ? ", " : " ") << (a >= 0 ? L.variables[static_cast<std::size_t>(a)] : std::string("(padding)"));
    }
    x << ". -->\n"
      << "<Xdmf Version=\"3.0\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
      << "  <Domain>\n";
    if (n > 0) {
        x << "    <Grid Name=\"density\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
        for (long long k = 0; k < n; ++k)
            x << uniform_grid(L, k, n, info.times[static_cast<std::size_t>(k)], "      ");
        x << "    </Grid>\n";
    } else {
        x << uniform_grid(L, -1, 0, 0.0, "    ");
    }
    x << "  </Domain>\n"
      << "</Xdmf>\n";

    // Written beside and renamed, so that a reader never sees half a file.
    const std::string out = xdmf_path(h5path);
    const std::string tmp = out + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << x.str();
        f.close();
        if (!f) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            throw RunError(out + ": cannot write the XDMF file");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, out, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw RunError(out + ": cannot write the XDMF file (" + ec.message() + ")");
    }
    return out;
}

bool write_xdmf_or_warn(const std::string& h5path) noexcept {
    try {
        return !write_xdmf(h5path).empty();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fpsolve: warning: no XDMF file for ParaView: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "fpsolve: warning: no XDMF file for ParaView\n");
    }
    return false;
}

}  // namespace fpsolve
